// Package atomicfile replaces files atomically and durably: the config
// file's rewrite, the Raft directory's small files (advertise, the
// formation acceptor's state).
package atomicfile

import (
	"bufio"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Write replaces path with content atomically and durably, as redis'
// config.c:rewriteConfigOverwriteFile does: a temp file "<path>.XXXXXX" in
// the same directory, fsync, chmod 0644 &^ umask, rename over the file,
// fsync of the directory, then open+fsync of the result. A crash leaves
// either the old content or the new, never a mix; the rename survives it.
func Write(path string, content []byte) (err error) {
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
	if err = f.Chmod(0o644 &^ ProcessUmask()); err != nil {
		return fmt.Errorf("chmod temp file: %w", err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("close temp file: %w", err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("rename temp file: %w", err)
	}
	if err = syncPath(dir); err != nil {
		return fmt.Errorf("sync dir: %w", err)
	}
	if err = syncPath(path); err != nil {
		return fmt.Errorf("sync file: %w", err)
	}
	return nil
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

// processUmask reads the umask from /proc/self/status (setting and restoring it with umask(2)
// would race with other goroutines creating files); it falls back to 022.
func ProcessUmask() fs.FileMode {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0o022
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "Umask:"); ok {
			if m, err := strconv.ParseUint(strings.TrimSpace(v), 8, 32); err == nil {
				return fs.FileMode(m) & 0o777
			}
		}
	}
	return 0o022
}
