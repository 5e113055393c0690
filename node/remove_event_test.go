package node

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRefusedRemovePublishesNoMinusMonitor: a REMOVE the group never took
// (its Raft gone: NOQUORUM) leaves the master monitored, and must not tell
// subscribers it is gone. -monitor went out before the proposal.
func TestRefusedRemovePublishesNoMinusMonitor(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sentinel.conf")
	if err := os.WriteFile(path, []byte("dir "+dir+"\nsentinel monitor mymaster 127.0.0.1 6399 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	n, _ := serveUntil(t, path, &logs, "the group leads", func(n *Node) error {
		if !n.cl.isActive() || !n.eng.Leading() {
			return errors.New("not yet")
		}
		return nil
	})
	n.cl.getStore().Close()
	if err := n.Remove("mymaster"); err == nil {
		t.Fatal("REMOVE succeeded with the group's Raft closed")
	}
	if _, ok := n.sm().Master("mymaster"); !ok {
		t.Fatal("the master was removed")
	}
	if strings.Contains(logs.String(), "-monitor") {
		t.Fatalf("-monitor published for a REMOVE refused:\n%s", logs.String())
	}
}
