package logging

import (
	"bytes"
	"log/slog"
	"os"
	"regexp"
	"strconv"
	"testing"
	"time"
)

func TestHandlerFormatsLikeRedis(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(NewHandler(&buf, LevelVerbose))
	log.Warn("+sdown master mymaster 127.0.0.1 6379")
	log.Log(nil, LevelVerbose, "+role-change x", "addr", "a b")
	log.Debug("hidden")
	log.With("component", "monitor").Info("started")

	pid := strconv.Itoa(os.Getpid())
	want := []string{
		`^` + pid + `:X \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d\.\d{3} # \+sdown master mymaster 127\.0\.0\.1 6379$`,
		`^` + pid + `:X .* - \+role-change x addr="a b"$`,
		`^` + pid + `:X .* \* started component=monitor$`,
	}
	lines := bytes.Split(bytes.TrimRight(buf.Bytes(), "\n"), []byte("\n"))
	if len(lines) != len(want) {
		t.Fatalf("got %d lines:\n%s", len(lines), buf.String())
	}
	for i, re := range want {
		if !regexp.MustCompile(re).Match(lines[i]) {
			t.Errorf("line %d = %q, want match %s", i, lines[i], re)
		}
	}
}

func TestParseLevel(t *testing.T) {
	for name, want := range map[string]slog.Level{"debug": slog.LevelDebug, "verbose": LevelVerbose, "notice": slog.LevelInfo, "WARNING": slog.LevelWarn} {
		got, err := ParseLevel(name)
		if err != nil || got != want {
			t.Errorf("ParseLevel(%q) = %v, %v; want %v", name, got, err, want)
		}
	}
	if _, err := ParseLevel("loud"); err == nil {
		t.Error("ParseLevel(loud) succeeded")
	}
}

func TestLimiter(t *testing.T) {
	now := time.Unix(100, 0)
	l := NewLimiter(10 * time.Second)
	l.now = func() time.Time { return now }
	steps := []struct {
		advance  time.Duration
		ok       bool
		heldBack int
	}{
		{0, true, 0},
		{time.Second, false, 0},
		{time.Second, false, 0},
		{8 * time.Second, true, 2},
		{10 * time.Second, true, 0},
	}
	for i, s := range steps {
		now = now.Add(s.advance)
		if ok, held := l.Allow(); ok != s.ok || held != s.heldBack {
			t.Errorf("step %d: Allow() = %v, %d; want %v, %d", i, ok, held, s.ok, s.heldBack)
		}
	}
}
