package node_test

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/config"
	"github.com/x0tta6bl4/gosentinel/internal/redistest"
	"github.com/x0tta6bl4/gosentinel/node"
)

// TestUnopenableStateStopsVouching: a member of a previous run (its Raft
// directory and advertise file are on disk) whose Raft state does not open
// (here raft.db is a directory; in life a full disk, or the bolt lock held)
// stops vouching after the stale bound, as a restarted member that has not
// found its leader does: the group may have failed the master over while
// it was away. It answered from its sentinel.conf for as long as the state
// did not open.
func TestUnopenableStateStopsVouching(t *testing.T) {
	t.Parallel() // waits on a group of one forming and timers, seconds
	dir := t.TempDir()
	myid := "0123456789abcdef0123456789abcdef01234567"
	raftDir := filepath.Join(dir, "gosentinel-raft-"+myid[:8])
	if err := os.MkdirAll(filepath.Join(raftDir, "raft.db"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(raftDir, "advertise"), []byte("127.0.0.1:1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "sentinel.conf")
	text := "dir " + dir + "\nsentinel myid " + myid + "\nsentinel monitor mymaster 127.0.0.1 6399 2\n"
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
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
	n := serveNode(t, cfg, node.Options{Listeners: []net.Listener{ln},
		Cluster: node.ClusterOptions{StaleAfter: 300 * time.Millisecond}})
	redistest.Wait(t, 5*time.Second, "the member stops vouching", func() error {
		if host, port, ok := n.MasterAddr("mymaster"); ok {
			return errors.New("still answers " + host + ":" + port)
		}
		return nil
	})
}
