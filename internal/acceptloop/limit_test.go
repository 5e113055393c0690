package acceptloop

import (
	"io"
	"net"
	"testing"
	"time"
)

// TestLimit: past max open connections, a new one is closed by the
// listener at once; once one closes, the next is kept.
func TestLimit(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := Limit(inner, 2, nil)
	defer ln.Close()
	accepted := make(chan net.Conn, 8)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	dial := func() net.Conn {
		c, err := net.Dial("tcp", inner.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	take := func() net.Conn {
		select {
		case c := <-accepted:
			return c
		case <-time.After(5 * time.Second):
			t.Fatal("no connection accepted")
			return nil
		}
	}
	dial()
	dial()
	first, _ := take(), take()
	third := dial()
	third.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := third.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("the connection past the limit: read %v, want EOF (closed by the listener)", err)
	}
	if n := ln.(*limitListener).Active(); n != 2 {
		t.Fatalf("%d active, want 2", n)
	}
	first.Close()
	first.Close() // twice: counted once
	dial()
	take()
	if n := ln.(*limitListener).Active(); n != 2 {
		t.Fatalf("%d active after one closed and one more came, want 2", n)
	}
}
