package config

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Rewrite writes c to c.Path with redis' CONFIG REWRITE algorithm against the current file
// content (see Render), atomically like config.c:rewriteConfigOverwriteFile: a temp file
// "<path>.XXXXXX" in the same directory, fsync, chmod 0644 &^ umask, rename over the file,
// fsync of the directory, then (as 7.0's sentinelFlushConfig does) open+fsync of the result.
// A missing file is created; an unreadable one (e.g. a directory) is an error.
func Rewrite(c *Config) error {
	if c.Path == "" {
		return errors.New("config: rewrite: no config file path")
	}
	old, err := os.ReadFile(c.Path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("config: rewrite %s: read old file: %w", c.Path, err)
	}
	if err := writeFileAtomic(c.Path, Render(c, old)); err != nil {
		return fmt.Errorf("config: rewrite %s: %w", c.Path, err)
	}
	return nil
}

func writeFileAtomic(path string, content []byte) (err error) {
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
	if err = f.Chmod(0o644 &^ processUmask()); err != nil {
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
func processUmask() fs.FileMode {
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
