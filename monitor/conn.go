package monitor

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"sync"
)

// replyHandler consumes one reply. It runs with Monitor.mu held.
type replyHandler struct {
	fn func(value)
	// sticky handlers stay at the head of the queue: a SUBSCRIBE handler
	// receives the confirmation and then every published message.
	sticky bool
}

// conn is one TCP connection of an instance link (cmd or pubsub), the
// equivalent of a hiredis async context. Commands are queued while it is
// still connecting, written by a writer goroutine, and their replies are
// matched in order against handlers by a reader goroutine. No network call
// ever happens with Monitor.mu held.
type conn struct {
	mon    *Monitor
	link   *link
	pubsub bool
	addr   string // host:port to dial

	// Guarded by mon.mu.
	closed   bool
	handlers []replyHandler
	localIP  string // set once connected; used for hello payloads
	remoteIP string
	// owner is the instance whose reconnect created the conn (for a shared
	// sentinel link, one of the entries sharing it).
	owner *instance
	// resolved, if set, records the peer's IP once connected (hostnames
	// are resolved by the dial itself).
	resolved func(ip string)

	ctx    context.Context
	cancel context.CancelFunc

	wmu  sync.Mutex
	wbuf []byte
	nc   net.Conn
	dead bool
	wsig chan struct{}
}

func newConn(m *Monitor, lk *link, pubsub bool, addr string) *conn {
	ctx, cancel := context.WithCancel(context.Background())
	return &conn{
		mon: m, link: lk, pubsub: pubsub, addr: addr,
		ctx: ctx, cancel: cancel,
		wsig: make(chan struct{}, 1),
	}
}

// send queues a command and the handler of its reply. Caller holds mon.mu.
func (c *conn) send(h replyHandler, args ...string) {
	c.handlers = append(c.handlers, h)
	c.wmu.Lock()
	c.wbuf = appendCommand(c.wbuf, args...)
	c.wmu.Unlock()
	select {
	case c.wsig <- struct{}{}:
	default:
	}
}

// shutdown closes the socket and stops the goroutines; it never blocks on
// the network. Caller holds mon.mu and has marked the conn closed.
func (c *conn) shutdown() {
	c.cancel()
	c.wmu.Lock()
	c.dead = true
	c.wbuf = nil
	if c.nc != nil {
		_ = c.nc.Close()
	}
	c.wmu.Unlock()
}

// run dials (dialPaced), then writes queued commands until the conn dies;
// a second goroutine reads replies. The caller has done mon.wg.Add(1).
func (c *conn) run() {
	defer c.mon.wg.Done()
	nc, err := dialPaced(c.ctx, defaultDialPacing, func(ctx context.Context) (net.Conn, error) {
		var d net.Dialer
		nc, err := d.DialContext(ctx, "tcp", c.addr)
		if err != nil || c.mon.cfg.TLS == nil {
			return nc, err
		}
		// The handshake is part of the attempt: a node that accepts but
		// never answers it is abandoned like one that never connects.
		tc := tls.Client(nc, c.mon.cfg.TLS)
		if err := tc.HandshakeContext(ctx); err != nil {
			nc.Close()
			return nil, fmt.Errorf("TLS handshake with %s: %w", c.addr, err)
		}
		return tc, nil
	})
	if err != nil {
		c.mon.connFailed(c, err, true)
		return
	}
	c.wmu.Lock()
	if c.dead {
		c.wmu.Unlock()
		_ = nc.Close()
		return
	}
	c.nc = nc
	c.wmu.Unlock()
	c.mon.connEstablished(c, nc.LocalAddr(), nc.RemoteAddr())

	c.mon.wg.Add(1)
	go c.readLoop(nc)

	for {
		c.wmu.Lock()
		buf := c.wbuf
		c.wbuf = nil
		c.wmu.Unlock()
		if len(buf) > 0 {
			if _, err := nc.Write(buf); err != nil {
				c.mon.connFailed(c, err, false)
				return
			}
			continue
		}
		select {
		case <-c.ctx.Done():
			return
		case <-c.wsig:
		}
	}
}

func (c *conn) readLoop(nc net.Conn) {
	defer c.mon.wg.Done()
	r := bufio.NewReaderSize(nc, 16<<10)
	for {
		v, err := readValue(r)
		if err != nil {
			c.mon.connFailed(c, err, false)
			return
		}
		if !c.mon.deliver(c, v) {
			return
		}
	}
}

// nextHandler pops the handler for the next reply. Caller holds mon.mu.
func (c *conn) nextHandler() (replyHandler, bool) {
	if len(c.handlers) == 0 {
		return replyHandler{}, false
	}
	h := c.handlers[0]
	if !h.sticky {
		c.handlers[0] = replyHandler{}
		c.handlers = c.handlers[1:]
	}
	return h, true
}

func hostOf(a net.Addr) string {
	if ta, ok := a.(*net.TCPAddr); ok {
		return ta.IP.String()
	}
	h, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return ""
	}
	return h
}
