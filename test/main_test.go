package test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/x0tta6bl4/gosentinel/internal/redistest"
)

// parallelTests: the package's tests run one after another, except a few
// marked t.Parallel(), which run two at a time (go test's -parallel,
// GOMAXPROCS) once the others are done. Each of them spends most of its
// time waiting (a master dark for 35 s, a member's 10 s quiet time, a stale
// bound, a failover) at half a core or less, asserts no bound tighter than
// seconds, stays off the network lab, and passes gosentinel's settings in
// each process's environment (redistest.SentinelOptions.Env), never with
// t.Setenv, which is the whole binary's and panics in a parallel test.
// Run one after another they were about two minutes of the package's
// thirteen (per-test CPU measured from /proc/stat during a run of the
// package: 0.09-0.23 of a core each, 2026-12-07). Measured again the same
// day: the tests run one after another averaged 0.54 of a core, and
// TestFailoverWaitAckedKill (ten SIGKILL failovers, 68 s at 0.45 of a core,
// bounds of 15 s and more) joined these.

// candidate is the sentinel binary under test, resolved once in TestMain.
var candidate struct {
	bin string
	err error
}

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "gosentinel-systest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "temp dir:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	candidate.bin, candidate.err = resolveCandidate(dir)
	if candidate.err != nil {
		// Not fatal here: tests that need the candidate fail one by one
		// with this error, the others still run.
		fmt.Fprintln(os.Stderr, "candidate sentinel unavailable:", candidate.err)
	}
	return m.Run()
}

// candidateVersion is the version the candidate built here is stamped
// with, as `make build` stamps it (-X main.version).
const candidateVersion = "candidate-test"

// builtCandidate tells whether the candidate is the one built here (not
// GOSENTINEL_BIN), so its version is candidateVersion.
func builtCandidate() bool { return os.Getenv("GOSENTINEL_BIN") == "" }

// resolveCandidate returns GOSENTINEL_BIN, or builds ./cmd/gosentinel into
// dir.
func resolveCandidate(dir string) (string, error) {
	if b := os.Getenv("GOSENTINEL_BIN"); b != "" {
		if _, err := os.Stat(b); err != nil {
			return "", fmt.Errorf("GOSENTINEL_BIN: %w", err)
		}
		return b, nil
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	out := filepath.Join(dir, "gosentinel")
	cmd := exec.Command(goBin, "build", "-ldflags", "-X main.version="+candidateVersion, "-o", out, "./cmd/gosentinel")
	cmd.Dir = ".." // the module root, from ./test
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/gosentinel: %w\n%s", err, b)
	}
	return out, nil
}

// candidateBin returns the candidate binary or fails the test (never skips:
// a candidate that does not build is a failure).
func candidateBin(t testing.TB) string {
	t.Helper()
	if candidate.err != nil {
		t.Fatalf("candidate sentinel: %v", candidate.err)
	}
	return candidate.bin
}

// target is a sentinel binary a per-binary test runs against.
type target struct {
	name string // "candidate" or "reference"
	bin  func(testing.TB) string
}

// targets returns the binaries selected by SENTINEL_TEST_TARGETS (default:
// the candidate only).
func targets() []target {
	sel := os.Getenv("SENTINEL_TEST_TARGETS")
	if sel == "" {
		sel = "candidate"
	}
	var out []target
	for _, name := range strings.Split(sel, ",") {
		switch strings.TrimSpace(name) {
		case "candidate":
			out = append(out, target{"candidate", candidateBin})
		case "reference":
			out = append(out, target{"reference", func(testing.TB) string { return redistest.ReferenceSentinelBin }})
		default:
			panic("SENTINEL_TEST_TARGETS: unknown target " + name)
		}
	}
	return out
}

// forEachTarget runs f as a subtest per selected binary.
func forEachTarget(t *testing.T, f func(t *testing.T, bin string)) {
	for _, tg := range targets() {
		t.Run(tg.name, func(t *testing.T) { f(t, tg.bin(t)) })
	}
}
