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

	// Sockets that cannot be made stop the start, with redis' reason
	// (each seen with redis-sentinel 7.0.15). An empty directory where the
	// socket goes is left alone, as redis leaves it (unlink only).
	dir := t.TempDir()
	occupied := filepath.Join(dir, "sockdir")
	if err := os.Mkdir(occupied, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, want string }{
		{filepath.Join(dir, "missing", "s.sock"), "bind: No such file or directory"},
		{occupied, "bind: Address already in use"},
		{"/" + strings.Repeat("a", 126), "unix socket path too long (127), must be under 108"},
	} {
		path := filepath.Join(dir, "sentinel.conf")
		text := "dir " + dir + "\nbind 127.0.0.1\nport 0\nsentinel monitor mymaster 127.0.0.1 6399 2\nunixsocket " + tc.path + "\n"
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
			t.Fatalf("started with unixsocket %s", tc.path)
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Fatalf("start with unixsocket %s: %v, want %q", tc.path, err, tc.want)
		}
	}
	if fi, err := os.Stat(occupied); err != nil || !fi.IsDir() {
		t.Fatalf("the directory where the socket would go: %v", err)
	}
}

// TestUnixSocketLongPathClientAddr: a unix client's addr and laddr are cut
// as redis cuts them, to the 77 bytes of its address buffer.
func TestUnixSocketLongPathClientAddr(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, strings.Repeat("b", 100-len(dir)))
	startTestNode(t, "unixsocket "+sock+"\n")
	c := redis.NewClient(&redis.Options{Network: "unix", Addr: sock, Protocol: 2})
	defer c.Close()
	info, err := c.Do(context.Background(), "CLIENT", "INFO").Text()
	if err != nil {
		t.Fatal(err)
	}
	if want := "addr=" + sock[:77] + " laddr=" + sock[:77] + " "; !strings.Contains(info, want) {
		t.Fatalf("CLIENT INFO %q, want %q", info, want)
	}
}
