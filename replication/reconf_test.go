package replication

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/monitor"
	"github.com/x0tta6bl4/gosentinel/quorum"
)

// A replica that died after it took the SLAVEOF (+slave-reconf-inprog) no
// longer holds the failover once the monitor has it SDOWN, as in
// sentinelFailoverDetectEnd: the failover ends with +failover-end, not
// +failover-end-for-timeout a failover-timeout later, during which the
// master's next failover and its group check could not run.
func TestReplicaDeadWhileRepointedDoesNotHoldTheFailover(t *testing.T) {
	h := autoScenario(t, 60000)
	h.redis.set(r1Addr, func(n *fakeNode) { n.linkAfter = 1 << 30 }) // its sync never ends
	h.start()
	h.waitEvent("+slave-reconf-inprog", 1, 5*time.Second)
	h.redis.set(r1Addr, func(n *fakeNode) { n.down = true })
	h.advance(time.Second)
	markReplica(h, r1Addr, func(r *monitor.InstanceStatus) {
		r.SDown, r.Disconnected, r.SDownSince = true, true, h.now()
	})
	if !h.advanceUntil(10*time.Second, func() bool { return h.rec.count("+failover-end") >= 1 }) {
		t.Fatalf("no +failover-end 10 s after the replica being repointed went SDOWN (failover-timeout 60 s); events %q", h.rec.list())
	}
	if h.rec.count("+failover-end-for-timeout") != 0 {
		t.Fatalf("ended by timeout: %q", h.rec.list())
	}
}

// At failover-timeout the best-effort SLAVEOF goes, as redis-sentinel's,
// to every replica neither done nor just sent one, those in progress
// included, unless the monitor has no link to it.
func TestFailoverTimeoutRepointsReplicasInProgress(t *testing.T) {
	h := autoScenario(t, 5000)
	h.redis.set(r1Addr, func(n *fakeNode) { n.linkAfter = 1 << 30 }) // in progress for ever
	h.start()
	h.waitEvent("+slave-reconf-inprog", 1, 5*time.Second)
	h.waitEvent("+failover-end-for-timeout", 1, 10*time.Second)
	if n := h.rec.count("+slave-reconf-sent-be"); n != 1 {
		t.Fatalf("%d +slave-reconf-sent-be for the replica in progress, want 1; events %q", n, h.rec.list())
	}
}

// An old master that comes back as a master while the replicas are still
// repointed is demoted then, not when the reconfiguration ends: the tick's
// group check skips a master whose failover is active, and every write it
// took meanwhile would be lost at the later demotion.
func TestOldMasterBackDuringReconfigurationIsDemoted(t *testing.T) {
	h := autoScenario(t, 60000)
	h.redis.set(r1Addr, func(n *fakeNode) { n.linkAfter = 20 * 20 }) // ~20 s of sync at 50 ms polls
	h.start()
	h.waitEvent("+switch-master", 1, 5*time.Second)
	h.advance(time.Second)
	h.redis.set(mAddr, func(n *fakeNode) { n.down = false })
	markReplica(h, mAddr, func(r *monitor.InstanceStatus) {
		r.SDown, r.Disconnected, r.RoleReported, r.InfoRefresh = false, false, "master", h.now()
	})
	back := h.now()
	h.advanceUntil(5*time.Second, func() bool { return len(h.redis.callsOf("SLAVEOF", mAddr)) > 0 })
	if len(h.redis.callsOf("SLAVEOF", mAddr)) == 0 {
		t.Fatalf("old master back as a writable master for %v and not demoted (reconfiguration still running: %v); events %q",
			h.now().Sub(back), h.rec.count("+failover-end") == 0, h.rec.list())
	}
	if h.rec.count("+failover-end") != 0 {
		t.Fatalf("the reconfiguration ended before the demotion, so this tested nothing: %q", h.rec.list())
	}
	if n := h.rec.count("+convert-to-slave"); n != 1 {
		t.Fatalf("%d +convert-to-slave, want 1: %q", n, h.rec.list())
	}
}

// markReplica changes the monitor's view of replica a of mymaster.
func markReplica(h *harness, a monitor.Addr, f func(*monitor.InstanceStatus)) {
	h.view.update("mymaster", func(ms *monitor.MasterStatus) {
		for i := range ms.Replicas {
			if ms.Replicas[i].Ref.Addr == a {
				f(&ms.Replicas[i])
			}
		}
	})
}

// A candidate that answers role:master ranks with the offset the monitor
// last read from it as a replica, as in redis-sentinel (which reads
// slave_repl_offset only from a replica's INFO and never resets it), not
// by its master_repl_offset, which counts its own history. An old master
// back from a partition with its own writes, listed among the replicas
// since the switch (offset 0), was promoted over the real replica and the
// current master's writes were lost; one seen as a replica at 5000 that
// promoted itself (a SLAVEOF NO ONE that took effect after its failover
// was aborted, an operator's REPLICAOF NO ONE) still ranks above a replica
// at 1000.
func TestRoleMasterCandidateRanksByItsLastReplicaOffset(t *testing.T) {
	for _, tc := range []struct {
		name       string
		lastOffset int64
		want       monitor.Addr
	}{
		{"old master listed since the switch", 0, r2Addr},
		{"replica that promoted itself", 5000, r1Addr},
	} {
		t.Run(tc.name, func(t *testing.T) {
			was := replicaStatus(mAddr, r1Addr, tc.lastOffset, "aaaa")
			was.RoleReported, was.MasterHost, was.MasterPort = "master", "", 0
			ms := monitor.MasterStatus{Master: downMaster(mAddr), Replicas: []monitor.InstanceStatus{
				was,
				replicaStatus(mAddr, r2Addr, 1000, "bbbb"),
			}}
			nodes := map[monitor.Addr]*fakeNode{
				mAddr:  {role: "master", down: true},
				r1Addr: {role: "master", offset: 5000, priority: 100},
				r2Addr: replicaNode(mAddr, 1000),
			}
			h := newHarness(t, settings(3000, 1), ms, nodes)
			h.view.setODown("mymaster", true)
			h.start()
			h.waitEvent("+selected-slave", 1, 5*time.Second)
			h.waitEvent("+failover-end", 1, 5*time.Second)
			if m := h.master(); m.Addr != quorum.Addr(tc.want) {
				t.Fatalf("promoted %v, want %v; side effects %q", m.Addr, tc.want, h.redis.callList())
			}
		})
	}
}

// countingVerifier counts the leadership checks.
type countingVerifier struct {
	*fakeProposer
	verifies atomic.Int64
}

func (c *countingVerifier) VerifyLeader(ctx context.Context) error {
	c.verifies.Add(1)
	return c.fakeProposer.VerifyLeader(ctx)
}

// An old master back as a master during the repointing that refuses the
// SLAVEOF (-LOADING while it loads its data) is asked again at the group
// check's pace (fixInterval), not at every probe with a quorum round trip
// each time.
func TestOldMasterDemotionDuringReconfigurationIsPaced(t *testing.T) {
	h := autoScenario(t, 60000)
	cv := &countingVerifier{fakeProposer: h.prop}
	h.eng.cfg.Proposer = cv
	h.redis.set(r1Addr, func(n *fakeNode) { n.linkAfter = 1 << 30 }) // the repointing lasts
	h.start()
	h.waitEvent("+switch-master", 1, 5*time.Second)
	h.redis.set(mAddr, func(n *fakeNode) { n.down, n.refuseSlaveOf = false, true })
	before := cv.verifies.Load()
	h.advance(2 * time.Second)
	v := cv.verifies.Load() - before
	if v == 0 || v > int64(2*time.Second/fixInterval)+1 {
		t.Errorf("%d leadership checks, each before a SLAVEOF to the old master, in 2 s (fixInterval %v)", v, fixInterval)
	}
}

// A SENTINEL REMOVE committed while the replicas are repointed stops the
// repointing at once, as redis-sentinel's REMOVE frees the failover with
// the master: the pass's fence was read before its first SLAVEOF, and the
// others of the pass (parallel-syncs 10) went out after the REMOVE. The
// official 8.0 suite's next test had built its own replication set by then
// (06-ckquorum's init, cc114), and one replica was taken from it.
func TestRemoveStopsTheRepointing(t *testing.T) {
	r3Addr := addr(7003)
	ms := monitor.MasterStatus{Master: downMaster(mAddr), Replicas: []monitor.InstanceStatus{
		replicaStatus(mAddr, r1Addr, 500, "aaaa"),
		replicaStatus(mAddr, r2Addr, 900, "bbbb"),
		replicaStatus(mAddr, r3Addr, 300, "cccc"),
	}}
	nodes := map[monitor.Addr]*fakeNode{
		mAddr:  {role: "master", down: true},
		r1Addr: replicaNode(mAddr, 500),
		r2Addr: replicaNode(mAddr, 900),
		r3Addr: replicaNode(mAddr, 300),
	}
	h := newHarness(t, settings(60000, 10), ms, nodes)
	h.view.setODown("mymaster", true)
	var removedAt atomic.Int64 // number of SLAVEOF calls when REMOVE was applied
	h.redis.onSlaveOf = func(f *fakeRedis, a monitor.Addr, master *monitor.Addr) {
		if master == nil || *master != r2Addr || a == mAddr || removedAt.Load() != 0 {
			return
		}
		if err := h.fsm.Apply(&quorum.Command{Op: quorum.OpRemove, Name: "mymaster", At: 2}); err != nil {
			t.Errorf("REMOVE: %v", err)
		}
		removedAt.Store(int64(len(f.calls)))
	}
	h.start()
	h.until(10*time.Second, "a replica repointed", func() bool { return removedAt.Load() != 0 })
	h.advance(5 * time.Second)
	calls := h.redis.callList()
	if n := int(removedAt.Load()); len(calls) > n {
		t.Fatalf("side effects after the REMOVE was committed: %q (all: %q)", calls[n:], calls)
	}
}
