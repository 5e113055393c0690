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

// BenchmarkMasterAddr is the backend's part of SENTINEL
// GET-MASTER-ADDR-BY-NAME (issue 12): a running sentinel alone, one
// master, callers on every core.
func BenchmarkMasterAddr(b *testing.B) {
	dir := b.TempDir()
	path := filepath.Join(dir, "sentinel.conf")
	if err := os.WriteFile(path, []byte("dir "+dir+"\nsentinel monitor mymaster 127.0.0.1 6399 2\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	cfg, err := config.Load(path, nil)
	if err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	n, err := node.New(cfg, node.Options{Listeners: []net.Listener{ln}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Serve(ctx) }()
	b.Cleanup(func() {
		cancel()
		<-done
		n.Close()
	})
	if host, port, ok := n.MasterAddr("mymaster"); !ok || host != "127.0.0.1" || port != "6399" {
		b.Fatalf("MasterAddr = %q, %q, %v", host, port, ok)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, _, ok := n.MasterAddr("mymaster"); !ok {
				b.Error("no address")
				return
			}
		}
	})
}
