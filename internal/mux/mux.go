// Package mux shares one TCP port between the RESP command surface and the
// sentinels' own peer traffic (Raft, peer RPC). A connection's first byte
// decides where it goes: RESP clients always speak first and start with '*'
// (multibulk) or a printable inline command, so a byte at or above 0xF0
// is never sent by a Redis client; peer dialers write such a header byte
// first. Everything that is not a registered header goes to the default
// (RESP) listener with the byte replayed.
//
// Modeled on rqlite's tcp/mux.go, with one difference: the default route
// exists because our public protocol lives on the same port, which is what
// lets an unchanged StatefulSet, Service and NetworkPolicy with the single
// port 26379 carry Raft too.
package mux

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"sync"
	"syscall"
	"time"

	"github.com/x0tta6bl4/gosentinel/internal/acceptloop"
	"github.com/x0tta6bl4/gosentinel/internal/rawconn"
)

// MinHeader is the smallest byte usable as a peer header.
const MinHeader byte = 0xF0

// MaxSniffing is how many connections may wait for their first byte at
// once without a Limit: redis' default maxclients, which counts a client
// that has sent nothing yet. A connection past it is refused
// (acceptloop.RefuseMaxClients). Without a bound,
// connections that never sent a byte held a goroutine, a read buffer and
// a descriptor each, and once the process ran out of descriptors nothing
// could connect.
const MaxSniffing = 10000

// Mux routes accepted connections by their first byte.
type Mux struct {
	ln net.Listener

	mu    sync.Mutex
	subs  map[byte]*listener
	def   *listener
	conns map[net.Conn]struct{} // connections still being sniffed
	// maxSniffing bounds conns (MaxSniffing; tests set less), or what
	// held reports (Limit).
	maxSniffing int
	held        func() int
	// acceptErr hears accept errors (SetAcceptErrorHook).
	acceptErr func(error)
	closed    bool
	closeCh   chan struct{}
	wg        sync.WaitGroup
}

// New returns a mux over ln. Register headers with Listen, take the default
// listener with Default, then call Serve.
func New(ln net.Listener) *Mux {
	m := &Mux{ln: ln, subs: map[byte]*listener{}, conns: map[net.Conn]struct{}{}, closeCh: make(chan struct{}), maxSniffing: MaxSniffing}
	m.def = m.newListener()
	return m
}

func (m *Mux) newListener() *listener {
	return &listener{m: m, ch: make(chan net.Conn), done: m.closeCh}
}

// Listen returns the listener for connections starting with header (which
// must be >= MinHeader). The header byte is consumed.
func (m *Mux) Listen(header byte) (net.Listener, error) {
	if header < MinHeader {
		return nil, fmt.Errorf("mux header %#x is below %#x: a RESP client could send it", header, MinHeader)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.subs[header]; ok {
		return nil, fmt.Errorf("mux header %#x registered twice", header)
	}
	l := m.newListener()
	m.subs[header] = l
	return l, nil
}

// Limit bounds the connections held against maxclients by max: held
// reports them all, the command surface's clients and the connections
// every mux of the process is sniffing (Sniffing), since redis' maxclients
// counts a client that has sent nothing yet, on any of its listeners. A
// connection past it is told so as redis tells it, and closed.
func (m *Mux) Limit(max int, held func() int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.maxSniffing, m.held = max, held
}

// Sniffing is how many connections wait for their first byte.
func (m *Mux) Sniffing() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.conns)
}

// SetAcceptErrorHook has f hear each accept error (out of descriptors,
// most often) before the mux waits and accepts again. Call before Serve.
func (m *Mux) SetAcceptErrorHook(f func(error)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.acceptErr = f
}

// Default returns the listener for everything else, with the first byte
// replayed.
func (m *Mux) Default() net.Listener { return m.def }

// Addr is the underlying listener's address.
func (m *Mux) Addr() net.Addr { return m.ln.Addr() }

// Serve accepts until the underlying listener is closed. Any other accept
// error passes (acceptloop): it waits and accepts again.
func (m *Mux) Serve() error {
	var backoff acceptloop.Backoff
	for {
		c, err := m.ln.Accept()
		if err != nil {
			wait, ok := backoff.Retry(err)
			if !ok {
				return nil
			}
			m.mu.Lock()
			hook := m.acceptErr
			m.mu.Unlock()
			if hook != nil {
				hook(err)
			}
			select {
			case <-time.After(wait):
			case <-m.closeCh:
				return nil
			}
			continue
		}
		backoff.Accepted()
		// Asked outside the lock: it takes the command surface's and
		// every mux's, this one's too.
		m.mu.Lock()
		held := m.held
		m.mu.Unlock()
		busy := -1
		if held != nil {
			busy = held()
		}
		m.mu.Lock()
		if m.closed {
			m.mu.Unlock()
			c.Close()
			return nil
		}
		if busy < 0 {
			busy = len(m.conns)
		}
		if busy >= m.maxSniffing {
			m.mu.Unlock()
			acceptloop.RefuseMaxClients(c)
			continue
		}
		m.conns[c] = struct{}{}
		m.wg.Add(1)
		m.mu.Unlock()
		go m.route(c)
	}
}

// route reads the first byte without a deadline: a Redis client may open a
// connection long before its first command (connection pools do).
func (m *Mux) route(c net.Conn) {
	defer m.wg.Done()
	// Read and written with raw system calls (a plain TCP connection;
	// TLS is below the mux, and has its own), for the peers' traffic:
	// the command surface does its own, through SyscallConn.
	rc := rawconn.Wrap(c)
	br := bufio.NewReader(rc)
	first, err := br.Peek(1)
	m.mu.Lock()
	delete(m.conns, c)
	m.mu.Unlock()
	if err != nil {
		c.Close()
		return
	}
	m.mu.Lock()
	sub, ok := m.subs[first[0]]
	m.mu.Unlock()
	target := m.def
	if ok {
		br.Discard(1)
		target = sub
	}
	conn := &bufferedConn{Conn: rc, r: br}
	select {
	case target.ch <- conn:
	case <-m.closeCh:
		c.Close()
	}
}

// Close closes the underlying listener, every sub-listener and connections
// still being sniffed.
func (m *Mux) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	close(m.closeCh)
	for c := range m.conns {
		c.Close()
	}
	m.mu.Unlock()
	err := m.ln.Close()
	m.wg.Wait()
	return err
}

// listener is a sub-listener fed by the mux.
type listener struct {
	m    *Mux
	ch   chan net.Conn
	done chan struct{}
}

func (l *listener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ch:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// Close closes the whole mux: the sub-listeners share one port.
func (l *listener) Close() error   { return l.m.Close() }
func (l *listener) Addr() net.Addr { return l.m.ln.Addr() }

// bufferedConn replays what the mux peeked.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// Buffered is how many peeked bytes Read has still to replay: until it is
// 0, the socket must not be read directly.
func (c *bufferedConn) Buffered() int { return c.r.Buffered() }

// SyscallConn is the socket's when the connection is a plain one (not TLS,
// whose bytes are records): the command surface reads and writes it with
// raw system calls (reading only once Buffered is 0), and CLIENT LIST
// shows its fd.
func (c *bufferedConn) SyscallConn() (syscall.RawConn, error) {
	sc, ok := c.Conn.(syscall.Conn)
	if !ok {
		return nil, errors.New("mux: not a socket connection")
	}
	return sc.SyscallConn()
}
