package quorum

import (
	"context"
	"fmt"
	"net"
	"sync/atomic"
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

	// Isolating the other follower leaves one of three: nothing commits,
	// and neither isolated server leads meanwhile (the leader left alone
	// keeps IsLeader until its lease ends, committing nothing).
	alone, second := newLeader, rest[0]
	if second == newLeader {
		second = rest[1]
	}
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

// A follower acknowledges an entry when it appends it and applies it only
// once it learns the commit: a failover the group committed with its
// acknowledgement can be in its log and not in its state when its leader
// is lost, and FailoverAfterLog sees it there, so the node does not cut
// the member off to vote on a copy without it. A failover its unapplied
// log both begins and ends (a restarted member's log past its snapshot)
// is not one in progress: it does not keep the member from cutting off.
func TestRaftStore_FailoverAfterLogPlaysTheLogPastTheState(t *testing.T) {
	nodes := newBootstrappedTrio(t, "s", nil)
	proposeOnLeader(t, monitorCmd("m1", 6379, 1), nodes...)
	leader := waitLeader(t, nodes...)
	waitState(t, leader.fsm.State(), nodes...)
	var a, c *raftNode
	for _, n := range nodes {
		switch {
		case n == leader:
		case a == nil:
			a = n
		default:
			c = n
		}
	}
	// c stands for a pod rolled back: the leader's commits need a.
	if err := c.store.Isolate(true); err != nil {
		t.Fatal(err)
	}
	// a's applies lag its log: the apply of m2 is held.
	release := make(chan struct{})
	hold := func(cmd *Command) {
		if cmd.Op == OpMonitor && cmd.Master != nil && cmd.Master.Name == "m2" {
			<-release
		}
	}
	a.applyHook.Store(&hold)
	released := false
	defer func() {
		if !released {
			close(release)
		}
	}()
	if a.store.FailoverAfterLog() {
		t.Fatal("a failover in progress before any was proposed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	propose := func(c *Command) {
		t.Helper()
		if err := leader.store.Propose(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	propose(monitorCmd("m2", 6380, 2))
	propose(&Command{Op: OpFailoverBegin, Name: "m1", Addr: Addr{Host: "127.0.0.1", Port: 6379}, Leader: leader.id, At: 3})
	if a.fsm.FailoverInProgress() {
		t.Fatal("a applied the failover past the held apply")
	}
	if !a.store.FailoverAfterLog() {
		t.Fatal("a's log holds a committed failover its state does not, and FailoverAfterLog does not see it")
	}
	epoch := leader.fsm.State().Masters["m1"].Failover.Epoch
	propose(&Command{Op: OpFailoverAbort, Name: "m1", Epoch: epoch, At: 4})
	if a.fsm.FailoverInProgress() {
		t.Fatal("a applied past the held apply")
	}
	if a.store.FailoverAfterLog() {
		t.Fatal("a failover its unapplied log begins and ends counts as in progress")
	}
	propose(&Command{Op: OpFailoverBegin, Name: "m1", Addr: Addr{Host: "127.0.0.1", Port: 6379}, Leader: leader.id, At: 5})
	if !a.store.FailoverAfterLog() {
		t.Fatal("a second failover begun in the unapplied log is not seen")
	}
	close(release)
	released = true
	redistest.Wait(t, 10*time.Second, "a applying the failover", func() error {
		if !a.fsm.FailoverInProgress() {
			return fmt.Errorf("not applied yet")
		}
		return nil
	})
	if !a.store.FailoverAfterLog() {
		t.Fatal("the failover applied is not seen in the state")
	}
}

// closeHeld is a connection whose Close waits until released.
type closeHeld struct {
	net.Conn
	closing, release chan struct{}
	closed           atomic.Bool
}

func (c *closeHeld) Close() error {
	close(c.closing)
	<-c.release
	c.closed.Store(true)
	return nil
}

// Isolated is what lets the node vote: it reports the store cut off only
// once every connection admitted before the cut is closed, not as soon as
// the gate refuses new ones.
func TestGate_SealedOnlyOnceOpenConnectionsAreClosed(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	held := &closeHeld{Conn: a, closing: make(chan struct{}), release: make(chan struct{})}
	g := &gate{}
	if g.admit(held) == nil {
		t.Fatal("not admitted while open")
	}
	done := make(chan struct{})
	go func() { defer close(done); g.set(true) }()
	<-held.closing
	if g.isSealed() {
		close(held.release)
		<-done
		t.Fatal("sealed while a connection admitted before the cut is still open")
	}
	if g.admit(b) != nil {
		t.Fatal("admitted a connection while closing")
	}
	close(held.release)
	<-done
	if !g.isSealed() || !held.closed.Load() {
		t.Fatal("not sealed once the open connection closed")
	}
	g.set(false)
	if g.isSealed() || g.isClosed() {
		t.Fatal("still cut off once opened")
	}
}

// FailoverAfterLog plays the log from the entry after the last one in the
// state, read with the state (FSM.StateAt), not from the applied index,
// which Raft's adapter raises after the state changed: an enter entry
// (OpProtocol) played twice raises the generation twice, the real end is
// then refused as stale, and the failover after it refused as mixed: "no
// failover" where the state after the log has one (found by a review).
func TestRaftStore_FailoverAfterLogPlaysEachEntryOnce(t *testing.T) {
	entries := []*Command{
		monitorCmd("m1", 6379, 1),
		{Op: OpProtocol, Mixed: true, At: 2},
		{Op: OpProtocol, Epoch: 1, At: 3},
		{Op: OpFailoverBegin, Name: "m1", Addr: Addr{Host: "127.0.0.1", Port: 6380}, Leader: "x", At: 4},
	}
	logs := raft.NewInmemStore()
	f := NewFSM(nil)
	for i, c := range entries {
		data, err := c.Encode()
		if err != nil {
			t.Fatal(err)
		}
		if err := logs.StoreLog(&raft.Log{Index: uint64(i + 1), Term: 1, Type: raft.LogCommand, Data: data}); err != nil {
			t.Fatal(err)
		}
		if i < 2 {
			if err := f.ApplyBytesAt(data, uint64(i+1)); err != nil {
				t.Fatal(err)
			}
		}
	}
	s := &RaftStore{fsm: f, adapter: &raftFSM{fsm: f}, logs: logs}
	s.adapter.applied.Store(1) // entry 2 is in the state, its applied index not raised yet
	if !s.FailoverAfterLog() {
		t.Fatal("no failover, where the state after the log has one (an entry played twice)")
	}
}
