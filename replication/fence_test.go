package replication

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/monitor"
	"github.com/x0tta6bl4/gosentinel/quorum"
)

func TestFenceTarget(t *testing.T) {
	for _, tc := range []struct {
		name    string
		cur     FenceConfig
		healthy int
		want    FenceAction
	}{
		{"unfenced master with two healthy replicas is fenced", FenceConfig{0, 10}, 2, FenceSet},
		{"unfenced master with three", FenceConfig{0, 10}, 3, FenceSet},
		{"max-lag 0 and to-write 0: fenced", FenceConfig{0, 0}, 2, FenceSet},
		{"ours is kept", ours, 2, FenceKeep},
		{"the user's larger to-write is kept", FenceConfig{2, 1}, 2, FenceKeep},
		{"the user's larger max-lag is kept", FenceConfig{1, 10}, 2, FenceKeep},
		{"the user's to-write with max-lag 0 is kept", FenceConfig{1, 0}, 2, FenceKeep},
		{"ours is removed with one healthy replica", ours, 1, FenceClear},
		{"ours is removed with none", ours, 0, FenceClear},
		{"the user's is never removed", FenceConfig{1, 10}, 0, FenceKeep},
		{"unfenced with one healthy replica stays unfenced", FenceConfig{0, 10}, 1, FenceKeep},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := FenceTarget(tc.cur, tc.healthy); got != tc.want {
				t.Fatalf("FenceTarget(%+v, %d) = %v, want %v", tc.cur, tc.healthy, got, tc.want)
			}
		})
	}
}

func TestReplicaFenceTarget(t *testing.T) {
	for _, tc := range []struct {
		cur  FenceConfig
		want FenceAction
	}{
		{ours, FenceClear},
		{FenceConfig{0, 1}, FenceKeep},
		{FenceConfig{1, 10}, FenceKeep},
		{FenceConfig{2, 1}, FenceKeep},
	} {
		if got := ReplicaFenceTarget(tc.cur); got != tc.want {
			t.Errorf("ReplicaFenceTarget(%+v) = %v, want %v", tc.cur, got, tc.want)
		}
	}
}

func TestPromotionAllowedAt(t *testing.T) {
	now := time.Unix(1000, 0)
	ago := func(d time.Duration) time.Time { return now.Add(-d) }
	for _, tc := range []struct {
		name string
		w    FenceWait
		want time.Time // zero: no wait
	}{
		{"known unfenced master: no wait",
			FenceWait{Known: true, Config: FenceConfig{0, 10}, LastOKPingReply: ago(time.Second), PingPeriod: time.Second}, time.Time{}},
		{"known, max-lag 0 is no fence",
			FenceWait{Known: true, Config: FenceConfig{1, 0}, LastOKPingReply: ago(time.Second), PingPeriod: time.Second}, time.Time{}},
		// last reply 1 s ago, next PING unanswered by +1 s, then max-lag 1 +
		// 2 s + margin.
		{"our fence, from the last PING reply",
			FenceWait{Known: true, Config: ours, LastOKPingReply: ago(time.Second), PingPeriod: time.Second},
			now.Add(3600 * time.Millisecond)},
		{"unknown config is taken as ours",
			FenceWait{LastOKPingReply: ago(time.Second), PingPeriod: time.Second}, now.Add(3600 * time.Millisecond)},
		{"the user's max-lag 10 lengthens the wait",
			FenceWait{Known: true, Config: FenceConfig{1, 10}, LastOKPingReply: ago(time.Second), PingPeriod: time.Second},
			now.Add(12600 * time.Millisecond)},
		{"long past: promote now (allowed already)",
			FenceWait{Known: true, Config: ours, LastOKPingReply: ago(time.Minute), PingPeriod: time.Second},
			now.Add(-time.Minute + 4600*time.Millisecond)},
		{"no PING reply known: from now",
			FenceWait{Known: true, Config: ours, PingPeriod: time.Second}, now.Add(3500 * time.Millisecond)},
		{"a replica that heard the master later moves the start",
			FenceWait{Known: true, Config: ours, LastOKPingReply: ago(5 * time.Second), PingPeriod: time.Second,
				ReplicaLinkUp: true, ReplicaLastIO: 0}, now.Add(3500 * time.Millisecond)},
		{"a replica that heard the master earlier changes nothing",
			FenceWait{Known: true, Config: ours, LastOKPingReply: ago(time.Second), PingPeriod: time.Second,
				ReplicaLinkUp: true, ReplicaLastIO: 8 * time.Second}, now.Add(3600 * time.Millisecond)},
		{"a replica whose link is down is not a contact",
			FenceWait{Known: true, Config: ours, LastOKPingReply: ago(5 * time.Second), PingPeriod: time.Second,
				ReplicaLinkUp: false, ReplicaLastIO: 0}, now.Add(-400 * time.Millisecond)},
		{"a PING pending since later than a period after the last reply moves the start",
			FenceWait{Known: true, Config: ours, LastOKPingReply: ago(3 * time.Second), PingPeriod: time.Second,
				PingPendingSince: ago(time.Second)}, now.Add(2500 * time.Millisecond)},
		// The master: last reply 1 s ago and no PING pending yet, so its
		// first unanswered PING goes by last reply + period + slack = +100 ms.
		{"a partner lost in the same window: its pause, cutOffHold after the earlier first unanswered PING",
			FenceWait{Known: true, Config: ours, LastOKPingReply: ago(time.Second), PingPeriod: time.Second,
				Partners: []CutOffPartner{{LastOKPingReply: ago(1200 * time.Millisecond), PingPendingSince: ago(200 * time.Millisecond), TimedOut: true}}},
			// partner: after -1.2 s, by max(-1.2+1.1, -0.2) = -0.1 s; master by +0.1 s: earlier is -0.1 s.
			now.Add(-100*time.Millisecond + cutOffHold)},
		{"a partner that refused or answered the dial is no partner",
			FenceWait{Known: true, Config: ours, LastOKPingReply: ago(time.Second), PingPeriod: time.Second,
				Partners: []CutOffPartner{{LastOKPingReply: ago(1200 * time.Millisecond), PingPendingSince: ago(200 * time.Millisecond)}}},
			now.Add(3600 * time.Millisecond)},
		{"a partner lost long before the master: not one cut",
			FenceWait{Known: true, Config: ours, LastOKPingReply: ago(time.Second), PingPeriod: time.Second,
				Partners: []CutOffPartner{{LastOKPingReply: ago(10 * time.Second), PingPendingSince: ago(9 * time.Second), TimedOut: true}}},
			now.Add(3600 * time.Millisecond)},
		{"a partner lost after the master's first unanswered PING: not one cut",
			FenceWait{Known: true, Config: ours, LastOKPingReply: ago(3 * time.Second), PingPeriod: time.Second,
				PingPendingSince: ago(2 * time.Second),
				Partners:         []CutOffPartner{{LastOKPingReply: ago(500 * time.Millisecond), PingPendingSince: ago(100 * time.Millisecond), TimedOut: true}}},
			// master by max(-3+1.1, -2) = -1.9, + 3.5 s.
			now.Add(1600 * time.Millisecond)},
		{"the user's larger max-lag: the first lease would not bridge to the fence",
			FenceWait{Known: true, Config: FenceConfig{1, 10}, LastOKPingReply: ago(time.Second), PingPeriod: time.Second,
				Partners: []CutOffPartner{{LastOKPingReply: ago(1200 * time.Millisecond), PingPendingSince: ago(200 * time.Millisecond), TimedOut: true}}},
			now.Add(12600 * time.Millisecond)},
		{"the earliest of two partners counts",
			FenceWait{Known: true, Config: ours, LastOKPingReply: ago(2 * time.Second), PingPeriod: time.Second,
				PingPendingSince: ago(1500 * time.Millisecond),
				Partners: []CutOffPartner{
					{LastOKPingReply: ago(1900 * time.Millisecond), PingPendingSince: ago(700 * time.Millisecond), TimedOut: true},
					{LastOKPingReply: ago(2100 * time.Millisecond), PingPendingSince: ago(1000 * time.Millisecond), TimedOut: true},
				}},
			// master by max(-2+1.1, -1.5) = -0.9; first partner by -0.7 -> -0.9; second by max(-1.0, -1.0) = -1.0.
			now.Add(-1000*time.Millisecond + cutOffHold)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.w.Now = now
			if got := PromotionAllowedAt(tc.w); !got.Equal(tc.want) {
				t.Fatalf("PromotionAllowedAt = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestHealthyReplicas(t *testing.T) {
	ok := replicaStatus(mAddr, r1Addr, 0, "a")
	sdown := replicaStatus(mAddr, r2Addr, 0, "b")
	sdown.SDown = true
	linkDown := replicaStatus(mAddr, addr(7003), 0, "c")
	linkDown.MasterLinkUp = false
	elsewhere := replicaStatus(addr(7009), addr(7004), 0, "d")
	gone := replicaStatus(mAddr, addr(7005), 0, "e")
	gone.Disconnected = true
	asMaster := replicaStatus(mAddr, addr(7006), 0, "f")
	asMaster.RoleReported = "master"
	ok2 := replicaStatus(mAddr, addr(7007), 0, "g")
	ms := monitor.MasterStatus{Replicas: []monitor.InstanceStatus{ok, sdown, linkDown, elsewhere, gone, asMaster, ok2}}
	if got := healthyReplicas(&ms, mAddr); got != 2 {
		t.Fatalf("healthyReplicas = %d, want 2", got)
	}
}

func TestParseReplicationLastIO(t *testing.T) {
	r := ParseReplication("# Replication\r\nrole:slave\r\nmaster_host:127.0.0.1\r\nmaster_port:7000\r\n" +
		"master_link_status:up\r\nmaster_last_io_seconds_ago:3\r\n")
	if r.MasterLastIO != 3*time.Second {
		t.Fatalf("MasterLastIO = %v", r.MasterLastIO)
	}
	if r := ParseReplication("# Replication\r\nrole:master\r\n"); r.MasterLastIO != -time.Second {
		t.Fatalf("MasterLastIO without the field = %v", r.MasterLastIO)
	}
}

// fenceScenario: a healthy master with two healthy replicas, fencing on.
func fenceScenario(t *testing.T, masterFence FenceConfig) *harness {
	ms := monitor.MasterStatus{Master: healthyMaster(mAddr), Replicas: []monitor.InstanceStatus{
		replicaStatus(mAddr, r1Addr, 1000, "aaaa"),
		replicaStatus(mAddr, r2Addr, 1000, "bbbb"),
	}}
	nodes := map[monitor.Addr]*fakeNode{
		mAddr:  {role: "master", offset: 1000, fence: masterFence},
		r1Addr: replicaNode(mAddr, 1000),
		r2Addr: replicaNode(mAddr, 1000),
	}
	h := newHarness(t, settings(3000, 1), ms, nodes)
	h.eng.cfg.Fence = true
	return h
}

func TestFenceAppliedKeptAndRemoved(t *testing.T) {
	h := fenceScenario(t, FenceConfig{0, 10})
	h.start()
	h.until(3*time.Second, "the master fenced", func() bool { return slices.Contains(h.redis.fenceCallList(), "7000 1 1") })

	// One replica lost: our fence is removed (after a leadership check),
	// so the last replica's loss refuses nothing.
	h.view.update("mymaster", func(ms *monitor.MasterStatus) { ms.Replicas[0].SDown = true })
	h.until(3*time.Second, "the fence removed", func() bool { return slices.Contains(h.redis.fenceCallList(), "7000 0 1") })

	// The replica back: fenced again.
	h.view.update("mymaster", func(ms *monitor.MasterStatus) { ms.Replicas[0].SDown = false })
	h.until(3*time.Second, "the master fenced again", func() bool {
		return len(h.redis.fenceCallList()) >= 3 && h.redis.fenceCallList()[2] == "7000 1 1"
	})
	if got := h.redis.fenceCallList(); len(got) != 3 {
		t.Fatalf("fence calls: %q", got)
	}
}

// TestBusyLinkPutsTheFenceReadOff: a periodic read of a settled master's
// fence that finds the monitor's link busy is made again at the next tick
// instead of on a connection of its own, until it is a period past due;
// then it is made on a connection (the controller's fallback) once.
func TestBusyLinkPutsTheFenceReadOff(t *testing.T) {
	h := fenceScenario(t, FenceConfig{0, 10})
	h.start()
	h.until(3*time.Second, "the master fenced", func() bool { return slices.Contains(h.redis.fenceCallList(), "7000 1 1") })
	h.advance(30 * time.Second) // settled: read every 10 s
	var before int
	h.redis.set(mAddr, func(n *fakeNode) { n.linkBusy, before = true, len(n.fenceReads) })
	h.advance(25 * time.Second)
	var reads []linkUse
	h.redis.set(mAddr, func(n *fakeNode) { reads = slices.Clone(n.fenceReads[before:]) })
	later, fallback := 0, 0
	for _, u := range reads {
		switch u {
		case linkOrErrBusy:
			later++
		case linkOrClient:
			fallback++
		}
	}
	// Due 10 s after the last read (within the first 10 s), put off every
	// 100 ms tick until 20 s after it, then made once with the fallback;
	// the next one is due 10 s later, and put off again.
	if later < 90 || fallback != 1 {
		t.Fatalf("in 25 s with a busy link: %d reads put off, %d made on a connection; want about 100 and 1", later, fallback)
	}
	if got := h.redis.fenceCallList(); len(got) != 1 {
		t.Fatalf("fence calls: %q", got)
	}
}

func TestFenceNeverLowersTheUsers(t *testing.T) {
	h := fenceScenario(t, FenceConfig{1, 10})
	h.start()
	h.until(3*time.Second, "the fence read", func() bool { _, ok := h.eng.knownFence(mAddr); return ok })
	h.view.update("mymaster", func(ms *monitor.MasterStatus) { ms.Replicas[0].SDown = true })
	h.advance(5 * fixInterval)
	if got := h.redis.fenceCallList(); len(got) != 0 {
		t.Fatalf("the user's fence was changed: %q", got)
	}
}

func TestDeposedLeaderDoesNotRemoveTheFence(t *testing.T) {
	h := fenceScenario(t, ours)
	h.start()
	h.until(3*time.Second, "the fence read", func() bool { _, ok := h.eng.knownFence(mAddr); return ok })
	// Leadership in doubt (the quorum check fails), then a replica lost:
	// the clear is refused at the leadership check.
	h.prop.failVerify.Store(true)
	h.view.update("mymaster", func(ms *monitor.MasterStatus) { ms.Replicas[0].SDown = true })
	h.until(10*time.Second, "several failed leadership checks", func() bool { return h.prop.failures.Load() >= 3 })
	if got := h.redis.fenceCallList(); len(got) != 0 {
		t.Fatalf("a deposed leader changed the fence: %q", got)
	}
}

// The automatic failover's SLAVEOF NO ONE waits until the old master's
// fence must hold, counted from the last valid PING reply; the chosen
// replica loses our fence first; the new master is fenced once two
// healthy replicas follow it.
func TestPromotionWaitsOutTheFence(t *testing.T) {
	h := autoScenario(t, 10000)
	h.eng.cfg.Fence = true
	lastOK := h.now().Add(-2 * time.Second)
	h.view.update("mymaster", func(ms *monitor.MasterStatus) { ms.Master.LastOKPingReply = lastOK })
	h.redis.set(r2Addr, func(n *fakeNode) { n.fence = ours })
	h.start()
	h.waitEvent("+failover-end", 1, 10*time.Second)

	noOne := h.redis.callsOf("SLAVEOF", r2Addr)
	if len(noOne) == 0 || noOne[0].master != nil {
		t.Fatalf("no SLAVEOF NO ONE to R2: %q", h.redis.callList())
	}
	// ping period 1 s + slack 100 ms + max-lag 1 s + 2 s + 500 ms.
	earliest := lastOK.Add(4600 * time.Millisecond)
	if noOne[0].at.Before(earliest) {
		t.Fatalf("SLAVEOF NO ONE sent %v before the fence must hold", earliest.Sub(noOne[0].at))
	}
	if got := h.redis.fenceCallList(); len(got) == 0 || got[0] != "7002 0 1" {
		t.Fatalf("the candidate's fence was not removed first: %q", got)
	}

	// The old master returns as a replica of the new one: two healthy
	// replicas, the new master gets the fence.
	h.redis.set(mAddr, func(n *fakeNode) {
		n.down, n.role, n.masterHost, n.masterPort, n.linkUp = false, "slave", r2Addr.Host, r2Addr.Port, true
	})
	h.view.update("mymaster", func(ms *monitor.MasterStatus) {
		for i := range ms.Replicas {
			r := &ms.Replicas[i]
			r.SDown, r.Disconnected, r.RoleReported = false, false, "slave"
			r.MasterHost, r.MasterPort, r.MasterLinkUp = r2Addr.Host, r2Addr.Port, true
		}
	})
	h.until(3*time.Second, "the new master fenced", func() bool { return slices.Contains(h.redis.fenceCallList(), "7002 1 1") })
}

// A master this leader read without an active fence (one healthy replica)
// is promoted away from without waiting.
func TestNoWaitForAnUnfencedMaster(t *testing.T) {
	h := fenceScenario(t, FenceConfig{0, 10})
	h.view.update("mymaster", func(ms *monitor.MasterStatus) { ms.Replicas[0].SDown = true })
	h.start()
	h.until(3*time.Second, "the fence read", func() bool { _, ok := h.eng.knownFence(mAddr); return ok })
	downAt := h.now()
	h.redis.set(mAddr, func(n *fakeNode) { n.down = true })
	h.view.update("mymaster", func(ms *monitor.MasterStatus) {
		ms.Master = downMaster(mAddr)
		ms.Master.SDownSince, ms.Master.LastOKPingReply = downAt.Add(-time.Second), downAt
	})
	h.view.setODown("mymaster", true)
	h.waitEvent("+failover-end", 1, 10*time.Second)
	noOne := h.redis.callsOf("SLAVEOF", r2Addr)
	if len(noOne) == 0 || noOne[0].at.Sub(downAt) > 2*time.Second {
		t.Fatalf("promotion of a replica of an unfenced master waited: %v", h.redis.callList())
	}
}

// TestANewTermForgetsFencesReadBefore: a term trusts only the fences it
// read itself. A leader that read a master unfenced, lost the term while
// another leader fenced it, and led again with the master cut off, took
// the old reading and promoted without the fence wait while the master
// still took writes.
func TestANewTermForgetsFencesReadBefore(t *testing.T) {
	h := fenceScenario(t, FenceConfig{0, 10})
	h.view.update("mymaster", func(ms *monitor.MasterStatus) { ms.Replicas[0].SDown = true })
	h.start()
	h.until(3*time.Second, "the fence read", func() bool { _, ok := h.eng.knownFence(mAddr); return ok })
	h.stop()
	h.redis.set(mAddr, func(n *fakeNode) { n.down = true }) // cut off: no read gets through
	h.start()
	h.advance(5 * tickInterval)
	if c, ok := h.eng.knownFence(mAddr); ok {
		t.Fatalf("the new term knows the master's fence %+v from the previous one", c)
	}
}

// A switchover does not wait out the fence (its old master is paused), and
// the fenced old master loses our fence once demoted: a later SLAVEOF NO
// ONE by anyone would otherwise make a master that refuses every write.
func TestSwitchoverDemotedMasterLosesTheFence(t *testing.T) {
	h := switchoverScenario(t, 10000, false)
	h.eng.cfg.Fence = true
	h.redis.set(mAddr, func(n *fakeNode) { n.fence = ours })
	h.start()
	started := h.now()
	if err := h.eng.Failover(context.Background(), "mymaster"); err != nil {
		t.Fatal(err)
	}
	h.waitEvent("+failover-end", 1, 5*time.Second)
	if noOne := h.redis.callsOf("SLAVEOF", r1Addr); len(noOne) == 0 || noOne[0].at.Sub(started) > 2*time.Second {
		t.Fatalf("the switchover waited for a fence: %q", h.redis.callList())
	}
	h.until(2*time.Second, "the old master's fence removed", func() bool {
		return slices.Contains(h.redis.fenceCallList(), "7000 0 1")
	})
	h.redis.mu.Lock()
	role := h.redis.nodes[mAddr].role
	h.redis.mu.Unlock()
	if role != "slave" {
		t.Fatalf("old master is %s", role)
	}
}

// The wait does not count against failover-timeout: a timeout shorter
// than the wait would otherwise abort every automatic failover.
func TestFenceWaitLongerThanFailoverTimeout(t *testing.T) {
	h := autoScenario(t, 2000)
	h.eng.cfg.Fence = true
	h.view.update("mymaster", func(ms *monitor.MasterStatus) { ms.Master.LastOKPingReply = h.now() })
	h.start()
	h.waitEvent("+failover-end", 1, 10*time.Second)
	if n := h.rec.count("-failover-abort"); n != 0 {
		t.Fatalf("aborted: %q", h.rec.list())
	}
}

func TestMasterFenceEvery(t *testing.T) {
	const fix = time.Second
	a := fenceSeen{healthy: 2, runID: "aaaa"}
	for _, tc := range []struct {
		name      string
		now, last fenceSeen
		settled   bool
		want      time.Duration
	}{
		{"never settled", a, fenceSeen{}, false, fix},
		{"nothing changed since it settled", a, a, true, replicaFenceEvery * fix},
		{"a replica lost", fenceSeen{healthy: 1, runID: "aaaa"}, a, true, fix},
		{"a replica more", fenceSeen{healthy: 3, runID: "aaaa"}, a, true, fix},
		{"the master restarted", fenceSeen{healthy: 2, runID: "bbbb"}, a, true, fix},
	} {
		if got := masterFenceEvery(fix, tc.now, tc.last, tc.settled); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestFenceReadsInFlightAreBounded: a new leader finds the fence of every
// master due at once; it reads at most maxFenceReads of them at a time
// (each read here takes a second of fake time), and every one within a
// few seconds.
func TestFenceReadsInFlightAreBounded(t *testing.T) {
	const masters = 3 * maxFenceReads
	h := newHarness(t, settings(60000, 1), monitor.MasterStatus{Master: healthyMaster(mAddr)},
		map[monitor.Addr]*fakeNode{mAddr: {role: "master"}})
	h.eng.cfg.Fence = true
	for i := 1; i < masters; i++ {
		m := settings(60000, 1)
		m.Name, m.Addr = fmt.Sprintf("m%d", i), quorum.Addr{Host: "127.0.0.1", Port: 8000 + i}
		if err := h.fsm.Apply(&quorum.Command{Op: quorum.OpMonitor, Master: &m, At: int64(1 + i)}); err != nil {
			t.Fatal(err)
		}
		a := monitor.Addr(m.Addr)
		st := healthyMaster(a)
		st.Ref = *masterRef(m.Name, a)
		h.view.mu.Lock()
		h.view.status[m.Name] = &monitor.MasterStatus{Master: st}
		h.view.mu.Unlock()
		h.redis.mu.Lock()
		h.redis.nodes[a] = &fakeNode{role: "master"}
		h.redis.mu.Unlock()
	}
	h.redis.fenceWait = func(ctx context.Context) {
		tm := h.clock.NewTimer(time.Second)
		defer tm.Stop()
		select {
		case <-tm.C():
		case <-ctx.Done():
		}
	}
	h.start()
	read := func() int {
		h.redis.mu.Lock()
		defer h.redis.mu.Unlock()
		n := 0
		for _, node := range h.redis.nodes {
			if len(node.fenceReads) > 0 {
				n++
			}
		}
		return n
	}
	h.until(10*time.Second, "every master's fence read", func() bool { return read() == masters })
	h.redis.mu.Lock()
	peak := h.redis.maxFenceReading
	h.redis.mu.Unlock()
	if peak > maxFenceReads || peak < maxFenceReads/2 {
		t.Fatalf("%d fence reads in flight at most, want up to %d", peak, maxFenceReads)
	}
}
