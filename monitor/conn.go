package monitor

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
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
// matched in order against handlers by the event loop (poller) or, without
// one, a reader goroutine. No network call ever happens with Monitor.mu
// held.
type conn struct {
	mon    *Monitor
	link   *link
	pubsub bool
	addr   string // host:port to dial

	// Guarded by mon.mu.
	closed bool
	// batched: the conn is on mon.batch (Monitor.batching). Used by the
	// monitor's Run goroutine only.
	batched bool
	// connected: the dial completed (connEstablished). See
	// link.shownDisconnected.
	connected bool
	handlers  []replyHandler
	// discarded counts the commands sent by sendDiscarded still waiting
	// for their replies.
	discarded int
	localIP   string // set once connected; used for hello payloads
	remoteIP  string
	// owner is the instance whose reconnect created the conn (for a shared
	// sentinel link, one of the entries sharing it).
	owner *instance
	// resolved, if set, records the peer's IP once connected (hostnames
	// are resolved by the dial itself).
	resolved func(ip string)

	// gone is closed when the conn closes, for Call's waiters; made by
	// the first Call. Guarded by mon.mu. dialCancel stops the dial in
	// progress (nil when none runs); guarded by wmu. Why not a context
	// for the conn's life: with the dial's own context below it, it was
	// a context, its done channel and a children map kept per conn, 1 MB
	// of live heap at 1000 masters (issue 12); a context now lives only
	// while its conn dials.
	gone       chan struct{}
	dialCancel context.CancelFunc

	wmu  sync.Mutex
	wbuf []byte
	// spare is the buffer the last flush wrote, kept for the next
	// commands so that a steady link allocates no write buffers, if its
	// capacity is at most maxSpare (maxSentinelSpare to a sentinel).
	spare      []byte
	spareLimit int
	nc         net.Conn
	dead       bool
	// flushing: a flush goroutine runs; it exits once wbuf is empty.
	flushing bool
	// polled: the connection is served by the monitor's event loop
	// (poller) on the raw descriptor fd (-1 once closed), instead of nc
	// and a reader goroutine. wantOut: a write would have blocked and the
	// loop finishes it. Guarded by wmu.
	polled  bool
	fd      int
	wantOut bool
	// poll is the monitor's event loop when the conn was created (nil:
	// none runs); set once.
	poll *poller
	// parser holds a partly received reply between the loop's reads.
	// Used by the loop goroutine only.
	parser replyParser

	// held: the reader (or the event loop) has bytes from the node it has
	// not finished handling (set when a read returns data, cleared when
	// the reader reads again, or the loop has handed them over). See
	// behind.
	held atomic.Bool
}

// Goroutines and buffers per connection. A sentinel watching many masters
// holds two connections per master and replica (issue 12: 1000 masters
// are over 2000 connections), and most of the time each is idle. So a
// connection keeps one goroutine, the reader, with a small buffer
// (readBufSize), and writes run in a short-lived goroutine started when
// commands are queued on an idle connection, instead of a writer parked
// for the connection's life.
//
// readBufSize holds every reply but INFO's in one read: a PONG, a PUBLISH
// count, a hello message (~150 bytes; three arriving together fit). An
// INFO bulk (4-6 KB) is read past the buffer, straight into its own
// string, so a larger buffer saves no system call. At 4 KB the buffers
// were 12 MB of a follower's 48 MB heap at 1000 masters; at 512 bytes the
// follower's RSS went from 95-97 MB to 83 MB with the same CPU.
const (
	readBufSize = 512
	// maxSpare is the largest write buffer kept between flushes.
	maxSpare = 16 << 10
	// maxSentinelSpare is maxSpare for a connection to another sentinel.
	// It is shared by every master that sentinel watches with us, so each
	// tick queues on it a hello of a tenth of those masters (a hello is
	// published to every instance each 2 s, as sentinel.c does): about
	// 12 KB at 1000 masters, more while the peer is slow. Past maxSpare
	// the buffer was made again from nothing every tick, a dozen growing
	// allocations of 0.6 MB a second, the most of any single site on the
	// Raft leader. There is one such connection per peer sentinel.
	maxSentinelSpare = 256 << 10
)

func newConn(m *Monitor, lk *link, pubsub bool, addr string) *conn {
	return &conn{
		mon: m, link: lk, pubsub: pubsub, addr: addr,
		fd: -1, poll: m.poll, spareLimit: maxSpare,
	}
}

// send queues a command and the handler of its reply. Caller holds mon.mu.
func (c *conn) send(h replyHandler, args ...string) {
	c.handlers = append(c.handlers, h)
	c.write(args...)
}

// sendHeld queues a command and the handler of its reply for flushHere,
// which the caller runs once it has let go of mon.mu. Caller holds mon.mu.
func (c *conn) sendHeld(h replyHandler, args ...string) {
	c.handlers = append(c.handlers, h)
	c.wmu.Lock()
	c.queueLocked(args)
	c.wmu.Unlock()
}

// flushHere writes what is queued from the calling goroutine, which holds
// no lock: on a polled conn one non-blocking write (the loop finishes
// what the socket does not take), else as write does. Why: Call's
// commands each started a flush goroutine, and the leader's first fence
// reads are a thousand Calls at once at 1000 masters (issue 12).
func (c *conn) flushHere() {
	c.wmu.Lock()
	if !c.polled || c.flushing || c.dead || c.fd < 0 {
		c.startFlushLocked()
		c.wmu.Unlock()
		return
	}
	err := c.writeFDLocked()
	c.wmu.Unlock()
	if err != nil {
		c.mon.connFailed(c, err, false)
	}
}

// write queues a command whose reply goes to the sticky handler at the
// head of the queue (a subscribed connection's). Caller holds mon.mu.
func (c *conn) write(args ...string) {
	c.wmu.Lock()
	c.queueLocked(args)
	if c.mon.batching && c.polled {
		c.wmu.Unlock()
		if !c.batched {
			c.batched = true
			c.mon.batch = append(c.mon.batch, c)
		}
		return
	}
	c.startFlushLocked()
	c.wmu.Unlock()
}

// queueLocked appends a command to what is to be written, in the spare
// buffer if there is one. Caller holds c.wmu.
func (c *conn) queueLocked(args []string) {
	if c.wbuf == nil {
		c.wbuf, c.spare = c.spare, nil
	}
	c.wbuf = appendCommand(c.wbuf, args...)
}

// startFlushLocked starts a flush goroutine if the connection is up, has
// something to write and none runs. Caller holds c.wmu.
func (c *conn) startFlushLocked() {
	if c.dead || c.flushing || len(c.wbuf) == 0 {
		return
	}
	if c.polled {
		if c.fd < 0 || c.wantOut {
			return // closed, or the loop finishes the writes
		}
		c.flushing = true
		c.mon.wg.Add(1)
		go c.flushFD()
		return
	}
	if c.nc == nil {
		return
	}
	c.flushing = true
	c.mon.wg.Add(1)
	go c.flush(c.nc)
}

// flush writes queued commands until none are left.
func (c *conn) flush(nc net.Conn) {
	defer c.mon.wg.Done()
	for {
		c.wmu.Lock()
		buf := c.wbuf
		c.wbuf = nil
		if len(buf) == 0 || c.dead {
			c.flushing = false
			c.wmu.Unlock()
			return
		}
		c.wmu.Unlock()
		if _, err := nc.Write(buf); err != nil {
			c.wmu.Lock()
			c.flushing = false
			c.wmu.Unlock()
			c.mon.connFailed(c, err, false)
			return
		}
		if cap(buf) <= c.spareLimit {
			c.wmu.Lock()
			if c.spare == nil {
				c.spare = buf[:0]
			}
			c.wmu.Unlock()
		}
	}
}

// shutdown closes the socket and stops the goroutines; it never blocks on
// the network. Caller holds mon.mu and has marked the conn closed.
func (c *conn) shutdown() {
	if c.gone != nil {
		close(c.gone)
	}
	c.wmu.Lock()
	c.dead = true
	if c.dialCancel != nil {
		c.dialCancel()
	}
	c.wbuf, c.spare = nil, nil
	if c.polled {
		c.poll.release(c)
	} else if c.nc != nil {
		_ = c.nc.Close()
	}
	c.wmu.Unlock()
}

// run dials (dialPaced), then reads replies until the conn dies; commands
// queued meanwhile go out once it is connected. The caller has done
// mon.wg.Add(1); t is the dial gate's ticket, handed back once the dial
// has ended and the conn is handed to the event loop or failed.
func (c *conn) run(t *dialTicket) {
	defer c.mon.wg.Done()
	ctx, cancel := context.WithCancel(context.Background())
	c.wmu.Lock()
	if c.dead {
		cancel() // closed before it began: the dial returns at once
	} else {
		c.dialCancel = cancel
	}
	c.wmu.Unlock()
	nc, err := dialPaced(ctx, defaultDialPacing, func(ctx context.Context) (net.Conn, error) {
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
	c.wmu.Lock()
	c.dialCancel = nil
	c.wmu.Unlock()
	cancel()
	if err != nil {
		c.mon.connFailed(c, err, true)
		c.mon.dials.finished(t)
		return
	}
	c.mon.connEstablished(c, nc.LocalAddr(), nc.RemoteAddr())
	polled := c.poll.takeOver(c, nc)
	c.mon.dials.finished(t)
	if polled {
		return
	}
	c.wmu.Lock()
	if c.dead {
		c.wmu.Unlock()
		_ = nc.Close()
		return
	}
	c.nc = nc
	c.startFlushLocked()
	c.wmu.Unlock()
	c.readLoop(nc)
}

func (c *conn) readLoop(nc net.Conn) {
	r := bufio.NewReaderSize(heldReader{c: c, nc: nc}, readBufSize)
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

// heldReader is the reader's source: it marks the conn held while what a
// read returned is being handled.
type heldReader struct {
	c  *conn
	nc net.Conn
}

func (r heldReader) Read(p []byte) (int, error) {
	r.c.held.Store(false)
	n, err := r.nc.Read(p)
	if n > 0 {
		r.c.held.Store(true)
	}
	return n, err
}

// behind reports whether the node has sent us something this process has
// not handled yet: bytes the reader took and is still handling (or waits
// for the lock to hand over), or bytes waiting in the socket. Then the
// node answered, and the lateness of its replies is ours (a starved
// process, a long hold of the lock): see IsSubjectivelyDown.
//
// A node that stops mid-reply leaves the reader blocked in a read with
// the partial reply (or the partial reply in the loop's parser), which
// does not count: only bytes not yet handed over do.
func (c *conn) behind() bool {
	if c == nil {
		return false
	}
	if c.held.Load() {
		return true
	}
	c.wmu.Lock()
	if c.polled {
		// Under wmu: the descriptor cannot be closed (and its number
		// reused) meanwhile.
		defer c.wmu.Unlock()
		return c.fd >= 0 && unreadFD(c.fd) > 0
	}
	nc := c.nc
	c.wmu.Unlock()
	return nc != nil && unreadBytes(nc) > 0
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
