package node_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/internal/redistest"
)

// TestMetricsListenerIsBounded: the metrics listener keeps at most 16
// connections open, idle keep-alive ones included, and closes one past
// them at once; /healthz answers again once one goes. Unbounded, a client
// holding idle connections took every descriptor of the process, and the
// sentinel could not redial the master it watches (hostile-input review).
func TestMetricsListenerIsBounded(t *testing.T) {
	n, _ := startTestNode(t, "metrics-addr 127.0.0.1:0\n")
	addr := n.MetricsAddr().String()
	held := make([]net.Conn, 0, 16)
	for range 16 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		// A request answered, then the connection left idle (keep-alive).
		if _, err := c.Write([]byte("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		r, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("connection %d: %v", len(held), err)
		}
		r.Body.Close()
		held = append(held, c)
	}
	extra, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer extra.Close()
	extra.Write([]byte("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"))
	extra.SetReadDeadline(time.Now().Add(10 * time.Second))
	if b, err := io.ReadAll(extra); len(b) != 0 {
		t.Fatalf("the 17th connection was answered: %q (%v)", b, err)
	}
	held[0].Close()
	client := &http.Client{Timeout: 10 * time.Second}
	redistest.Wait(t, 10*time.Second, "/healthz answers once a connection went", func() error {
		r, err := client.Get("http://" + addr + "/healthz")
		if err != nil {
			return err
		}
		return r.Body.Close()
	})
}
