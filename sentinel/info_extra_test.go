package sentinel

import (
	"strconv"
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

// TestInfoConfiguredHz: configured_hz is the config's hz (redis-sentinel
// 7.0.15 with `hz 3` shows configured_hz:3), 10 when unset; hz is
// sentinel's own, re-randomised every tick.
func TestInfoConfiguredHz(t *testing.T) {
	for _, tc := range []struct{ hz, want int }{{0, 10}, {3, 3}, {500, 500}} {
		_, addr := startServer(t, Config{ConfiguredHz: tc.hz})
		rc := dialRaw(t, addr)
		info := string(rc.do("INFO", "server"))
		if want := "\r\nconfigured_hz:" + strconv.Itoa(tc.want) + "\r\n"; !strings.Contains(info, want) {
			t.Errorf("ConfiguredHz %d: INFO lacks %q:\n%s", tc.hz, want, info)
		}
	}
}
