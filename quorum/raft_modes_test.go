package quorum

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// The Raft directory holds the replicated state, auth-pass included: after a
// real write and a snapshot every directory under it is 0700 and every file
// 0600, also when the directory already existed with a looser mode (an
// older version created it 0755).
func TestRaftStore_FilesArePrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "gosentinel-raft-s1")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	n := newRaftNode(t, "s1", "secret", func(c *RaftConfig) { c.Dir = dir })
	if err := n.store.Bootstrap([]Server{n.server()}); err != nil {
		t.Fatal(err)
	}
	waitLeader(t, n)
	m := monitorCmd("m", 6379, 1)
	m.Master.AuthPass = "s3cret"
	if err := n.store.Propose(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	if err := n.store.Snapshot(); err != nil {
		t.Fatal(err)
	}
	checkPrivateTree(t, dir)
	// Two files at least: raft.db and a snapshot's state.
	var files int
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files++
		}
		return nil
	})
	if files < 3 {
		t.Fatalf("only %d files under %s", files, dir)
	}
}

// checkPrivateTree fails the test for any directory under root that is not
// 0700 and any file that is not 0600.
func checkPrivateTree(t *testing.T, root string) {
	t.Helper()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		want := fs.FileMode(0o600)
		if d.IsDir() {
			want = 0o700
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", p, fi.Mode().Perm(), want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
