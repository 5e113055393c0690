package config

import (
	"os"
	"path/filepath"
	"testing"
)

// The rewrite keeps the config file's mode, whatever the operator chose
// (0600 private, 0640 for a group that reads it): it never widens a private
// file (redis writes 0644 &^ umask) nor narrows a shared one.
func TestRewriteKeepsTheFileMode(t *testing.T) {
	for _, mode := range []os.FileMode{0o600, 0o640, 0o644} {
		conf := filepath.Join(t.TempDir(), "sentinel.conf")
		if err := os.WriteFile(conf, []byte("port 26380\nsentinel monitor m 127.0.0.1 6379 2\nsentinel auth-pass m s3cret\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(conf, mode); err != nil {
			t.Fatal(err)
		}
		c, err := Load(conf, nil)
		if err != nil {
			t.Fatal(err)
		}
		c.Master("m").ConfigEpoch = 3
		if err := Rewrite(c); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(conf)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != mode {
			t.Errorf("a %v config file is %v after the rewrite", mode, fi.Mode().Perm())
		}
	}
}
