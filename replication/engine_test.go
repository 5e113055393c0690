package replication

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/monitor"
	"github.com/x0tta6bl4/gosentinel/quorum"
)

var (
	mAddr  = addr(7000)
	r1Addr = addr(7001)
	r2Addr = addr(7002)
)

func settings(ftMs int64, parallel int) quorum.Master {
	return quorum.Master{Name: "mymaster", Addr: quorum.Addr(mAddr), Settings: quorum.Settings{Quorum: 1, DownAfterMs: 1000, FailoverTimeoutMs: ftMs, ParallelSyncs: parallel}}
}

// opening is the leader's sequence up to SLAVEOF NO ONE, for a failover of
// mymaster at from to replica at epoch.
func opening(epoch int, from, replica monitor.Addr) []string {
	m := fmt.Sprintf("master mymaster %s %d", from.Host, from.Port)
	r := fmt.Sprintf("slave %s %s %d @ mymaster %s %d", replica, replica.Host, replica.Port, from.Host, from.Port)
	return []string{
		fmt.Sprintf("+new-epoch %d", epoch),
		"+try-failover " + m,
		fmt.Sprintf("+vote-for-leader %s %d", myID, epoch),
		"+elected-leader " + m,
		"+failover-state-select-slave " + m,
		"+selected-slave " + r,
		"+failover-state-send-slaveof-noone " + r,
	}
}

func slaveRef(a, master monitor.Addr) string {
	return fmt.Sprintf("slave %s %s %d @ mymaster %s %d", a, a.Host, a.Port, master.Host, master.Port)
}

func masterOf(a monitor.Addr) string { return fmt.Sprintf("master mymaster %s %d", a.Host, a.Port) }

// autoScenario: the master is dead and ODOWN; R1 looks best in the
// monitor's (stale) view, R2 is the most advanced when asked.
func autoScenario(t *testing.T, ftMs int64) *harness {
	ms := monitor.MasterStatus{Master: downMaster(mAddr), Replicas: []monitor.InstanceStatus{
		replicaStatus(mAddr, r1Addr, 1000, "aaaa"),
		replicaStatus(mAddr, r2Addr, 100, "bbbb"),
	}}
	nodes := map[monitor.Addr]*fakeNode{
		mAddr:  {role: "master", down: true},
		r1Addr: replicaNode(mAddr, 500),
		r2Addr: replicaNode(mAddr, 900),
	}
	nodes[r1Addr].linkAfter = 2
	h := newHarness(t, settings(ftMs, 1), ms, nodes)
	h.view.setODown("mymaster", true)
	return h
}

func TestAutomaticFailoverHappyPath(t *testing.T) {
	h := autoScenario(t, 3000)
	h.start()
	h.waitEvent("+failover-end", 1, 5*time.Second)

	want := append(opening(1, mAddr, r2Addr),
		"+failover-state-wait-promotion "+slaveRef(r2Addr, mAddr),
		"+promoted-slave "+slaveRef(r2Addr, mAddr),
		"+failover-state-reconf-slaves "+masterOf(mAddr),
		"+switch-master mymaster 127.0.0.1 7000 127.0.0.1 7002",
		"+slave-reconf-sent "+slaveRef(r1Addr, mAddr),
		"+slave-reconf-inprog "+slaveRef(r1Addr, mAddr),
		"+slave-reconf-done "+slaveRef(r1Addr, mAddr),
		"+failover-end "+masterOf(mAddr),
	)
	diffLists(t, "events", h.rec.list(), want)
	diffLists(t, "side effects", h.redis.callList(), []string{"SLAVEOF 7002 NO ONE", "SLAVEOF 7001 7002"})
	m := h.master()
	if m.Addr != quorum.Addr(r2Addr) || m.ConfigEpoch != 1 || m.Failover != nil || h.fsm.CurrentEpoch() != 1 {
		t.Fatalf("state after failover: %+v epoch %d", m, h.fsm.CurrentEpoch())
	}
	if _, ok := h.eng.State("mymaster"); ok {
		t.Fatal("engine still reports a failover in progress")
	}

	// Down reports that predate the switch never count against the new
	// master: ODOWN with an SDOWN observed before the switch is ignored...
	switched := h.rec.at("+switch-master", 0)
	h.view.update("mymaster", func(ms *monitor.MasterStatus) {
		ms.Master.SDown, ms.Master.SDownSince = true, switched.Add(-time.Millisecond)
	})
	h.view.setODown("mymaster", true)
	h.advance(5 * tickInterval)
	if h.fsm.CurrentEpoch() != 1 || h.rec.count("+try-failover") != 1 {
		t.Fatalf("second failover on stale down reports: epoch %d, events %q", h.fsm.CurrentEpoch(), h.rec.list())
	}
	// ...while a fresh SDOWN of the new master is a real failure.
	h.redis.set(r2Addr, func(n *fakeNode) { n.down = true })
	h.view.update("mymaster", func(ms *monitor.MasterStatus) { ms.Master.SDownSince = h.now() })
	h.waitEvent("+failover-end", 2, 5*time.Second)
	if m := h.master(); m.Addr != quorum.Addr(r1Addr) || m.ConfigEpoch != 2 {
		t.Fatalf("second failover: %+v", m)
	}
}

func TestNoGoodReplica(t *testing.T) {
	h := autoScenario(t, 3000)
	for _, a := range []monitor.Addr{r1Addr, r2Addr} {
		h.redis.set(a, func(n *fakeNode) { n.priority = 0 }) // the monitor still says 100
	}
	h.start()
	h.waitEvent("-failover-abort-no-good-slave", 1, 2*time.Second)
	h.advance(5 * recheckInterval) // five more searches, inside 2×failover-timeout (6 s)
	diffLists(t, "events", h.rec.list(), []string{"-failover-abort-no-good-slave " + masterOf(mAddr)})
	if len(h.redis.callList()) != 0 || h.fsm.CurrentEpoch() != 0 {
		t.Fatalf("no candidate but side effects %q / epoch %d", h.redis.callList(), h.fsm.CurrentEpoch())
	}
	// A candidate that appears is used at the next search.
	h.redis.set(r1Addr, func(n *fakeNode) { n.priority = 100 })
	h.waitEvent("+failover-end", 1, 5*time.Second)
	if m := h.master(); m.Addr != quorum.Addr(r1Addr) || m.ConfigEpoch != 1 {
		t.Fatalf("after the candidate appeared: %+v", m)
	}
}

func TestPromotionTimeoutAborts(t *testing.T) {
	h := autoScenario(t, 400)
	h.redis.set(r2Addr, func(n *fakeNode) { n.ignoreNoOne = true })
	h.start()
	h.waitEvent("-failover-abort-slave-timeout", 1, 3*time.Second)
	want := append(opening(1, mAddr, r2Addr),
		"+failover-state-wait-promotion "+slaveRef(r2Addr, mAddr),
		"-failover-abort-slave-timeout "+masterOf(mAddr))
	diffLists(t, "events", h.rec.list()[:len(want)], want)
	if m := h.master(); m.Failover != nil || m.Addr != quorum.Addr(mAddr) {
		t.Fatalf("after abort: %+v", m)
	}
	if n := len(h.redis.callsOf("SLAVEOF", r1Addr)); n != 0 {
		t.Fatalf("R1 reconfigured %d times after an aborted promotion", n)
	}
	// The next attempt waits 2×failover-timeout from the previous start.
	h.waitEvent("+try-failover", 2, 3*time.Second)
	gap := h.rec.at("+try-failover", 1).Sub(h.rec.at("+try-failover", 0))
	if gap < 800*time.Millisecond {
		t.Fatalf("second attempt %v after the first, want >= 2×failover-timeout (800ms)", gap)
	}
	if e := h.fsm.CurrentEpoch(); e < 2 {
		t.Fatalf("second attempt did not get a new epoch (%d)", e)
	}
}

func TestLeaderLossMidFailoverStopsSideEffects(t *testing.T) {
	h := autoScenario(t, 10000)
	h.redis.set(r2Addr, func(n *fakeNode) { n.ignoreNoOne = true })
	h.start()
	h.waitEvent("+failover-state-wait-promotion", 1, 3*time.Second)

	// Leadership goes while the promotion is unconfirmed: the resend of
	// SLAVEOF NO ONE (after a second) is refused by the leadership check,
	// the term ends, and every new term fails its barrier.
	h.prop.fail.Store(true)
	h.until(10*time.Second, "leadership checks failing", func() bool { return h.prop.failures.Load() >= 5 })
	diffLists(t, "side effects while not leading", h.redis.callList(), []string{"SLAVEOF 7002 NO ONE"})

	// The replica now reports master, but nothing may be recorded or done.
	h.redis.set(r2Addr, func(n *fakeNode) { n.role, n.masterHost, n.masterPort = "master", "", 0 })
	n := h.prop.failures.Load()
	h.until(5*time.Second, "more failing terms", func() bool { return h.prop.failures.Load() >= n+3 })
	diffLists(t, "side effects while not leading", h.redis.callList(), []string{"SLAVEOF 7002 NO ONE"})
	if h.rec.count("+promoted-slave") != 0 {
		t.Fatalf("promotion announced without being recorded: %q", h.rec.list())
	}
	if m := h.master(); m.Failover == nil || m.Failover.Promoted {
		t.Fatalf("record after leader loss: %+v", m.Failover)
	}

	// Leadership comes back: the failover resumes from the log and ends.
	h.prop.fail.Store(false)
	h.waitEvent("+failover-end", 1, 5*time.Second)
	if h.rec.count("+try-failover") != 1 {
		t.Fatalf("the resumed failover was started again: %q", h.rec.list())
	}
	diffLists(t, "side effects", h.redis.callList(), []string{"SLAVEOF 7002 NO ONE", "SLAVEOF 7001 7002"})
	if m := h.master(); m.Addr != quorum.Addr(r2Addr) || m.ConfigEpoch != 1 {
		t.Fatalf("after resumption: %+v", m)
	}
}

// recordFailover commits a failover decided by another sentinel, as a new
// leader finds it in the log.
func recordFailover(t *testing.T, h *harness, replica monitor.Addr, startedAt time.Time) {
	t.Helper()
	recordDecision(t, h, replica, startedAt, false)
}

func recordDecision(t *testing.T, h *harness, replica monitor.Addr, startedAt time.Time, forced bool) {
	t.Helper()
	err := h.fsm.Apply(&quorum.Command{Op: quorum.OpFailoverBegin, Name: "mymaster", Addr: quorum.Addr(replica),
		Leader: "previous-leader", Forced: forced, At: startedAt.UnixMilli()})
	if err != nil {
		t.Fatal(err)
	}
}

func TestResumeRecordedFailoverWhoseReplicaIsAlreadyMaster(t *testing.T) {
	h := autoScenario(t, 10000)
	recordFailover(t, h, r2Addr, h.now().Add(-time.Second))
	h.redis.set(r2Addr, func(n *fakeNode) { n.role, n.masterHost, n.masterPort = "master", "", 0 })
	h.start()
	h.waitEvent("+failover-end", 1, 5*time.Second)
	diffLists(t, "events", h.rec.list(), []string{
		"+promoted-slave " + slaveRef(r2Addr, mAddr),
		"+failover-state-reconf-slaves " + masterOf(mAddr),
		"+switch-master mymaster 127.0.0.1 7000 127.0.0.1 7002",
		"+slave-reconf-sent " + slaveRef(r1Addr, mAddr),
		"+slave-reconf-inprog " + slaveRef(r1Addr, mAddr),
		"+slave-reconf-done " + slaveRef(r1Addr, mAddr),
		"+failover-end " + masterOf(mAddr),
	})
	diffLists(t, "side effects", h.redis.callList(), []string{"SLAVEOF 7001 7002"})
}

// TestTickSeesAFailoverRecordedWhileRunning: the tick keeps its copies of
// the masters only while the view's revision holds, so a failover recorded
// (by a previous leader's commit arriving late, here) after the engine has
// ticked for a while is resumed.
func TestTickSeesAFailoverRecordedWhileRunning(t *testing.T) {
	h := autoScenario(t, 10000)
	h.view.setODown("mymaster", false)
	h.start()
	h.advance(time.Second)
	if n := len(h.rec.list()); n != 0 {
		t.Fatalf("events before the failover was recorded: %q", h.rec.list())
	}
	recordFailover(t, h, r2Addr, h.now().Add(-time.Second))
	h.redis.set(r2Addr, func(n *fakeNode) { n.role, n.masterHost, n.masterPort = "master", "", 0 })
	h.waitEvent("+failover-end", 1, 5*time.Second)
	if m := h.master(); m.Addr != quorum.Addr(r2Addr) {
		t.Fatalf("after the resumed failover the master is at %v, want %v", m.Addr, r2Addr)
	}
}

func TestResumeAfterFailoverTimeoutAbortsWithoutSideEffects(t *testing.T) {
	h := autoScenario(t, 1000)
	recordFailover(t, h, r2Addr, h.now().Add(-2*time.Second))
	h.view.setODown("mymaster", false)
	h.start()
	h.waitEvent("-failover-abort-slave-timeout", 1, 3*time.Second)
	if m := h.master(); m.Failover != nil || m.Addr != quorum.Addr(mAddr) {
		t.Fatalf("after abort: %+v", m)
	}
	diffLists(t, "side effects", h.redis.callList(), nil)
}

func TestResumedSwitchover(t *testing.T) {
	// The old master still answers: the previous leader's catch-up cannot
	// be trusted, so the switchover is aborted and its writes released.
	h := switchoverScenario(t, 10000, false)
	recordDecision(t, h, r1Addr, h.now(), true)
	h.start()
	h.waitEvent("-failover-abort-slave-timeout", 1, 3*time.Second)
	h.until(time.Second, "unpause", func() bool { return len(h.redis.callList()) == 1 })
	diffLists(t, "side effects", h.redis.callList(), []string{"UNPAUSE 7000"})
	if m := h.master(); m.Failover != nil || m.Addr != quorum.Addr(mAddr) {
		t.Fatalf("after abort: %+v", m)
	}

	// The old master is gone: the forced promotion goes on.
	h2 := switchoverScenario(t, 10000, false)
	h2.redis.set(mAddr, func(n *fakeNode) { n.down = true })
	recordDecision(t, h2, r1Addr, h2.now(), true)
	h2.start()
	h2.waitEvent("+failover-end", 1, 3*time.Second)
	diffLists(t, "side effects", h2.redis.callList(), []string{"SLAVEOF 7001 NO ONE", "SLAVEOF 7002 7001"})
}

func TestParallelSyncs(t *testing.T) {
	const parallel = 2
	ms := monitor.MasterStatus{Master: downMaster(mAddr)}
	nodes := map[monitor.Addr]*fakeNode{mAddr: {role: "master", down: true}}
	promoted := addr(7005)
	for port := 7001; port <= 7005; port++ {
		a := addr(port)
		ms.Replicas = append(ms.Replicas, replicaStatus(mAddr, a, 100, ""))
		nodes[a] = replicaNode(mAddr, int64(port)) // 7005 is the most advanced
		nodes[a].linkAfter = 3
	}
	h := newHarness(t, settings(10000, parallel), ms, nodes)
	maxInProgress := 0
	h.redis.onSlaveOf = func(f *fakeRedis, a monitor.Addr, master *monitor.Addr) {
		if master == nil {
			return
		}
		n := 1 // the one being sent now
		for b, node := range f.nodes {
			if b != a && node.role == "slave" && node.masterPort == promoted.Port && !node.linkUp {
				n++
			}
		}
		maxInProgress = max(maxInProgress, n)
	}
	h.view.setODown("mymaster", true)
	h.start()
	h.waitEvent("+failover-end", 1, 5*time.Second)
	if h.rec.count("+slave-reconf-done") != 4 || h.rec.count("+slave-reconf-sent ") != 4 {
		t.Fatalf("events %q", h.rec.list())
	}
	h.redis.mu.Lock()
	got := maxInProgress
	h.redis.mu.Unlock()
	if got != parallel {
		t.Fatalf("at most %d replicas syncing at once, want exactly parallel-syncs=%d", got, parallel)
	}
	for port := 7001; port <= 7004; port++ {
		if c := h.redis.callsOf("SLAVEOF", addr(port)); len(c) != 1 || c[0].master == nil || *c[0].master != promoted {
			t.Fatalf("replica %d: %v", port, c)
		}
	}
}

// switchoverScenario: a healthy master at offset 1000, R1 behind at 900
// (R2 further behind). Once writes are paused R1 catches up 30 bytes per
// poll, unless stuck.
func switchoverScenario(t *testing.T, ftMs int64, stuck bool) *harness {
	ms := monitor.MasterStatus{Master: healthyMaster(mAddr), Replicas: []monitor.InstanceStatus{
		replicaStatus(mAddr, r1Addr, 900, "aaaa"),
		replicaStatus(mAddr, r2Addr, 500, "bbbb"),
	}}
	nodes := map[monitor.Addr]*fakeNode{
		mAddr:  {role: "master", offset: 1000},
		r1Addr: replicaNode(mAddr, 900),
		r2Addr: replicaNode(mAddr, 500),
	}
	nodes[r1Addr].linkUp = true
	nodes[r2Addr].linkUp = true
	if !stuck {
		nodes[r1Addr].onPoll = func(f *fakeRedis, n *fakeNode) {
			if m := f.nodes[mAddr]; m.pausedAt(f.now()) && n.role == "slave" {
				n.offset = min(n.offset+30, m.offset)
			}
		}
	}
	return newHarness(t, settings(ftMs, 1), ms, nodes)
}

// promotionOffsets records R1's and the old master's offsets when R1 is
// sent SLAVEOF NO ONE; read it under h.redis.mu.
func promotionOffsets(h *harness) *[2]int64 {
	var at [2]int64
	h.redis.onSlaveOf = func(f *fakeRedis, a monitor.Addr, master *monitor.Addr) {
		if a == r1Addr && master == nil {
			at = [2]int64{f.nodes[r1Addr].offset, f.nodes[mAddr].offset}
		}
	}
	return &at
}

func TestManualSwitchoverWaitsForOffsetAndUnpauses(t *testing.T) {
	h := switchoverScenario(t, 10000, false)
	offsetsAtPromotion := promotionOffsets(h)
	h.start()
	if err := h.eng.Failover(context.Background(), "mymaster"); err != nil {
		t.Fatal(err)
	}
	// A second request while the first runs.
	if err := h.eng.Failover(context.Background(), "mymaster"); err == nil || err.Error() != "INPROG Failover already in progress" {
		t.Fatalf("second FAILOVER: %v", err)
	}
	h.waitEvent("+failover-end", 1, 5*time.Second)
	diffLists(t, "side effects", h.redis.callList(), []string{
		"PAUSE 7000", "SLAVEOF 7001 NO ONE", "PAUSE 7000", "SLAVEOF 7000 7001", "UNPAUSE 7000", "SLAVEOF 7002 7001"})
	h.redis.mu.Lock()
	got := *offsetsAtPromotion
	h.redis.mu.Unlock()
	if got[0] < got[1] {
		t.Fatalf("promoted at replica offset %d < master offset %d", got[0], got[1])
	}
	want := append(opening(1, mAddr, r1Addr),
		"+failover-state-wait-promotion "+slaveRef(r1Addr, mAddr),
		"+promoted-slave "+slaveRef(r1Addr, mAddr),
		"+failover-state-reconf-slaves "+masterOf(mAddr),
		"+switch-master mymaster 127.0.0.1 7000 127.0.0.1 7001",
		"+convert-to-slave "+slaveRef(mAddr, r1Addr),
		"+slave-reconf-sent "+slaveRef(r2Addr, mAddr),
		"+slave-reconf-inprog "+slaveRef(r2Addr, mAddr),
		"+slave-reconf-done "+slaveRef(r2Addr, mAddr),
		"+failover-end "+masterOf(mAddr),
	)
	diffLists(t, "events", h.rec.list(), want)
	if m := h.master(); m.Addr != quorum.Addr(r1Addr) || m.Failover != nil {
		t.Fatalf("after switchover: %+v", m)
	}
}

func TestManualSwitchoverTimeoutUnpausesAndAborts(t *testing.T) {
	h := switchoverScenario(t, 1000, true)
	h.start()
	if err := h.eng.Failover(context.Background(), "mymaster"); err != nil {
		t.Fatal(err)
	}
	h.waitEvent("-failover-abort-slave-timeout", 1, 3*time.Second)
	h.until(time.Second, "driver done", func() bool { _, ok := h.eng.State("mymaster"); return !ok })
	diffLists(t, "side effects", h.redis.callList(), []string{"PAUSE 7000", "UNPAUSE 7000"})
	if m := h.master(); m.Failover != nil || m.Addr != quorum.Addr(mAddr) {
		t.Fatalf("after aborted switchover: %+v", m)
	}
}

func TestManualFailoverErrors(t *testing.T) {
	h := switchoverScenario(t, 10000, false)
	if err := h.eng.Failover(context.Background(), "mymaster"); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("not running: %v", err)
	}
	h.start()
	if err := h.eng.Failover(context.Background(), "nosuch"); !errors.Is(err, quorum.ErrNoSuchMaster) {
		t.Fatalf("unknown master: %v", err)
	}
	for _, a := range []monitor.Addr{r1Addr, r2Addr} {
		h.redis.set(a, func(n *fakeNode) { n.priority = 0 })
	}
	err := h.eng.Failover(context.Background(), "mymaster")
	if err == nil || err.Error() != "NOGOODSLAVE No suitable replica to promote" {
		t.Fatalf("no candidate: %v", err)
	}
	if h.fsm.CurrentEpoch() != 0 || len(h.redis.callList()) != 0 {
		t.Fatalf("NOGOODSLAVE used an epoch (%d) or acted (%q)", h.fsm.CurrentEpoch(), h.redis.callList())
	}
	recordFailover(t, h, r1Addr, h.now())
	err = h.eng.Failover(context.Background(), "mymaster")
	if err == nil || err.Error() != "INPROG Failover already in progress" {
		t.Fatalf("recorded failover: %v", err)
	}
}

func TestReturningOldMasterIsConvertedAndWrongReplicaFixed(t *testing.T) {
	r3Addr, elsewhere := addr(7003), addr(7009)
	// After a failover to R2: the old master is back as a master, R3
	// replicates from an address that is nobody's master.
	m := settings(10000, 1)
	m.Addr = quorum.Addr(r2Addr)
	oldMaster := replicaStatus(r2Addr, mAddr, 0, "")
	oldMaster.RoleReported, oldMaster.MasterHost, oldMaster.MasterPort = "master", "", 0
	ms := monitor.MasterStatus{Master: healthyMaster(r2Addr), Replicas: []monitor.InstanceStatus{
		replicaStatus(r2Addr, r1Addr, 100, ""), oldMaster, replicaStatus(elsewhere, r3Addr, 100, ""),
	}}
	nodes := map[monitor.Addr]*fakeNode{
		r2Addr: {role: "master"},
		r1Addr: replicaNode(r2Addr, 100),
		mAddr:  {role: "master", ignoreSlaveOf: true}, // keeps claiming master
		r3Addr: replicaNode(elsewhere, 100),
	}
	h := newHarness(t, m, ms, nodes)
	h.start()
	h.waitEvent("+convert-to-slave", 1, 2*time.Second)
	h.waitEvent("+fix-slave-config", 1, 2*time.Second)
	if got, want := h.rec.list()[0:2], []string{"+convert-to-slave " + slaveRef(mAddr, r2Addr), "+fix-slave-config " + slaveRef(r3Addr, r2Addr)}; !(equalLists(got, want) || equalLists(got, []string{want[1], want[0]})) {
		t.Fatalf("events %q, want %q", got, want)
	}
	if c := h.redis.callsOf("SLAVEOF", r3Addr); len(c) != 1 || *c[0].master != r2Addr {
		t.Fatalf("R3: %v", c)
	}
	if c := h.redis.callsOf("SLAVEOF", r1Addr); len(c) != 0 {
		t.Fatalf("a correct replica was repointed: %v", c)
	}
	// The old master keeps claiming master: retried, once per fix interval.
	h.until(5*time.Second, "three conversions", func() bool { return len(h.redis.callsOf("SLAVEOF", mAddr)) >= 3 })
	c := h.redis.callsOf("SLAVEOF", mAddr)
	for i := 1; i < len(c); i++ {
		if gap := c[i].at.Sub(c[i-1].at); gap < fixInterval {
			t.Fatalf("conversions %v apart, want >= the fix interval (%v)", gap, fixInterval)
		}
	}
	// No conversion while the master itself does not answer as a master.
	h.redis.set(r2Addr, func(n *fakeNode) { n.down = true })
	h.advance(3 * tickInterval)
	before := len(h.redis.callsOf("SLAVEOF", mAddr))
	h.advance(3 * fixInterval)
	if after := len(h.redis.callsOf("SLAVEOF", mAddr)); after != before {
		t.Fatalf("converted towards an unreachable master (%d -> %d)", before, after)
	}
}

// errProposer refuses every command with err.
type errProposer struct{ err error }

func (p errProposer) Propose(context.Context, *quorum.Command) error { return p.err }

// TestProposeEndsTermOnlyWhenNotCommitted: a command the state machine
// refused (any of quorum.Verdicts, wrapped or not) leaves the term
// running; a failure to commit ends it. A refusal missing from the
// engine's own list (failovers paused by SENTINEL MAINTENANCE between the
// check and the begin, the mixed protocol, an abort past promotion) ended
// the term, and with it every failover it ran, a switchover already
// answered OK among them.
func TestProposeEndsTermOnlyWhenNotCommitted(t *testing.T) {
	type tc struct {
		err  error
		lost bool
	}
	cases := []tc{{errFakeNotLeader, true}, {quorum.ErrLeadershipLost, true}, {context.DeadlineExceeded, true}}
	for _, v := range quorum.Verdicts {
		cases = append(cases, tc{v.Err, false}, tc{fmt.Errorf("forwarded: %w", v.Err), false})
	}
	for _, c := range cases {
		e := New(Config{Proposer: errProposer{c.err}, Logger: slog.New(slog.DiscardHandler)})
		ctx, cancel := context.WithCancel(context.Background())
		tm := &term{ctx: ctx, cancel: cancel}
		if err := e.propose(ctx, tm, &quorum.Command{Op: quorum.OpFailoverBegin, Name: "m"}); !errors.Is(err, c.err) {
			t.Errorf("%v: propose returned %v", c.err, err)
		}
		if lost := tm.ctx.Err() != nil; lost != c.lost {
			t.Errorf("%v: term lost = %v, want %v", c.err, lost, c.lost)
		}
		cancel()
	}
}

// TestRefusedPromotionIsResentOncePerSecond: a replica that answers
// SLAVEOF NO ONE with an error (an ACL refusal) is asked again once a
// second, like one that accepts it and does not change, until the
// promotion's deadline. It was asked again, each time after a quorum
// round trip, at every 50 ms poll.
func TestRefusedPromotionIsResentOncePerSecond(t *testing.T) {
	h := autoScenario(t, 3000)
	h.redis.set(r2Addr, func(n *fakeNode) { n.refuseNoOne, n.linkUp = true, true })
	h.start()
	h.waitEvent("-failover-abort-slave-timeout", 1, 10*time.Second)
	h.redis.mu.Lock()
	sent := h.redis.nodes[r2Addr].noOneRefused
	h.redis.mu.Unlock()
	// The deadline is failover-timeout (3 s) after the start: at most one
	// send a second, four counting the first at once.
	if sent < 2 || sent > 4 {
		t.Fatalf("SLAVEOF NO ONE sent %d times before the promotion's deadline, want 2-4", sent)
	}
}

// TestTiltStartsNoFailover: while this sentinel is in TILT (its timer ran
// late, so what it saw of the nodes may be stale) an ODOWN master is not
// failed over, and its group is not fixed; once TILT ends, it is.
func TestTiltStartsNoFailover(t *testing.T) {
	h := autoScenario(t, 3000)
	h.view.mu.Lock()
	h.view.tilt = true
	h.view.mu.Unlock()
	h.start()
	h.advance(2 * time.Second)
	if n := h.rec.count("+try-failover"); n != 0 || len(h.redis.callList()) != 0 {
		t.Fatalf("in TILT: %d failovers tried, side effects %q", n, h.redis.callList())
	}
	h.view.mu.Lock()
	h.view.tilt = false
	h.view.mu.Unlock()
	h.waitEvent("+failover-end", 1, 5*time.Second)
}

// TestResumedFailoverStampedAheadCountsFromNow: a failover recorded by a
// leader whose clock ran an hour ahead is resumed by one whose clock is
// right. Its failover-timeout and the 2×failover-timeout before the next
// attempt count from the resumption, not from a start an hour away: the
// resumed failover timed out an hour late, and the master stayed without
// a failover meanwhile.
func TestResumedFailoverStampedAheadCountsFromNow(t *testing.T) {
	h := autoScenario(t, 1000)
	h.redis.set(r2Addr, func(n *fakeNode) { n.ignoreNoOne = true })
	recordFailover(t, h, r2Addr, h.now().Add(time.Hour))
	h.start()
	h.waitEvent("-failover-abort-slave-timeout", 1, 3*time.Second)
	// Still ODOWN: the next attempt comes 2×failover-timeout after the
	// resumption.
	h.waitEvent("+try-failover", 1, 5*time.Second)
}
