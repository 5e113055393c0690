package acceptloop

import (
	"context"
	"net"
	"time"
)

// refuseTimeout bounds the write that tells a connection it is turned
// away: a few bytes into a new socket's empty buffer, which never waits.
const refuseTimeout = 100 * time.Millisecond

// RefuseMaxClients tells a connection past maxclients why it is closed, in
// redis' words, and closes it, from the accept loop: told from a goroutine
// of its own within a second, each refusal held a descriptor that long,
// and a flood of silent connections took every descriptor. A TLS
// connection whose handshake has not run is closed at once, as redis
// closes it: its first write would run the handshake and wait on the
// client. (A peer's Raft dial reads the text as a failed handshake and
// retries.)
func RefuseMaxClients(c net.Conn) {
	if _, isTLS := c.(interface {
		HandshakeContext(context.Context) error
	}); !isTLS {
		_ = c.SetWriteDeadline(time.Now().Add(refuseTimeout))
		_, _ = c.Write([]byte("-ERR max number of clients reached\r\n"))
	}
	_ = c.Close()
}
