package node_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/x0tta6bl4/gosentinel/config"
	"github.com/x0tta6bl4/gosentinel/node"
)

// startTestNode runs an in-process sentinel alone (no peers) watching an
// absent master mymaster at 127.0.0.1:6399, from a config file with extra
// lines; it is stopped at cleanup. It returns the node and the config path.
func startTestNode(tb testing.TB, extra string) (*node.Node, string) {
	tb.Helper()
	dir := tb.TempDir()
	path := filepath.Join(dir, "sentinel.conf")
	text := "dir " + dir + "\nsentinel monitor mymaster 127.0.0.1 6399 2\n" + extra
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		tb.Fatal(err)
	}
	cfg, err := config.Load(path, nil)
	if err != nil {
		tb.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	return serveNode(tb, cfg, node.Options{Listeners: []net.Listener{ln}}), path
}

// serveNode runs a sentinel from cfg (its log discarded unless opts name
// a logger) until cleanup.
func serveNode(tb testing.TB, cfg *config.Config, opts node.Options) *node.Node {
	tb.Helper()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	n, err := node.New(cfg, opts)
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Serve(ctx) }()
	tb.Cleanup(func() {
		cancel()
		<-done
		n.Close()
	})
	return n
}
