package replication

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/monitor"
	"github.com/x0tta6bl4/gosentinel/quorum"
)

// Failover safety (issue 9 item 3): writes paused on a switchover's old
// master are released only when no replica was or can still be promoted,
// the leader that records the switch demotes the old master, and a
// deposed leader sends no side effect that only a leader may send.

// TestSwitchoverTermLostAfterPromotionKeepsOldMasterPaused: SLAVEOF NO ONE
// takes effect on the replica, then the term is lost before the promotion
// is recorded. The cleanup must not unpause the old master (the replica is
// a master now); the next term resumes the failover from the log, demotes
// the old master to the new one before its pause lapses, and only then
// releases it. At no moment do two masters accept writes.
func TestSwitchoverTermLostAfterPromotionKeepsOldMasterPaused(t *testing.T) {
	h := switchoverScenario(t, 10000, false)
	h.redis.onSlaveOf = func(f *fakeRedis, a monitor.Addr, master *monitor.Addr) {
		if a == r1Addr && master == nil {
			h.prop.fail.Store(true) // the term ends before OpFailoverPromoted commits
		}
	}
	h.start()
	if err := h.eng.Failover(context.Background(), "mymaster"); err != nil {
		t.Fatal(err)
	}
	h.until(5*time.Second, "the term lost", func() bool { return h.prop.failures.Load() >= 3 })
	h.until(2*time.Second, "the driver stopped", func() bool { _, ok := h.eng.State("mymaster"); return !ok })
	diffLists(t, "side effects after the term was lost", h.redis.callList(),
		[]string{"PAUSE 7000", "SLAVEOF 7001 NO ONE"})
	if m := h.master(); m.Failover == nil || m.Failover.Promoted {
		t.Fatalf("record after the term was lost: %+v", m.Failover)
	}

	h.redis.onSlaveOf = nil
	h.prop.fail.Store(false)
	h.waitEvent("+failover-end", 1, 5*time.Second)
	// The old master is demoted right after the switch, before the other
	// replicas are repointed (the group check would come only after the
	// failover ends), and released only once it is a replica.
	diffLists(t, "side effects", h.redis.callList(), []string{
		"PAUSE 7000", "SLAVEOF 7001 NO ONE", "SLAVEOF 7000 7001", "UNPAUSE 7000", "SLAVEOF 7002 7001"})
	pausedAt, demotedAt := h.redis.callsOf("PAUSE", mAddr)[0].at, h.redis.callsOf("SLAVEOF", mAddr)[0].at
	if lapse := pausedAt.Add(maxSwitchoverPause); !demotedAt.Before(lapse) {
		t.Fatalf("old master demoted at %v, after its pause lapsed at %v", demotedAt, lapse)
	}
	if sb := h.redis.splitBrains(); len(sb) > 0 {
		t.Fatalf("two writable masters: %q", sb)
	}
	if m := h.master(); m.Addr != quorum.Addr(r1Addr) || m.Failover != nil {
		t.Fatalf("after the resumed switchover: %+v", m)
	}
}

// TestSwitchoverUnaskableReplicaKeepsOldMasterPaused: the replica accepts
// SLAVEOF NO ONE (it is a master now) and then cannot be asked; the
// promotion times out and the failover is aborted, but the old master
// stays paused: nothing proves the replica is not a writable master. The
// pause lapses by itself.
func TestSwitchoverUnaskableReplicaKeepsOldMasterPaused(t *testing.T) {
	h := switchoverScenario(t, 2000, false) // pause 2 s, promotion deadline 1.5 s
	h.redis.onSlaveOf = func(f *fakeRedis, a monitor.Addr, master *monitor.Addr) {
		if a == r1Addr && master == nil {
			// Applied and acknowledged, then the node stops answering.
			f.nodes[r1Addr].down = true
		}
	}
	h.start()
	if err := h.eng.Failover(context.Background(), "mymaster"); err != nil {
		t.Fatal(err)
	}
	h.waitEvent("-failover-abort-slave-timeout", 1, 4*time.Second)
	h.until(time.Second, "the driver stopped", func() bool { _, ok := h.eng.State("mymaster"); return !ok })
	h.advance(3 * tickInterval)
	if c := h.redis.callsOf("UNPAUSE", mAddr); len(c) != 0 {
		t.Fatalf("old master unpaused although the replica may be a master: %q", h.redis.callList())
	}
}

// TestSwitchoverFailedDemotionDoesNotUnpause: the old master refuses the
// SLAVEOF that demotes it; it must not be released while it is still a
// master (the new one is already writable). Its pause lapses by itself and
// the group check keeps trying to demote it: from the lapse on, two
// masters take writes, the limit docs/DESIGN.md states for a node that
// refuses its demotion.
func TestSwitchoverFailedDemotionDoesNotUnpause(t *testing.T) {
	h := switchoverScenario(t, 2000, false) // pause 2 s
	h.redis.set(mAddr, func(n *fakeNode) { n.refuseSlaveOf = true })
	h.start()
	if err := h.eng.Failover(context.Background(), "mymaster"); err != nil {
		t.Fatal(err)
	}
	h.waitEvent("+failover-end", 1, 6*time.Second)
	if c := h.redis.callsOf("UNPAUSE", mAddr); len(c) != 0 {
		t.Fatalf("old master unpaused after a failed demotion: %q", h.redis.callList())
	}
	h.redis.mu.Lock()
	lapse := h.redis.nodes[mAddr].pausedUntil
	h.redis.mu.Unlock()
	if sb := h.redis.splitBrainsBefore(lapse); len(sb) > 0 {
		t.Fatalf("two writable masters before the pause lapsed at %v: %q", lapse.Sub(fakeStart), sb)
	}
}

// verifyingProposer commits like fakeProposer but reports, through
// VerifyLeader only, that a newer term exists: the case of a leader
// deposed by a partition whose term's context has not closed yet.
type verifyingProposer struct {
	*fakeProposer
	deposed chan struct{} // closed once deposed
}

func (p *verifyingProposer) VerifyLeader(ctx context.Context) error {
	select {
	case <-p.deposed:
		return errFakeNotLeader
	default:
		return p.fakeProposer.VerifyLeader(ctx)
	}
}

// TestDeposedLeaderSendsNoSlaveOfNoOne: leadership is lost between the
// commit of the decision and SLAVEOF NO ONE. The engine asks before the
// promotion and sends nothing.
func TestDeposedLeaderSendsNoSlaveOfNoOne(t *testing.T) {
	h := autoScenario(t, 10000)
	p := &verifyingProposer{fakeProposer: h.prop, deposed: make(chan struct{})}
	h.eng.cfg.Proposer = p
	h.eng.cfg.AfterElected = func(string) { close(p.deposed) }
	h.start()
	h.until(3*time.Second, "failover decided", func() bool { return h.master().Failover != nil })
	h.advance(5 * recheckInterval) // the failover resumed several times, each refused
	if c := h.redis.callsOf("SLAVEOF", r2Addr); len(c) != 0 {
		t.Fatalf("a deposed leader sent %q", h.redis.callList())
	}
	if !errors.Is(p.VerifyLeader(context.Background()), errFakeNotLeader) {
		t.Fatal("proposer not deposed")
	}
}

// TestDeposedLeaderDemotesNoMaster: an instance claiming to be the master
// is demoted only by a verified leader (a deposed one's log may be behind
// a newer term's switch); repointing a replica needs no check.
func TestDeposedLeaderDemotesNoMaster(t *testing.T) {
	r3Addr, elsewhere := addr(7003), addr(7009)
	m := settings(10000, 1)
	m.Addr = quorum.Addr(r2Addr)
	claimer := replicaStatus(r2Addr, mAddr, 0, "")
	claimer.RoleReported, claimer.MasterHost, claimer.MasterPort = "master", "", 0
	ms := monitor.MasterStatus{Master: healthyMaster(r2Addr), Replicas: []monitor.InstanceStatus{
		claimer, replicaStatus(elsewhere, r3Addr, 100, ""),
	}}
	nodes := map[monitor.Addr]*fakeNode{
		r2Addr: {role: "master"},
		mAddr:  {role: "master"},
		r3Addr: replicaNode(elsewhere, 100),
	}
	h := newHarness(t, m, ms, nodes)
	p := &verifyingProposer{fakeProposer: h.prop, deposed: make(chan struct{})}
	close(p.deposed)
	h.eng.cfg.Proposer = p
	h.start()
	h.waitEvent("+fix-slave-config", 1, 2*time.Second)
	h.advance(5 * fixInterval)
	if c := h.redis.callsOf("SLAVEOF", mAddr); len(c) != 0 {
		t.Fatalf("a deposed leader demoted an instance claiming to be the master: %q", h.redis.callList())
	}
}

// TestAutomaticFailoverPausesAnAnsweringOldMaster: a master a quorum sees
// down but the leader still reaches (packet loss, a process resumed from a
// stop) is paused before the promotion and demoted right after the switch,
// so at no moment do two masters accept writes. It failed before the
// change: the old master stayed writable until the group check demoted it.
func TestAutomaticFailoverPausesAnAnsweringOldMaster(t *testing.T) {
	h := autoScenario(t, 3000)
	h.redis.set(mAddr, func(n *fakeNode) { n.down, n.offset = false, 900 })
	h.redis.set(r2Addr, func(n *fakeNode) { n.linkUp = true })
	h.start()
	h.waitEvent("+failover-end", 1, 5*time.Second)
	diffLists(t, "side effects", h.redis.callList(), []string{
		"PAUSE 7000", "SLAVEOF 7002 NO ONE", "PAUSE 7000", "SLAVEOF 7000 7002", "UNPAUSE 7000", "SLAVEOF 7001 7002"})
	if sb := h.redis.splitBrains(); len(sb) > 0 {
		t.Fatalf("two writable masters: %v", sb)
	}
}

// TestResumedAutomaticFailoverPausesAnAnsweringOldMaster: a failover the
// previous leader decided while the old master looked down, resumed by
// this one once the old master answers again, pauses it before promoting,
// as a fresh one does. It promoted at once, and the old master took
// writes beside the new one until it was demoted.
func TestResumedAutomaticFailoverPausesAnAnsweringOldMaster(t *testing.T) {
	h := autoScenario(t, 10000)
	h.redis.set(mAddr, func(n *fakeNode) { n.down, n.offset = false, 900 })
	h.redis.set(r2Addr, func(n *fakeNode) { n.linkUp = true })
	recordDecision(t, h, r2Addr, h.now(), false)
	h.start()
	h.waitEvent("+failover-end", 1, 5*time.Second)
	calls := h.redis.callList()
	if len(calls) < 2 || calls[0] != "PAUSE 7000" || calls[1] != "SLAVEOF 7002 NO ONE" {
		t.Fatalf("side effects %q, want PAUSE 7000 before SLAVEOF 7002 NO ONE", calls)
	}
	if sb := h.redis.splitBrains(); len(sb) > 0 {
		t.Fatalf("two writable masters: %v", sb)
	}
}

// TestAutomaticFailoverDemotesAnOldMasterBackDuringPromotion: the old
// master is down when the failover is decided (so it is not paused) and
// answers again by the time the switch is committed. It is demoted right
// after the switch, before the replicas are repointed; it was left a
// writable master until the failover ended and the group check came.
func TestAutomaticFailoverDemotesAnOldMasterBackDuringPromotion(t *testing.T) {
	h := autoScenario(t, 3000)
	h.redis.set(r2Addr, func(n *fakeNode) { n.linkUp = true })
	h.redis.onSlaveOf = func(f *fakeRedis, a monitor.Addr, master *monitor.Addr) {
		if a == r2Addr && master == nil {
			f.nodes[mAddr].down = false
		}
	}
	h.start()
	h.waitEvent("+failover-end", 1, 5*time.Second)
	diffLists(t, "side effects", h.redis.callList(), []string{
		"SLAVEOF 7002 NO ONE", "SLAVEOF 7000 7002", "UNPAUSE 7000", "SLAVEOF 7001 7002"})
}

// TestSwitchoverWaitsForReplicaPastOneFailedRead: one read of the paused
// old master fails (a timeout) while the replica is still behind. The
// switchover keeps waiting for the replica, which then has every write the
// old master acknowledged when it is promoted; it promoted at the failed
// read, behind.
func TestSwitchoverWaitsForReplicaPastOneFailedRead(t *testing.T) {
	h := switchoverScenario(t, 10000, false)
	catchUp := h.redis.nodes[r1Addr].onPoll
	failed := false
	h.redis.nodes[r1Addr].onPoll = func(f *fakeRedis, n *fakeNode) {
		if m := f.nodes[mAddr]; m.pausedAt(f.now()) && !failed {
			failed, m.failReads = true, 1
		}
		catchUp(f, n)
	}
	offsetsAtPromotion := promotionOffsets(h)
	h.start()
	if err := h.eng.Failover(context.Background(), "mymaster"); err != nil {
		t.Fatal(err)
	}
	h.waitEvent("+failover-end", 1, 5*time.Second)
	h.redis.mu.Lock()
	got, didFail := *offsetsAtPromotion, failed && h.redis.nodes[mAddr].failReads == 0
	h.redis.mu.Unlock()
	if !didFail {
		t.Fatal("the old master's read never failed")
	}
	if got[0] < got[1] {
		t.Fatalf("promoted at replica offset %d < master offset %d", got[0], got[1])
	}
	diffLists(t, "side effects", h.redis.callList(), []string{
		"PAUSE 7000", "SLAVEOF 7001 NO ONE", "PAUSE 7000", "SLAVEOF 7000 7001", "UNPAUSE 7000", "SLAVEOF 7002 7001"})
}

// TestSwitchoverPauseOutlastsASlowDemotion: the replica answers as a master
// late in the pause (7 s of 10), and the old master refuses its demotion
// for 5 s more. The pause is renewed once the replica is a master, so the
// old master stays paused until it is demoted: no moment with two writable
// masters. Issued once, the pause lapsed at 10 s, the demotion's retries
// stopped there, and the old master took writes next to the new one.
func TestSwitchoverPauseOutlastsASlowDemotion(t *testing.T) {
	h := switchoverScenario(t, 10000, false) // pause 10 s
	start := h.now()
	h.redis.set(r1Addr, func(n *fakeNode) {
		n.ignoreNoOne = true
		catchUp := n.onPoll
		n.onPoll = func(f *fakeRedis, n *fakeNode) {
			catchUp(f, n)
			if n.role != "slave" || f.now().Before(start.Add(7*time.Second)) {
				return
			}
			for _, c := range f.calls {
				if c.op == "SLAVEOF" && c.addr == r1Addr && c.master == nil {
					n.role, n.masterHost, n.masterPort, n.linkUp = "master", "", 0, false
					return
				}
			}
		}
	})
	h.redis.set(mAddr, func(n *fakeNode) { n.refuseSlaveOfUntil = start.Add(12 * time.Second) })
	h.start()
	if err := h.eng.Failover(context.Background(), "mymaster"); err != nil {
		t.Fatal(err)
	}
	h.waitEvent("+failover-end", 1, 30*time.Second)
	if sb := h.redis.splitBrains(); len(sb) > 0 {
		t.Fatalf("two writable masters: %q", sb)
	}
	demoted := h.redis.callsOf("SLAVEOF", mAddr)
	if len(demoted) != 1 || demoted[0].at.Before(start.Add(12*time.Second)) {
		t.Fatalf("old master's demotion %v, want one at 12 s or later: %q", demoted, h.redis.callList())
	}
}
