package quorum

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
)

// Raft's warning about the fallback address, which our address provider
// causes by design while a group forms, is logged at debug level; other
// warnings stay warnings.
func TestHclogBridgeDemotesExpectedWarnings(t *testing.T) {
	var buf bytes.Buffer
	l := newHclogBridge(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo})), "raft.net")
	l.Warn("unable to get address for server, using fallback address", "id", "x")
	if buf.Len() != 0 {
		t.Fatalf("expected warning logged at info level: %s", buf.String())
	}
	l.Log(hclog.Warn, "failed to contact", "id", "x")
	if !strings.Contains(buf.String(), "level=WARN") || !strings.Contains(buf.String(), "failed to contact") {
		t.Fatalf("other warnings must stay warnings: %q", buf.String())
	}
}

// TestHclogBridgePacesFullDiskErrors: the errors every RPC of a newer
// leader repeats while a disk is full are logged once a minute each, also
// through derived loggers; others are not paced.
func TestHclogBridgePacesFullDiskErrors(t *testing.T) {
	var buf bytes.Buffer
	l := newHclogBridge(slog.New(slog.NewTextHandler(&buf, nil)), "raft")
	named := l.Named("x")
	for range 8 {
		l.Error("failed to save current term", "term", 3)
		named.Error("failed to append to logs", "error", "no space left on device")
		l.Error("failed to contact", "id", "x")
	}
	out := buf.String()
	for msg, want := range map[string]int{"failed to save current term": 1, "failed to append to logs": 1, "failed to contact": 8} {
		if n := strings.Count(out, msg); n != want {
			t.Errorf("%q logged %d times, want %d:\n%s", msg, n, want, out)
		}
	}
	p := &pacer{every: time.Minute, next: map[string]time.Time{}, held: map[string]int{}}
	now := time.Now()
	p.allow("m", now)
	p.allow("m", now.Add(time.Second))
	if ok, held := p.allow("m", now.Add(time.Minute)); !ok || held != 1 {
		t.Fatalf("a minute later: allowed %v, held back %d; want true, 1", ok, held)
	}
}

// TestHclogBridgeWritesEachAttributeOnce: raft's hclog.Fmt values come out
// formatted (its initial configuration was logged servers="[%+v []]"), and
// the component is the bridge's alone.
func TestHclogBridgeWritesEachAttributeOnce(t *testing.T) {
	var buf bytes.Buffer
	l := newHclogBridge(slog.New(slog.NewTextHandler(&buf, nil)), "raft")
	l.Info("initial configuration", "index", 0, "servers", hclog.Fmt("%+v", []string{"a", "b"}))
	out := buf.String()
	if !strings.Contains(out, `servers="[a b]"`) {
		t.Fatalf("hclog.Fmt not rendered: %q", out)
	}
	if n := strings.Count(out, "component="); n != 1 {
		t.Fatalf("component written %d times: %q", n, out)
	}
}
