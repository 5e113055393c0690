package atomicfile

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestWrite: a file is created, then replaced whole, 0600 (the files it
// writes may hold secrets), and no temporary file is left behind.
func TestWrite(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "advertise")
	for _, content := range []string{"10.0.0.1:26379\n", "10.0.0.2:26379\n"} {
		if err := Write(p, []byte(content)); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(p)
		if err != nil || string(got) != content {
			t.Fatalf("read back %q, %v; want %q", got, err, content)
		}
	}
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if want := os.FileMode(0o600); fi.Mode().Perm() != want {
		t.Fatalf("mode %v, want %v", fi.Mode().Perm(), want)
	}
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 1 {
		t.Fatalf("directory holds %v (%v), want only the file", entries, err)
	}
	if err := Write(filepath.Join(dir, "missing", "x"), nil); err == nil {
		t.Fatal("a write into a missing directory succeeded")
	}
}

// TestWriteReplacesALooserMode: a file an older version wrote 0644 is 0600
// after the next write.
func TestWriteReplacesALooserMode(t *testing.T) {
	p := filepath.Join(t.TempDir(), "formation.json")
	if err := os.WriteFile(p, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Write(p, []byte("{}")); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v (%v), want 0600", fi.Mode().Perm(), err)
	}
}

// TestWriteKeepMode: an existing file keeps its permission bits (an
// operator's 0640 config stays group-readable, a 0600 one stays private);
// a new file is 0600.
func TestWriteKeepMode(t *testing.T) {
	dir := t.TempDir()
	for _, mode := range []os.FileMode{0o600, 0o640, 0o644} {
		p := filepath.Join(dir, "sentinel.conf")
		if err := os.WriteFile(p, []byte("port 26379\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		if err := WriteKeepMode(p, []byte("port 26380\n")); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(p)
		if err != nil || fi.Mode().Perm() != mode {
			t.Fatalf("mode %v (%v), want %v kept", fi.Mode().Perm(), err, mode)
		}
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
	}
	p := filepath.Join(dir, "new.conf")
	if err := WriteKeepMode(p, []byte("x")); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("new file mode %v (%v), want 0600", fi.Mode().Perm(), err)
	}
}

// TestPrivateDir: created 0700, and an existing looser directory made 0700.
func TestPrivateDir(t *testing.T) {
	base := t.TempDir()
	fresh := filepath.Join(base, "a", "gosentinel-raft-x")
	old := filepath.Join(base, "old")
	if err := os.Mkdir(old, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{fresh, old} {
		if err := PrivateDir(d); err != nil {
			t.Fatal(err)
		}
		if fi, err := os.Stat(d); err != nil || fi.Mode().Perm() != 0o700 {
			t.Fatalf("%s: mode %v (%v), want 0700", d, fi.Mode().Perm(), err)
		}
	}
}

// A directory whose sync fails with EINVAL (procfs here; some network and
// FUSE file systems in deployments) counts as synced, as in redis'
// fsyncFileDir: the rename already replaced the file, and every write after
// it was refused (SENTINEL SET, votes, the Raft directory's records).
func TestDirectoryThatCannotSyncCountsAsSynced(t *testing.T) {
	if err := syncPath("/proc"); !errors.Is(err, syscall.EINVAL) {
		t.Fatalf("syncing /proc gives %v here, not the EINVAL this test needs", err)
	}
	if err := syncDir("/proc"); err != nil {
		t.Fatalf("syncDir: %v", err)
	}
	if err := syncDir(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Fatal("syncDir of a missing directory succeeded")
	}
}
