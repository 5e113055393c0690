package monitor

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/internal/redistest"
)

// TestNearDownBetweenPasses: the timer run between two passes finds SDOWN
// exactly the instances the last pass found close to their deadline (so a
// node is found down within a tick of its deadline), and the passes keep
// that list: an instance past its SDOWN deadline, or due for SDOWN or a
// PING before the next pass, is on it; one that just answered is not.
func TestNearDownBetweenPasses(t *testing.T) {
	m := New(Config{MyID: "0123456789012345678901234567890123456789"})
	const downAfter = time.Second
	// Nothing listens on these ports.
	for _, name := range []string{"near", "far", "fresh", "pingdue"} {
		m.Watch(MasterSpec{Name: name, Addr: Addr{Host: "127.0.0.1", Port: freePort(t)}, DownAfter: downAfter})
	}
	t.Cleanup(m.Close)
	m.mu.Lock()
	now := time.Now()
	past := now.Add(-downAfter - time.Millisecond)
	near, far, fresh, pingdue := m.masters["near"], m.masters["far"], m.masters["fresh"], m.masters["pingdue"]
	near.link.actPingTime, far.link.actPingTime = past, past
	// fresh answered its PING just now; pingdue 950 ms ago, so its next
	// PING is due before the next pass.
	fresh.link.lastPong, fresh.link.lastPingTime = now, now
	pingdue.link.lastPong, pingdue.link.lastPingTime = now.Add(-950*time.Millisecond), now.Add(-950*time.Millisecond)
	for _, ri := range []*instance{near, far, fresh, pingdue} {
		// Redialled just now: the passes below create no connection (a
		// new one would send its first PING at once).
		ri.link.ccReconnTime, ri.link.pcReconnTime = now, now
	}
	// As if the last pass had found only "near" close to its deadline.
	m.nearDown = []*instance{near}
	m.mu.Unlock()

	m.tickNearDown()
	m.mu.Lock()
	gotNear, gotFar := near.sdown, far.sdown
	m.mu.Unlock()
	if !gotNear || gotFar {
		t.Fatalf("between passes: near sdown=%v, far sdown=%v; want only the listed instance found down", gotNear, gotFar)
	}

	// A pass looks at every instance and lists the ones to watch.
	m.tick()
	m.mu.Lock()
	listed := map[string]bool{}
	for _, ri := range m.nearDown {
		listed[ri.name] = true
	}
	gotFar = far.sdown
	m.mu.Unlock()
	if !gotFar {
		t.Fatal("a pass did not find the instance past its deadline down")
	}
	if !listed["near"] || !listed["far"] || !listed["pingdue"] || listed["fresh"] {
		t.Fatalf("after a pass the list holds %v; want near and far (SDOWN) and pingdue, not fresh", listed)
	}
}

func TestNearSDownDeadline(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	ago := func(ms int) time.Time { return now.Add(-time.Duration(ms) * time.Millisecond) }
	const downAfter = 5 * time.Second
	cases := []struct {
		name    string
		lk      link
		atAfter time.Duration // the time asked about, after now
		want    bool
	}{
		{"ping pending, deadline before the next pass", link{actPingTime: ago(4950)}, passInterval, true},
		{"ping pending, deadline after the next pass", link{actPingTime: ago(4800)}, passInterval, false},
		{"ping pending, deadline already passed", link{actPingTime: ago(6000)}, 0, true},
		{"nothing pending, connected", link{lastAvail: ago(60000)}, passInterval, false},
		{"disconnected, last reply near down-after", link{disconnected: true, lastAvail: ago(4950)}, passInterval, true},
		{"disconnected, last reply recent", link{disconnected: true, lastAvail: ago(100)}, passInterval, false},
		{"ping pending, pub/sub PING answered recently", link{actPingTime: ago(6000), pcPong: ago(100)}, passInterval, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			lk := tc.lk
			ri := &instance{kind: KindMaster, link: &lk}
			ri.spec.DownAfter = downAfter
			if got := nearSDownDeadline(ri, now.Add(tc.atAfter)); got != tc.want {
				t.Fatalf("nearSDownDeadline = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestVerdictsExpireWithoutSDown: a master not SDOWN here skips the ask
// pass only while none of its sentinels holds a down verdict or a vote; a
// verdict received is still forgotten 5 ask periods later.
func TestVerdictsExpireWithoutSDown(t *testing.T) {
	m := New(Config{MyID: "0123456789012345678901234567890123456789"})
	now := time.Now()
	master := newInstance(KindMaster, "mymaster", address{Addr: Addr{Host: "127.0.0.1", Port: 1}}, nil, now)
	si := newInstance(KindSentinel, "s", address{Addr: Addr{Host: "127.0.0.1", Port: 2}}, master, now)
	master.sentinels = []*instance{si}
	const peer = "abcdefabcdefabcdefabcdefabcdefabcdefabcd"
	si.runID, si.link.myid = peer, peer
	c := &conn{link: si.link}
	reply := value{typ: '*', elems: []value{{typ: ':', num: 1}, {typ: '$', str: peer}, {typ: ':', num: 7}}}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.isMasterDownReply(si, c, reply)
	if !si.masterDown || si.leader != peer || !master.verdictsHeld {
		t.Fatalf("after a reply: masterDown=%v leader=%q verdictsHeld=%v", si.masterDown, si.leader, master.verdictsHeld)
	}
	ts := tickState{now: time.Now(), timing: DefaultTiming()}
	m.askMasterStateToOtherSentinels(master, &ts)
	if !si.masterDown || !master.verdictsHeld {
		t.Fatal("a fresh verdict was dropped")
	}
	ts.now = si.lastMasterDownReplyTime.Add(5*ts.timing.AskPeriod + time.Millisecond)
	m.askMasterStateToOtherSentinels(master, &ts)
	if si.masterDown || si.leader != "" || master.verdictsHeld {
		t.Fatalf("5 ask periods later: masterDown=%v leader=%q verdictsHeld=%v, want all cleared", si.masterDown, si.leader, master.verdictsHeld)
	}
}

func TestAlongPing(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	ago := func(ms int) time.Time { return now.Add(-time.Duration(ms) * time.Millisecond) }
	const period, pingPeriod = 2 * time.Second, time.Second
	cases := []struct {
		name    string
		last    time.Time
		pinging bool
		want    bool
	}{
		{"never done: at once", time.Time{}, false, true},
		{"with a PING, not yet within half a ping period of due", ago(1500), true, false},
		{"with a PING, within half a ping period of due", ago(1501), true, true},
		{"with a PING, overdue", ago(2400), true, true},
		{"alone, due but a PING may still take it", ago(2001), false, false},
		{"alone, late by half a ping period and a pass", ago(2000 + 500 + 101), false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := alongPing(now, tc.last, period, pingPeriod, tc.pinging); got != tc.want {
				t.Fatalf("alongPing = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestPeriodicCommandsShareAWrite: a master's hello and INFO go out in
// the same write as a PING (alongPing, Monitor.batching), so the node
// reads them together. The server below records what each read of the
// command connection returned; on loopback one write of a few hundred
// bytes arrives in one read (reads may join writes, never split them).
// Before batching, a PING went out on its own the moment it was queued
// and the hello, queued after the payloads were built, in a write of its
// own: almost no read held both.
func TestPeriodicCommandsShareAWrite(t *testing.T) {
	var mu sync.Mutex
	var chunks []string // reads of the connection that got a PUBLISH or INFO
	srv := newFakeServerReads(t, redisLike(func() string { return masterInfo("1111111111111111111111111111111111111111") },
		func() string { return "+PONG\r\n" }), func(b []byte) {
		if s := string(b); strings.Contains(s, "PUBLISH") || strings.Contains(s, "INFO") {
			mu.Lock()
			chunks = append(chunks, s)
			mu.Unlock()
		}
	})
	// Periods several passes long, as in production (a PING a second, a
	// pass every 100 ms): with a PING every pass, any hello would go with
	// one by chance.
	timing := func() Timing {
		tm := fastTiming()
		tm.PingPeriod, tm.PublishPeriod, tm.InfoPeriod = 400*time.Millisecond, 800*time.Millisecond, 2*time.Second
		return tm
	}
	rec := &recorder{}
	m := startMonitor(t, rec.config(idA, Config{Timing: timing,
		HelloPayload: func(name, ip string) (string, bool) {
			// At 1000 masters the pass and the payloads take
			// milliseconds between a PING queued and its hello.
			time.Sleep(10 * time.Millisecond)
			return "hello-" + name + "-" + ip, true
		}}))
	m.Watch(MasterSpec{Name: "mymaster", Addr: Addr{Host: "127.0.0.1", Port: srv.port()}, DownAfter: 5 * time.Second})
	const want = 8
	redistest.Until(t, 20*time.Second, "hellos and INFOs", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(chunks) >= want
	})
	mu.Lock()
	got := append([]string(nil), chunks...)
	mu.Unlock()
	along := 0
	for _, s := range got {
		if strings.Contains(s, "PING") {
			along++
		}
	}
	// A PING late on a loaded machine may leave a hello to go alone
	// (alongPing); most go with one.
	if along < len(got)*3/4 {
		t.Fatalf("%d of %d reads holding a hello or INFO held a PING too; want at least 3/4:\n%q", along, len(got), got)
	}
}

// TestSDownDeadline: the deadline is the first instant IsSubjectivelyDown's
// link clause holds: down at it, not a nanosecond before.
func TestSDownDeadline(t *testing.T) {
	base := time.Unix(1_000_000, 0)
	at := func(ms int) time.Time { return base.Add(time.Duration(ms) * time.Millisecond) }
	const downAfter = 5 * time.Second
	cases := []struct {
		name string
		in   SDownInput
		want time.Time // zero: no deadline
	}{
		{"ping pending", SDownInput{PingPendingSince: at(0)}, at(5000)},
		{"ping pending, pub/sub PONG later", SDownInput{PingPendingSince: at(0), PubsubPong: at(700)}, at(5700)},
		{"ping pending, pub/sub PONG earlier", SDownInput{PingPendingSince: at(0), PubsubPong: at(-700)}, at(5000)},
		{"link down, last good reply", SDownInput{Disconnected: true, LastOKPingReply: at(300)}, at(5300)},
		{"link down, a PING still pending", SDownInput{Disconnected: true, LastOKPingReply: at(300), PingPendingSince: at(900)}, at(5900)},
		{"connected, nothing pending", SDownInput{LastOKPingReply: at(300)}, time.Time{}},
		{"link down, never answered: its clock started at the zero time", SDownInput{Disconnected: true}, time.Time{}.Add(downAfter)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.in.DownAfter = downAfter
			got, ok := SDownDeadline(c.in)
			if c.want.IsZero() {
				if ok {
					t.Fatalf("deadline %v; want none", got)
				}
				return
			}
			if !ok || !got.Equal(c.want.Add(1)) {
				t.Fatalf("deadline %v (%v); want just after %v", got, ok, c.want)
			}
			in := c.in
			in.Now = got
			if !IsSubjectivelyDown(in) {
				t.Fatal("not down at the deadline")
			}
			in.Now = got.Add(-1)
			if IsSubjectivelyDown(in) {
				t.Fatal("down a nanosecond before the deadline")
			}
		})
	}
}

// TestRunsReturnTheNextSDownDeadline: a timer run returns the earliest
// SDOWN deadline ahead among the instances it leaves on the near-down
// list, so Run looks at it then rather than at the next tick; an instance
// already down or without a pending PING adds none.
func TestRunsReturnTheNextSDownDeadline(t *testing.T) {
	m := New(Config{MyID: "0123456789012345678901234567890123456789"})
	const downAfter = time.Second
	// Nothing listens on these ports.
	for _, name := range []string{"soon", "later", "down"} {
		m.Watch(MasterSpec{Name: name, Addr: Addr{Host: "127.0.0.1", Port: freePort(t)}, DownAfter: downAfter})
	}
	t.Cleanup(m.Close)
	m.mu.Lock()
	now := time.Now()
	soon, later, down := m.masters["soon"], m.masters["later"], m.masters["down"]
	// soon's PING has waited 920 ms, later's 905 ms: both deadlines fall
	// before the next pass (100 ms); down's is past.
	soon.link.actPingTime = now.Add(-920 * time.Millisecond)
	later.link.actPingTime = now.Add(-905 * time.Millisecond)
	down.link.actPingTime = now.Add(-2 * downAfter)
	for _, ri := range []*instance{soon, later, down} {
		ri.link.ccReconnTime, ri.link.pcReconnTime = now, now
		ri.link.lastPingTime = ri.link.actPingTime
	}
	want := soon.link.actPingTime.Add(downAfter + 1)
	m.mu.Unlock()

	if got := m.tick(); !got.Equal(want) {
		t.Fatalf("a pass returned %v; want soon's deadline %v", got, want)
	}
	m.mu.Lock()
	isDown := down.sdown
	m.mu.Unlock()
	if !isDown {
		t.Fatal("the pass did not find the instance past its deadline down")
	}
	if got := m.tickNearDown(); !got.Equal(want) {
		t.Fatalf("the run between passes returned %v; want soon's deadline %v", got, want)
	}
}

// TestForceHelloIsDueAtTheNextRun: after ForceHello (a switch, a changed
// setting), the hellos to the master and its replicas are due in the timer
// run it wakes even without a PING to go along, as redis-sentinel's
// sentinelForceHelloUpdateForMaster publishes at its next timer run. Moved
// back by the publish period alone, a data node's hello waited 0.5-0.6 s
// more for alongPing.
func TestForceHelloIsDueAtTheNextRun(t *testing.T) {
	tm := DefaultTiming()
	m := New(Config{MyID: idA, Timing: func() Timing { return tm }})
	m.Watch(MasterSpec{Name: "m", Addr: Addr{Host: "127.0.0.1", Port: 1}, DownAfter: time.Minute,
		KnownReplicas: []Addr{{Host: "127.0.0.1", Port: 2}}})
	now := time.Now()
	m.mu.Lock()
	ri := m.masters["m"]
	nodes := append([]*instance{ri}, ri.replicas...)
	for _, d := range nodes {
		d.lastPubTime = now // a hello just went out
	}
	m.mu.Unlock()
	if len(nodes) != 2 {
		t.Fatalf("%d nodes, want the master and its replica", len(nodes))
	}
	m.ForceHello("m")
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, d := range nodes {
		if !alongPing(now, d.lastPubTime, tm.PublishPeriod, d.pingPeriod(tm), false) {
			t.Errorf("%s: the forced hello is not due at the next run without a PING", d.name)
		}
	}
}
