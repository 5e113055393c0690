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
