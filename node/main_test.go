package node

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestMain fails the run when a test left a Raft directory in the working
// directory, the package's source tree: a node whose config has no dir line
// keeps its state there (counts_test's node did, one directory a run). The
// directories it reports are removed.
func TestMain(m *testing.M) {
	const pattern = "gosentinel-raft-*"
	before, _ := filepath.Glob(pattern)
	code := m.Run()
	after, _ := filepath.Glob(pattern)
	var left []string
	for _, d := range after {
		if !slices.Contains(before, d) {
			left = append(left, d)
		}
	}
	if len(left) > 0 {
		wd, _ := os.Getwd()
		fmt.Fprintf(os.Stderr, "FAIL: tests left Raft directories in %s (a node without a dir line): %v\n", wd, left)
		for _, d := range left {
			os.RemoveAll(d)
		}
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}
