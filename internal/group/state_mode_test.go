package group

import (
	"os"
	"path/filepath"
	"testing"
)

// The acceptor's state lives in the Raft directory, which holds the
// replicated state (auth-pass included) once Raft opens it: Save creates
// that directory 0700 and the file 0600.
func TestFilePersisterWritesPrivately(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "gosentinel-raft-abcdefgh")
	p := FilePersister{Path: filepath.Join(dir, "formation.json")}
	if err := p.Save(AcceptorState{}); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]os.FileMode{dir: 0o700, p.Path: 0o600} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", path, fi.Mode().Perm(), want)
		}
	}
	if _, err := p.Load(); err != nil {
		t.Fatal(err)
	}
}
