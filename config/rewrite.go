package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/x0tta6bl4/gosentinel/internal/atomicfile"
)

// Rewrite writes c to c.Path with redis' CONFIG REWRITE algorithm against the current file
// content (see Render), atomically like config.c:rewriteConfigOverwriteFile: a temp file
// "<path>.XXXXXX" in the same directory, fsync, chmod, rename over the file, fsync of the
// directory, then (as 7.0's sentinelFlushConfig does) open+fsync of the result. The file keeps
// its mode (it holds auth-pass and sentinel-pass; redis chmods 0644 &^ umask, which made a
// private file world-readable); a missing file is created 0600. An unreadable one (e.g. a
// directory) is an error.
func Rewrite(c *Config) error {
	if c.Path == "" {
		return errors.New("config: rewrite: no config file path")
	}
	old, err := os.ReadFile(c.Path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("config: rewrite %s: read old file: %w", c.Path, err)
	}
	if err := atomicfile.WriteKeepMode(c.Path, Render(c, old)); err != nil {
		return fmt.Errorf("config: rewrite %s: %w", c.Path, err)
	}
	return nil
}
