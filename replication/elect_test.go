package replication

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/monitor"
	"github.com/x0tta6bl4/gosentinel/quorum"
)

// In a mixed set (Config.Elect), an automatic failover is decided by
// redis-sentinel's election: not elected, nothing is committed and no
// side effect is sent, and the next attempt waits 2×failover-timeout, as
// after a start; elected, the decision carries the election's epoch and
// the opening events it already published are not repeated.
func TestElectionDecidesAutomaticFailover(t *testing.T) {
	h := autoScenario(t, 3000)
	var calls atomic.Int32
	h.eng.cfg.Elect = func(ctx context.Context, m *quorum.Master) (uint64, error) {
		calls.Add(1)
		return 0, errors.New("not elected")
	}
	h.start()
	h.until(2*time.Second, "an election", func() bool { return calls.Load() == 1 })
	h.advance(5 * recheckInterval) // five more searches' worth, inside 2×failover-timeout (6 s)
	if n := calls.Load(); n != 1 {
		t.Fatalf("%d elections inside 2×failover-timeout of the first", n)
	}
	if len(h.redis.callList()) != 0 || h.fsm.CurrentEpoch() != 0 || len(h.rec.list()) != 0 {
		t.Fatalf("not elected, yet side effects %q, epoch %d, events %q", h.redis.callList(), h.fsm.CurrentEpoch(), h.rec.list())
	}

	h2 := autoScenario(t, 3000)
	h2.eng.cfg.Elect = func(ctx context.Context, m *quorum.Master) (uint64, error) {
		// The node's election observes its epoch before asking for votes.
		return 5, h2.prop.Propose(ctx, &quorum.Command{Op: quorum.OpObserveEpoch, Epoch: 5})
	}
	h2.start()
	h2.waitEvent("+failover-end", 1, 5*time.Second)
	if m := h2.master(); m.Addr != quorum.Addr(r2Addr) || m.ConfigEpoch != 5 || h2.fsm.CurrentEpoch() != 5 {
		t.Fatalf("elected at epoch 5: %+v, current epoch %d", m, h2.fsm.CurrentEpoch())
	}
	if h2.rec.count("+new-epoch") != 0 || h2.rec.count("+try-failover") != 0 || h2.rec.count("+elected-leader") != 1 {
		t.Fatalf("events: %q", h2.rec.list())
	}
}

// A vote for another sentinel's election holds off this sentinel's own
// automatic failover of the master for 2×failover-timeout.
func TestVoteForAnotherHoldsOffOwnFailover(t *testing.T) {
	h := autoScenario(t, 3000)
	voted := h.now()
	h.eng.cfg.VotedAt = func(string) time.Time { return voted }
	h.start()
	h.advance(5 * recheckInterval) // inside 2×failover-timeout (6 s) of the vote
	if len(h.redis.callList()) != 0 || h.fsm.CurrentEpoch() != 0 {
		t.Fatalf("failed over right after voting for another: %q, epoch %d", h.redis.callList(), h.fsm.CurrentEpoch())
	}
}

// In a mixed set an instance that claims to be the master (a replica a
// redis-sentinel just promoted, whose hellos have not arrived yet) is left
// alone until it has done so for redis-sentinel's 4 hello periods; then it
// is converted as usual.
func TestMixedSetWaitsBeforeConvertingAMaster(t *testing.T) {
	m := settings(10000, 1)
	promoted := replicaStatus(mAddr, r1Addr, 100, "")
	promoted.RoleReported, promoted.MasterHost, promoted.MasterPort = "master", "", 0
	promoted.RoleReportedTime = fakeStart
	ms := monitor.MasterStatus{Master: healthyMaster(mAddr), Replicas: []monitor.InstanceStatus{promoted}}
	nodes := map[monitor.Addr]*fakeNode{
		mAddr:  {role: "master"},
		r1Addr: {role: "master"},
	}
	h := newHarness(t, m, ms, nodes)
	h.eng.cfg.Mixed = func() bool { return true }
	h.start()
	h.advance(10 * tickInterval)
	if c := h.redis.callsOf("SLAVEOF", r1Addr); len(c) != 0 {
		t.Fatalf("converted at first sight in a mixed set: %v", c)
	}
	h.view.update("mymaster", func(ms *monitor.MasterStatus) {
		ms.Replicas[0].RoleReportedTime = h.now().Add(-mixedFixWait - time.Second)
	})
	h.waitEvent("+convert-to-slave", 1, 2*time.Second)
}

func TestMisconfigSettled(t *testing.T) {
	now := fakeStart
	old, recent := now.Add(-9*time.Second), now.Add(-time.Second)
	for _, tc := range []struct {
		name string
		r    monitor.InstanceStatus
		want bool
	}{
		{"master claimed long ago", monitor.InstanceStatus{RoleReported: "master", RoleReportedTime: old}, true},
		{"master claimed just now", monitor.InstanceStatus{RoleReported: "master", RoleReportedTime: recent}, false},
		{"replica repointed just now", monitor.InstanceStatus{RoleReported: "slave", RoleReportedTime: old, SlaveConfChangeTime: recent}, false},
		{"replica wrong for long", monitor.InstanceStatus{RoleReported: "slave", RoleReportedTime: old, SlaveConfChangeTime: old}, true},
		{"unseen", monitor.InstanceStatus{RoleReported: "master", RoleReportedTime: old, Disconnected: true}, false},
		{"no role yet", monitor.InstanceStatus{RoleReportedTime: old}, false},
	} {
		if got := misconfigSettled(&tc.r, now, mixedFixWait); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestBusyFromTheClaimToTheEnd: Busy holds from the attempt's claim,
// through its election (and so past it, to the decision it begins), until
// the failover ends: a detached member reattaching in the moment between
// an election won and the failover it begins (when no election runs and
// the state records no failover yet) stopped that failover half way.
func TestBusyFromTheClaimToTheEnd(t *testing.T) {
	h := autoScenario(t, 3000)
	var busyElecting atomic.Bool
	h.eng.cfg.Elect = func(ctx context.Context, m *quorum.Master) (uint64, error) {
		busyElecting.Store(h.eng.Busy())
		return 5, h.prop.Propose(ctx, &quorum.Command{Op: quorum.OpObserveEpoch, Epoch: 5})
	}
	if h.eng.Busy() {
		t.Fatal("busy before anything started")
	}
	h.start()
	h.waitEvent("+failover-end", 1, 5*time.Second)
	if !busyElecting.Load() {
		t.Fatal("not busy during the election")
	}
	h.until(2*time.Second, "the attempt released", func() bool { return !h.eng.Busy() })
}

// TestAMasterMovedDuringTheElectionIsNotFailedOver: a switch applied while
// this sentinel's election runs (a redis-sentinel's hello: it promoted
// another replica) makes the decision stale; the begin is refused
// (quorum.ErrMasterMoved) and nothing is sent to any node. It was recorded
// against the new master, whose healthy writes the failover then paused
// and lost.
func TestAMasterMovedDuringTheElectionIsNotFailedOver(t *testing.T) {
	h := autoScenario(t, 3000)
	var switched atomic.Bool
	h.eng.cfg.Elect = func(ctx context.Context, m *quorum.Master) (uint64, error) {
		if !switched.Swap(true) {
			if err := h.prop.Propose(ctx, &quorum.Command{Op: quorum.OpSwitchMaster, Name: "mymaster",
				Addr: quorum.Addr(r1Addr), From: quorum.Addr(mAddr), Epoch: 1}); err != nil {
				return 0, err
			}
		}
		return 2, h.prop.Propose(ctx, &quorum.Command{Op: quorum.OpObserveEpoch, Epoch: 2})
	}
	h.start()
	h.until(2*time.Second, "the election", switched.Load)
	h.advance(5 * tickInterval)
	if calls := h.redis.callList(); len(calls) != 0 {
		t.Fatalf("failed over a master that moved during the election: %q", calls)
	}
	if f := h.master().Failover; f != nil {
		t.Fatalf("a failover recorded against the moved master: %+v", f)
	}
}
