package node_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/x0tta6bl4/gosentinel/config"
	"github.com/x0tta6bl4/gosentinel/node"
)

// TestUnixSocket: unixsocket and unixsocketperm are served as
// redis-sentinel serves them: the socket made with the mode given, clients
// shown as the socket's path with port 0 and flag U, the file removed at
// the stop; a socket that cannot be made stops the start. The lines were
// accepted and nothing listened (config differential review).
func TestUnixSocket(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "s.sock")
	n, _ := startTestNode(t, "unixsocket "+sock+"\nunixsocketperm 700\n")
	fi, err := os.Stat(sock)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Type() != fs.ModeSocket || fi.Mode().Perm() != 0o700 {
		t.Fatalf("socket mode %v, want a socket with 0700", fi.Mode())
	}
	c := redis.NewClient(&redis.Options{Network: "unix", Addr: sock, Protocol: 2})
	defer c.Close()
	ctx := context.Background()
	if addr, err := c.Do(ctx, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster").StringSlice(); err != nil || strings.Join(addr, ":") != "127.0.0.1:6399" {
		t.Fatalf("GET-MASTER-ADDR-BY-NAME over the socket: %v %v", addr, err)
	}
	info, err := c.Do(ctx, "CLIENT", "INFO").Text()
	if err != nil {
		t.Fatal(err)
	}
	if want := "addr=" + sock + ":0 laddr=" + sock + ":0 "; !strings.Contains(info, want) || !strings.Contains(info, " flags=U ") {
		t.Fatalf("CLIENT INFO %q, want %q and flags=U", info, want)
	}
	c.Close()
	n.Close()
	if _, err := os.Stat(sock); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("socket left after the stop: %v", err)
	}

	dir := t.TempDir()
	path := filepath.Join(dir, "sentinel.conf")
	text := "dir " + dir + "\nbind 127.0.0.1\nport 0\nsentinel monitor mymaster 127.0.0.1 6399 2\nunixsocket " + filepath.Join(dir, "missing", "s.sock") + "\n"
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	n, err = node.New(cfg, node.Options{})
	if err == nil {
		n.Close()
		t.Fatal("started with a unixsocket in a missing directory")
	}
	if !strings.Contains(err.Error(), "bind: No such file or directory") {
		t.Fatalf("start with a unixsocket in a missing directory: %v", err)
	}
}
