package peer

import (
	"context"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/x0tta6bl4/gosentinel/internal/rawconn"
)

// Dialer opens authenticated peer connections: TCP, the header byte, then
// the client side of the handshake. Its Dial method has the shape Raft's
// stream layer wants (quorum.Layer).
type Dialer struct {
	header   byte
	keys     *Keys
	self     func() Identity
	wrap     func(context.Context, net.Conn) (net.Conn, error)
	onReject func(net.Addr, error)
	net      net.Dialer
}

// DialerOption configures a Dialer.
type DialerOption func(*Dialer)

// WithSelf makes the dialer state self (read at each dial) under its
// proof: the server learns, authenticated, which sentinel dialled it.
func WithSelf(self func() Identity) DialerOption {
	return func(d *Dialer) { d.self = self }
}

// WithTransport wraps each TCP connection before the header byte is sent:
// the place where a TLS client plugs in (the server side terminates TLS
// before the port's mux, so the handshake runs inside it unchanged).
func WithTransport(wrap func(ctx context.Context, raw net.Conn) (net.Conn, error)) DialerOption {
	return func(d *Dialer) { d.wrap = wrap }
}

// WithDialRejectHook calls fn when a record from the server fails
// authentication on a connection this dialer opened (to log it).
func WithDialRejectHook(fn func(remote net.Addr, err error)) DialerOption {
	return func(d *Dialer) { d.onReject = fn }
}

// NewDialer returns a dialer that opens header connections (HeaderRaft or
// HeaderRPC) proving keys.
func NewDialer(header byte, keys *Keys, opts ...DialerOption) *Dialer {
	d := &Dialer{header: header, keys: keys}
	for _, o := range opts {
		o(d)
	}
	return d
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
// the server there proves that identity (Raft dials its peers so, because a
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
// authenticates before ctx is done. If ctx has no deadline, the whole dial
// (connect, TLS, handshake) is bounded by DefaultHandshakeTimeout.
func (d *Dialer) DialContext(ctx context.Context, address string) (net.Conn, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultHandshakeTimeout)
		defer cancel()
	}
	address, want := SplitTarget(address)
	conn, err := d.net.DialContext(ctx, "tcp", address)
	if err != nil {
		return nil, fmt.Errorf("failed to dial peer %s: %w", address, err)
	}
	// Raft's heartbeats and their answers are read and written with raw
	// system calls (below TLS, if any): internal/rawconn says why.
	conn = rawconn.Wrap(conn)
	if d.wrap != nil {
		raw := conn
		if conn, err = d.wrap(ctx, raw); err != nil {
			raw.Close()
			return nil, fmt.Errorf("failed to dial peer %s: %w", address, err)
		}
	}
	deadline, _ := ctx.Deadline()
	// Cancelling ctx mid-handshake interrupts the blocked read or write.
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	sc, err := d.handshake(conn, want, deadline)
	if !stop() && err == nil {
		err = ctx.Err()
	}
	if err != nil {
		if sc != nil {
			sc.Close() // its key set tracks it
		}
		conn.Close()
		return nil, fmt.Errorf("failed to authenticate to peer %s: %w", address, err)
	}
	return sc, nil
}

func (d *Dialer) handshake(conn net.Conn, want string, deadline time.Time) (*Conn, error) {
	if err := conn.SetWriteDeadline(deadline); err != nil {
		return nil, fmt.Errorf("failed to set handshake deadline: %w", err)
	}
	if _, err := conn.Write([]byte{d.header}); err != nil {
		return nil, fmt.Errorf("failed to send peer header: %w", err)
	}
	var self Identity
	if d.self != nil {
		self = d.self()
	}
	sc, err := ClientHandshake(conn, d.header, d.keys, self, want, deadline)
	if err != nil {
		return nil, err
	}
	sc.onReject = d.onReject
	return sc, nil
}
