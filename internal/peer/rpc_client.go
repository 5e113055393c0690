package peer

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sync"
	"syscall"
	"time"
)

// ClientIdleTimeout is how long the client keeps an unused pooled
// connection (less than ServerIdleTimeout).
const ClientIdleTimeout = 30 * time.Second

// DefaultCallTimeout bounds a Call whose context has no deadline.
const DefaultCallTimeout = 10 * time.Second

// maxIdlePerAddr bounds the pool per peer: calls to one peer are rare and
// short (a forwarded proposal, a report), so a few connections suffice.
const maxIdlePerAddr = 4

// RemoteError is an error returned by the remote handler: its text
// unchanged, and, when the handler's error was a registered value (Codes),
// that value, which RemoteError unwraps to.
type RemoteError struct {
	Addr, Op, Msg string
	// Code is the registered name of the handler's error, or "".
	Code string
	err  error
}

// Error returns the remote handler's error text.
func (e *RemoteError) Error() string { return e.Msg }

// Unwrap returns the registered error value the remote handler returned,
// or nil: errors.Is(err, quorum.ErrDuplicateMaster) holds across the RPC.
func (e *RemoteError) Unwrap() error { return e.err }

// Client calls peer RPC servers over authenticated connections, keeping a
// small pool of idle connections per address.
type Client struct {
	dialer *Dialer
	codes  *Codes

	mu     sync.Mutex
	idle   map[string][]idleConn
	closed bool
	// swept is when put last closed the idle connections of every
	// address: one kept for an address never called again (a peer that
	// moved, or a sentinel named by a hello once) is otherwise never
	// closed. now is the clock (time.Now; tests move it).
	swept time.Time
	now   func() time.Time
}

type idleConn struct {
	conn  net.Conn
	since time.Time
}

// ErrClientClosed is returned by Call after Close.
var ErrClientClosed = errors.New("peer rpc client closed")

// ErrNotSent marks a Call that failed before its request left: no
// connection to the peer (refused, timed out, or a failed handshake), so
// the peer did nothing and the call is safe to repeat. A Call that fails
// after sending is never marked: the peer may have acted on it.
var ErrNotSent = errors.New("the request was not sent")

// NewClient returns a client dialing with d (which should use HeaderRPC)
// and mapping error codes back to the values in codes (may be nil).
func NewClient(d *Dialer, codes *Codes) *Client {
	return &Client{dialer: d, codes: codes, idle: map[string][]idleConn{}, now: time.Now}
}

// Call sends op with req (marshalled as JSON; nil sends no body) to the peer
// at addr and decodes the response body into resp (nil to ignore it). A
// handler error comes back as *RemoteError. Without a deadline in ctx the
// call is bounded by DefaultCallTimeout.
//
// A request is sent once. A pooled connection is looked at before it takes
// one: if the peer closed it (it restarted, or dropped it as idle), it is
// closed, with every other connection pooled to that peer (after a restart
// they are all closed), and a fresh one is dialled. A request already
// written is never sent again, even when the connection then ends without a
// byte of response: the peer may have run it and died before answering, or
// someone on the path may have dropped the answer and closed the
// connection, and a second run of a command (MONITOR, a failover) would
// answer the caller with its own first run's consequence. A ctx already
// done sends nothing (ErrNotSent).
func (c *Client) Call(ctx context.Context, addr, op string, req, resp any) error {
	rq := request{Op: op}
	if req != nil {
		body, err := json.Marshal(req)
		if err != nil {
			return fmt.Errorf("failed to encode peer rpc %s request: %w", op, err)
		}
		rq.Body = body
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultCallTimeout)
		defer cancel()
	}
	for fresh := false; ; fresh = true {
		if err := ctx.Err(); err != nil {
			// A pooled connection would take the request at once, and
			// the write beat ctx's AfterFunc to the deadline.
			return fmt.Errorf("peer rpc %s to %s: %w (%w)", op, addr, ErrNotSent, err)
		}
		conn, reused, err := c.get(ctx, addr, fresh)
		if err != nil {
			return fmt.Errorf("peer rpc %s to %s: %w (%w)", op, addr, ErrNotSent, err)
		}
		if reused && !socketOpen(conn) {
			conn.Close()
			continue // fresh: the others pooled to addr go too
		}
		r, reusable, err := roundTrip(ctx, conn, &rq)
		if err != nil {
			conn.Close()
			// The connection's deadline is ctx's: its timeout may fire a
			// moment before ctx notices, and callers match on ctx's error.
			var ne net.Error
			if ctxErr := ctx.Err(); ctxErr != nil {
				err = fmt.Errorf("%w (%v)", ctxErr, err)
			} else if errors.As(err, &ne) && ne.Timeout() {
				err = fmt.Errorf("%w (%v)", context.DeadlineExceeded, err)
			}
			return fmt.Errorf("peer rpc %s to %s: %w", op, addr, err)
		}
		if reusable {
			c.put(addr, conn)
		} else {
			conn.Close()
		}
		if r.Error != "" {
			return &RemoteError{Addr: addr, Op: op, Msg: r.Error, Code: r.Code, err: c.codes.Lookup(r.Code)}
		}
		if resp != nil && len(r.Body) > 0 {
			if err := json.Unmarshal(r.Body, resp); err != nil {
				return fmt.Errorf("failed to decode peer rpc %s response from %s: %w", op, addr, err)
			}
		}
		return nil
	}
}

// roundTrip writes rq and reads the response under ctx's deadline;
// reusable is false when ctx's cancellation touched the connection's
// deadline.
func roundTrip(ctx context.Context, conn net.Conn, rq *request) (r response, reusable bool, err error) {
	deadline, _ := ctx.Deadline()
	rq.TimeoutMs = time.Until(deadline).Milliseconds()
	if rq.TimeoutMs <= 0 {
		return r, false, context.DeadlineExceeded
	}
	if err := conn.SetDeadline(deadline); err != nil {
		return r, false, fmt.Errorf("failed to set rpc deadline: %w", err)
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer func() { reusable = stop() && err == nil }()
	if err := writeFrame(conn, rq); err != nil {
		return r, false, err
	}
	_, err = readFrame(conn, &r)
	return r, false, err
}

// socketOpen reports whether a pooled connection's socket is still open
// and quiet: not at its end, not reset, and holding no byte, since a peer
// sends nothing unasked (a TLS alert would be such a byte). It peeks
// without waiting (recv MSG_PEEK|MSG_DONTWAIT on the TCP socket under the
// sealing and TLS, if any); a connection with no socket to look at (a
// pipe, in tests) counts as open.
func socketOpen(c net.Conn) bool {
	for {
		switch x := c.(type) {
		case *Conn:
			c = x.Conn
			continue
		case *tls.Conn:
			c = x.NetConn()
			continue
		}
		break
	}
	sc, ok := c.(interface {
		SyscallConn() (syscall.RawConn, error)
	})
	if !ok {
		return true
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	var perr error
	var b [1]byte
	if err := rc.Control(func(fd uintptr) {
		_, _, perr = syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
	}); err != nil {
		return false
	}
	return errors.Is(perr, syscall.EAGAIN)
}

// get takes a pooled connection to addr, else dials one. With fresh (the
// peer closed the pooled one it took), it closes every connection pooled to
// addr and dials.
func (c *Client) get(ctx context.Context, addr string, fresh bool) (net.Conn, bool, error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, false, ErrClientClosed
	}
	var stale []net.Conn
	var conn net.Conn
	pool := c.idle[addr]
	for len(pool) > 0 {
		ic := pool[len(pool)-1]
		pool = pool[:len(pool)-1]
		if !fresh && c.now().Sub(ic.since) < ClientIdleTimeout {
			conn = ic.conn
			break
		}
		stale = append(stale, ic.conn)
	}
	if len(pool) == 0 {
		delete(c.idle, addr)
	} else {
		c.idle[addr] = pool
	}
	c.mu.Unlock()
	for _, s := range stale {
		s.Close()
	}
	if conn != nil {
		return conn, true, nil
	}
	conn, err := c.dialer.DialContext(ctx, addr)
	return conn, false, err
}

func (c *Client) put(addr string, conn net.Conn) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || len(c.idle[addr]) >= maxIdlePerAddr {
		conn.Close()
		return
	}
	now := c.now()
	c.idle[addr] = append(c.idle[addr], idleConn{conn: conn, since: now})
	if now.Sub(c.swept) >= ClientIdleTimeout {
		c.swept = now
		c.sweepLocked(now)
	}
}

// sweepLocked closes the idle connections kept longer than
// ClientIdleTimeout, of every address. Caller holds c.mu.
func (c *Client) sweepLocked(now time.Time) {
	for addr, pool := range c.idle {
		kept := pool[:0]
		for _, ic := range pool {
			if now.Sub(ic.since) < ClientIdleTimeout {
				kept = append(kept, ic)
			} else {
				ic.conn.Close()
			}
		}
		if len(kept) == 0 {
			delete(c.idle, addr)
		} else {
			c.idle[addr] = kept
		}
	}
}

// Close closes every pooled connection; later calls fail.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	for addr, pool := range c.idle {
		for _, ic := range pool {
			ic.conn.Close()
		}
		delete(c.idle, addr)
	}
	return nil
}
