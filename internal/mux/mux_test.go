package mux

import (
	"bufio"
	"crypto/tls"
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/internal/redistest"
)

func TestMuxRoutesByFirstByte(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m := New(ln)
	raft, err := m.Listen(0xF1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Listen(0xF1); err == nil {
		t.Fatal("duplicate header accepted")
	}
	if _, err := m.Listen('*'); err == nil {
		t.Fatal("RESP-looking header accepted")
	}
	go m.Serve()
	defer m.Close()

	// A RESP client: its bytes reach the default listener intact.
	go func() {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			return
		}
		c.Write([]byte("*1\r\n$4\r\nPING\r\n"))
	}()
	// A peer: header consumed, payload follows.
	go func() {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			return
		}
		c.Write([]byte{0xF1, 'r', 'a', 'f', 't'})
	}()

	readAll := func(l net.Listener, n int) string {
		c, err := l.Accept()
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, n)
		if _, err := io.ReadFull(c, buf); err != nil {
			t.Fatal(err)
		}
		return string(buf)
	}
	if got := readAll(m.Default(), 14); got != "*1\r\n$4\r\nPING\r\n" {
		t.Fatalf("default got %q", got)
	}
	if got := readAll(raft, 4); got != "raft" {
		t.Fatalf("raft got %q", got)
	}
}

func TestMuxCloseUnblocksAcceptAndSniffing(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m := New(ln)
	served := make(chan error, 1)
	go func() { served <- m.Serve() }()
	// An idle connection that never sends a byte must not keep Close waiting.
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	accepted := make(chan error, 1)
	go func() { _, err := m.Default().Accept(); accepted <- err }()

	// Wait until the mux has taken the idle connection in.
	deadline := time.Now().Add(5 * time.Second)
	for {
		m.mu.Lock()
		n := len(m.conns)
		m.mu.Unlock()
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("connection never reached the mux")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-accepted; err != net.ErrClosed {
		t.Fatalf("accept after close: %v", err)
	}
	if err := <-served; err != nil {
		t.Fatalf("serve: %v", err)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := bufio.NewReader(c).ReadByte(); err == nil {
		t.Fatal("idle connection still open after Close")
	}
}

// TestMuxAcceptsPastEMFILE: accept errors other than the listener's close
// pass. Serve returned on the first EMFILE, and the port was left open
// with nobody accepting.
func TestMuxAcceptsPastEMFILE(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m := New(&redistest.EMFILEListener{Listener: ln, Fails: 3})
	var heard atomic.Int64
	m.SetAcceptErrorHook(func(error) { heard.Add(1) })
	served := make(chan error, 1)
	go func() { served <- m.Serve() }()
	defer m.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("*1\r\n"))
	got := make(chan net.Conn, 1)
	go func() {
		if a, err := m.Default().Accept(); err == nil {
			got <- a
		}
	}()
	select {
	case a := <-got:
		a.Close()
	case err := <-served:
		t.Fatalf("Serve returned %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("no connection routed after the accept errors")
	}
	if n := heard.Load(); n != 3 {
		t.Fatalf("the hook heard %d accept errors, want 3", n)
	}
}

// TestMuxBoundsSilentConnections: at most maxSniffing connections wait
// for their first byte; one past it is closed at once, and room is made
// as waiting ones speak.
func TestMuxBoundsSilentConnections(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m := New(ln)
	m.maxSniffing = 3
	go m.Serve()
	defer m.Close()
	go func() {
		for {
			c, err := m.Default().Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	dial := func() net.Conn {
		t.Helper()
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	sniffing := func() int {
		m.mu.Lock()
		defer m.mu.Unlock()
		return len(m.conns)
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: %d sniffing", what, sniffing())
			}
		}
	}
	silent := []net.Conn{dial(), dial(), dial()}
	waitFor("three silent connections", func() bool { return sniffing() == 3 })
	if !refused(t, dial()) {
		t.Fatal("a fourth silent connection was kept")
	}
	silent[0].Write([]byte("*"))
	waitFor("the first one routed", func() bool { return sniffing() == 2 })
	silent = append(silent, dial())
	waitFor("a new one kept", func() bool { return sniffing() == 3 })

	// The command surface's clients count too: with two of them, one
	// connection being sniffed is all the limit of 3 leaves.
	var clients atomic.Int64
	m.Limit(3, func() int { return int(clients.Load()) + m.Sniffing() })
	clients.Store(2)
	for _, c := range silent {
		c.Write([]byte("*"))
	}
	waitFor("the silent ones routed", func() bool { return sniffing() == 0 })
	dial()
	waitFor("one kept", func() bool { return sniffing() == 1 })
	if !refused(t, dial()) {
		t.Fatal("a connection past maxclients, counting the clients, was kept")
	}
}

// refused reads what the mux answers c: true when it is redis' maxclients
// error and the end of the stream.
func refused(t *testing.T, c net.Conn) bool {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, err := io.ReadAll(c)
	if err != nil {
		t.Logf("read %q: %v", b, err)
		return false
	}
	return string(b) == "-ERR max number of clients reached\r\n"
}

// TestMuxLimitIsThePortsAcrossListeners: maxclients counts the
// connections of every listener (0.0.0.0 and ::, a TLS port): with a limit
// per mux, two listeners held twice as many silent connections.
func TestMuxLimitIsThePortsAcrossListeners(t *testing.T) {
	var muxes []*Mux
	var addrs []string
	held := func() int {
		n := 0
		for _, m := range muxes {
			n += m.Sniffing()
		}
		return n
	}
	for range 2 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		m := New(ln)
		m.Limit(3, held)
		muxes = append(muxes, m)
		addrs = append(addrs, ln.Addr().String())
	}
	for _, m := range muxes {
		go m.Serve()
		defer m.Close()
	}
	dial := func(addr string) net.Conn {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	dial(addrs[0])
	dial(addrs[0])
	dial(addrs[1])
	redistest.Until(t, 5*time.Second, "three silent connections", func() bool { return held() == 3 })
	for _, a := range addrs {
		if !refused(t, dial(a)) {
			t.Fatalf("a connection to %s past maxclients 3, counting both listeners, was kept (%d held)", a, held())
		}
	}
}

// TestMuxRefusesTLSAtOnce: a TLS connection past the limit is closed at
// once, without the handshake its first write would run: told so, it held
// a descriptor and a goroutine for a second, and a flood of them took
// every descriptor.
func TestMuxRefusesTLSAtOnce(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m := New(tls.NewListener(ln, &tls.Config{}))
	m.Limit(0, func() int { return 0 })
	go m.Serve()
	defer m.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if b, err := io.ReadAll(c); err != nil || len(b) != 0 {
		t.Fatalf("read %q, %v; want the end of the stream", b, err)
	}
	if waited := time.Since(start); waited > 500*time.Millisecond {
		t.Fatalf("closed after %v", waited)
	}
}
