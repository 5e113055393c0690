package mux

import (
	"net"
	"sync"
)

// Merge fans several listeners (one per bound address) into one: Raft's
// transport takes a single listener, while a sentinel may listen on several
// addresses. Close stops the merged listener only; the inner listeners
// belong to their muxes, which close them with the port.
func Merge(lns ...net.Listener) net.Listener {
	m := &merged{addr: lns[0].Addr(), ch: make(chan net.Conn), done: make(chan struct{})}
	for _, l := range lns {
		go m.pump(l)
	}
	return m
}

type merged struct {
	addr net.Addr
	ch   chan net.Conn
	done chan struct{}
	once sync.Once
}

func (m *merged) pump(l net.Listener) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		select {
		case m.ch <- c:
		case <-m.done:
			c.Close()
			return
		}
	}
}

func (m *merged) Accept() (net.Conn, error) {
	select {
	case c := <-m.ch:
		return c, nil
	case <-m.done:
		return nil, net.ErrClosed
	}
}

func (m *merged) Close() error {
	m.once.Do(func() { close(m.done) })
	return nil
}

func (m *merged) Addr() net.Addr { return m.addr }
