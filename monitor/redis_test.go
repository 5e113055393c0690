package monitor

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/internal/redistest"
)

// Tests against real redis-server processes (a missing redis-server fails them).

func infoFast() Timing {
	t := DefaultTiming()
	t.InfoPeriod = 500 * time.Millisecond
	return t
}

func TestRedisReplicaDiscoveredThenKilledGoesSDown(t *testing.T) {
	master := startRedis(t)
	replica := startRedis(t, "--replicaof", "127.0.0.1", strconv.Itoa(master.port))
	rec := &recorder{}
	m := startMonitor(t, rec.config(idA, Config{Timing: infoFast}))
	const downAfter = time.Second
	m.Watch(MasterSpec{Name: "mymaster", Addr: master.addr(), DownAfter: downAfter})

	ev, discovered := rec.waitEvent(t, 5*time.Second, "+slave", nil)
	want := Ref{Kind: KindReplica, Name: fmt.Sprintf("127.0.0.1:%d", replica.port), Addr: replica.addr(),
		Master: "mymaster", MasterAddr: master.addr()}
	if *ev.Ref != want || ev.Level != LevelNotice {
		t.Fatalf("+slave = %+v ref %+v", ev, *ev.Ref)
	}
	if rec.topoCount("mymaster") < 1 {
		t.Fatal("no topology change for the new replica")
	}
	redistest.Until(t, 5*time.Second, "replica INFO with link up", func() bool {
		st := status(t, m, "mymaster")
		if len(st.Replicas) != 1 {
			return false
		}
		r := st.Replicas[0]
		return r.MasterLinkUp && !r.Disconnected && len(r.RunID) == 40 && !r.InfoRefresh.IsZero()
	})
	st := status(t, m, "mymaster")
	r := st.Replicas[0]
	if r.RoleReported != "slave" || r.MasterHost != "127.0.0.1" || r.MasterPort != master.port ||
		r.SlavePriority != 100 || !r.ReplicaAnnounced || !strings.Contains(r.Info.String(), "role:slave") {
		t.Fatalf("replica status = %+v", r)
	}
	if st.Master.RoleReported != "master" || len(st.Master.RunID) != 40 || !strings.Contains(st.Master.Info.String(), "role:master") ||
		st.Master.Disconnected || st.Master.LinkRefcount != 1 {
		t.Fatalf("master status = %+v", st.Master)
	}
	clients := redisCall(t, master.port, "CLIENT", "LIST").str
	for _, name := range []string{"name=sentinel-aaaaaaaa-cmd", "name=sentinel-aaaaaaaa-pubsub"} {
		if !strings.Contains(clients, name) {
			t.Fatalf("CLIENT LIST lacks %s:\n%s", name, clients)
		}
	}
	// Kill it once its links are older than a ping period (as in
	// production; a reconnect attempt restarts the pending-PING clock, and
	// one is allowed only once per ping period) and a PING was answered.
	redistest.Until(t, 3*time.Second, "settled link to the replica", func() bool {
		r := status(t, m, "mymaster").Replicas[0]
		return time.Since(discovered) > 1100*time.Millisecond &&
			r.PingPendingSince.IsZero() && time.Since(r.LastOKPingReply) < 500*time.Millisecond
	})
	if n := rec.count("+sdown", nil); n != 0 {
		t.Fatalf("+sdown before the kill (%d)", n)
	}
	replica.kill()
	killed := time.Now()
	// Until its +sdown, the dead replica, once shown disconnected, stays
	// so, through the redials of every ping period (a redial showed it
	// connected while it ran; link.shownDisconnected).
	seen := false
	for rec.count("+sdown", refAddr(KindReplica, replica.port)) == 0 && time.Since(killed) < 3*time.Second {
		r := status(t, m, "mymaster").Replicas[0]
		if seen && !r.Disconnected {
			t.Fatalf("the dead replica shown connected again %v after the kill: %+v", time.Since(killed), r)
		}
		seen = seen || r.Disconnected
		time.Sleep(time.Millisecond) // the poll's pace
	}
	if !seen {
		t.Fatal("the dead replica never shown disconnected before its +sdown")
	}
	ev, at := rec.waitEvent(t, 3*time.Second, "+sdown", refAddr(KindReplica, replica.port))
	took := at.Sub(killed)
	t.Logf("+sdown %v after the kill", took)
	if took > downAfter+200*time.Millisecond || took < downAfter/2 {
		t.Fatalf("+sdown after %v, want about down-after (%v)", took, downAfter)
	}
	if ev.Level != LevelWarning || ev.Ref.Master != "mymaster" {
		t.Fatalf("+sdown event = %+v", ev)
	}
	st = status(t, m, "mymaster")
	if len(st.Replicas) != 1 || !st.Replicas[0].SDown || st.Master.SDown {
		t.Fatalf("after kill: %+v", st)
	}
}

// Two monitors with different ids find each other through the master's
// hello channel, then publish hellos to each other's (fake) sentinel port.
func TestRedisHelloDiscovery(t *testing.T) {
	master := startRedis(t)
	okSentinel := func(args []string) string {
		if strings.EqualFold(args[0], "PUBLISH") {
			return ":1\r\n"
		}
		if strings.EqualFold(args[0], "PING") {
			return "+PONG\r\n"
		}
		return "+OK\r\n"
	}
	fakeA, fakeB := newFakeServer(t, okSentinel), newFakeServer(t, okSentinel)
	var ipMu sync.Mutex
	var localIPs []string
	payload := func(id string, port int) func(string, string) (string, bool) {
		return func(name, localIP string) (string, bool) {
			ipMu.Lock()
			localIPs = append(localIPs, localIP)
			ipMu.Unlock()
			return fmt.Sprintf("%s,%d,%s,3,%s,127.0.0.1,%d,1", localIP, port, id, name, master.port), true
		}
	}
	recA, recB := &recorder{}, &recorder{}
	a := startMonitor(t, recA.config(idA, Config{Timing: fastTiming, HelloPayload: payload(idA, fakeA.port())}))
	b := startMonitor(t, recB.config(idB, Config{Timing: fastTiming, HelloPayload: payload(idB, fakeB.port())}))
	spec := MasterSpec{Name: "mymaster", Addr: master.addr(), DownAfter: 5 * time.Second}
	a.Watch(spec)
	b.Watch(spec)

	ev, _ := recA.waitEvent(t, 5*time.Second, "+sentinel", nil)
	if ev.Ref.Name != idB || ev.Ref.Addr != (Addr{Host: "127.0.0.1", Port: fakeB.port()}) || ev.Ref.MasterAddr != master.addr() {
		t.Fatalf("A's +sentinel = %+v", *ev.Ref)
	}
	ev, _ = recB.waitEvent(t, 5*time.Second, "+sentinel", nil)
	if ev.Ref.Name != idA || ev.Ref.Addr.Port != fakeA.port() {
		t.Fatalf("B's +sentinel = %+v", *ev.Ref)
	}
	h := recA.lastHello()
	if h.SentinelID != idB || h.CurrentEpoch != 3 || h.MasterConfigEpoch != 1 || h.MasterAddr != master.addr() || !h.FromKnownSentinel {
		t.Fatalf("A's hello = %+v", h)
	}
	// Each monitor now PINGs and PUBLISHes its hello to the other's port.
	redistest.Until(t, 5*time.Second, "hello PUBLISHed to sentinel B", func() bool {
		for _, c := range fakeB.commands("PUBLISH") {
			if len(c) == 3 && c[1] == helloChannel && strings.Contains(c[2], idA) {
				return true
			}
		}
		return false
	})
	redistest.Until(t, 5*time.Second, "sentinel entries connected", func() bool {
		sa, sb := status(t, a, "mymaster"), status(t, b, "mymaster")
		return len(sa.Sentinels) == 1 && len(sb.Sentinels) == 1 &&
			!sa.Sentinels[0].Disconnected && !sb.Sentinels[0].Disconnected &&
			!sa.Sentinels[0].LastOKPingReply.IsZero() && len(fakeA.commands("PING")) > 0
	})
	ipMu.Lock()
	defer ipMu.Unlock()
	for _, ip := range localIPs {
		if ip != "127.0.0.1" {
			t.Fatalf("HelloPayload got local IP %q", ip)
		}
	}
}

func TestRedisStoppedMasterSDownAndAsksSentinels(t *testing.T) {
	master := startRedis(t)
	t.Cleanup(func() { _ = master.cmd.Process.Signal(syscall.SIGCONT) })
	vote := "*3\r\n:1\r\n$40\r\n" + idC + "\r\n:7\r\n"
	var downMu sync.Mutex
	reply := vote
	sentinel := newFakeServer(t, func(args []string) string {
		switch strings.ToUpper(args[0]) {
		case "PING":
			return "+PONG\r\n"
		case "SENTINEL":
			if len(args) == 2 && strings.EqualFold(args[1], "MYID") {
				return "$40\r\n" + idB + "\r\n"
			}
			downMu.Lock()
			defer downMu.Unlock()
			return reply
		}
		return "+OK\r\n"
	})
	rec := &recorder{}
	verdicts := make(chan string, 16)
	m := startMonitor(t, rec.config(idA, Config{Timing: fastTiming, CurrentEpoch: func() uint64 { return 9 },
		OnPeerVerdict: func(master string) { verdicts <- master }}))
	const downAfter = time.Second
	m.Watch(MasterSpec{Name: "mymaster", Addr: master.addr(), DownAfter: downAfter,
		KnownSentinels: []SentinelRef{{Addr: Addr{Host: "127.0.0.1", Port: sentinel.port()}, RunID: idB}}})

	redistest.Until(t, 5*time.Second, "master and sentinel healthy", func() bool {
		st := status(t, m, "mymaster")
		return !st.Master.InfoRefresh.IsZero() && !st.Master.Disconnected && st.Master.PingPendingSince.IsZero() &&
			len(st.Sentinels) == 1 && !st.Sentinels[0].Disconnected && len(sentinel.commands("PING")) > 0
	})
	if n := len(downAsks(sentinel)); n != 0 {
		t.Fatalf("asked sentinels %d times while the master was up", n)
	}

	master.signal(t, syscall.SIGSTOP)
	stopped := time.Now()
	ev, at := rec.waitEvent(t, 5*time.Second, "+sdown", kind(KindMaster))
	// The clock starts at the first unanswered PING, up to a ping period
	// after the stop.
	if took := at.Sub(stopped); took > downAfter+500*time.Millisecond || took < downAfter/2 {
		t.Fatalf("+sdown after %v, want about %v", took, downAfter)
	}
	if ev.Ref.Name != "mymaster" || ev.Ref.Addr != master.addr() || ev.Level != LevelWarning {
		t.Fatalf("+sdown = %+v", ev)
	}
	redistest.Until(t, 2*time.Second, "is-master-down-by-addr sent and recorded", func() bool {
		st := status(t, m, "mymaster")
		return len(downAsks(sentinel)) > 0 && st.Sentinels[0].MasterDown
	})
	got := downAsks(sentinel)[0]
	wantArgs := []string{"SENTINEL", "is-master-down-by-addr", "127.0.0.1", strconv.Itoa(master.port), "9", "*"}
	if strings.Join(got, " ") != strings.Join(wantArgs, " ") {
		t.Fatalf("request = %q, want %q", got, wantArgs)
	}
	s := status(t, m, "mymaster").Sentinels[0]
	if s.VotedLeader != idC || s.VotedLeaderEpoch != 7 {
		t.Fatalf("sentinel vote = %q %d", s.VotedLeader, s.VotedLeaderEpoch)
	}
	// The peer's verdict turned to "down": the node hears at once, once.
	select {
	case got := <-verdicts:
		if got != "mymaster" {
			t.Fatalf("OnPeerVerdict(%q), want mymaster", got)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("no OnPeerVerdict for the peer's down verdict")
	}
	if len(verdicts) != 0 {
		t.Fatalf("%d more OnPeerVerdict calls for an unchanged verdict", len(verdicts))
	}

	master.signal(t, syscall.SIGCONT)
	rec.waitEvent(t, 3*time.Second, "-sdown", kind(KindMaster))
	// No more requests once up: the answer expires after 5×ask-period.
	redistest.Until(t, 2*time.Second, "master-down answer expired", func() bool {
		s := status(t, m, "mymaster").Sentinels[0]
		return !s.MasterDown && s.VotedLeader == ""
	})
	if s := status(t, m, "mymaster").Sentinels[0]; s.VotedLeaderEpoch != 7 {
		t.Fatalf("vote epoch dropped: %d", s.VotedLeaderEpoch)
	}
}

func TestRedisAuthPass(t *testing.T) {
	master := startRedis(t, "--requirepass", "s3cret")
	rec := &recorder{}
	m := startMonitor(t, rec.config(idA, Config{Timing: fastTiming}))
	spec := MasterSpec{Name: "mymaster", Addr: master.addr(), DownAfter: 500 * time.Millisecond}
	m.Watch(spec)

	// Without the password PING gets -NOAUTH (not a valid reply), INFO fails.
	rec.waitEvent(t, 3*time.Second, "+sdown", kind(KindMaster))
	st := status(t, m, "mymaster")
	if !st.Master.InfoRefresh.IsZero() || st.Master.RunID != "" {
		t.Fatalf("INFO succeeded without auth: %+v", st.Master)
	}
	if st.Master.LastPingReply.Before(st.Master.LastOKPingReply) {
		t.Fatalf("no reply at all recorded: %+v", st.Master)
	}

	spec.AuthPass = "s3cret"
	m.Watch(spec)
	rec.waitEvent(t, 3*time.Second, "-sdown", kind(KindMaster))
	redistest.Until(t, 3*time.Second, "INFO with auth", func() bool {
		st := status(t, m, "mymaster")
		return len(st.Master.RunID) == 40 && !st.Master.Disconnected
	})
}

func TestRedisResetRediscovers(t *testing.T) {
	master := startRedis(t)
	replica := startRedis(t, "--replicaof", "127.0.0.1", strconv.Itoa(master.port))
	rec := &recorder{}
	m := startMonitor(t, rec.config(idA, Config{Timing: fastTiming}))
	m.Watch(MasterSpec{Name: "mymaster", Addr: master.addr(), DownAfter: 5 * time.Second})
	rec.waitEvent(t, 5*time.Second, "+slave", refAddr(KindReplica, replica.port))
	m.ProcessHello(hello("127.0.0.2", 1, idB, 1, "mymaster", 0))
	redistest.Until(t, 3*time.Second, "master run id", func() bool {
		st := status(t, m, "mymaster")
		return st.Master.RunID != "" && len(st.Sentinels) == 1
	})
	topo := rec.topoCount("mymaster")

	// What the reset leaves, read under the same hold of the lock: the
	// timer it pokes reconnects at once, and on loopback the master
	// answered INFO before a Status call after Reset got the lock (a
	// clean-clone run saw the link up and the run id back).
	m.mu.Lock()
	m.resetLocked("mymaster")
	st, _ := m.statusLocked("mymaster")
	m.mu.Unlock()
	if len(st.Replicas) != 0 || len(st.Sentinels) != 0 || st.Master.RunID != "" || st.Master.SDown ||
		!st.Master.Disconnected || st.Master.RoleReported != "master" {
		t.Fatalf("after reset: %+v", st)
	}
	redistest.Until(t, time.Second, "topology change for the reset", func() bool { return rec.topoCount("mymaster") > topo })
	redistest.Until(t, 5*time.Second, "replica rediscovered", func() bool {
		return rec.count("+slave", refAddr(KindReplica, replica.port)) == 2
	})
	redistest.Until(t, 3*time.Second, "master reconnected", func() bool {
		st := status(t, m, "mymaster")
		return !st.Master.Disconnected && st.Master.RunID != ""
	})
}

func TestRedisSwitchMaster(t *testing.T) {
	oldMaster := startRedis(t)
	promoted := startRedis(t, "--replicaof", "127.0.0.1", strconv.Itoa(oldMaster.port))
	rec := &recorder{}
	m := startMonitor(t, rec.config(idA, Config{Timing: fastTiming}))
	m.Watch(MasterSpec{Name: "mymaster", Addr: oldMaster.addr(), DownAfter: 5 * time.Second})
	rec.waitEvent(t, 5*time.Second, "+slave", refAddr(KindReplica, promoted.port))
	m.ProcessHello(hello("127.0.0.2", 1, idB, 1, "mymaster", 0))

	// What a failover does to the data nodes.
	redisCall(t, promoted.port, "REPLICAOF", "NO", "ONE")
	redisCall(t, oldMaster.port, "REPLICAOF", "127.0.0.1", strconv.Itoa(promoted.port))
	rec.reset()
	m.SwitchMaster("mymaster", promoted.addr())

	st := status(t, m, "mymaster")
	if st.Master.Ref.Addr != promoted.addr() || st.Master.SDown || st.Master.RunID != "" {
		t.Fatalf("master after switch: %+v", st.Master)
	}
	if len(st.Replicas) != 1 || st.Replicas[0].Ref.Addr != oldMaster.addr() {
		t.Fatalf("replicas after switch: %+v", st.Replicas)
	}
	if len(st.Sentinels) != 1 || st.Sentinels[0].RunID != idB {
		t.Fatalf("sentinels not kept: %+v", st.Sentinels)
	}
	ev, _ := rec.waitEvent(t, time.Second, "+slave", nil)
	if ev.Ref.Addr != oldMaster.addr() || ev.Ref.MasterAddr != promoted.addr() {
		t.Fatalf("+slave after switch = %+v", *ev.Ref)
	}
	redistest.Until(t, 8*time.Second, "old master replicating from the new one", func() bool {
		st := status(t, m, "mymaster")
		r := st.Replicas[0]
		return st.Master.RoleReported == "master" && len(st.Master.RunID) == 40 &&
			r.RoleReported == "slave" && r.MasterPort == promoted.port && r.MasterLinkUp
	})
	if n := rec.count("+slave", nil); n != 1 {
		t.Fatalf("+slave emitted %d times", n)
	}
}

// A master whose writes are paused (CLIENT PAUSE WRITE: gosentinel's
// cut-off pause and switchover) still answers PING, but our hello PUBLISH
// on the command link waits for the pause to end, and so does every PING
// queued behind it. Counted from those PINGs, a paused master looked down
// after down-after to every sentinel, and a false cut-off pause (10 %
// packet loss, chaos seed 9) became a failover. The pub/sub connection
// asks PING once the command link's has waited half a ping period, and
// its answer counts.
func TestPausedMasterIsNotDown(t *testing.T) {
	master := startRedis(t)
	rec := &recorder{}
	tm := fastTiming()
	m := startMonitor(t, rec.config(idA, Config{
		Timing: func() Timing { return tm },
		HelloPayload: func(name, ip string) (string, bool) {
			return fmt.Sprintf("%s,26379,%s,0,%s,127.0.0.1,%d,0", ip, idA, name, master.port), true
		},
	}))
	const downAfter = 500 * time.Millisecond
	m.Watch(MasterSpec{Name: "m", Addr: master.addr(), DownAfter: downAfter})
	redistest.Until(t, 5*time.Second, "the master's INFO and a valid PING reply", func() bool {
		st := status(t, m, "m").Master
		return !st.InfoRefresh.IsZero() && !st.LastOKPingReply.IsZero() && !st.SDown
	})
	const pause = 2 * time.Second
	if v := redisCall(t, master.port, "CLIENT", "PAUSE", strconv.Itoa(int(pause.Milliseconds())), "WRITE"); v.str != "OK" {
		t.Fatalf("CLIENT PAUSE: %+v", v)
	}
	paused := time.Now()
	// The hello PUBLISH goes out every 200 ms and blocks; PINGs queue
	// behind it. Watch the whole pause and a down-after beyond it.
	redistest.Until(t, pause+3*time.Second, "the pause over and the command link answering again", func() bool {
		st := status(t, m, "m").Master
		return time.Since(paused) > pause+downAfter && st.PingPendingSince.IsZero()
	})
	if n := rec.count("+sdown", kind(KindMaster)); n != 0 {
		t.Fatalf("a paused master that answers PING was reported down (%d +sdown)", n)
	}
}

// A stall of this process (here: the monitor's lock held beyond
// TILT-TRIGGER, so neither the timer nor the readers run) puts it in TILT:
// the PONGs that arrived meanwhile are read before any node is judged, and
// the master, which answered all along, is not reported down. TILT ends
// after the master's down-after.
func TestStallEntersTiltNotSDown(t *testing.T) {
	master := startRedis(t)
	rec := &recorder{}
	tm := fastTiming()
	tm.TiltTrigger = time.Second
	m := startMonitor(t, rec.config(idA, Config{Timing: func() Timing { return tm }}))
	const downAfter = 300 * time.Millisecond
	m.Watch(MasterSpec{Name: "m", Addr: master.addr(), DownAfter: downAfter})
	// INFO goes out from the timer: it has run.
	redistest.Until(t, 5*time.Second, "INFO and a valid PING reply", func() bool {
		st := status(t, m, "m").Master
		return !st.LastOKPingReply.IsZero() && !st.InfoRefresh.IsZero()
	})
	m.mu.Lock()
	stall := time.NewTimer(1500 * time.Millisecond) // the fault injected: the process stalls
	<-stall.C
	m.mu.Unlock()
	rec.waitEvent(t, 2*time.Second, "+tilt", nil)
	if on, _ := m.Tilt(); !on {
		t.Fatal("not in TILT right after the stall")
	}
	rec.waitEvent(t, 2*time.Second, "-tilt", nil)
	if n := rec.count("+sdown", kind(KindMaster)); n != 0 {
		t.Fatalf("the master was reported down after our own stall (%d +sdown)", n)
	}
	// A node that is really down is still judged after TILT.
	master.kill()
	rec.waitEvent(t, 3*time.Second, "+sdown", kind(KindMaster))
}

// A reply that came in while this process could not handle it (here: the
// monitor's lock held beyond down-after, short of TILT-TRIGGER, as a
// starved process or a long hold would) is the node's answer: the master
// is not reported down for our own lateness.
func TestRepliesWaitingAreNotSDown(t *testing.T) {
	master := startRedis(t)
	rec := &recorder{}
	tm := fastTiming()
	tm.TiltTrigger = time.Minute // TILT must not be what spares the master
	m := startMonitor(t, rec.config(idA, Config{Timing: func() Timing { return tm }}))
	const downAfter = 300 * time.Millisecond
	m.Watch(MasterSpec{Name: "m", Addr: master.addr(), DownAfter: downAfter})
	redistest.Until(t, 5*time.Second, "INFO and a valid PING reply", func() bool {
		st := status(t, m, "m").Master
		return !st.LastOKPingReply.IsZero() && !st.InfoRefresh.IsZero() && !st.SDown
	})
	m.mu.Lock()
	ri := m.masters["m"]
	c := ri.link.cc
	sent := time.Now()
	m.sendPing(ri, sent)
	// The PONG is read; its handler waits for the lock.
	if err := redistest.PollErr(5*time.Second, time.Millisecond, func() error {
		if !c.held.Load() {
			return errors.New("no reply read")
		}
		return nil
	}); err != nil {
		m.mu.Unlock()
		t.Fatal(err)
	}
	// The fault injected: the hold outlasts down-after.
	hold := time.NewTimer(time.Until(sent.Add(downAfter + 100*time.Millisecond)))
	<-hold.C
	ts := tickState{now: time.Now(), timing: tm}
	pending := ri.link.actPingTime
	m.checkSubjectivelyDown(ri, &ts)
	sdown := ri.sdown
	m.mu.Unlock()
	if pending.IsZero() || ts.now.Sub(pending) <= downAfter {
		t.Fatalf("the check did not see a PING pending beyond down-after (pending since %v)", pending)
	}
	if sdown || rec.count("+sdown", kind(KindMaster)) != 0 {
		t.Fatal("a master whose PONG waited in this process was reported down")
	}
	redistest.Until(t, 5*time.Second, "the PONG handled", func() bool {
		return status(t, m, "m").Master.PingPendingSince.IsZero()
	})
}
