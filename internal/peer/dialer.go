package peer

import (
	"context"
	"fmt"
	"net"
	"strings"
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

// TargetAddr names the server id at address: a dial to it succeeds only if
// the server there states that identity (Raft dials its peers so, because a
// sentinel's address may since belong to another one).
func TargetAddr(address, id string) string { return address + "#" + id }

// SplitTarget splits a TargetAddr into the address and the id ("" if none).
func SplitTarget(target string) (address, id string) {
	if i := strings.LastIndexByte(target, '#'); i >= 0 {
		return target[:i], target[i+1:]
	}
	return target, ""
}

// DialContext connects to address (a host:port, or a TargetAddr) and
// authenticates before ctx is done. If ctx has no deadline, the handshake
// is bounded by DefaultHandshakeTimeout.
func (d *Dialer) DialContext(ctx context.Context, address string) (net.Conn, error) {
	address, want := SplitTarget(address)
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
	err = d.handshake(conn, want, deadline)
	if !stop() && err == nil {
		err = ctx.Err()
	}
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("failed to authenticate to peer %s: %w", address, err)
	}
	return conn, nil
}

func (d *Dialer) handshake(conn net.Conn, want string, deadline time.Time) error {
	if err := conn.SetWriteDeadline(deadline); err != nil {
		return fmt.Errorf("failed to set handshake deadline: %w", err)
	}
	if _, err := conn.Write([]byte{d.header}); err != nil {
		return fmt.Errorf("failed to send peer header: %w", err)
	}
	return ClientHandshake(conn, d.secret, want, deadline)
}
