package quorum

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// maintenanceState is what the maintenance accessors report.
type maintenanceState struct {
	all     bool
	masters []string
}

func TestFSM_Maintenance(t *testing.T) {
	on := func(names ...string) *Command { return &Command{Op: OpMaintenance, Paused: true, Names: names} }
	off := func(names ...string) *Command { return &Command{Op: OpMaintenance, Names: names} }
	cases := []struct {
		name    string
		cmds    []*Command
		lastErr error
		want    maintenanceState
		paused  map[string]bool // FailoversPaused per master (and an unknown one)
	}{
		{name: "nothing paused", want: maintenanceState{},
			paused: map[string]bool{"a": false, "b": false, "nosuch": false}},
		{name: "group-wide pauses every master, even unknown (added later)", cmds: []*Command{on()},
			want: maintenanceState{all: true}, paused: map[string]bool{"a": true, "b": true, "nosuch": true}},
		{name: "by name", cmds: []*Command{on("b")},
			want: maintenanceState{masters: []string{"b"}}, paused: map[string]bool{"a": false, "b": true}},
		{name: "by name, several, creation order", cmds: []*Command{on("b", "a")},
			want: maintenanceState{masters: []string{"a", "b"}}, paused: map[string]bool{"a": true, "b": true}},
		{name: "on twice is idempotent", cmds: []*Command{on("a"), on("a")},
			want: maintenanceState{masters: []string{"a"}}, paused: map[string]bool{"a": true, "b": false}},
		{name: "off by name", cmds: []*Command{on("a", "b"), off("a")},
			want: maintenanceState{masters: []string{"b"}}, paused: map[string]bool{"a": false, "b": true}},
		{name: "off by name leaves the group-wide flag", cmds: []*Command{on(), on("a"), off("a")},
			want: maintenanceState{all: true}, paused: map[string]bool{"a": true, "b": true}},
		{name: "off without names clears everything", cmds: []*Command{on("a"), on(), off()},
			want: maintenanceState{}, paused: map[string]bool{"a": false, "b": false}},
		{name: "unknown name changes nothing", cmds: []*Command{on("a", "nosuch")}, lastErr: ErrNoSuchMaster,
			want: maintenanceState{}, paused: map[string]bool{"a": false}},
		{name: "unknown name in off", cmds: []*Command{on("a"), off("a", "nosuch")}, lastErr: ErrNoSuchMaster,
			want: maintenanceState{masters: []string{"a"}}, paused: map[string]bool{"a": true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := NewFSM(nil)
			for i, n := range []string{"a", "b"} {
				if err := f.Apply(&Command{Op: OpMonitor, Master: &Master{Name: n, Settings: Settings{Quorum: 2}}, At: int64(i + 1)}); err != nil {
					t.Fatal(err)
				}
			}
			var err error
			for _, c := range tc.cmds {
				// Through the codec, as the log carries it.
				data, encErr := c.Encode()
				if encErr != nil {
					t.Fatal(encErr)
				}
				err = f.ApplyBytes(data)
			}
			if !errors.Is(err, tc.lastErr) {
				t.Fatalf("last apply: got %v, want %v", err, tc.lastErr)
			}
			all, masters := f.Maintenance()
			if got := (maintenanceState{all, masters}); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Maintenance() = %+v, want %+v", got, tc.want)
			}
			for name, want := range tc.paused {
				if got := f.FailoversPaused(name); got != want {
					t.Errorf("FailoversPaused(%q) = %v, want %v", name, got, want)
				}
			}
			// Snapshot and restore keep it.
			var buf bytes.Buffer
			if err := f.WriteSnapshot(&buf); err != nil {
				t.Fatal(err)
			}
			g := NewFSM(nil)
			if err := g.Restore(&buf); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(g.State(), f.State()) {
				t.Fatalf("restored state differs:\n%+v\n%+v", g.State(), f.State())
			}
		})
	}
}

// A pause refuses the automatic decision, in log order, but not SENTINEL
// FAILOVER's (Forced); a failover already recorded is not touched.
func TestFSM_MaintenanceGatesAutomaticFailoverBegin(t *testing.T) {
	for _, scope := range [][]string{nil, {"a"}} {
		f := NewFSM(nil)
		if err := f.Apply(&Command{Op: OpMonitor, Master: &Master{Name: "a", Addr: Addr{"127.0.0.1", 6379}}}); err != nil {
			t.Fatal(err)
		}
		if err := f.Apply(&Command{Op: OpMaintenance, Paused: true, Names: scope}); err != nil {
			t.Fatal(err)
		}
		begin := &Command{Op: OpFailoverBegin, Name: "a", Addr: Addr{"127.0.0.1", 6380}, Leader: "x"}
		if err := f.Apply(begin); !errors.Is(err, ErrFailoversPaused) {
			t.Fatalf("scope %v: automatic begin while paused: got %v, want ErrFailoversPaused", scope, err)
		}
		if f.CurrentEpoch() != 0 {
			t.Fatalf("scope %v: a refused begin used an epoch", scope)
		}
		forced := *begin
		forced.Forced = true
		if err := f.Apply(&forced); err != nil {
			t.Fatalf("scope %v: SENTINEL FAILOVER while paused: %v", scope, err)
		}
		if m, _ := f.Master("a"); m.Failover == nil || m.Failover.Epoch != 1 {
			t.Fatalf("scope %v: forced failover not recorded: %+v", scope, m.Failover)
		}
		if err := f.Apply(&Command{Op: OpFailoverPromoted, Name: "a", Epoch: 1}); err != nil {
			t.Fatalf("scope %v: a recorded failover goes on while paused: %v", scope, err)
		}
		if err := f.Apply(&Command{Op: OpSwitchMaster, Name: "a", Addr: Addr{"127.0.0.1", 6380}, Epoch: 1}); err != nil {
			t.Fatalf("scope %v: switch while paused: %v", scope, err)
		}
		// The pause stays with the master across its switch.
		if !f.FailoversPaused("a") {
			t.Fatalf("scope %v: switch cleared the pause", scope)
		}
		if err := f.Apply(&Command{Op: OpMaintenance, Names: nil}); err != nil {
			t.Fatal(err)
		}
		if err := f.Apply(&Command{Op: OpFailoverBegin, Name: "a", Addr: Addr{"127.0.0.1", 6379}, Leader: "x"}); err != nil {
			t.Fatalf("scope %v: automatic begin after OFF: %v", scope, err)
		}
	}
}

// A snapshot written before maintenance mode existed (no pause fields)
// restores as nothing paused, and an unpaused state writes no pause
// fields (omitempty), so older members still read newer snapshots.
func TestFSM_MaintenanceOldSnapshot(t *testing.T) {
	old := `{"version":"gosentinel-state-v1","state":{"current_epoch":3,"masters":{"a":{"name":"a",` +
		`"addr":{"host":"127.0.0.1","port":6379},"quorum":2,"down_after_ms":30000,"failover_timeout_ms":180000,` +
		`"parallel_syncs":1,"config_epoch":3,"created_at":1}}}}` + "\n"
	f := NewFSM(nil)
	if err := f.Restore(strings.NewReader(old)); err != nil {
		t.Fatal(err)
	}
	if all, masters := f.Maintenance(); all || masters != nil || f.FailoversPaused("a") {
		t.Fatalf("old snapshot restored as paused: all=%v masters=%v", all, masters)
	}
	var buf bytes.Buffer
	if err := f.WriteSnapshot(&buf); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "paused") {
		t.Fatalf("unpaused state writes pause fields: %s", buf.String())
	}
	if buf.String() != old {
		t.Fatalf("snapshot of an old state changed:\n got %s\nwant %s", buf.String(), old)
	}
}
