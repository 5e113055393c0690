package node

import (
	"net"
	"sync"
)

// gatedListener hands Raft the authenticated connections that arrive once
// its store is open, and closes the ones that arrive before: a vote request
// queued while a sentinel that lost its disk was still finding its group
// must not be answered by the Raft it opens afterwards (it would answer
// without knowing the vote its former self gave in that term).
type gatedListener struct {
	inner net.Listener
	ch    chan net.Conn
	done  chan struct{}

	mu       sync.Mutex
	isOpen   bool
	closeOne sync.Once
}

func newGatedListener(inner net.Listener) *gatedListener {
	g := &gatedListener{inner: inner, ch: make(chan net.Conn), done: make(chan struct{})}
	go g.loop()
	return g
}

func (g *gatedListener) loop() {
	for {
		c, err := g.inner.Accept()
		if err != nil {
			g.Close()
			return
		}
		g.mu.Lock()
		open := g.isOpen
		g.mu.Unlock()
		if !open {
			c.Close()
			continue
		}
		select {
		case g.ch <- c:
		case <-g.done:
			c.Close()
			return
		}
	}
}

// open lets connections through from now on.
func (g *gatedListener) open() {
	g.mu.Lock()
	g.isOpen = true
	g.mu.Unlock()
}

// Accept returns the next connection that arrived while open.
func (g *gatedListener) Accept() (net.Conn, error) {
	select {
	case c := <-g.ch:
		return c, nil
	case <-g.done:
		return nil, net.ErrClosed
	}
}

// Close closes the inner listener.
func (g *gatedListener) Close() error {
	var err error
	g.closeOne.Do(func() {
		close(g.done)
		err = g.inner.Close()
	})
	return err
}

// Addr is the inner listener's address.
func (g *gatedListener) Addr() net.Addr { return g.inner.Addr() }

// view returns a listener over g for one Raft transport. Its Close ends
// only the view's Accepts: a transport closes its listener when Raft fails
// to start (raft.NewRaft, say an I/O error restoring a snapshot), and
// closing the gate itself then left the next attempt's Raft with a closed
// listener, deaf to its peers, and every Raft connection waiting in the
// port's mux until shutdown. The node closes the gate when it stops.
func (g *gatedListener) view() net.Listener {
	return &gateView{g: g, done: make(chan struct{})}
}

type gateView struct {
	g    *gatedListener
	done chan struct{}
	once sync.Once
}

func (v *gateView) Accept() (net.Conn, error) {
	select {
	case <-v.done:
		return nil, net.ErrClosed
	default:
	}
	select {
	case c := <-v.g.ch:
		return c, nil
	case <-v.done:
		return nil, net.ErrClosed
	case <-v.g.done:
		return nil, net.ErrClosed
	}
}

func (v *gateView) Close() error {
	v.once.Do(func() { close(v.done) })
	return nil
}

func (v *gateView) Addr() net.Addr { return v.g.Addr() }
