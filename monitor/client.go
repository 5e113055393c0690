package monitor

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"syscall"
	"time"
)

// Client sends commands to one Redis node (or sentinel) on connections of
// its own, outside the monitor's links: a failover's commands (it pauses
// nodes itself, and a paused node holds a link's hello PUBLISH and all
// behind it) and the preStop hook's. It speaks RESP2 with the links' encoder
// and bounded reader (appendCommand, readValue) and keeps up to MaxIdle
// connections between commands.
//
// Why not a client library: this is all a sentinel asks of one (a command
// or a pipeline, a reply, a deadline), and go-redis, which did it before,
// was a tenth of the binary's code, which with its tables the process maps
// nearly whole (issue 12: the binary's pages are 12 of a gosentinel's 27 MB
// resident at 500 masters, and 11.5 of 17 MB at rest).
type Client struct {
	o      ClientOptions
	mu     sync.Mutex
	idle   []*clientConn
	closed bool
}

// ClientOptions configure a Client.
type ClientOptions struct {
	Addr string
	// TLS, if set, is the client configuration (its ServerName defaults to
	// Addr's host).
	TLS *tls.Config
	// DialTimeout bounds a dial with its TLS handshake; Timeout each
	// exchange (the commands written and their replies read); 0 is no
	// bound. A context's deadline, if sooner, bounds both, and its
	// cancellation ends them.
	DialTimeout, Timeout time.Duration
	// MaxIdle is how many connections are kept between commands (at least
	// one).
	MaxIdle int
	// OnConnect, if set, runs on each new connection before its first
	// command (AUTH), with do sending one command on it. An error fails
	// the command the connection was made for.
	OnConnect func(do func(args ...string) ([]string, error)) error
}

// ErrClientClosed is the answer of a closed Client.
var ErrClientClosed = errors.New("client closed")

// NewClient returns a client to o.Addr; it dials on first use.
func NewClient(o ClientOptions) *Client {
	o.MaxIdle = max(o.MaxIdle, 1)
	return &Client{o: o}
}

// clientConn is one connection of a Client.
type clientConn struct {
	nc net.Conn
	r  *bufio.Reader
	wb []byte
	// spent marks a connection whose deadline the context's end may have
	// moved into the past: it is closed instead of kept.
	spent bool
}

// clientReadBuffer is a connection's read buffer: the replies a sentinel
// asks for (ROLE, CONFIG GET, INFO replication) are a few KB, and a longer
// one is read through it.
const clientReadBuffer = 4 << 10

// Do sends one command and returns its reply as Call does: an array's
// elements as strings, or a status, bulk or integer as one string; an
// error reply is a *ReplyError.
func (c *Client) Do(ctx context.Context, args ...string) ([]string, error) {
	vs, err := c.exchange(ctx, [][]string{args})
	if err != nil {
		return nil, err
	}
	return flatten(vs[0])
}

// Reply is one reply of a Pipeline: an error reply (Err, a *ReplyError),
// an array (Elems, each a Reply), or a status, bulk or integer (Str).
type Reply struct {
	Err   error
	Elems []Reply
	Str   string
}

func toReply(v value) Reply {
	switch {
	case v.isError():
		return Reply{Err: &ReplyError{Msg: v.str}}
	case v.typ == '*':
		r := Reply{Elems: make([]Reply, len(v.elems))}
		for i, e := range v.elems {
			r.Elems[i] = toReply(e)
		}
		return r
	default:
		return Reply{Str: scalar(v)}
	}
}

// Pipeline writes the commands at once and returns their replies in
// order; the error is the exchange's (a network or protocol failure), not
// a command's.
func (c *Client) Pipeline(ctx context.Context, cmds ...[]string) ([]Reply, error) {
	vs, err := c.exchange(ctx, cmds)
	if err != nil {
		return nil, err
	}
	out := make([]Reply, len(vs))
	for i, v := range vs {
		out[i] = toReply(v)
	}
	return out, nil
}

// exchange writes cmds and reads one reply for each. A kept connection
// that turns out closed by the node before the first reply is dropped and
// the exchange made once more on a new one: most often the node closed it
// while it waited (the SLAVEOF transaction's CLIENT KILL TYPE normal
// closes the other kept connection; the node's timeout; a restart), and
// every command a sentinel sends is safe to run twice.
func (c *Client) exchange(ctx context.Context, cmds [][]string) ([]value, error) {
	cc, kept, err := c.get(ctx)
	if err != nil {
		return nil, err
	}
	vs, n, err := c.roundTrip(ctx, cc, cmds)
	if err != nil && kept && n == 0 && ctx.Err() == nil && isClosedByPeer(err) {
		cc.nc.Close()
		if cc, err = c.dial(ctx); err != nil {
			return nil, err
		}
		vs, _, err = c.roundTrip(ctx, cc, cmds)
	}
	if err != nil {
		cc.nc.Close()
		return nil, err
	}
	c.put(cc)
	return vs, nil
}

// isClosedByPeer tells an error of a connection the other side had closed.
func isClosedByPeer(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// roundTrip writes cmds on cc and reads their replies, within the
// exchange's deadline; n is how many replies were read.
func (c *Client) roundTrip(ctx context.Context, cc *clientConn, cmds [][]string) (vs []value, n int, err error) {
	var deadline time.Time // none: Timeout 0 and no deadline in ctx
	if c.o.Timeout > 0 {
		deadline = time.Now().Add(c.o.Timeout)
	}
	if d, ok := ctx.Deadline(); ok && (deadline.IsZero() || d.Before(deadline)) {
		deadline = d
	}
	if err := cc.nc.SetDeadline(deadline); err != nil {
		return nil, 0, err
	}
	// A cancelled context ends the exchange now: the past deadline fails
	// the read or write in progress (the connection is then dropped).
	stop := context.AfterFunc(ctx, func() { cc.nc.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	cc.wb = cc.wb[:0]
	for _, args := range cmds {
		cc.wb = appendCommand(cc.wb, args...)
	}
	if _, err := cc.nc.Write(cc.wb); err != nil {
		return nil, 0, c.failed(ctx, err)
	}
	vs = make([]value, len(cmds))
	for i := range vs {
		if vs[i], err = readValue(cc.r); err != nil {
			return nil, i, c.failed(ctx, err)
		}
	}
	// The context ended as the last reply came in: the replies stand, but
	// the deadline may already be in the past.
	cc.spent = !stop()
	return vs, len(vs), nil
}

// failed names the node in err, and the context's end if it caused it.
func (c *Client) failed(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%s: %w: %w", c.o.Addr, ctx.Err(), err)
	}
	return fmt.Errorf("%s: %w", c.o.Addr, err)
}

// get returns a kept connection (kept true) or a new one.
func (c *Client) get(ctx context.Context) (cc *clientConn, kept bool, err error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, false, ErrClientClosed
	}
	if n := len(c.idle); n > 0 {
		cc = c.idle[n-1]
		c.idle = c.idle[:n-1]
		c.mu.Unlock()
		return cc, true, nil
	}
	c.mu.Unlock()
	cc, err = c.dial(ctx)
	return cc, false, err
}

// put keeps cc for the next command, or closes it.
func (c *Client) put(cc *clientConn) {
	c.mu.Lock()
	if !c.closed && !cc.spent && len(c.idle) < c.o.MaxIdle {
		c.idle = append(c.idle, cc)
		c.mu.Unlock()
		return
	}
	c.mu.Unlock()
	cc.nc.Close()
}

// dial opens a connection and runs OnConnect on it.
func (c *Client) dial(ctx context.Context) (*clientConn, error) {
	dctx := ctx
	if c.o.DialTimeout > 0 {
		var cancel context.CancelFunc
		dctx, cancel = context.WithTimeout(ctx, c.o.DialTimeout)
		defer cancel()
	}
	nd := &net.Dialer{}
	var nc net.Conn
	var err error
	if c.o.TLS != nil {
		nc, err = (&tls.Dialer{NetDialer: nd, Config: c.o.TLS}).DialContext(dctx, "tcp", c.o.Addr)
	} else {
		nc, err = nd.DialContext(dctx, "tcp", c.o.Addr)
	}
	if err != nil {
		return nil, err
	}
	cc := &clientConn{nc: nc, r: bufio.NewReaderSize(nc, clientReadBuffer)}
	if c.o.OnConnect != nil {
		err := c.o.OnConnect(func(args ...string) ([]string, error) {
			vs, _, err := c.roundTrip(ctx, cc, [][]string{args})
			if err != nil {
				return nil, err
			}
			return flatten(vs[0])
		})
		if err != nil {
			nc.Close()
			return nil, err
		}
	}
	return cc, nil
}

// Close closes the kept connections; a command running meanwhile closes
// its own when it ends, and later ones fail with ErrClientClosed.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	var errs []error
	for _, cc := range c.idle {
		errs = append(errs, cc.nc.Close())
	}
	c.idle = nil
	return errors.Join(errs...)
}
