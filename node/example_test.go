package node_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"

	"github.com/redis/go-redis/v9"

	"github.com/x0tta6bl4/gosentinel/config"
	"github.com/x0tta6bl4/gosentinel/node"
)

// Run a sentinel in-process: load a config, serve on a loopback port, ask it
// something with an ordinary Sentinel client, stop it.
func Example() {
	dir, _ := os.MkdirTemp("", "gosentinel-example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "sentinel.conf")
	// dir: the sentinel's state (its Raft directory) goes there, not into
	// the working directory.
	os.WriteFile(path, []byte("dir "+dir+"\nsentinel monitor mymaster 127.0.0.1 6399 2\n"), 0o644)

	cfg, err := config.Load(path, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	n, err := node.New(cfg, node.Options{Listeners: []net.Listener{ln}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- n.Serve(ctx) }()

	sc := redis.NewSentinelClient(&redis.Options{Addr: n.Addr().String()})
	addr, err := sc.GetMasterAddrByName(ctx, "mymaster").Result()
	fmt.Println(addr, err)
	sc.Close()

	cancel()
	<-done
	n.Close()
	// Output: [127.0.0.1 6399] <nil>
}
