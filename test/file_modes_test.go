package test

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/x0tta6bl4/gosentinel/bench/harness"
	"github.com/x0tta6bl4/gosentinel/internal/redistest"
)

// TestFilesHoldingSecretsArePrivate: once a group formed (formation.json,
// advertise, raft.db written), everything under each sentinel's Raft
// directory is 0700 (directories) or 0600 (files), and a config rewrite
// (SENTINEL FLUSHCONFIG) keeps the mode the operator gave the config file.
func TestFilesHoldingSecretsArePrivate(t *testing.T) {
	t.Parallel() // mostly waiting: see parallelTests in main_test.go
	d := harness.Start(t, harness.Options{Bin: candidateBin(t), Raft: true, DiscoveryOnly: true, DownAfter: failoverDownAfter})
	if err := d.WaitGroupActive(d.Sentinels, groupDeadline); err != nil {
		t.Fatal(err)
	}
	for _, s := range d.Sentinels {
		dirs, err := filepath.Glob(filepath.Join(filepath.Dir(s.ConfigPath), "gosentinel-raft-*"))
		if err != nil || len(dirs) != 1 {
			t.Fatalf("%s: Raft directories %v (%v), want one", s.Name(), dirs, err)
		}
		files := 0
		err = filepath.WalkDir(dirs[0], func(p string, e fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			fi, err := e.Info()
			if err != nil {
				return err
			}
			want := fs.FileMode(0o600)
			if e.IsDir() {
				want = 0o700
			} else {
				files++
			}
			if fi.Mode().Perm() != want {
				t.Errorf("%s: %s is %v, want %v", s.Name(), p, fi.Mode().Perm(), want)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if files < 2 {
			t.Errorf("%s: only %d files under %s", s.Name(), files, dirs[0])
		}

		if err := os.Chmod(s.ConfigPath, 0o640); err != nil {
			t.Fatal(err)
		}
		r, err := s.Do("SENTINEL", "FLUSHCONFIG")
		if err != nil || r.Kind != redistest.KindStatus {
			t.Fatalf("%s: SENTINEL FLUSHCONFIG: %v %v", s.Name(), r, err)
		}
		if fi, err := os.Stat(s.ConfigPath); err != nil || fi.Mode().Perm() != 0o640 {
			t.Errorf("%s: the config file is %v after a rewrite (%v), want its 0640 kept", s.Name(), fi.Mode().Perm(), err)
		}
	}
}
