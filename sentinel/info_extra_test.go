package sentinel

import (
	"strings"
	"testing"
	"time"
)

// TestInfoExtraSections: a section of the backend's own (INFO raft) comes
// only when asked for by name; INFO, INFO all/everything/default stay
// redis-sentinel's five sections.
func TestInfoExtraSections(t *testing.T) {
	raft := "# Raft\r\nraft_phase:member\r\n"
	_, addr := startServer(t, Config{Backend: &fakeBackend{Sections: map[string]string{"raft": raft}}})
	rc := dialRaw(t, addr)
	info := func(args ...string) string {
		t.Helper()
		rc.send(encodeCommand(append([]string{"INFO"}, args...)...))
		b, err := rc.reply(5 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	for _, args := range [][]string{nil, {"all"}, {"everything"}, {"default"}, {"sentinel"}} {
		if got := info(args...); strings.Contains(got, "# Raft") || !strings.Contains(got, "# Server") && args == nil {
			t.Errorf("INFO %v: %q", args, got)
		}
	}
	if got := info("raft"); !strings.HasSuffix(got, "\r\n"+raft+"\r\n") || strings.Contains(got, "# Server") {
		t.Errorf("INFO raft: %q", got)
	}
	got := info("RAFT", "server", "raft", "nosuch")
	if !strings.Contains(got, "# Server") || strings.Count(got, "# Raft") != 1 || strings.Index(got, "# Raft") < strings.Index(got, "# Server") {
		t.Errorf("INFO RAFT server raft nosuch: %q", got)
	}
}
