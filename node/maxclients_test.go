package node

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/config"
	"github.com/x0tta6bl4/gosentinel/internal/redistest"
)

// TestMaxClientsCountsEveryListener: sentinel.conf's maxclients bounds the
// connections of all the node's listeners together, those still silent
// included, as redis' maxclients counts every client on any listener: a
// limit per listener held twice as many with two (the default bind * -::*).
func TestMaxClientsCountsEveryListener(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sentinel.conf")
	if err := os.WriteFile(path, []byte("dir "+dir+"\nmaxclients 3\nsentinel monitor mymaster 127.0.0.1 6399 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	var lns []net.Listener
	for range 2 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
	}
	n, err := New(cfg, Options{Listeners: lns, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Serve(ctx) }()
	t.Cleanup(func() { cancel(); <-done; n.Close() })
	if n.cl == nil {
		t.Fatal("no cluster: the muxes are not set up")
	}
	dial := func(ln net.Listener) net.Conn {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	// A client that spoke, then two silent connections, one per listener.
	talker := dial(lns[0])
	talker.SetReadDeadline(time.Now().Add(5 * time.Second))
	b := make([]byte, 7)
	if _, err := talker.Write([]byte("PING\r\n")); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(talker, b); err != nil || string(b) != "+PONG\r\n" {
		t.Fatalf("PING: %q, %v", b, err)
	}
	dial(lns[0])
	dial(lns[1])
	redistest.Wait(t, 5*time.Second, "three connections held", func() error {
		if got := n.cl.heldConnections(); got != 3 {
			return fmt.Errorf("%d held", got)
		}
		return nil
	})
	// The fourth, on either listener, is one past maxclients.
	for _, ln := range lns {
		c := dial(ln)
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if b, err := io.ReadAll(c); string(b) != "-ERR max number of clients reached\r\n" || err != nil {
			t.Fatalf("a fourth connection to %s: read %q, %v; want it turned away", ln.Addr(), b, err)
		}
	}
}
