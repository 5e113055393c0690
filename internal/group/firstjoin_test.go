package group

import (
	"errors"
	"path/filepath"
	"testing"
)

// stateStore is a Store with Raft state of a previous run; nothing else
// is asked of it here.
type stateStore struct{ Store }

func (stateStore) HasState() bool { return true }

// TestRestartBeforeActivationIsAFirstJoin: a sentinel that opened Raft as a
// first-time member (to join, here) and restarted before its activation is
// not a member from a previous run: it still proposes its own masters at
// activation. The Raft state its open left (the term it abstained through)
// made it one, and the masters only it knew were forgotten. Once
// activated, a restart finds a member from a previous run.
// sentinelB is a group of sentinel b over the formation record file,
// opening its Raft state with open.
func sentinelB(t *testing.T, file FilePersister, existing bool, open func(string, uint64) (Store, error)) *Group {
	t.Helper()
	g, err := New(Config{
		ID: "b", Addr: func() string { return "b:26379" }, Expect: func(bool) Expectation { return Expectation{Size: 3} },
		Peers: func() []Peer { return nil }, Transport: noTransport{}, Acceptor: file, Existing: existing, Open: open,
	})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func withState(string, uint64) (Store, error) { return stateStore{}, nil }

func TestRestartBeforeActivationIsAFirstJoin(t *testing.T) {
	file := FilePersister{Path: filepath.Join(t.TempDir(), "formation.json")}
	restart := func() *Group {
		t.Helper()
		g := sentinelB(t, file, true, withState)
		if !g.openExisting() {
			t.Fatal("the Raft state did not open")
		}
		return g
	}
	g := sentinelB(t, file, false, func(string, uint64) (Store, error) { return nil, errors.New("the open fails after the record") })
	if g.openToJoin("b:26379", Decision{Action: ActJoin, Term: 4}) {
		t.Fatal("opened without a store")
	}
	if g := restart(); g.Restarted() {
		t.Fatal("restarted after opening Raft to join for the first time, before activation: counts as a member from a previous run")
	}
	if err := restart().Activated(); err != nil {
		t.Fatal(err)
	}
	if g := restart(); !g.Restarted() {
		t.Fatal("restarted after its activation: does not count as a member from a previous run")
	}
	// A returning member (it lost its disk, the group lists it) records
	// no first join.
	file2 := FilePersister{Path: filepath.Join(t.TempDir(), "formation.json")}
	g = sentinelB(t, file2, false, withState)
	if !g.openToJoin("b:26379", Decision{Action: ActOpen, Term: 4, Returning: true}) || !g.Restarted() {
		t.Fatal("a returning member does not count as restarted")
	}
	if acc, err := file2.Load(); err != nil || acc.FirstJoin {
		t.Fatalf("a returning member recorded a first join: %+v, %v", acc, err)
	}
}
