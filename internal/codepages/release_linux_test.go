package codepages

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// rssFile is the process' resident pages mapped from files, in kB.
func rssFile(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "RssFile:"); ok {
			n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatal("no RssFile in /proc/self/status")
	return 0
}

// written is data the release must leave alone.
var written = []int{1, 2, 3}

// TestReleaseInThisProcess releases the test binary's own pages: its
// resident file pages fall, and it goes on running its code and reading
// its data, written and read-only.
func TestReleaseInThisProcess(t *testing.T) {
	written[1] = 42
	before := rssFile(t)
	n, err := Release()
	if err != nil {
		t.Fatal(err)
	}
	after := rssFile(t)
	t.Logf("released %d KB of address space: file pages resident %d kB before, %d kB after", n>>10, before, after)
	if n == 0 || after >= before {
		t.Fatalf("released %d bytes; resident file pages %d kB before, %d kB after", n, before, after)
	}
	if written[0] != 1 || written[1] != 42 || written[2] != 3 {
		t.Fatalf("written data changed: %v", written)
	}
	// Code and read-only data (the regexp tables, the strings) fault back.
	if m := regexp.MustCompile(`^gosen(t+)inel$`).FindStringSubmatch("gosentinel"); len(m) != 2 || m[1] != "t" {
		t.Fatalf("regexp after the release: %q", m)
	}
	if got := strconv.Quote("a\tb"); got != `"a\tb"` {
		t.Fatalf("Quote after the release: %s", got)
	}
}
