package node

import (
	"strings"
	"testing"

	"github.com/x0tta6bl4/gosentinel/monitor"
)

func TestIsObjectivelyDown(t *testing.T) {
	peer := func(down bool) monitor.InstanceStatus {
		return monitor.InstanceStatus{MasterDown: down, IDConfirmed: true}
	}
	// A sentinel announced by hellos whose id our link has not confirmed.
	unconfirmed := monitor.InstanceStatus{MasterDown: true}
	cases := []struct {
		name      string
		sdown     bool
		peers     []monitor.InstanceStatus
		quorum    int
		wantDown  bool
		wantVotes int
	}{
		{"not sdown here", false, []monitor.InstanceStatus{peer(true), peer(true)}, 2, false, 0},
		{"alone reaches quorum 1", true, nil, 1, true, 1},
		{"one peer agrees", true, []monitor.InstanceStatus{peer(true), peer(false)}, 2, true, 2},
		{"peers disagree", true, []monitor.InstanceStatus{peer(false), peer(false)}, 2, false, 1},
		{"quorum above sentinels", true, []monitor.InstanceStatus{peer(true), peer(true)}, 4, false, 3},
		{"unconfirmed votes do not count", true, []monitor.InstanceStatus{unconfirmed, unconfirmed, peer(true)}, 3, false, 2},
	}
	for _, c := range cases {
		ms := &monitor.MasterStatus{Master: monitor.InstanceStatus{SDown: c.sdown}, Sentinels: c.peers}
		down, votes := isObjectivelyDown(ms, c.quorum)
		if down != c.wantDown || votes != c.wantVotes {
			t.Errorf("%s: got (%v, %d), want (%v, %d)", c.name, down, votes, c.wantDown, c.wantVotes)
		}
	}
}

func TestFlagsOrder(t *testing.T) {
	st := &monitor.InstanceStatus{Ref: monitor.Ref{Kind: monitor.KindMaster}, SDown: true, Disconnected: true}
	if got := flagsOf(st, true); got != "s_down,o_down,master,disconnected" {
		t.Errorf("flags %q", got)
	}
	s := &monitor.InstanceStatus{Ref: monitor.Ref{Kind: monitor.KindSentinel}, MasterDown: true}
	if got := flagsOf(s, false); got != "sentinel,master_down" {
		t.Errorf("sentinel flags %q", got)
	}
}

// SENTINEL DEBUG's defaults, now read from the packages that use them,
// are still redis-sentinel 7.0.15's (its SENTINEL DEBUG, captured).
func TestDebugDefaultsAreRedis(t *testing.T) {
	const redis = "INFO-PERIOD 10000 PING-PERIOD 1000 ASK-PERIOD 1000 PUBLISH-PERIOD 2000 " +
		"DEFAULT-DOWN-AFTER 30000 DEFAULT-FAILOVER-TIMEOUT 180000 TILT-TRIGGER 2000 TILT-PERIOD 30000 " +
		"SLAVE-RECONF-TIMEOUT 10000 MIN-LINK-RECONNECT-PERIOD 15000 ELECTION-TIMEOUT 10000 " +
		"SCRIPT-MAX-RUNTIME 60000 SCRIPT-RETRY-DELAY 30000"
	f, err := newTimings().debug(nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, kv := range f {
		got = append(got, kv.Key, kv.Value)
	}
	if s := strings.Join(got, " "); s != redis {
		t.Fatalf("SENTINEL DEBUG =\n%s\nredis-sentinel 7.0.15:\n%s", s, redis)
	}
}

func TestDebugParams(t *testing.T) {
	tm := newTimings()
	if _, err := tm.debug([]string{"ping-period", "100", "info-period", "200"}); err != nil {
		t.Fatal(err)
	}
	if tm.ms("PING-PERIOD") != 100 || tm.ms("INFO-PERIOD") != 200 {
		t.Fatalf("not applied: %v", tm.v)
	}
	if _, err := tm.debug([]string{"ping-period", "0"}); err == nil || err.Error() != "ERR Invalid argument '0' for SENTINEL DEBUG 'ping-period'" {
		t.Errorf("bad value: %v", err)
	}
	if _, err := tm.debug([]string{"nope", "1"}); err == nil || err.Error() != "ERR Unknown option or number of arguments for SENTINEL DEBUG 'nope'" {
		t.Errorf("unknown: %v", err)
	}
	if _, err := tm.debug([]string{"ping-period"}); err == nil {
		t.Error("missing value accepted")
	}
	f, _ := tm.debug(nil)
	if len(f) != 13 || f[0].Key != "INFO-PERIOD" || f[0].Value != "200" {
		t.Errorf("table %v", f)
	}
}

// odownLocals must equal the number of local records with odown set after
// any sequence of flips, replacements and removals: were it short, the
// ODOWN check would skip the walk that clears a master's ODOWN once it is
// no longer SDOWN here.
func TestODownLocalsCountsODownRecords(t *testing.T) {
	n := &Node{local: map[string]*masterLocal{}}
	check := func(step string) {
		t.Helper()
		want := 0
		for _, l := range n.local {
			if l.odown {
				want++
			}
		}
		if n.odownLocals != want {
			t.Fatalf("%s: odownLocals %d, records with odown %d", step, n.odownLocals, want)
		}
	}
	a, b := &masterLocal{}, &masterLocal{}
	n.setLocalLocked("a", a)
	n.setLocalLocked("b", b)
	check("added")
	n.setODownLocked(a, true)
	n.setODownLocked(a, true) // no change
	n.setODownLocked(b, true)
	check("both down")
	n.setODownLocked(b, false)
	n.setODownLocked(b, false)
	check("b up")
	n.setLocalLocked("a", &masterLocal{}) // a re-MONITOR replaces the record
	check("a replaced")
	n.setODownLocked(b, true)
	n.setLocalLocked("b", nil) // forgotten while ODOWN
	check("b removed")
	n.setLocalLocked("c", &masterLocal{odown: true})
	check("c added down")
	if n.odownLocals != 1 {
		t.Fatalf("odownLocals %d, want 1", n.odownLocals)
	}
}
