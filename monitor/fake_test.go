package monitor

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/internal/redistest"
)

// Tests against a scripted RESP server, for replies a real redis-server
// does not give on demand.

// switchable is a reply that a test changes while the monitor runs.
type switchable struct {
	mu sync.Mutex
	v  string
}

func (s *switchable) get() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.v
}

func (s *switchable) set(v string) {
	s.mu.Lock()
	s.v = v
	s.mu.Unlock()
}

func has(cmds [][]string, args ...string) bool {
	want := strings.Join(args, " ")
	for _, c := range cmds {
		if strings.Join(c, " ") == want {
			return true
		}
	}
	return false
}

func TestRenamedCommandsAuthAndHello(t *testing.T) {
	const runid = "1111111111111111111111111111111111111111"
	srv := newFakeServer(t, redisLike(func() string { return masterInfo(runid) }, func() string { return "+PONG\r\n" }))
	rec := &recorder{}
	m := startMonitor(t, rec.config(idA, Config{Timing: fastTiming,
		HelloPayload: func(name, ip string) (string, bool) { return "hello-" + name + "-" + ip, true }}))
	m.Watch(MasterSpec{
		Name: "mymaster", Addr: Addr{Host: "127.0.0.1", Port: srv.port()}, DownAfter: 5 * time.Second,
		AuthUser: "user1", AuthPass: "pw1",
		RenameCommands: map[string]string{"PING": "XPING", "INFO": "XINFO", "SUBSCRIBE": "XSUBSCRIBE",
			"PUBLISH": "XPUBLISH", "AUTH": "XAUTH", "CLIENT": "XCLIENT"},
	})
	redistest.Until(t, 3*time.Second, "renamed commands", func() bool {
		return has(srv.commands("XPUBLISH"), "XPUBLISH", helloChannel, "hello-mymaster-127.0.0.1") &&
			len(srv.commands("XPING")) > 0 && len(srv.commands("XINFO")) > 0
	})
	auths := srv.commands("XAUTH")
	if len(auths) != 2 || !has(auths, "XAUTH", "user1", "pw1") {
		t.Fatalf("AUTH commands = %q", auths)
	}
	names := srv.commands("XCLIENT")
	if !has(names, "XCLIENT", "SETNAME", "sentinel-aaaaaaaa-cmd") || !has(names, "XCLIENT", "SETNAME", "sentinel-aaaaaaaa-pubsub") {
		t.Fatalf("CLIENT commands = %q", names)
	}
	if !has(srv.commands("XSUBSCRIBE"), "XSUBSCRIBE", helloChannel) {
		t.Fatalf("SUBSCRIBE = %q", srv.commands("XSUBSCRIBE"))
	}
	for _, plain := range []string{"PING", "INFO", "SUBSCRIBE", "PUBLISH", "AUTH", "CLIENT"} {
		if n := len(srv.commands(plain)); n != 0 {
			t.Fatalf("%d un-renamed %s sent", n, plain)
		}
	}
	st := status(t, m, "mymaster")
	if st.Master.RunID != runid || st.Master.MasterReplOffset != 42 || st.Master.Disconnected {
		t.Fatalf("master = %+v", st.Master)
	}
}

func TestPingRepliesLoadingBusyAndPong(t *testing.T) {
	ping := &switchable{v: "-LOADING Redis is loading the dataset in memory\r\n"}
	srv := newFakeServer(t, redisLike(func() string { return masterInfo(strings.Repeat("2", 40)) }, ping.get))
	rec := &recorder{}
	m := startMonitor(t, rec.config(idA, Config{Timing: fastTiming}))
	const downAfter = 300 * time.Millisecond
	start := time.Now()
	m.Watch(MasterSpec{Name: "m", Addr: Addr{Host: "127.0.0.1", Port: srv.port()}, DownAfter: downAfter})

	// -LOADING is a valid reply: still up well after down-after.
	redistest.Until(t, 3*time.Second, "valid -LOADING replies", func() bool {
		return status(t, m, "m").Master.LastOKPingReply.After(start.Add(downAfter + 200*time.Millisecond))
	})
	if st := status(t, m, "m"); st.Master.SDown || rec.count("+sdown", nil) != 0 {
		t.Fatalf("SDOWN while answering -LOADING: %+v", st.Master)
	}

	// -BUSY is not: SDOWN after down-after, then one SCRIPT KILL.
	ping.set("-BUSY Redis is busy running a script\r\n")
	rec.waitEvent(t, 2*time.Second, "+sdown", nil)
	redistest.Until(t, time.Second, "SCRIPT KILL", func() bool { return len(srv.commands("SCRIPT")) > 0 })
	if st := status(t, m, "m"); !st.Master.ScriptKillSent || st.Master.LastPingReply.Before(st.Master.LastOKPingReply) {
		t.Fatalf("after -BUSY: %+v", st.Master)
	}
	redistest.Until(t, 2*time.Second, "more -BUSY replies", func() bool {
		return time.Since(status(t, m, "m").Master.SDownSince) > 300*time.Millisecond
	})
	if got := srv.commands("SCRIPT"); len(got) != 1 || !has(got, "SCRIPT", "KILL") {
		t.Fatalf("SCRIPT commands = %q", got)
	}

	ping.set("+PONG\r\n")
	rec.waitEvent(t, 2*time.Second, "-sdown", nil)
	if st := status(t, m, "m"); st.Master.ScriptKillSent || st.Master.SDown {
		t.Fatalf("after +PONG: %+v", st.Master)
	}
}

func TestRebootAndMasterRebootDownAfter(t *testing.T) {
	info := &switchable{v: masterInfo(strings.Repeat("3", 40))}
	ping := &switchable{v: "+PONG\r\n"}
	srv := newFakeServer(t, redisLike(info.get, ping.get))
	rec := &recorder{}
	m := startMonitor(t, rec.config(idA, Config{Timing: fastTiming}))
	m.Watch(MasterSpec{Name: "m", Addr: Addr{Host: "127.0.0.1", Port: srv.port()}, DownAfter: time.Hour,
		RebootDownAfter: 300 * time.Millisecond})
	redistest.Until(t, 2*time.Second, "first INFO", func() bool { return status(t, m, "m").Master.RunID != "" })

	// A restarted master answers -LOADING with a new run id.
	ping.set("-LOADING loading\r\n")
	info.set(masterInfo(strings.Repeat("4", 40)))
	ev, _ := rec.waitEvent(t, 2*time.Second, "+reboot", nil)
	if ev.Level != LevelNotice || ev.Ref.Kind != KindMaster {
		t.Fatalf("+reboot = %+v", ev)
	}
	rec.waitEvent(t, 2*time.Second, "+sdown", nil)
	// The monitor's own clocks, not when the recorder received the two
	// events: their deliveries may be delayed by different amounts.
	st := status(t, m, "m")
	if d := st.Master.SDownSince.Sub(st.Master.MasterRebootSince); d < 300*time.Millisecond {
		t.Fatalf("SDOWN %v after the reboot, want > master-reboot-down-after-period", d)
	}
	if !st.Master.MasterReboot || st.Master.RunID != strings.Repeat("4", 40) {
		t.Fatalf("master = %+v", st.Master)
	}
	ping.set("+PONG\r\n")
	rec.waitEvent(t, 2*time.Second, "-sdown", nil)
	if st := status(t, m, "m"); st.Master.MasterReboot {
		t.Fatal("+PONG did not clear the reboot state")
	}
}

func TestMasterReportingSlaveRoleGoesSDown(t *testing.T) {
	slaveInfo := "run_id:" + strings.Repeat("5", 40) + "\r\nrole:slave\r\nmaster_host:10.9.9.9\r\nmaster_port:6379\r\nmaster_link_status:up\r\n"
	srv := newFakeServer(t, redisLike(func() string { return slaveInfo }, func() string { return "+PONG\r\n" }))
	rec := &recorder{}
	m := startMonitor(t, rec.config(idA, Config{Timing: fastTiming}))
	const downAfter = 200 * time.Millisecond
	m.Watch(MasterSpec{Name: "m", Addr: Addr{Host: "127.0.0.1", Port: srv.port()}, DownAfter: downAfter})

	ev, changed := rec.waitEvent(t, 2*time.Second, "-role-change", nil)
	if ev.Text != "new reported role is slave" || ev.Level != LevelVerbose {
		t.Fatalf("-role-change = %+v", ev)
	}
	_, down := rec.waitEvent(t, 3*time.Second, "+sdown", nil)
	if d := down.Sub(changed); d < downAfter+2*fastTiming().InfoPeriod {
		t.Fatalf("+sdown %v after the role change, want > down-after + 2×info-period", d)
	}
}

func TestReplicaFastInfo(t *testing.T) {
	replica := newFakeServer(t, redisLike(func() string {
		return "run_id:" + strings.Repeat("6", 40) + "\r\nrole:slave\r\nmaster_host:127.0.0.1\r\nmaster_port:1\r\nmaster_link_status:up\r\n"
	}, func() string { return "+PONG\r\n" }))
	master := newFakeServer(t, redisLike(func() string {
		return masterInfo(strings.Repeat("7", 40)) + "slave0:ip=127.0.0.1,port=" + strconv.Itoa(replica.port()) + ",state=online,offset=0,lag=0\r\n"
	}, func() string { return "+PONG\r\n" }))
	rec := &recorder{}
	m := startMonitor(t, rec.config(idA, Config{Timing: DefaultTiming})) // info-period 10 s
	m.Watch(MasterSpec{Name: "m", Addr: Addr{Host: "127.0.0.1", Port: master.port()}, DownAfter: time.Hour, FastInfo: true})
	rec.waitEvent(t, 2*time.Second, "+slave", nil)
	// INFO goes out every tick until the first reply; after it, not again
	// within the info-period.
	redistest.Until(t, time.Second, "master INFO", func() bool { return !status(t, m, "m").Master.InfoRefresh.IsZero() })
	n0 := len(master.commands("INFO"))
	redistest.Until(t, 4*time.Second, "replica INFO every second", func() bool { return len(replica.commands("INFO")) >= 3 })
	if n := len(master.commands("INFO")); n != n0 {
		t.Fatalf("master got %d more INFO within the 10 s info-period", n-n0)
	}
}

func TestStalledLinksAreRecycled(t *testing.T) {
	srv := newFakeServer(t, func([]string) string { return "" }) // never answers
	rec := &recorder{}
	tm := fastTiming()
	tm.MinLinkReconnectPeriod = 300 * time.Millisecond
	m := startMonitor(t, rec.config(idA, Config{Timing: func() Timing { return tm }}))
	m.Watch(MasterSpec{Name: "m", Addr: Addr{Host: "127.0.0.1", Port: srv.port()}, DownAfter: 400 * time.Millisecond})
	rec.waitEvent(t, 2*time.Second, "+sdown", nil)
	st := status(t, m, "m")
	if st.Master.PingPendingSince.IsZero() || !st.Master.InfoRefresh.IsZero() {
		t.Fatalf("stalled master = %+v", st.Master)
	}
	// Both links are closed and recreated: more connections than the first two.
	redistest.Until(t, 3*time.Second, "links recreated", func() bool {
		return len(srv.commands("CLIENT")) >= 4 && len(srv.commands("SUBSCRIBE")) >= 2
	})
}

// TestPubsubClosedBeforeAnsweringKeepsNoPending: a master that closes the
// pub/sub connection before answering its CLIENT SETNAME (as one at
// maxclients closes it) leaves nothing counted on the link's pending
// commands, however often the connection is recreated. Each recreation
// left one more, and at maxPendingCommands the link stopped sending PINGs
// on its healthy command connection: the master went +sdown.
func TestPubsubClosedBeforeAnsweringKeepsNoPending(t *testing.T) {
	healthy := redisLike(func() string { return masterInfo(strings.Repeat("3", 40)) }, func() string { return "+PONG\r\n" })
	srv := newFakeServer(t, func(args []string) string {
		if len(args) == 3 && strings.EqualFold(args[0], "CLIENT") && strings.HasSuffix(args[2], "-pubsub") {
			return closeConnection
		}
		return healthy(args)
	})
	rec := &recorder{}
	m := startMonitor(t, rec.config(idA, Config{Timing: fastTiming}))
	m.Watch(MasterSpec{Name: "m", Addr: Addr{Host: "127.0.0.1", Port: srv.port()}, DownAfter: 5 * time.Second, AuthPass: "pw"})
	const reconnects = 15
	redistest.Until(t, 10*time.Second, "pub/sub connections recreated", func() bool {
		n := 0
		for _, c := range srv.commands("CLIENT") {
			if strings.HasSuffix(c[len(c)-1], "-pubsub") {
				n++
			}
		}
		return n >= reconnects
	})
	// The command connection's own commands (PING, INFO, PUBLISH, each
	// answered at once) are all that may be pending.
	if st := status(t, m, "m"); st.Master.LinkPendingCommands > 4 {
		t.Fatalf("after %d pub/sub connections closed unanswered, link-pending-commands = %d", reconnects, st.Master.LinkPendingCommands)
	}
}

func TestUnreachableMasterGoesSDown(t *testing.T) {
	port := freePort(t) // nothing listens there
	rec := &recorder{}
	m := startMonitor(t, rec.config(idA, Config{Timing: fastTiming}))
	const downAfter = 300 * time.Millisecond
	watched := time.Now()
	m.Watch(MasterSpec{Name: "m", Addr: Addr{Host: "127.0.0.1", Port: port}, DownAfter: downAfter})
	_, at := rec.waitEvent(t, 2*time.Second, "+sdown", nil)
	if d := at.Sub(watched); d < downAfter || d > downAfter+300*time.Millisecond {
		t.Fatalf("+sdown after %v, want just after %v", d, downAfter)
	}
	// Nothing ever answered, and the master is shown disconnected
	// although a new dial starts every ping period (link.shownDisconnected).
	if st := status(t, m, "m"); !st.Master.SDown || !st.Master.Disconnected || st.Master.PingPendingSince.IsZero() || st.Master.LastPingReply.After(st.Master.PingPendingSince) {
		t.Fatalf("master = %+v", st.Master)
	}
	ev, _ := rec.waitEvent(t, time.Second, "-cmd-link-reconnection", nil)
	if ev.Level != LevelDebug || ev.Ref.Kind != KindMaster || !strings.HasPrefix(ev.Text, "#") {
		t.Fatalf("reconnection event = %+v", ev)
	}
}

// TestLinkShownDisconnectedWhileDialling holds the monitor's dials: a link
// whose connections have not connected yet is shown disconnected, though
// its commands already queue (link.shownDisconnected), and connected once
// they did. A dead master was listed without "disconnected" while its
// redial ran, and node-redis 5 hung connecting to it.
func TestLinkShownDisconnectedWhileDialling(t *testing.T) {
	srv := newFakeServer(t, redisLike(func() string { return masterInfo(strings.Repeat("1", 40)) }, func() string { return "+PONG\r\n" }))
	rec := &recorder{}
	m := New(rec.config(idA, Config{Timing: fastTiming}))
	held := make(chan func(), 16)
	m.dials.spawn = func(f func()) { held <- sync.OnceFunc(f) }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		m.Run(ctx)
	}()
	// runHeld makes every dial held from now on, and any later one, run
	// at once, until the test's cleanup is done.
	stop := make(chan struct{})
	runHeld := sync.OnceFunc(func() {
		go func() {
			for {
				select {
				case f := <-held:
					go f()
				case <-stop:
					return
				}
			}
		}()
	})
	var dials []func()
	t.Cleanup(func() {
		cancel()
		// Close waits for every dial the monitor began, held ones too.
		for _, f := range dials {
			go f()
		}
		runHeld()
		m.Close()
		<-done
		close(stop)
	})
	m.Watch(MasterSpec{Name: "m", Addr: Addr{Host: "127.0.0.1", Port: srv.port()}, DownAfter: 5 * time.Second})

	// The first pass dials the command and the pub/sub connection.
	for len(dials) < 2 {
		select {
		case f := <-held:
			dials = append(dials, f)
		case <-time.After(5 * time.Second):
			t.Fatalf("%d dials began within 5 s, want 2", len(dials))
		}
	}
	if st := status(t, m, "m"); !st.Master.Disconnected {
		t.Fatalf("master shown connected while its connections dial: %+v", st.Master)
	}
	// One connection connected (the node has its first commands, written
	// once the dial returned), the other still dialling.
	go dials[0]()
	redistest.Until(t, 5*time.Second, "commands at the node", func() bool {
		srv.mu.Lock()
		defer srv.mu.Unlock()
		return len(srv.cmds) > 0
	})
	if st := status(t, m, "m"); !st.Master.Disconnected {
		t.Fatalf("master shown connected while a connection dials: %+v", st.Master)
	}
	go dials[1]()
	runHeld()
	redistest.Until(t, 5*time.Second, "the master shown connected", func() bool {
		st := status(t, m, "m")
		return !st.Master.Disconnected && !st.Master.LastOKPingReply.IsZero()
	})
}

func TestSwitchMasterClearsSDownAndRecreatesReplicas(t *testing.T) {
	rec := &recorder{}
	m := startMonitor(t, rec.config(idA, Config{Timing: fastTiming}))
	m.Watch(MasterSpec{Name: "m", Addr: Addr{Host: "127.0.0.1", Port: 0}, DownAfter: 200 * time.Millisecond,
		KnownReplicas: []Addr{{Host: "127.0.0.8", Port: 0}, {Host: "127.0.0.9", Port: 0}}})
	m.ProcessHello(hello("127.0.0.2", 1, idB, 1, "m", 0))
	rec.waitEvent(t, 2*time.Second, "+sdown", kind(KindMaster))

	m.SwitchMaster("m", Addr{Host: "127.0.0.8", Port: 0})
	st := status(t, m, "m")
	if st.Master.SDown || st.Master.Ref.Addr.Host != "127.0.0.8" || !st.Master.SDownSince.IsZero() {
		t.Fatalf("master after switch = %+v", st.Master)
	}
	var got []string
	for _, r := range st.Replicas {
		got = append(got, r.Ref.Name)
	}
	if strings.Join(got, " ") != "127.0.0.9:0 127.0.0.1:0" {
		t.Fatalf("replicas after switch = %v", got)
	}
	if len(st.Sentinels) != 1 {
		t.Fatalf("sentinels after switch = %+v", st.Sentinels)
	}
	redistest.Until(t, time.Second, "+slave events", func() bool {
		return rec.count("+slave", func(e Event) bool { return e.Ref.MasterAddr.Host == "127.0.0.8" }) == 2
	})
	// A Watch that carries the new address is not another switch.
	m.Watch(MasterSpec{Name: "m", Addr: Addr{Host: "127.0.0.8", Port: 0}, DownAfter: 200 * time.Millisecond})
	if st := status(t, m, "m"); len(st.Replicas) != 2 {
		t.Fatalf("Watch with the current address reset the replicas: %+v", st.Replicas)
	}
}

func TestSentinelAuthAndForceHello(t *testing.T) {
	sentinel := newFakeServer(t, func(args []string) string {
		switch strings.ToUpper(args[0]) {
		case "PING":
			return "+PONG\r\n"
		case "PUBLISH":
			return ":1\r\n"
		}
		return "+OK\r\n"
	})
	tm := fastTiming()
	tm.PublishPeriod = time.Hour
	rec := &recorder{}
	m := startMonitor(t, rec.config(idA, Config{Timing: func() Timing { return tm }, SentinelPass: "p1",
		HelloPayload: func(name, ip string) (string, bool) { return "hi", true }}))
	m.Watch(MasterSpec{Name: "m", Addr: Addr{Host: "127.0.0.1", Port: 0}, DownAfter: time.Hour,
		KnownSentinels: []SentinelRef{{Addr: Addr{Host: "127.0.0.1", Port: sentinel.port()}, RunID: idB}}})
	redistest.Until(t, 2*time.Second, "AUTH p1", func() bool { return has(sentinel.commands("AUTH"), "AUTH", "p1") })
	redistest.Until(t, 2*time.Second, "sentinel connected", func() bool {
		st := status(t, m, "m")
		return !st.Sentinels[0].Disconnected && st.Sentinels[0].PingPendingSince.IsZero()
	})

	m.SetSentinelAuth("su", "sp")
	redistest.Until(t, 2*time.Second, "AUTH su sp", func() bool { return has(sentinel.commands("AUTH"), "AUTH", "su", "sp") })
	if n := len(sentinel.commands("PUBLISH")); n != 0 {
		t.Fatalf("%d hellos before the publish period", n)
	}
	redistest.Until(t, 2*time.Second, "sentinel reconnected", func() bool { return !status(t, m, "m").Sentinels[0].Disconnected })
	m.ForceHello("m")
	redistest.Until(t, 2*time.Second, "forced hello", func() bool {
		return has(sentinel.commands("PUBLISH"), "PUBLISH", helloChannel, "hi")
	})
}

func TestResolveHostnames(t *testing.T) {
	const runid = "8888888888888888888888888888888888888888"
	srv := newFakeServer(t, redisLike(func() string { return masterInfo(runid) }, func() string { return "+PONG\r\n" }))
	rec := &recorder{}
	m := startMonitor(t, rec.config(idA, Config{Timing: fastTiming, ResolveHostnames: true}))
	m.Watch(MasterSpec{Name: "m", Addr: Addr{Host: "localhost", Port: srv.port()}, DownAfter: time.Hour})
	redistest.Until(t, 3*time.Second, "INFO from localhost", func() bool {
		st := status(t, m, "m")
		return st.Master.RunID == runid && st.Master.IP == "127.0.0.1"
	})
	if st := status(t, m, "m"); st.Master.Ref.Addr.Host != "localhost" {
		t.Fatalf("announced host replaced: %+v", st.Master.Ref)
	}
	// With resolve-hostnames, a sentinel announcing a hostname is accepted.
	m.ProcessHello("sentinel-1.example,1," + idB + ",1,m,localhost," + strconv.Itoa(srv.port()) + ",0")
	ev, _ := rec.waitEvent(t, time.Second, "+sentinel", nil)
	if ev.Ref.Addr.Host != "sentinel-1.example" {
		t.Fatalf("+sentinel = %+v", *ev.Ref)
	}
}

func TestCloseReleasesEverything(t *testing.T) {
	before := runtime.NumGoroutine()
	srv := newFakeServer(t, redisLike(func() string { return masterInfo(strings.Repeat("9", 40)) }, func() string { return "+PONG\r\n" }))
	m := New(Config{MyID: idA, Timing: fastTiming})
	done := make(chan struct{})
	go func() {
		defer close(done)
		m.Run(context.Background())
	}()
	m.Watch(MasterSpec{Name: "m", Addr: Addr{Host: "127.0.0.1", Port: srv.port()}, DownAfter: time.Hour,
		KnownSentinels: []SentinelRef{{Addr: Addr{Host: "127.0.0.1", Port: srv.port()}, RunID: idB}}})
	redistest.Until(t, 2*time.Second, "connected", func() bool {
		st := status(t, m, "m")
		return st.Master.RunID != "" && !st.Sentinels[0].Disconnected
	})
	m.Close()
	<-done
	st := status(t, m, "m")
	if !st.Master.Disconnected || !st.Sentinels[0].Disconnected {
		t.Fatalf("links still up after Close: %+v", st)
	}
	m.Close()                   // idempotent
	m.Run(context.Background()) // returns at once once closed
	srv.close()
	redistest.Until(t, 2*time.Second, "goroutines to exit", func() bool { return runtime.NumGoroutine() <= before })
}

// A node slow to answer gets one INFO and one hello at a time. redis-
// sentinel repeats both at every timer run until answered, so the slower a
// node answered, the more it was asked (three sentinels starting together
// at 1000 masters had a fleet take seconds to answer a PING, and reported
// hundreds of healthy masters down).
func TestUnansweredInfoAndHelloAreNotRepeated(t *testing.T) {
	srv := newFakeServer(t, func([]string) string { return "" }) // never answers
	rec := &recorder{}
	m := startMonitor(t, rec.config(idA, Config{
		Timing: fastTiming,
		HelloPayload: func(name, ip string) (string, bool) {
			return fmt.Sprintf("%s,26379,%s,0,%s,127.0.0.1,%d,0", ip, idA, name, srv.port()), true
		},
	}))
	m.Watch(MasterSpec{Name: "m", Addr: Addr{Host: "127.0.0.1", Port: srv.port()}, DownAfter: 10 * time.Second})
	// Unanswered PINGs go every half ping period (50 ms): twelve of them
	// span twelve timer runs past the first hello's due time.
	redistest.Until(t, 5*time.Second, "twelve PINGs", func() bool { return len(srv.commands("PING")) >= 12 })
	if n := len(srv.commands("CLIENT")); n != 2 {
		t.Fatalf("%d connections, want the first two", n)
	}
	if n := len(srv.commands("INFO")); n != 1 {
		t.Fatalf("%d INFO sent while the first was unanswered, want 1", n)
	}
	if n := len(srv.commands("PUBLISH")); n != 1 {
		t.Fatalf("%d hello PUBLISH sent while the first was unanswered, want 1", n)
	}
}

// SDownMasters is kept as a set beside the masters' records: it must
// follow every way a master's SDOWN ends (-sdown, a reset, Unwatch).
func TestSDownMastersFollowsSDown(t *testing.T) {
	pings := map[string]*switchable{}
	rec := &recorder{}
	m := startMonitor(t, rec.config(idA, Config{Timing: fastTiming}))
	for _, name := range []string{"a", "b"} {
		ping := &switchable{v: "+PONG\r\n"}
		pings[name] = ping
		srv := newFakeServer(t, redisLike(func() string { return masterInfo(strings.Repeat("5", 40)) }, ping.get))
		m.Watch(MasterSpec{Name: name, Addr: Addr{Host: "127.0.0.1", Port: srv.port()}, DownAfter: 300 * time.Millisecond})
	}
	sdown := func(want ...string) {
		t.Helper()
		redistest.Until(t, 3*time.Second, fmt.Sprintf("SDOWN masters %q", want), func() bool {
			got := m.SDownMasters()
			return slices.Equal(got, want) || len(got) == 0 && len(want) == 0
		})
		for _, name := range []string{"a", "b"} {
			if st, ok := m.Status(name); ok && st.Master.SDown != slices.Contains(want, name) {
				t.Fatalf("%s: SDown %v, SDownMasters %q", name, st.Master.SDown, want)
			}
		}
	}
	sdown()
	// -BUSY is not a valid PING reply: SDOWN after down-after.
	pings["b"].set("-BUSY busy\r\n")
	sdown("b")
	pings["a"].set("-BUSY busy\r\n")
	sdown("a", "b")
	pings["a"].set("+PONG\r\n")
	sdown("b")
	m.Reset("b") // a reset master starts over, not down
	if got := m.SDownMasters(); slices.Contains(got, "b") {
		t.Fatalf("SDownMasters %q right after resetting b", got)
	}
	sdown("b") // still answering -BUSY
	m.Unwatch("b")
	if got := m.SDownMasters(); len(got) != 0 {
		t.Fatalf("SDownMasters %q after unwatching b", got)
	}
}
