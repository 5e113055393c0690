package node

import (
	"errors"
	"net"
	"testing"
	"time"
)

// TestGateOutlivesAClosedView: a Raft transport that closes its listener
// (Raft failed to start) closes only its view of the gate; the next
// attempt's view still receives the port's Raft connections, and the gate's
// own Close ends every view.
func TestGateOutlivesAClosedView(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := newGatedListener(ln)
	defer g.Close()
	g.open()
	first := g.view()
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := first.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("closed view's Accept: %v", err)
	}
	second := g.view()
	accepted := make(chan error, 1)
	go func() {
		c, err := second.Accept()
		if err == nil {
			c.Close()
		}
		accepted <- err
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	select {
	case err := <-accepted:
		if err != nil {
			t.Fatalf("the next view's Accept: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no connection reached the next view")
	}
	third := g.view()
	g.Close()
	if _, err := third.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("view's Accept after the gate closed: %v", err)
	}
}
