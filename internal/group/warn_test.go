package group

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
)

// TestWarnPaced: a failure every formation round repeats (a full disk:
// 4 lines a second before) is logged once a minute per kind, and another
// kind is not held back by it.
func TestWarnPaced(t *testing.T) {
	var buf bytes.Buffer
	g := &Group{cfg: Config{Logger: slog.New(slog.NewTextHandler(&buf, nil))}}
	full := errors.New("no space left on device")
	for range 240 { // a minute of rounds
		g.warnPaced("record the group seen", full)
		g.warnPaced("record a first join", full)
	}
	out := buf.String()
	if n := strings.Count(out, "failed to record the group seen"); n != 1 {
		t.Errorf("%d lines for the group seen, want 1:\n%s", n, out)
	}
	if n := strings.Count(out, "failed to record a first join"); n != 1 {
		t.Errorf("%d lines for the first join, want 1:\n%s", n, out)
	}
}
