package quorum

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/internal/redistest"
)

func TestRaftStore_SingleNodeRecoversAfterRestart(t *testing.T) {
	ctx := context.Background()
	n := newRaftNode(t, "s1", "secret", nil)
	if n.store.HasState() {
		t.Fatal("fresh directory has raft state")
	}
	if err := n.store.Bootstrap([]Server{n.server()}); err != nil {
		t.Fatal(err)
	}
	if !n.store.HasState() {
		t.Fatal("no raft state after bootstrap")
	}
	select {
	case v := <-n.store.LeaderChanges():
		if !v {
			t.Fatal("first leader change is false")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no leadership notification")
	}
	if !n.store.IsLeader() {
		t.Fatal("notified but not leader")
	}
	if id, addr := n.store.Leader(); id != "s1" || addr != n.addr {
		t.Fatalf("Leader() = %q, %q", id, addr)
	}
	if lc := n.store.LastContact(); IsStale(lc, time.Now(), time.Second) {
		t.Fatalf("leader's last contact %v is stale", lc)
	}

	for i := 1; i <= 3; i++ {
		if err := n.store.Propose(ctx, monitorCmd(fmt.Sprintf("m%d", i), 6379+i, int64(i))); err != nil {
			t.Fatalf("propose m%d: %v", i, err)
		}
	}
	// The FSM's result comes back through the log.
	if err := n.store.Propose(ctx, monitorCmd("m1", 1, 9)); !errors.Is(err, ErrDuplicateMaster) {
		t.Fatalf("duplicate monitor: %v, want ErrDuplicateMaster", err)
	}
	if err := n.store.Propose(ctx, &Command{Op: OpSwitchMaster, Name: "m2", Addr: Addr{"127.0.0.1", 7000}, Epoch: 5}); err != nil {
		t.Fatal(err)
	}
	want := n.fsm.State()
	if len(want.Masters) != 3 || want.CurrentEpoch != 5 || want.Masters["m2"].Addr.Port != 7000 {
		t.Fatalf("state before restart: %+v", want)
	}
	if n.store.Recovering() {
		t.Fatal("recovering without any replay")
	}

	n.stop()
	if err := n.store.Propose(ctx, monitorCmd("late", 1, 1)); !errors.Is(err, ErrClosed) {
		t.Fatalf("propose after close: %v", err)
	}
	n.start()
	if !n.store.HasState() {
		t.Fatal("state lost across restart")
	}
	waitLeader(t, n)
	waitState(t, want, n)
	redistest.Wait(t, 5*time.Second, "replay finished", func() error {
		if n.store.Recovering() {
			return errors.New("still recovering")
		}
		return nil
	})
	// Every command applied during the replay was flagged as such: 3
	// monitors, the refused duplicate and the switch.
	n.mu.Lock()
	replays := append([]bool(nil), n.replays...)
	n.mu.Unlock()
	if len(replays) != 5 {
		t.Fatalf("replayed %d commands, want 5", len(replays))
	}
	for i, r := range replays {
		if !r {
			t.Fatalf("replayed command %d not flagged as recovering", i)
		}
	}
	if err := n.store.Propose(ctx, &Command{Op: OpRemove, Name: "m3"}); err != nil {
		t.Fatal(err)
	}
	n.mu.Lock()
	last := n.replays[len(n.replays)-1]
	n.mu.Unlock()
	if last {
		t.Fatal("a new command after the replay was flagged as recovering")
	}
}

func TestRaftStore_ThreeNodeCluster(t *testing.T) {
	ctx := context.Background()
	nodes := newBootstrappedTrio(t, "secret", nil)
	leader := waitLeader(t, nodes...)
	members, err := leader.store.Servers()
	if err != nil || len(members) != 3 {
		t.Fatalf("servers = %v, %v", members, err)
	}
	for i := 1; i <= 2; i++ {
		leader = proposeOnLeader(t, monitorCmd(fmt.Sprintf("m%d", i), 6379+i, int64(i)), nodes...)
	}
	want := leader.fsm.State()
	waitState(t, want, nodes...)

	// Followers refuse what only the leader may do, and know who leads.
	redistest.Wait(t, 15*time.Second, "followers refuse leader-only operations", func() error {
		leader := waitLeader(t, nodes...)
		for _, n := range nodes {
			if n == leader {
				continue
			}
			err := n.store.Propose(ctx, &Command{Op: OpObserveEpoch}) // a no-op if it applied
			if err == nil {
				return fmt.Errorf("%s accepted a proposal: leadership moved meanwhile", n.id)
			}
			if !errors.Is(err, ErrNotLeader) || errors.Is(err, ErrLeadershipLost) {
				t.Fatalf("propose on follower %s: %v, want ErrNotLeader", n.id, err)
			}
			if err := n.store.AddVoter("s9", "127.0.0.1:1"); !errors.Is(err, ErrNotLeader) {
				return fmt.Errorf("add voter on follower %s: %v", n.id, err)
			}
			if IsStale(n.store.LastContact(), time.Now(), 5*time.Second) {
				t.Fatalf("follower %s has not heard from the leader", n.id)
			}
		}
		return leader.store.Barrier(5 * time.Second)
	})

	// Kill the leader: the other two elect a new one and go on.
	old := waitLeader(t, nodes...)
	old.stop()
	leader = proposeOnLeader(t, &Command{Op: OpSwitchMaster, Name: "m1", Addr: Addr{"127.0.0.1", 7001}, Epoch: 1}, nodes...)
	if leader == old {
		t.Fatal("closed node still leads")
	}
	want = leader.fsm.State()
	waitState(t, want, nodes...)

	// The old leader comes back and catches up.
	old.start()
	waitState(t, want, nodes...)

	// Every sentinel restarts at once: the same state afterwards.
	for _, n := range nodes {
		n.stop()
	}
	for _, n := range nodes {
		n.start()
	}
	waitLeader(t, nodes...)
	waitState(t, want, nodes...)
	leader = proposeOnLeader(t, monitorCmd("m3", 6390, 3), nodes...)
	waitState(t, leader.fsm.State(), nodes...)
	if members, err := leader.store.Servers(); err != nil || len(members) != 3 {
		t.Fatalf("servers after restart = %v, %v", members, err)
	}

	// A leader hands over (SIGTERM) and another takes it at once.
	redistest.Wait(t, 20*time.Second, "leadership transferred", func() error {
		from := waitLeader(t, nodes...)
		if err := from.store.TransferLeadership(); err != nil {
			return err
		}
		if to := waitLeader(t, nodes...); to == from {
			return fmt.Errorf("%s still leads after the transfer", from.id)
		}
		return nil
	})

	// A chosen follower takes it (SENTINEL FAILOVER asked of a follower),
	// for each follower in turn; to the leader itself it is a no-op.
	for i := 0; i < 2; i++ {
		redistest.Wait(t, 20*time.Second, "leadership transferred to a chosen follower", func() error {
			from := waitLeader(t, nodes...)
			var target *raftNode
			for _, n := range nodes {
				if n != from {
					target = n
					if i == 1 {
						break
					}
				}
			}
			if err := from.store.TransferLeadershipTo(from.id); err != nil || !from.store.IsLeader() {
				return fmt.Errorf("transfer to itself: %v, leader %v", err, from.store.IsLeader())
			}
			if err := from.store.TransferLeadershipTo(target.id); err != nil {
				return err
			}
			if to := waitLeader(t, nodes...); to != target {
				return fmt.Errorf("%s leads, want %s", to.id, target.id)
			}
			return nil
		})
	}
	if err := waitLeader(t, nodes...).store.TransferLeadershipTo("nobody"); err == nil {
		t.Fatal("transfer to a non-member succeeded")
	}
}

// A process configured with another secret cannot take part: its votes and
// appends never reach the group's Raft, and the group's log never reaches
// it, while the group stays healthy.
func TestRaftStore_WrongSecretCannotJoinVoteOrAppend(t *testing.T) {
	nodes := newBootstrappedTrio(t, "right", nil)
	proposeOnLeader(t, monitorCmd("m1", 6379, 1), nodes...)

	// The intruder believes it belongs to the group, so its Raft campaigns
	// (asking each member for votes) and would append as leader.
	evil := newRaftNode(t, "evil", "wrong", nil)
	servers := []Server{evil.server(), nodes[0].server(), nodes[1].server(), nodes[2].server()}
	if err := evil.store.Bootstrap(servers); err != nil {
		t.Fatal(err)
	}
	// The group adds it as a voter, as a join request would: the leader's
	// appends to it are refused in turn (and 3 of 4 voters still commit).
	redistest.Wait(t, 20*time.Second, "intruder added as a voter", func() error {
		err := waitLeader(t, nodes...).store.AddVoter(evil.id, evil.addr)
		if err != nil && !errors.Is(err, ErrNotLeader) {
			t.Fatal(err)
		}
		return err
	})
	redistest.Wait(t, 15*time.Second, "intruder's connections refused by every member", func() error {
		for _, n := range nodes {
			if n.listener.Failed() == 0 {
				return fmt.Errorf("%s refused nothing yet", n.id)
			}
		}
		if evil.listener.Failed() == 0 {
			return errors.New("the intruder refused nothing from the leader yet")
		}
		return nil
	})

	var leader *raftNode
	for i := 2; i <= 3; i++ {
		leader = proposeOnLeader(t, monitorCmd(fmt.Sprintf("m%d", i), 6379+i, int64(i)), nodes...)
	}
	waitState(t, leader.fsm.State(), nodes...)
	if n := len(evil.fsm.State().Masters); n != 0 {
		t.Fatalf("intruder applied %d masters", n)
	}
	if evil.store.IsLeader() {
		t.Fatal("intruder became leader")
	}
	if id, _ := evil.store.Leader(); id != "" {
		t.Fatalf("intruder follows %q", id)
	}
	// Its log holds its own bootstrap entry and nothing of the group's.
	if got := evil.store.Stats()["last_log_index"]; got != "1" {
		t.Fatalf("intruder's last log index = %s, want 1", got)
	}
	for _, n := range nodes {
		if id, _ := n.store.Leader(); id == "evil" {
			t.Fatalf("%s follows the intruder", n.id)
		}
	}
}

// Snapshots go through raft's own path: taken and compacted on the leader,
// installed over the network on a new member, restored from disk at Open.
func TestRaftStore_SnapshotInstallAndRestore(t *testing.T) {
	ctx := context.Background()
	tune := func(c *RaftConfig) {
		c.SnapshotThreshold = 4
		c.TrailingLogs = 1
	}
	a := newRaftNode(t, "s1", "secret", tune)
	if err := a.store.Bootstrap([]Server{a.server()}); err != nil {
		t.Fatal(err)
	}
	waitLeader(t, a)
	for i := 1; i <= 10; i++ {
		if err := a.store.Propose(ctx, monitorCmd(fmt.Sprintf("m%02d", i), 6000+i, int64(i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.store.Propose(ctx, &Command{Op: OpObserveEpoch, Epoch: 42}); err != nil {
		t.Fatal(err)
	}
	if err := a.store.Snapshot(); err != nil {
		t.Fatal(err)
	}
	metas, err := a.store.snaps.List()
	if err != nil || len(metas) != 1 {
		t.Fatalf("snapshots = %v, %v", metas, err)
	}
	first, err := a.store.logs.FirstIndex()
	if err != nil || first <= 1 {
		t.Fatalf("log not compacted: first index %d, %v", first, err)
	}
	want := a.fsm.State()

	// A new member needs entries the leader no longer has: it gets the
	// snapshot over the authenticated transport.
	b := newRaftNode(t, "s2", "secret", tune)
	if err := a.store.AddVoter(b.id, b.addr); err != nil {
		t.Fatal(err)
	}
	waitState(t, want, a, b)
	if b.restores.Load() == 0 {
		t.Fatal("the new member caught up without installing the snapshot")
	}

	// At Open the newest snapshot is restored before any leader exists.
	a.stop()
	b.stop()
	a.start()
	if a.restores.Load() != 1 {
		t.Fatalf("restores at open = %d, want 1", a.restores.Load())
	}
	if got := a.fsm.State(); got.CurrentEpoch != 42 || len(got.Masters) != 10 {
		t.Fatalf("state restored at open: epoch %d, %d masters", got.CurrentEpoch, len(got.Masters))
	}
	b.start()
	waitLeader(t, a, b)
	waitState(t, want, a, b)

	// The leader removes the other member.
	var leader *raftNode
	redistest.Wait(t, 20*time.Second, "member removed", func() error {
		leader = waitLeader(t, a, b)
		other := a
		if leader == a {
			other = b
		}
		err := leader.store.RemoveServer(other.id)
		if err != nil && !errors.Is(err, ErrNotLeader) {
			t.Fatal(err)
		}
		return err
	})
	if members, err := leader.store.Servers(); err != nil || len(members) != 1 || members[0].ID != leader.id {
		t.Fatalf("servers after remove = %v, %v", members, err)
	}
}

// A member the leader catches up with a snapshot has applied up to the
// snapshot's index: group.caughtUp compares it with the leader's, and a
// member still below its old log's end counts the next command as a replay
// (Recovering), which silences its events. Raft moves its own applied index
// to the snapshot's; ours stayed where the member's log ended until the next
// commit, so in an idle set a returning member never became a member.
func TestRaftStore_InstalledSnapshotRaisesTheAppliedIndex(t *testing.T) {
	tune := func(c *RaftConfig) { c.SnapshotThreshold, c.TrailingLogs = 4, 1 }
	nodes := newBootstrappedTrio(t, "secret", tune)
	for i := range 3 {
		proposeOnLeader(t, monitorCmd(fmt.Sprintf("a%02d", i), 6000+i, int64(i+1)), nodes...)
	}
	leader := waitLeader(t, nodes...)
	waitState(t, leader.fsm.State(), nodes...)
	f := nodes[0]
	if f == leader {
		f = nodes[1]
	}
	f.stop()
	for i := range 10 {
		proposeOnLeader(t, monitorCmd(fmt.Sprintf("b%02d", i), 7000+i, int64(100+i)), nodes...)
	}
	leader = waitLeader(t, nodes...)
	if err := leader.store.Snapshot(); err != nil {
		t.Fatal(err)
	}
	f.start()
	// The restore raises the index before it calls OnRestore.
	redistest.Wait(t, 10*time.Second, "the snapshot installed", func() error {
		if f.restores.Load() == 0 {
			return errors.New("no restore yet")
		}
		return nil
	})
	if got, want := f.store.AppliedIndex(), leader.store.AppliedIndex(); got < want {
		t.Errorf("AppliedIndex %d after the snapshot caught the member up, the leader's %d", got, want)
	}
	if f.store.Recovering() {
		t.Error("still Recovering after the snapshot caught the member up")
	}
	proposeOnLeader(t, &Command{Op: OpObserveEpoch, Epoch: 99, At: 1}, nodes...)
	redistest.Wait(t, 5*time.Second, "the next command applied", func() error {
		if f.fsm.CurrentEpoch() != 99 {
			return errors.New("not yet")
		}
		return nil
	})
	f.mu.Lock()
	last := f.replays[len(f.replays)-1]
	f.mu.Unlock()
	if last {
		t.Error("the first command after the snapshot was taken for a replay")
	}
}
