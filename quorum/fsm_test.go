package quorum

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func mustPropose(t *testing.T, l *Local, c *Command) {
	t.Helper()
	if err := l.Propose(context.Background(), c); err != nil {
		t.Fatalf("propose op %d: %v", c.Op, err)
	}
}

func TestFSM_MonitorSetSwitchRemove(t *testing.T) {
	var applied []Op
	l := NewLocal(NewFSM(func(c *Command, err error) { applied = append(applied, c.Op) }))
	m := &Master{Name: "mymaster", Addr: Addr{"127.0.0.1", 6379}, Settings: Settings{Quorum: 2, ParallelSyncs: 1}}
	mustPropose(t, l, &Command{Op: OpMonitor, Master: m, At: 10})

	if err := l.Propose(context.Background(), &Command{Op: OpMonitor, Master: m, At: 11}); !errors.Is(err, ErrDuplicateMaster) {
		t.Fatalf("duplicate monitor: got %v, want ErrDuplicateMaster", err)
	}
	mustPropose(t, l, &Command{Op: OpSet, Name: "mymaster", Params: []Param{
		{Key: "down-after-milliseconds", Value: []string{"5000"}},
		{Key: "rename-command", Value: []string{"PING", "PONG"}},
		{Key: "auth-pass", Value: []string{"secret"}},
	}})
	mustPropose(t, l, &Command{Op: OpSwitchMaster, Name: "mymaster", Addr: Addr{"127.0.0.1", 6380}, Epoch: 7})

	// The same switch proposed again (a follower that read the leader's
	// hello before applying the switch) is refused, so nobody announces
	// +switch-master twice; so is an older one.
	for _, epoch := range []uint64{7, 6} {
		err := l.Propose(context.Background(), &Command{Op: OpSwitchMaster, Name: "mymaster", Addr: Addr{"127.0.0.1", 6380}, Epoch: epoch})
		if !errors.Is(err, ErrStaleSwitch) {
			t.Fatalf("switch at epoch %d after epoch 7: got %v, want ErrStaleSwitch", epoch, err)
		}
	}
	got, ok := l.FSM().Master("mymaster")
	if !ok {
		t.Fatal("master missing")
	}
	want := &Master{Name: "mymaster", Addr: Addr{"127.0.0.1", 6380},
		ConfigEpoch: 7, CreatedAt: 10, Settings: Settings{Quorum: 2, ParallelSyncs: 1, DownAfterMs: 5000, AuthPass: "secret", RenameCommands: [][2]string{{"PING", "PONG"}}}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("master = %+v\nwant %+v", got, want)
	}
	if e := l.FSM().CurrentEpoch(); e != 7 {
		t.Fatalf("current epoch = %d, want 7 (raised by the switch)", e)
	}
	// Renaming a command to itself removes the mapping.
	mustPropose(t, l, &Command{Op: OpSet, Name: "mymaster", Params: []Param{{Key: "rename-command", Value: []string{"ping", "PING"}}}})
	if got, _ := l.FSM().Master("mymaster"); len(got.RenameCommands) != 0 {
		t.Fatalf("rename to self kept %v", got.RenameCommands)
	}
	mustPropose(t, l, &Command{Op: OpRemove, Name: "mymaster"})
	if err := l.Propose(context.Background(), &Command{Op: OpRemove, Name: "mymaster"}); !errors.Is(err, ErrNoSuchMaster) {
		t.Fatalf("remove twice: got %v", err)
	}
	if len(applied) != 9 {
		t.Fatalf("onApply saw %d commands, want 9", len(applied))
	}
}

func TestFSM_EpochsOnlyGrow(t *testing.T) {
	f := NewFSM(nil)
	for _, e := range []uint64{5, 3, 9, 1} {
		if err := f.Apply(&Command{Op: OpObserveEpoch, Epoch: e}); err != nil {
			t.Fatal(err)
		}
	}
	if e := f.CurrentEpoch(); e != 9 {
		t.Fatalf("epoch = %d, want 9", e)
	}
}

func TestFSM_SnapshotRestore(t *testing.T) {
	f := NewFSM(nil)
	f.Apply(&Command{Op: OpMonitor, Master: &Master{Name: "a", Addr: Addr{"10.0.0.1", 1}, Settings: Settings{Quorum: 1}}, At: 1})
	f.Apply(&Command{Op: OpMonitor, Master: &Master{Name: "b", Addr: Addr{"10.0.0.2", 2}, ConfigEpoch: 4, Settings: Settings{Quorum: 2}}, At: 2})
	var buf bytes.Buffer
	if err := f.WriteSnapshot(&buf); err != nil {
		t.Fatal(err)
	}
	g := NewFSM(nil)
	g.Apply(&Command{Op: OpMonitor, Master: &Master{Name: "stale"}, At: 1})
	if err := g.Restore(&buf); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(f.State(), g.State()) {
		t.Fatalf("restored %+v, want %+v", g.State(), f.State())
	}
	if names := g.State().Names(); !reflect.DeepEqual(names, []string{"a", "b"}) {
		t.Fatalf("names %v", names)
	}
}

func TestFSM_UnknownOp(t *testing.T) {
	f := NewFSM(nil)
	if err := f.Apply(&Command{Op: IgnorableFlag | 42}); err != nil {
		t.Fatalf("ignorable op: %v", err)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("unknown op did not panic")
		}
	}()
	f.Apply(&Command{Op: 42})
}

func TestCommandCodecRoundTrip(t *testing.T) {
	c := &Command{Op: OpSet, Name: "m", Params: []Param{{Key: "quorum", Value: []string{"3"}}}, At: 99}
	data, err := c.Encode()
	if err != nil {
		t.Fatal(err)
	}
	d, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c, d) {
		t.Fatalf("decoded %+v, want %+v", d, c)
	}
	if _, err := Decode(nil); !errors.Is(err, ErrEmptyCommand) {
		t.Fatalf("empty: %v", err)
	}
}

// A failover won in an election names the epoch it was elected in (already
// observed): the FSM records that epoch, and refuses one below the current.
func TestFSM_FailoverBeginAtElectedEpoch(t *testing.T) {
	f := NewFSM(nil)
	f.Apply(&Command{Op: OpMonitor, Master: &Master{Name: "m", Addr: Addr{"127.0.0.1", 1}, Settings: Settings{Quorum: 2}}, At: 1})
	f.Apply(&Command{Op: OpObserveEpoch, Epoch: 7})
	if err := f.Apply(&Command{Op: OpFailoverBegin, Name: "m", Addr: Addr{"127.0.0.1", 2}, Epoch: 6}); !errors.Is(err, ErrStaleFailover) {
		t.Fatalf("begin below the current epoch: %v", err)
	}
	if err := f.Apply(&Command{Op: OpFailoverBegin, Name: "m", Addr: Addr{"127.0.0.1", 2}, Epoch: 7}); err != nil {
		t.Fatal(err)
	}
	if m, _ := f.Master("m"); m.Failover == nil || m.Failover.Epoch != 7 || f.CurrentEpoch() != 7 {
		t.Fatalf("begin at the elected epoch 7: %+v, current %d", m.Failover, f.CurrentEpoch())
	}
}

// TestFSM_Protocol: while the group's failovers follow redis-sentinel's
// protocol, a failover the log decides is refused and an elected one is
// not; ending the protocol names its generation, so an end decided before
// a member heard a redis-sentinel again cannot end the newer generation,
// and the flag survives a snapshot.
func TestFSM_Protocol(t *testing.T) {
	f := NewFSM(nil)
	f.Apply(&Command{Op: OpMonitor, Master: &Master{Name: "m", Addr: Addr{"127.0.0.1", 1}, Settings: Settings{Quorum: 2}}, At: 1})
	if err := f.Apply(&Command{Op: OpProtocol, Epoch: 0}); !errors.Is(err, ErrStaleProtocol) {
		t.Fatalf("end while not mixed: %v", err)
	}
	f.Apply(&Command{Op: OpProtocol, Mixed: true})
	if mixed, gen, _ := f.Protocol(); !mixed || gen != 1 {
		t.Fatalf("after enter: %v %d", mixed, gen)
	}
	if err := f.Apply(&Command{Op: OpFailoverBegin, Name: "m", Addr: Addr{"127.0.0.1", 2}}); !errors.Is(err, ErrMixedProtocol) {
		t.Fatalf("a decision of the log while mixed: %v", err)
	}
	if err := f.Apply(&Command{Op: OpFailoverBegin, Name: "m", Addr: Addr{"127.0.0.1", 2}, Epoch: 3}); err != nil {
		t.Fatalf("an elected decision while mixed: %v", err)
	}
	if !f.FailoverInProgress() {
		t.Fatal("failover in progress not reported")
	}
	f.Apply(&Command{Op: OpFailoverAbort, Name: "m", Epoch: 3})
	if f.FailoverInProgress() {
		t.Fatal("failover still reported in progress after its abort")
	}
	f.Apply(&Command{Op: OpProtocol, Mixed: true}) // heard again: generation 2
	if err := f.Apply(&Command{Op: OpProtocol, Epoch: 1}); !errors.Is(err, ErrStaleProtocol) {
		t.Fatalf("end of an older generation: %v", err)
	}
	var buf bytes.Buffer
	if err := f.WriteSnapshot(&buf); err != nil {
		t.Fatal(err)
	}
	g := NewFSM(nil)
	if err := g.Restore(&buf); err != nil {
		t.Fatal(err)
	}
	if mixed, gen, _ := g.Protocol(); !mixed || gen != 2 {
		t.Fatalf("restored: %v %d", mixed, gen)
	}
	if err := g.Apply(&Command{Op: OpProtocol, Epoch: 2}); err != nil {
		t.Fatal(err)
	}
	if mixed, _, ended := g.Protocol(); mixed || ended != 2 {
		t.Fatalf("after the end of generation 2: mixed %v, ended %d", mixed, ended)
	}
	if err := g.Apply(&Command{Op: OpFailoverBegin, Name: "m", Addr: Addr{"127.0.0.1", 2}}); err != nil {
		t.Fatalf("a decision of the log after the end: %v", err)
	}
}

func TestFSM_FailoverLifecycle(t *testing.T) {
	f := NewFSM(nil)
	f.Apply(&Command{Op: OpMonitor, Master: &Master{Name: "m", Addr: Addr{"127.0.0.1", 1}, Settings: Settings{Quorum: 2}}, At: 1})
	f.Apply(&Command{Op: OpObserveEpoch, Epoch: 4})
	if err := f.Apply(&Command{Op: OpFailoverBegin, Name: "m", Addr: Addr{"127.0.0.1", 2}, Leader: "L", At: 5}); err != nil {
		t.Fatal(err)
	}
	m, _ := f.Master("m")
	if m.Failover == nil || m.Failover.Epoch != 5 || m.Failover.From != (Addr{"127.0.0.1", 1}) || f.CurrentEpoch() != 5 {
		t.Fatalf("begin: %+v epoch %d", m.Failover, f.CurrentEpoch())
	}
	if err := f.Apply(&Command{Op: OpFailoverBegin, Name: "m", Addr: Addr{"127.0.0.1", 3}}); !errors.Is(err, ErrFailoverInProgress) {
		t.Fatalf("second begin: %v", err)
	}
	if err := f.Apply(&Command{Op: OpFailoverPromoted, Name: "m", Epoch: 4}); !errors.Is(err, ErrStaleFailover) {
		t.Fatalf("stale promoted: %v", err)
	}
	if err := f.Apply(&Command{Op: OpFailoverPromoted, Name: "m", Epoch: 5}); err != nil {
		t.Fatal(err)
	}
	if err := f.Apply(&Command{Op: OpFailoverAbort, Name: "m", Epoch: 5}); err == nil {
		t.Fatal("abort after promotion accepted")
	}
	if err := f.Apply(&Command{Op: OpSwitchMaster, Name: "m", Addr: Addr{"127.0.0.1", 2}, From: Addr{"127.0.0.1", 1}, Epoch: 5}); err != nil {
		t.Fatal(err)
	}
	m, _ = f.Master("m")
	if m.Failover != nil || m.Addr.Port != 2 || m.ConfigEpoch != 5 {
		t.Fatalf("after switch: %+v", m)
	}
	// A new failover gets a new epoch; an abort before promotion clears it.
	f.Apply(&Command{Op: OpFailoverBegin, Name: "m", Addr: Addr{"127.0.0.1", 1}})
	if err := f.Apply(&Command{Op: OpFailoverAbort, Name: "m", Epoch: 6}); err != nil {
		t.Fatal(err)
	}
	if m, _ := f.Master("m"); m.Failover != nil || f.CurrentEpoch() != 6 {
		t.Fatalf("after abort: %+v epoch %d", m.Failover, f.CurrentEpoch())
	}
}

// TestFSMNamesFollowEveryChange: Names and Addrs are cached between
// changes; every way the state changes (Apply, Restore, Replace) must
// drop the cache, and a caller's copy must not alias it.
func TestFSMNamesFollowEveryChange(t *testing.T) {
	f := NewFSM(nil)
	check := func(step string, want ...string) {
		t.Helper()
		got := f.Names()
		if len(want) == 0 {
			want = []string{}
		}
		if !reflect.DeepEqual(got, want) && !(len(got) == 0 && len(want) == 0) {
			t.Fatalf("%s: Names() = %v, want %v", step, got, want)
		}
		var addrNames []string
		for _, a := range f.Addrs() {
			addrNames = append(addrNames, a.Name)
		}
		if !reflect.DeepEqual(addrNames, got) && !(len(got) == 0 && len(addrNames) == 0) {
			t.Fatalf("%s: Addrs() names %v, Names() %v", step, addrNames, got)
		}
	}
	check("empty")
	f.Apply(&Command{Op: OpMonitor, Master: &Master{Name: "b", Addr: Addr{"10.0.0.2", 2}, Settings: Settings{Quorum: 1}}, At: 1})
	check("monitor b", "b")
	f.Apply(&Command{Op: OpMonitor, Master: &Master{Name: "a", Addr: Addr{"10.0.0.1", 1}, Settings: Settings{Quorum: 1}}, At: 2})
	check("monitor a", "b", "a") // creation order first, as State.Names
	f.Names()[0] = "mutated"
	check("after a caller changed its copy", "b", "a")
	f.Apply(&Command{Op: OpRemove, Name: "b", At: 3})
	check("remove b", "a")
	var buf bytes.Buffer
	g := NewFSM(nil)
	g.Apply(&Command{Op: OpMonitor, Master: &Master{Name: "x", Addr: Addr{"10.0.0.9", 9}, Settings: Settings{Quorum: 1}}, At: 1})
	if err := g.WriteSnapshot(&buf); err != nil {
		t.Fatal(err)
	}
	if err := f.Restore(&buf); err != nil {
		t.Fatal(err)
	}
	check("restore", "x")
	f.Replace(NewState())
	check("replace")
	if a := g.Addrs(); len(a) != 1 || a[0].Addr != (Addr{"10.0.0.9", 9}) {
		t.Fatalf("Addrs() = %+v", a)
	}
}

// ReadMaster reads the master in force, and nothing for an unknown name.
func TestFSMReadMaster(t *testing.T) {
	f := NewFSM(nil)
	if f.ReadMaster("a", func(*Master) { t.Fatal("read called for an unknown master") }) {
		t.Fatal("ReadMaster found an unknown master")
	}
	f.Apply(&Command{Op: OpMonitor, Master: &Master{Name: "a", Addr: Addr{"10.0.0.1", 1}, Settings: Settings{Quorum: 1}}, At: 1})
	f.Apply(&Command{Op: OpSwitchMaster, Name: "a", Addr: Addr{"10.0.0.2", 2}, From: Addr{"10.0.0.1", 1}, Epoch: 7, At: 2})
	var got Addr
	var epoch uint64
	if !f.ReadMaster("a", func(m *Master) { got, epoch = m.Addr, m.ConfigEpoch }) {
		t.Fatal("ReadMaster did not find a")
	}
	want, _ := f.Master("a")
	if got != want.Addr || epoch != want.ConfigEpoch || got != (Addr{"10.0.0.2", 2}) {
		t.Fatalf("ReadMaster read %v epoch %d; Master says %v epoch %d", got, epoch, want.Addr, want.ConfigEpoch)
	}
}

// TestFSMRefusalsAreVerdicts: each refusal Apply gives, reached through
// the commands that meet it, is one of Verdicts (the failover engine keeps
// its term on a verdict and ends it on anything else), and every verdict
// listed is reached.
func TestFSMRefusalsAreVerdicts(t *testing.T) {
	f := NewFSM(nil)
	monitor := func(name string) *Command {
		return &Command{Op: OpMonitor, Master: &Master{Name: name, Addr: Addr{"127.0.0.1", 1}, Settings: Settings{Quorum: 2}}}
	}
	for _, name := range []string{"m", "p", "x"} {
		if err := f.Apply(monitor(name)); err != nil {
			t.Fatal(err)
		}
	}
	begin := func(name string, epoch uint64) *Command {
		return &Command{Op: OpFailoverBegin, Name: name, Addr: Addr{"127.0.0.1", 2}, Leader: "l", Epoch: epoch}
	}
	if err := f.Apply(begin("m", 0)); err != nil {
		t.Fatal(err)
	}
	if err := f.Apply(&Command{Op: OpFailoverPromoted, Name: "m", Epoch: 1}); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		cmd  *Command
		want error
	}{
		{monitor("m"), ErrDuplicateMaster},
		{&Command{Op: OpRemove, Name: "nosuch"}, ErrNoSuchMaster},
		{begin("m", 0), ErrFailoverInProgress},
		{&Command{Op: OpFailoverPromoted, Name: "m", Epoch: 9}, ErrStaleFailover},
		{&Command{Op: OpFailoverAbort, Name: "m", Epoch: 1}, ErrPastPromotion},
		{&Command{Op: OpSwitchMaster, Name: "p", Addr: Addr{"127.0.0.1", 3}}, ErrStaleSwitch},
		{&Command{Op: OpProtocol, Epoch: 0}, ErrStaleProtocol},
		{&Command{Op: OpMaintenance, Paused: true, Names: []string{"p"}}, nil},
		{begin("p", 0), ErrFailoversPaused},
		// Decided against x at :9, which is no longer x's address.
		{&Command{Op: OpFailoverBegin, Name: "x", Addr: Addr{"127.0.0.1", 2}, From: Addr{"127.0.0.1", 9}, Leader: "l"}, ErrMasterMoved},
		{&Command{Op: OpProtocol, Mixed: true}, nil},
		{begin("x", 0), ErrMixedProtocol},
	}
	reached := map[error]bool{}
	for _, s := range steps {
		err := f.Apply(s.cmd)
		if !errors.Is(err, s.want) || (err == nil) != (s.want == nil) {
			t.Fatalf("%+v: %v, want %v", s.cmd, err, s.want)
		}
		if err != nil && !IsVerdict(err) {
			t.Errorf("%+v: refusal %q is not in Verdicts", s.cmd, err)
		}
		reached[s.want] = true
	}
	for _, v := range Verdicts {
		if !reached[v.Err] {
			t.Errorf("verdict %s (%q) not reached", v.Name, v.Err)
		}
	}
}

// maxOp is the highest op FSM.apply knows: every op up to it applies (or
// is refused with a verdict), the next one stops the FSM. Propose refuses
// ops past maxOp by it, so the two must agree.
func TestKnownOpsApply(t *testing.T) {
	applies := func(op Op) (panicked string) {
		defer func() {
			if r := recover(); r != nil {
				panicked = fmt.Sprint(r)
			}
		}()
		f := NewFSM(nil)
		f.apply(&Command{Op: op, Name: "m", Master: &Master{Name: "m", Addr: Addr{Host: "10.0.0.1", Port: 6379}}})
		return ""
	}
	for op := Op(1); op <= maxOp; op++ {
		if p := applies(op); strings.Contains(p, "unknown op") {
			t.Errorf("op %d is within maxOp (%d) but apply does not know it: %s", op, maxOp, p)
		}
		if !op.known() {
			t.Errorf("op %d not known", op)
		}
	}
	if p := applies(maxOp + 1); !strings.Contains(p, "unknown op") {
		t.Errorf("op %d past maxOp applied (panic %q): raise maxOp", maxOp+1, p)
	}
	if (maxOp + 1).known() || Op(0).known() || !(IgnorableFlag | (maxOp + 1)).known() {
		t.Error("known() disagrees with maxOp and IgnorableFlag")
	}
}

// A switch announces the address it replaced in the state, not the one its
// proposer saw: two switches proposed against one view (a failover's A->B,
// then a newer hello's A->C) are announced A->B and B->C by every member.
func TestSwitchAnnouncesTheAddressItReplaced(t *testing.T) {
	var from []Addr
	f := NewFSM(func(c *Command, err error) {
		if c.Op == OpSwitchMaster && err == nil {
			from = append(from, c.From)
		}
	})
	A, B, C := Addr{"10.0.0.1", 6379}, Addr{"10.0.0.2", 6379}, Addr{"10.0.0.3", 6379}
	if err := f.Apply(&Command{Op: OpMonitor, At: 1, Master: &Master{Name: "m", Addr: A}}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*Command{
		{Op: OpSwitchMaster, Name: "m", From: A, Addr: B, Epoch: 5},
		{Op: OpSwitchMaster, Name: "m", From: A, Addr: C, Epoch: 6},
	} {
		if err := f.Apply(c); err != nil {
			t.Fatal(err)
		}
	}
	if want := []Addr{A, B}; !reflect.DeepEqual(from, want) {
		t.Fatalf("switches announced from %v, want %v", from, want)
	}
}

// A snapshot whose masters map holds a null record, or a record under
// another name, is refused: installed, the first read of the state would
// stop the process.
func TestRestoreRefusesMalformedMasters(t *testing.T) {
	for _, snap := range []string{
		`{"version":"` + snapshotVersion + `","state":{"masters":{"m":null}}}`,
		`{"version":"` + snapshotVersion + `","state":{"masters":{"m":{"name":"n"}}}}`,
	} {
		f := NewFSM(nil)
		if err := f.Restore(strings.NewReader(snap)); err == nil {
			t.Errorf("Restore accepted %s", snap)
		}
	}
}

// A field this version does not know, in an op it applies or in a snapshot,
// is refused: a newer version's member forwarded or committed it, and an
// older one that dropped it diverged (a failover's From, a pause, the mixed
// protocol were each added so). An ignorable op this version does not know
// is skipped whatever its fields.
func TestNewerFieldsAreRefused(t *testing.T) {
	for _, tc := range []struct {
		name string
		data []byte
		ok   bool
	}{
		{"known fields", append([]byte{byte(OpObserveEpoch)}, `{"epoch":3,"at":1}`...), true},
		{"an unknown field", append([]byte{byte(OpObserveEpoch)}, `{"epoch":3,"at":1,"newer":true}`...), false},
		{"an unknown field in the master", append([]byte{byte(OpMonitor)}, `{"master":{"name":"m","newer":1},"at":1}`...), false},
		{"an unknown field in an ignorable op", append([]byte{byte(IgnorableFlag | 40)}, `{"newer":1}`...), true},
		{"data after the command", append([]byte{byte(OpObserveEpoch)}, `{"epoch":3} {}`...), false},
	} {
		if _, err := Decode(tc.data); (err == nil) != tc.ok {
			t.Errorf("%s: Decode error %v", tc.name, err)
		}
	}
	for _, snap := range []string{
		`{"version":"` + snapshotVersion + `","state":{"masters":{},"newer":true}}`,
		`{"version":"` + snapshotVersion + `","state":{"masters":{"m":{"name":"m","newer":1}}}}`,
	} {
		if err := NewFSM(nil).Restore(strings.NewReader(snap)); err == nil {
			t.Errorf("Restore accepted %s", snap)
		}
	}
	var b bytes.Buffer
	f := NewFSM(nil)
	if err := f.Apply(&Command{Op: OpMonitor, At: 1, Master: &Master{Name: "m", Addr: Addr{"10.0.0.1", 6379}, FailoversPaused: true}}); err != nil {
		t.Fatal(err)
	}
	if err := f.WriteSnapshot(&b); err != nil {
		t.Fatal(err)
	}
	if err := NewFSM(nil).Restore(&b); err != nil {
		t.Fatalf("this version's own snapshot: %v", err)
	}
}
