package peer

import (
	"context"
	"fmt"
	"net"
	"time"
)

// Dialer opens authenticated peer connections: TCP, the header byte, then
// the client side of the handshake. Its Dial method has the shape Raft's
// stream layer wants (quorum.Layer).
type Dialer struct {
	header byte
	secret string
	net    net.Dialer
}

// NewDialer returns a dialer that opens header connections (HeaderRaft or
// HeaderRPC) authenticated with secret.
func NewDialer(header byte, secret string) *Dialer {
	return &Dialer{header: header, secret: secret}
}

// Dial connects to address and authenticates within timeout (0 means
// DefaultHandshakeTimeout), which covers the TCP connect and the handshake.
func (d *Dialer) Dial(address string, timeout time.Duration) (net.Conn, error) {
	if timeout <= 0 {
		timeout = DefaultHandshakeTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return d.DialContext(ctx, address)
}

// DialContext connects to address and authenticates before ctx is done. If
// ctx has no deadline, the handshake is bounded by DefaultHandshakeTimeout.
func (d *Dialer) DialContext(ctx context.Context, address string) (net.Conn, error) {
	conn, err := d.net.DialContext(ctx, "tcp", address)
	if err != nil {
		return nil, fmt.Errorf("failed to dial peer %s: %w", address, err)
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(DefaultHandshakeTimeout)
	}
	// Cancelling ctx mid-handshake interrupts the blocked read or write.
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	err = d.handshake(conn, deadline)
	if !stop() && err == nil {
		err = ctx.Err()
	}
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("failed to authenticate to peer %s: %w", address, err)
	}
	return conn, nil
}

func (d *Dialer) handshake(conn net.Conn, deadline time.Time) error {
	if err := conn.SetWriteDeadline(deadline); err != nil {
		return fmt.Errorf("failed to set handshake deadline: %w", err)
	}
	if _, err := conn.Write([]byte{d.header}); err != nil {
		return fmt.Errorf("failed to send peer header: %w", err)
	}
	return ClientHandshake(conn, d.secret, deadline)
}
