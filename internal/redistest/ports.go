package redistest

import (
	"fmt"
	"net"
	"sync"
	"testing"
)

// handedOut are the ports FreePort returned in this process. A port picked
// for later (a sentinel port written into every pod's config before that
// sentinel starts) is free until it is bound, so the kernel may hand it out
// again to the next probe: a data node started meanwhile would take it
// (seen: a Bitnami pod's sentinel port given to another pod's redis).
var handedOut struct {
	sync.Mutex
	ports map[int]bool
}

// FreePort asks the kernel for a free TCP port on 127.0.0.1 by listening on
// port 0 and closing the listener, never returning a port it returned
// before in this process. Another process may still grab the port before
// ours binds it, so starters retry with a new port when the bind fails
// (see startWithPortRetry).
func FreePort() (int, error) {
	handedOut.Lock()
	defer handedOut.Unlock()
	if handedOut.ports == nil {
		handedOut.ports = map[int]bool{}
	}
	for range 100 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, fmt.Errorf("listen on 127.0.0.1:0: %w", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		if err := l.Close(); err != nil {
			return 0, fmt.Errorf("close probe listener: %w", err)
		}
		if !handedOut.ports[port] {
			handedOut.ports[port] = true
			return port, nil
		}
	}
	return 0, fmt.Errorf("no port on 127.0.0.1 that this process has not used already")
}

// Addr returns "127.0.0.1:<port>".
func Addr(port int) string { return fmt.Sprintf("127.0.0.1:%d", port) }

// ServeTCP listens on 127.0.0.1 (a port the kernel picks) until the test
// ends and serves each connection with handle (Serve). It returns the
// address.
func ServeTCP(t testing.TB, handle func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	Serve(t, ln, handle)
	return ln.Addr().String()
}

// Serve accepts on ln until the test ends (it closes ln then) and runs
// handle on each connection in a goroutine of its own, closing the
// connection when handle returns.
func Serve(t testing.TB, ln net.Listener, handle func(net.Conn)) {
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				handle(c)
			}()
		}
	}()
}
