// Package atomicfile replaces files atomically and durably: the config
// file's rewrite, the Raft directory's small files (advertise, the
// formation acceptor's state).
package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// Write replaces path with content atomically and durably, as redis'
// config.c:rewriteConfigOverwriteFile does: a temp file "<path>.XXXXXX" in
// the same directory, fsync, chmod, rename over the file, fsync of the
// directory, then open+fsync of the result. A crash leaves either the old
// content or the new, never a mix; the rename survives it. The file is
// 0600 whatever it was before: what is written here (the Raft directory's
// files, the acceptor's state) is the sentinel's own and may hold secrets.
func Write(path string, content []byte) error {
	return write(path, content, 0o600)
}

// WriteKeepMode is Write for a file an operator owns (the config file,
// which holds auth-pass and sentinel-pass): an existing file keeps its
// permission bits (redis' rewrite chmods to 0644 &^ umask, which turned a
// private config world-readable); a new file is 0600.
func WriteKeepMode(path string, content []byte) error {
	mode := fs.FileMode(0o600)
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
	}
	return write(path, content, mode)
}

// PrivateDir creates dir (and its parents) 0700, or makes an existing dir
// 0700: a directory an older version created 0755 is tightened.
func PrivateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return os.Chmod(dir, 0o700)
}

func write(path string, content []byte, mode fs.FileMode) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, base+".*")
	if err != nil {
		return fmt.Errorf("create temp file: %w", err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	if _, err = f.Write(content); err != nil {
		return fmt.Errorf("write temp file: %w", err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("sync temp file: %w", err)
	}
	if err = f.Chmod(mode); err != nil {
		return fmt.Errorf("chmod temp file: %w", err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("close temp file: %w", err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("rename temp file: %w", err)
	}
	if err = syncDir(dir); err != nil {
		return fmt.Errorf("sync dir: %w", err)
	}
	if err = syncPath(path); err != nil {
		return fmt.Errorf("sync file: %w", err)
	}
	return nil
}

// syncDir makes the rename durable. A file system whose directories cannot
// be synced (EINVAL, EBADF: some network and FUSE file systems, procfs)
// counts as synced, as redis' fsyncFileDir has it: the rename already
// replaced the file, and failing here would refuse every write after it.
func syncDir(dir string) error {
	err := syncPath(dir)
	if errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.EBADF) {
		return nil
	}
	return err
}

func syncPath(p string) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	serr := f.Sync()
	cerr := f.Close()
	if serr != nil {
		return serr
	}
	return cerr
}
