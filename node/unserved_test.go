package node

import (
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/x0tta6bl4/gosentinel/config"
)

// unservedNode makes a node of dir/sentinel.conf holding text, on a
// loopback listener, and does not serve it: its parts run only when a test
// calls them. It is closed when the test ends. Its dir is dir unless text
// says otherwise: without a dir line the node's Raft directory went to the
// working directory, the package's source tree.
func unservedNode(t *testing.T, dir, text string) *Node {
	t.Helper()
	path := filepath.Join(dir, "sentinel.conf")
	if err := os.WriteFile(path, []byte("dir "+dir+"\n"+text), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	n, err := New(cfg, Options{Listeners: []net.Listener{ln}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}
