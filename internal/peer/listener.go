package peer

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// MaxPendingHandshakes bounds the handshakes a Listener runs at once, so a
// flood of silent connections costs a bounded number of goroutines. A
// connection beyond it takes the place of the oldest handshake, which is
// closed and counted as failed: a peer's handshake takes a round trip, so
// the oldest is almost surely one that sent nothing. Turning the newcomer
// away instead let anyone who sent the header byte and then nothing, 52
// connections a second, keep every peer from connecting.
const MaxPendingHandshakes = 256

// ListenerOption configures a Listener.
type ListenerOption func(*Listener)

// WithHandshakeTimeout bounds each server-side handshake (default
// DefaultHandshakeTimeout).
func WithHandshakeTimeout(d time.Duration) ListenerOption {
	return func(l *Listener) { l.timeout = d }
}

// withMaxPending sets the listener's handshake slots (tests).
func withMaxPending(n int) ListenerOption {
	return func(l *Listener) { l.slots = make(chan struct{}, n) }
}

// WithIdentity makes the listener state id (read at each handshake) under
// its proof, so that a dialer that meant to reach another server (its
// address moved) is refused rather than served.
func WithIdentity(id func() Identity) ListenerOption {
	return func(l *Listener) { l.identity = id }
}

// WithRejectHook calls fn for every connection that failed to
// authenticate, in its handshake or later in a record (to log it).
func WithRejectHook(fn func(remote net.Addr, err error)) ListenerOption {
	return func(l *Listener) { l.onReject = fn }
}

// Listener wraps a listener (a mux sub-listener) so that Accept returns only
// connections that proved they hold a key, sealed (*Conn). Handshakes run in
// their own goroutines: one slow peer never delays another's Accept.
type Listener struct {
	inner    net.Listener
	header   byte
	keys     *Keys
	timeout  time.Duration
	onReject func(net.Addr, error)
	identity func() Identity

	ready   chan net.Conn // authenticated, waiting for Accept
	done    chan struct{} // closed by Close
	stopped chan struct{} // closed when inner.Accept fails for good
	slots   chan struct{} // one token per running handshake
	failed  atomic.Uint64

	mu sync.Mutex
	// pending are the handshakes in progress, by when they began (closed
	// by Close, the oldest when a newcomer finds no slot).
	pending   map[net.Conn]time.Time
	acceptErr error
	closeOnce sync.Once
	wg        sync.WaitGroup
}

// NewListener starts accepting header connections (the header byte already
// consumed by the mux) from inner and returns the authenticated listener.
// Closing it closes inner.
func NewListener(inner net.Listener, header byte, keys *Keys, opts ...ListenerOption) *Listener {
	l := &Listener{
		inner:   inner,
		header:  header,
		keys:    keys,
		timeout: DefaultHandshakeTimeout,
		ready:   make(chan net.Conn),
		done:    make(chan struct{}),
		stopped: make(chan struct{}),
		pending: map[net.Conn]time.Time{},
		slots:   make(chan struct{}, MaxPendingHandshakes),
	}
	for _, o := range opts {
		o(l)
	}
	l.wg.Add(1)
	go l.acceptLoop()
	return l
}

// Accept returns the next authenticated connection.
func (l *Listener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ready:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	case <-l.stopped:
		l.mu.Lock()
		err := l.acceptErr
		l.mu.Unlock()
		return nil, err
	}
}

// Addr is inner's address.
func (l *Listener) Addr() net.Addr { return l.inner.Addr() }

// Failed counts connections closed because they did not authenticate (wrong
// secret, no secret, timeout, or too many handshakes at once) or sent a
// record that failed authentication.
func (l *Listener) Failed() uint64 { return l.failed.Load() }

// Close stops accepting, closes inner and every connection still in its
// handshake, and waits for the handshake goroutines.
func (l *Listener) Close() error {
	var err error
	l.closeOnce.Do(func() {
		close(l.done)
		err = l.inner.Close()
		l.mu.Lock()
		for c := range l.pending {
			c.Close()
		}
		l.mu.Unlock()
		l.wg.Wait()
	})
	return err
}

func (l *Listener) acceptLoop() {
	defer l.wg.Done()
	for {
		c, err := l.inner.Accept()
		if err != nil {
			select {
			case <-l.done:
				return
			default:
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				time.Sleep(10 * time.Millisecond) // transient: back off briefly
				continue
			}
			l.mu.Lock()
			l.acceptErr = fmt.Errorf("peer listener: %w", err)
			l.mu.Unlock()
			close(l.stopped)
			return
		}
		select {
		case l.slots <- struct{}{}:
		default:
			// Full: the oldest handshake gives up its slot (its goroutine
			// returns it once its read fails).
			l.evictOldest()
			select {
			case l.slots <- struct{}{}:
			case <-l.done:
				c.Close()
				return
			}
		}
		l.mu.Lock()
		select {
		case <-l.done:
			l.mu.Unlock()
			c.Close()
			return
		default:
		}
		l.pending[c] = time.Now()
		l.wg.Add(1)
		l.mu.Unlock()
		go l.handshake(c)
	}
}

// evictOldest closes the handshake that began first.
func (l *Listener) evictOldest() {
	l.mu.Lock()
	var oldest net.Conn
	var since time.Time
	for c, at := range l.pending {
		if oldest == nil || at.Before(since) {
			oldest, since = c, at
		}
	}
	if oldest != nil {
		delete(l.pending, oldest) // its goroutine counts no second failure
	}
	l.mu.Unlock()
	if oldest != nil {
		oldest.Close()
		l.reject(oldest.RemoteAddr(), errors.New("too many pending peer handshakes: the oldest closed"))
	}
}

func (l *Listener) handshake(c net.Conn) {
	defer l.wg.Done()
	var self Identity
	if l.identity != nil {
		self = l.identity()
	}
	// The handshake leaves pending before its proof goes out (claim): once
	// the client has the proof it takes the connection as made, and an
	// eviction after that would close it under the client's first request.
	claimed := false
	claim := func() bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		_, claimed = l.pending[c]
		delete(l.pending, c)
		return claimed
	}
	sc, err := authenticate(c, l.header, l.keys, self, time.Now().Add(l.timeout), claim)
	l.mu.Lock()
	_, stillPending := l.pending[c]
	evicted := !claimed && !stillPending
	delete(l.pending, c)
	l.mu.Unlock()
	<-l.slots
	if err != nil || evicted {
		c.Close()
		if !evicted {
			l.reject(c.RemoteAddr(), err)
		}
		return
	}
	sc.onReject = l.reject
	select {
	case l.ready <- sc:
	case <-l.done:
		sc.Close() // and so c; its key set tracks it
	}
}

func (l *Listener) reject(remote net.Addr, err error) {
	l.failed.Add(1)
	if l.onReject != nil {
		l.onReject(remote, err)
	}
}

// Layer pairs an authenticated listener with a dialer: the shape of
// quorum.Layer, Raft's stream layer.
type Layer struct {
	net.Listener
	*Dialer
}

// NewLayer returns the layer accepting from ln and dialing with d.
func NewLayer(ln net.Listener, d *Dialer) *Layer { return &Layer{Listener: ln, Dialer: d} }
