package node

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/quorum"
)

// TestScriptRunsFromDirWithoutGosentinelEnv: a script named without a
// slash runs from the working directory (the config's dir), as redis
// execve()s it, not from $PATH; and it gets the sentinel's environment
// without gosentinel's own variables (the Raft group's peer secret among
// them).
func TestScriptRunsFromDirWithoutGosentinelEnv(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	t.Setenv("GOSENTINEL_CLUSTER_SECRET", "s3cret")
	t.Setenv("SCRIPT_TEST_KEPT", "kept")
	out := filepath.Join(dir, "out")
	script := "#!/bin/sh\necho \"$@\" > " + out + ".tmp\nenv >> " + out + ".tmp\nmv " + out + ".tmp " + out + "\n"
	if err := os.WriteFile(filepath.Join(dir, "notify.sh"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	r := newScriptRunner(slog.New(slog.DiscardHandler), newTimings())
	defer r.close()
	r.schedule([]string{"notify.sh", "+sdown", "master m 127.0.0.1 6379"})
	var got []byte
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		r.tick()
		var err error
		if got, err = os.ReadFile(out); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("notify.sh never ran from the working directory")
		}
	}
	lines := strings.Split(string(got), "\n")
	if lines[0] != "+sdown master m 127.0.0.1 6379" {
		t.Fatalf("arguments %q", lines[0])
	}
	env := strings.Join(lines[1:], "\n")
	if strings.Contains(env, "GOSENTINEL_") || !strings.Contains(env, "SCRIPT_TEST_KEPT=kept") {
		t.Fatalf("script environment:\n%s", env)
	}
}

// TestScriptsAreNotTakenFromTheGroup: a master learned from the replicated
// state carries the scripts of the sentinel that monitored it; this
// sentinel takes its other settings, never those paths (as a set of
// redis-sentinels shares none), whether it seeds its settings from the
// record, changes one with SENTINEL SET, or has none of its own; its own
// scripts stay.
func TestScriptsAreNotTakenFromTheGroup(t *testing.T) {
	n := &Node{own: ownSettings{m: map[string]*quorum.Master{}}}
	record := func(name string) *quorum.Master {
		m := &quorum.Master{Name: name}
		m.Quorum, m.NotificationScript, m.ClientReconfigScript = 2, "/opt/a/notify.sh", "/opt/a/reconfig.sh"
		return m
	}
	seeded := record("seeded")
	n.seedSettings(seeded)
	unseeded := record("unseeded")
	n.withOwnSettings(unseeded)
	own := record("own")
	own.NotificationScript = "/opt/mine/notify.sh"
	n.replaceSettings(own)
	ownView := record("own")
	n.withOwnSettings(ownView)
	seededView := record("seeded")
	n.withOwnSettings(seededView)
	for _, c := range []struct {
		what             string
		m                *quorum.Master
		notify, reconfig string
	}{
		{"seeded from the record", seededView, "", ""},
		{"without settings of its own", unseeded, "", ""},
		{"its own", ownView, "/opt/mine/notify.sh", "/opt/a/reconfig.sh"},
	} {
		if c.m.NotificationScript != c.notify || c.m.ClientReconfigScript != c.reconfig || c.m.Quorum != 2 {
			t.Errorf("%s: scripts %q %q, quorum %d; want %q %q, quorum 2", c.what,
				c.m.NotificationScript, c.m.ClientReconfigScript, c.m.Quorum, c.notify, c.reconfig)
		}
	}
}

// TestSwitchRunsObserverScriptUnlessLed: every sentinel that applies a
// switch of a master runs its client-reconfig-script as observer (members
// learn a switch from the log, not from a hello), except the one that led
// the failover, which ran it as leader at the promotion.
func TestSwitchRunsObserverScriptUnlessLed(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "reconfig.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	n := unservedNode(t, dir, "dir "+dir+"\nsentinel monitor m 127.0.0.1 6399 2\nsentinel client-reconfig-script m "+script+"\n")
	// Not served: the runner never ticks, so what is scheduled stays queued.
	from, to := quorum.Addr{Host: "127.0.0.1", Port: 6399}, quorum.Addr{Host: "127.0.0.1", Port: 6400}
	n.onApply(&quorum.Command{Op: quorum.OpSwitchMaster, Name: "m", From: from, Addr: to, Epoch: 5}, nil)
	want := []string{script, "m", "observer", "start", "127.0.0.1", "6399", "127.0.0.1", "6400"}
	if p := n.scripts.pending(); len(p) != 1 || strings.Join(p[0].Argv, " ") != strings.Join(want, " ") {
		t.Fatalf("after a switch: scripts %+v, want one %q", p, want)
	}
	n.mu.Lock()
	n.local["m"].ledEpoch = 6
	n.mu.Unlock()
	n.onApply(&quorum.Command{Op: quorum.OpSwitchMaster, Name: "m", From: to, Addr: from, Epoch: 6}, nil)
	if p := n.scripts.pending(); len(p) != 1 {
		t.Fatalf("after the switch this sentinel led: %d scripts, want the first one only", len(p))
	}
}
