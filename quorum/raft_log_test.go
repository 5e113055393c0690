package quorum

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

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
