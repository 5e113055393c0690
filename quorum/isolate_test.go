package quorum

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"github.com/x0tta6bl4/gosentinel/internal/redistest"
)

// An isolated server adds nothing the group can commit with: the others
// commit without it while they are a majority, nothing commits once two of
// three are isolated, it never leads meanwhile, and connected again it
// catches up with the group.
func TestRaftStore_IsolatedServerAcknowledgesNothing(t *testing.T) {
	nodes := newBootstrappedTrio(t, "s", nil)
	proposeOnLeader(t, monitorCmd("m1", 6379, 1), nodes...)
	leader := waitLeader(t, nodes...)

	// Isolating the leader: the two others elect one of themselves and
	// commit without it; it applies nothing of that.
	cut := leader
	var rest []*raftNode
	for _, n := range nodes {
		if n != cut {
			rest = append(rest, n)
		}
	}
	if err := cut.store.Isolate(true); err != nil {
		t.Fatal(err)
	}
	newLeader := proposeOnLeader(t, monitorCmd("m2", 6380, 2), rest...)
	waitState(t, newLeader.fsm.State(), rest...)
	if _, ok := cut.fsm.Master("m2"); ok {
		t.Fatal("the isolated server applied an entry committed without it")
	}
	redistest.Wait(t, 10*time.Second, "the isolated server follows no leader", func() error {
		if id, _ := cut.store.Leader(); id != "" {
			return fmt.Errorf("it still names %s", id)
		}
		return nil
	})

	// Isolating a second server leaves one of three: nothing commits, and
	// neither isolated server leads meanwhile.
	var alone, second *raftNode = rest[0], rest[1]
	if err := second.store.Isolate(true); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		err := alone.store.Propose(ctx, monitorCmd("m3", 6381, 3))
		cancel()
		if err == nil {
			t.Fatal("an entry committed with two of three servers isolated")
		}
		if cut.store.IsLeader() || second.store.IsLeader() {
			t.Fatal("an isolated server leads")
		}
	}
	for _, n := range nodes {
		if _, ok := n.fsm.Master("m3"); ok {
			t.Fatalf("%s applied an entry proposed with two of three servers isolated", n.id)
		}
	}

	// Connected again, the group commits and every server catches up.
	for _, n := range []*raftNode{cut, second} {
		if err := n.store.Isolate(false); err != nil {
			t.Fatal(err)
		}
	}
	last := proposeOnLeader(t, monitorCmd("m4", 6382, 4), nodes...)
	waitState(t, last.fsm.State(), nodes...)
	if _, ok := cut.fsm.Master("m2"); !ok {
		t.Fatal("the server connected again misses the entry committed while it was isolated")
	}
}

// Isolation is a gate on the stream layer: a store on an injected
// transport (the group simulation's) says it cannot be isolated rather
// than stay connected.
func TestRaftStore_IsolateNeedsTheLayer(t *testing.T) {
	_, trans := raft.NewInmemTransport("a")
	s := &RaftStore{cfg: RaftConfig{Transport: trans}}
	if err := s.Isolate(true); err == nil || s.Isolated() {
		t.Fatalf("an injected transport was isolated (err %v)", err)
	}
}
