package node_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// TestMetricsListenerIsBounded: the metrics listener keeps at most 16
// connections open. Unbounded, a client holding idle connections took every
// descriptor of the process, and the sentinel could not redial the master
// it watches (hostile-input review). At the bound a new connection closes
// the keep-alive connection idle the longest, so held idle connections do
// not keep health probes out; with none idle (16 that never finish a
// request), it is closed at once.
func TestMetricsListenerIsBounded(t *testing.T) {
	n, _ := startTestNode(t, "metrics-addr 127.0.0.1:0\n")
	addr := n.MetricsAddr().String()
	dial := func() net.Conn {
		t.Helper()
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	get := func(c net.Conn) error {
		if _, err := c.Write([]byte("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
			return err
		}
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		r, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			return err
		}
		return r.Body.Close()
	}
	closed := func(c net.Conn) bool {
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		b, _ := io.ReadAll(c)
		return len(b) == 0
	}

	// 16 idle keep-alive connections: a 17th is answered, and the one
	// idle the longest is closed.
	var idle []net.Conn
	for range 16 {
		c := dial()
		if err := get(c); err != nil {
			t.Fatalf("connection %d: %v", len(idle), err)
		}
		idle = append(idle, c)
	}
	if err := get(dial()); err != nil {
		t.Fatalf("a probe with 16 idle connections held: %v", err)
	}
	if !closed(idle[0]) {
		t.Fatal("the connection idle the longest was not closed")
	}

	// 16 connections that never finish a request: none is idle, and a 17th
	// is closed at once (the ones held go at ReadHeaderTimeout). On a
	// sentinel of its own: the first one's connections may not all be gone.
	n, _ = startTestNode(t, "metrics-addr 127.0.0.1:0\n")
	addr = n.MetricsAddr().String()
	busy := make([]net.Conn, 0, 16)
	for range 16 {
		c := dial()
		c.Write([]byte("GET /healthz HTTP/1.1\r\n"))
		busy = append(busy, c)
	}
	extra := dial()
	extra.Write([]byte("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"))
	if !closed(extra) {
		t.Fatal("a 17th connection was answered while 16 were in requests")
	}
}
