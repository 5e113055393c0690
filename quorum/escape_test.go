package quorum

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// The rule each string travels by: as it is when JSON keeps its bytes and
// it does not start with the marker, else the marker and its hex.
func TestEscapeRule(t *testing.T) {
	longBad := strings.Repeat("\xfe", 4096)
	longGood := strings.Repeat("mymaster-é-", 6000)
	for _, tc := range []struct {
		name, in, out string
	}{
		{"empty", "", ""},
		{"ascii", "mymaster", "mymaster"},
		{"valid UTF-8", "pass-é日本", "pass-é日本"},
		{"U+FFFD itself", "a\ufffdb", "a\ufffdb"},
		{"the marker inside", "a\uFDD0ff", "a\uFDD0ff"},
		{"long valid", longGood, longGood},
		{"one bad byte", "\xff", escapeMarker + "ff"},
		{"a cut sequence", "a\xc3", escapeMarker + "61c3"},
		{"a surrogate", "\xed\xa0\x80", escapeMarker + "eda080"},
		{"NUL and a bad byte", "\x00\x80", escapeMarker + "0080"},
		{"the marker alone", escapeMarker, escapeMarker + "efb790"},
		{"starts with the marker", escapeMarker + "ff", escapeMarker + "efb7906666"},
		{"an escaped text", escapeMarker + "efb790", escapeMarker + "efb790656662373930"},
		{"long invalid", longBad, escapeMarker + strings.Repeat("fe", 4096)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := escapeString(tc.in); got != tc.out {
				t.Fatalf("escapeString(%q) = %q, want %q", short(tc.in), short(got), short(tc.out))
			}
			got, ok := unescapeString(tc.out)
			if got != tc.in || ok != (tc.in != tc.out) {
				t.Fatalf("unescapeString(%q) = %q, %v; want %q", short(tc.out), short(got), ok, short(tc.in))
			}
		})
	}
}

// Text escapeString never writes reads as it is: an older member's entry,
// U+FFFD included, and the marker followed by anything but the lowercase
// hex of bytes that need escaping.
func TestUnescapeLeavesOtherText(t *testing.T) {
	for _, s := range []string{
		"",
		"mymaster",
		"\ufffd",
		"my\ufffdmaster",
		escapeMarker,                // no hex
		escapeMarker + "f",          // odd
		escapeMarker + "fff",        // odd
		escapeMarker + "zz",         // not hex
		escapeMarker + "ff ",        // a trailing space
		escapeMarker + "FF",         // upper case: escapeString writes lower
		escapeMarker + "6d",         // "m", which travels as it is
		escapeMarker + "c3a9",       // "é", likewise
		escapeMarker + "\ufffd",     // what an older member made of an escaped string's bad byte
		"x" + escapeMarker + "ff",   // the marker not at the start
		escapeMarker + escapeMarker, // the marker twice
	} {
		if got, ok := unescapeString(s); ok || got != s {
			t.Errorf("unescapeString(%q) = %q, %v; want it as it is", s, got, ok)
		}
	}
}

// fillStrings sets every string reachable from v, through nil pointers
// and empty slices it fills in, to a distinct string JSON would change
// (every third one starting with the marker instead), and returns how
// many it set. Maps are left to the caller: their keys must match.
func fillStrings(v reflect.Value, n *int) {
	switch v.Kind() {
	case reflect.String:
		*n++
		if *n%3 == 0 {
			v.SetString(fmt.Sprintf("%s%d", escapeMarker, *n))
		} else {
			v.SetString(fmt.Sprintf("\xff%d\xc3", *n))
		}
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		fillStrings(v.Elem(), n)
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Field(i).CanSet() {
				fillStrings(v.Field(i), n)
			}
		}
	case reflect.Slice:
		if v.Len() == 0 {
			v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		}
		fallthrough
	case reflect.Array:
		for i := range v.Len() {
			fillStrings(v.Index(i), n)
		}
	}
}

// filledCommand is a command with every string field set to bytes JSON
// alone would change.
func filledCommand(t *testing.T) *Command {
	t.Helper()
	c := &Command{}
	var n int
	fillStrings(reflect.ValueOf(c).Elem(), &n)
	if n < 20 {
		t.Fatalf("filled %d strings of a command: the filler missed fields", n)
	}
	c.Op = OpMonitor
	return c
}

// filledState is a state whose masters (name, map key, host, settings,
// failover) are all bytes JSON alone would change.
func filledState(t *testing.T) *State {
	t.Helper()
	st := NewState()
	for range 3 {
		m := filledCommand(t).Master
		st.Masters[m.Name] = m
	}
	st.CurrentEpoch = 7
	return st
}

// Every string of a command, whatever its bytes, reads back the same from
// the replicated log's encoding.
func TestCommandKeepsEveryByte(t *testing.T) {
	c := filledCommand(t)
	data, err := c.Encode()
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, c) {
		t.Fatalf("decoded %+v\nwant %+v", got, c)
	}
}

// A master named with bytes that are not UTF-8, with such an auth-pass,
// auth-user, host and renamed command, is the same master after the
// state's snapshot is read back: the name as the map's key too.
func TestSnapshotKeepsEveryByte(t *testing.T) {
	l := NewLocal(NewFSM(nil))
	name := "m\xff\xfe"
	mustPropose(t, l, &Command{Op: OpMonitor, At: 1, Master: &Master{Name: name, Addr: Addr{"host-\xe9", 6379},
		Settings: Settings{Quorum: 2, AuthPass: "p\x80ss\xc0", AuthUser: escapeMarker + "user"}}})
	mustPropose(t, l, &Command{Op: OpSet, Name: name, Params: []Param{{Key: "rename-command", Value: []string{"CONFIG", "CON\xf8"}}}})
	want := &Master{Name: name, Addr: Addr{"host-\xe9", 6379}, CreatedAt: 1,
		Settings: Settings{Quorum: 2, AuthPass: "p\x80ss\xc0", AuthUser: escapeMarker + "user", RenameCommands: [][2]string{{"CONFIG", "CON\xf8"}}}}
	if got, ok := l.FSM().Master(name); !ok || !reflect.DeepEqual(got, want) {
		t.Fatalf("applied master %q: %+v, want %+v", name, got, want)
	}

	var b bytes.Buffer
	if err := l.FSM().WriteSnapshot(&b); err != nil {
		t.Fatal(err)
	}
	g := NewFSM(nil)
	if err := g.Restore(&b); err != nil {
		t.Fatal(err)
	}
	if got, ok := g.Master(name); !ok || !reflect.DeepEqual(got, want) {
		t.Fatalf("restored master %q: %+v (found %v), want %+v; names %q", name, got, ok, want, g.Names())
	}

	// And every string the state has room for.
	st := filledState(t)
	f := NewFSM(nil)
	f.Replace(st)
	b.Reset()
	if err := f.WriteSnapshot(&b); err != nil {
		t.Fatal(err)
	}
	if err := g.Restore(&b); err != nil {
		t.Fatal(err)
	}
	if got := g.State(); !reflect.DeepEqual(got, st) {
		t.Fatalf("restored %+v\nwant %+v", got, st)
	}
}

// Escaping copies what it changes and never writes into its argument:
// the state it is given may be the FSM's own.
func TestEscapeStringsLeavesItsArgument(t *testing.T) {
	st := filledState(t)
	before := st.Clone()
	esc := EscapeStrings(st)
	if !reflect.DeepEqual(st, before) {
		t.Fatal("EscapeStrings changed the state it was given")
	}
	for name, m := range esc.Masters {
		if !strings.HasPrefix(name, escapeMarker) || !strings.HasPrefix(m.AuthPass, escapeMarker) {
			t.Fatalf("not escaped: %q %+v", name, m)
		}
	}
	if err := UnescapeStrings(esc); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(esc, before) {
		t.Fatalf("unescaped %+v\nwant %+v", esc, before)
	}
}

// ordinaryCommand and ordinaryState hold only strings that travel as they
// are: non-ASCII, U+FFFD, the marker past the start, HTML's characters.
func ordinaryCommand() *Command {
	return &Command{Op: OpMonitor, At: 5, Leader: "0123abcd", Names: []string{"a", "é"}, Master: &Master{
		Name: "mymaster-日本", Addr: Addr{"db.example", 6379}, Origin: "0123",
		Settings: Settings{Quorum: 2, AuthPass: "p<&>ss\ufffd", AuthUser: "u\uFDD0", RenameCommands: [][2]string{{"CONFIG", "C"}}},
		Failover: &Failover{Epoch: 3, Replica: Addr{"10.0.0.2", 6380}, Leader: "x"}}}
}

func ordinaryState() *State {
	st := NewState()
	for _, n := range []string{"a", "b-é", "c\ufffd"} {
		m := ordinaryCommand().Master
		m.Name = n
		st.Masters[n] = m
	}
	return st
}

// The bytes written for ordinary values are plain JSON's, as before the
// rule: the log and snapshots of every existing group read the same, and
// an older member reads a newer one's. Nothing is copied for them.
func TestOrdinaryValuesEncodeAsBefore(t *testing.T) {
	c := ordinaryCommand()
	data, err := c.Encode()
	if err != nil {
		t.Fatal(err)
	}
	var plain bytes.Buffer
	plain.WriteByte(byte(c.Op))
	if err := json.NewEncoder(&plain).Encode(c); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, plain.Bytes()) {
		t.Fatalf("command encoded\n%s\nplain JSON is\n%s", data, plain.Bytes())
	}

	st := ordinaryState()
	f := NewFSM(nil)
	f.Replace(st)
	var snap bytes.Buffer
	if err := f.WriteSnapshot(&snap); err != nil {
		t.Fatal(err)
	}
	plain.Reset()
	if err := json.NewEncoder(&plain).Encode(snapshotFile{Version: snapshotVersion, State: st}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(snap.Bytes(), plain.Bytes()) {
		t.Fatalf("snapshot written\n%s\nplain JSON is\n%s", snap.Bytes(), plain.Bytes())
	}

	if EscapeStrings(c) != c || EscapeStrings(st) != st {
		t.Fatal("EscapeStrings copied values that need no escaping")
	}
	if n := testing.AllocsPerRun(100, func() { EscapeStrings(c) }); n != 0 {
		t.Errorf("EscapeStrings of an ordinary command: %v allocations", n)
	}
	if n := testing.AllocsPerRun(100, func() { EscapeStrings(st) }); n != 0 {
		t.Errorf("EscapeStrings of an ordinary state: %v allocations", n)
	}
}

// What older members wrote, with U+FFFD where bytes were lost and text
// that only looks escaped, reads as it always did.
func TestOlderEntriesDecodeAsTheyAre(t *testing.T) {
	entry := append([]byte{byte(OpMonitor)}, `{"master":{"name":"m\ufffd","addr":{"host":"h","port":1},"quorum":2,"down_after_ms":0,"failover_timeout_ms":0,"parallel_syncs":0,"auth_pass":"\ufffd\ufffd","auth_user":"\ufdd0zz","config_epoch":0,"created_at":1},"at":1}`...)
	c, err := Decode(entry)
	if err != nil {
		t.Fatal(err)
	}
	if m := c.Master; m.Name != "m\ufffd" || m.AuthPass != "\ufffd\ufffd" || m.AuthUser != "\uFDD0zz" {
		t.Fatalf("older entry decoded as %+v", m)
	}

	snap := `{"version":"` + snapshotVersion + `","state":{"current_epoch":1,"masters":{"m\ufffd":{"name":"m\ufffd","addr":{"host":"h\ufffd","port":1},"quorum":2,"down_after_ms":0,"failover_timeout_ms":0,"parallel_syncs":0,"config_epoch":0,"created_at":1}}}}`
	f := NewFSM(nil)
	if err := f.Restore(strings.NewReader(snap)); err != nil {
		t.Fatal(err)
	}
	if m, ok := f.Master("m\ufffd"); !ok || m.Addr.Host != "h\ufffd" {
		t.Fatalf("older snapshot restored as %+v, %v", m, ok)
	}
}

// Two keys of a map that read back as one are refused, whatever the map's
// order: keeping either would make members differ.
func TestUnescapeRefusesMergedKeys(t *testing.T) {
	odd := escapeMarker + "x"
	m := map[string]string{odd: "older", escapeString(odd): "newer"}
	if err := UnescapeStrings(&m); err == nil {
		t.Fatalf("two keys read as %q were accepted: %q", odd, m)
	}
	m = map[string]string{"a": escapeString("\xff"), escapeString("\xfe"): "b"}
	if err := UnescapeStrings(&m); err != nil || !reflect.DeepEqual(m, map[string]string{"a": "\xff", "\xfe": "b"}) {
		t.Fatalf("unescaped %q, %v", m, err)
	}
}

// Raft's own paths keep every byte: the log replicated to a member and the
// snapshot installed on a new one, then restored from disk at Open.
func TestRaftStore_NonUTF8Strings(t *testing.T) {
	ctx := context.Background()
	tune := func(c *RaftConfig) { c.SnapshotThreshold, c.TrailingLogs = 4, 1 }
	a := newRaftNode(t, "s1", "secret", tune)
	if err := a.store.Bootstrap([]Server{a.server()}); err != nil {
		t.Fatal(err)
	}
	waitLeader(t, a)
	st := filledState(t)
	for _, name := range st.Names() {
		m := st.Masters[name].Clone()
		m.Failover, m.ConfigEpoch, m.FailoversPaused, m.CreatedAt = nil, 0, false, 1
		if err := a.store.Propose(ctx, &Command{Op: OpMonitor, At: 1, Master: m}); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.store.Snapshot(); err != nil {
		t.Fatal(err)
	}
	want := a.fsm.State()
	if len(want.Masters) != len(st.Masters) {
		t.Fatalf("%d masters applied, want %d: %q", len(want.Masters), len(st.Masters), want.Names())
	}
	for name, m := range want.Masters {
		if m.AuthPass != st.Masters[name].AuthPass {
			t.Fatalf("master %q applied with auth-pass %q, want %q", name, m.AuthPass, st.Masters[name].AuthPass)
		}
	}
	b := newRaftNode(t, "s2", "secret", tune)
	if err := a.store.AddVoter(b.id, b.addr); err != nil {
		t.Fatal(err)
	}
	waitState(t, want, a, b)
	if b.restores.Load() == 0 {
		t.Fatal("the new member caught up without installing the snapshot")
	}
	a.stop()
	b.stop()
	a.start()
	if got := a.fsm.State(); !reflect.DeepEqual(got, want) {
		t.Fatalf("restored at open: %+v\nwant %+v", got, want)
	}
}

// short keeps a failure's message readable for the long cases.
func short(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// FuzzPreserveStrings: the rule's round trip is the identity for any
// bytes, what travels is text JSON keeps, and only what escapeString
// writes is read as escaped. The walk that applies the rule to commands
// and snapshots has its own tests (TestCommandKeepsEveryByte): fuzzing it
// too, through reflection and JSON, took two to three times the other
// targets' time for FUZZ_TIME's executions.
func FuzzPreserveStrings(f *testing.F) {
	for _, s := range []string{"", "mymaster", "é", "\ufffd", "\xff", "a\xc3", escapeMarker, escapeMarker + "ff", escapeMarker + "6d", escapeString(escapeMarker)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e := escapeString(s)
		if !utf8.ValidString(e) { // encoding/json keeps exactly the strings that are valid UTF-8
			t.Fatalf("escapeString(%q) = %q, which JSON would change", s, e)
		}
		if u, ok := unescapeString(e); u != s || ok != (e != s) {
			t.Fatalf("unescapeString(escapeString(%q)) = %q, %v", s, u, ok)
		}
		if u, ok := unescapeString(s); ok && escapeString(u) != s {
			t.Fatalf("%q read as escaped (%q), which escapeString writes as %q", s, u, escapeString(u))
		}
	})
}
