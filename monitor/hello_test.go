package monitor

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/internal/redistest"
)

// Port 0 instances are never connected, so these tests exercise the hello
// bookkeeping without any network.
func hello(ip string, port int, id string, epoch int, master string, cfgEpoch int) string {
	return fmt.Sprintf("%s,%d,%s,%d,%s,127.0.0.1,6379,%d", ip, port, id, epoch, master, cfgEpoch)
}

func watchOffline(m *Monitor, name string) {
	m.Watch(MasterSpec{Name: name, Addr: Addr{Host: "127.0.0.1", Port: 0}, DownAfter: time.Hour})
}

func TestHelloSentinelDiscovery(t *testing.T) {
	rec := &recorder{}
	m := startMonitor(t, rec.config(idA, Config{Timing: fastTiming}))
	watchOffline(m, "mymaster")

	m.ProcessHello(hello("127.0.0.2", 1, idB, 5, "mymaster", 3))
	ev, _ := rec.waitEvent(t, 2*time.Second, "+sentinel", nil)
	want := Ref{Kind: KindSentinel, Name: idB, Addr: Addr{Host: "127.0.0.2", Port: 1},
		Master: "mymaster", MasterAddr: Addr{Host: "127.0.0.1", Port: 0}}
	if *ev.Ref != want || ev.Level != LevelNotice || ev.Text != "" {
		t.Fatalf("+sentinel event = %+v ref %+v", ev, *ev.Ref)
	}
	redistest.Until(t, time.Second, "OnHello", func() bool { return rec.helloCount() == 1 })
	h := rec.lastHello()
	if h.SentinelID != idB || h.CurrentEpoch != 5 || h.MasterConfigEpoch != 3 || h.Master != "mymaster" ||
		!h.FromKnownSentinel || h.Sentinel != want || h.SentinelAddr != want.Addr {
		t.Fatalf("hello = %+v", h)
	}
	if rec.topoCount("mymaster") != 1 {
		t.Fatalf("topology changes = %d, want 1", rec.topoCount("mymaster"))
	}
	st := status(t, m, "mymaster")
	if len(st.Sentinels) != 1 || st.Sentinels[0].RunID != idB || st.Sentinels[0].LinkRefcount != 1 ||
		time.Since(st.Sentinels[0].LastHello) > time.Second {
		t.Fatalf("sentinels = %+v", st.Sentinels)
	}

	// The same hello again only refreshes last-hello.
	m.ProcessHello(hello("127.0.0.2", 1, idB, 5, "mymaster", 3))
	redistest.Until(t, time.Second, "second OnHello", func() bool { return rec.helloCount() == 2 })
	if n := rec.count("+sentinel", nil); n != 1 {
		t.Fatalf("+sentinel emitted %d times", n)
	}

	// Same runid, new address: address switch, no +sentinel.
	m.ProcessHello(hello("127.0.0.3", 1, idB, 5, "mymaster", 3))
	ev, _ = rec.waitEvent(t, time.Second, "+sentinel-address-switch", nil)
	if ev.Ref.Kind != KindMaster || ev.Ref.Name != "mymaster" || ev.Text != "ip 127.0.0.3 port 1 for "+idB {
		t.Fatalf("address switch event = %+v", ev)
	}
	st = status(t, m, "mymaster")
	if len(st.Sentinels) != 1 || st.Sentinels[0].Ref.Addr.Host != "127.0.0.3" {
		t.Fatalf("after switch sentinels = %+v", st.Sentinels)
	}

	// Another runid at that address: the old one is invalid and removed.
	m.ProcessHello(hello("127.0.0.3", 1, idC, 6, "mymaster", 3))
	ev, _ = rec.waitEvent(t, time.Second, "+sentinel-invalid-addr", nil)
	if ev.Ref.Kind != KindSentinel || ev.Ref.Name != idB {
		t.Fatalf("invalid-addr event = %+v", ev)
	}
	rec.waitEvent(t, time.Second, "+sentinel", func(e Event) bool { return e.Ref.Name == idC })
	st = status(t, m, "mymaster")
	if len(st.Sentinels) != 1 || st.Sentinels[0].RunID != idC {
		t.Fatalf("after invalid-addr sentinels = %+v", st.Sentinels)
	}

	// Ignored: our own id, wrong field count, unknown master.
	redistest.Until(t, time.Second, "four hellos delivered", func() bool { return rec.helloCount() == 4 })
	before := rec.helloCount()
	m.ProcessHello(hello("127.0.0.9", 1, idA, 1, "mymaster", 0))
	m.ProcessHello("127.0.0.9,1," + idC + ",1,mymaster,127.0.0.1,6379")
	m.ProcessHello(hello("127.0.0.9", 1, idC, 1, "unknown", 0))
	// A hostname without resolve-hostnames: reported, but not added.
	m.ProcessHello(hello("sentinel-host", 1, "dddddddd44444444444444444444444444444444", 7, "mymaster", 0))
	redistest.Until(t, time.Second, "hostname hello", func() bool { return rec.helloCount() == before+1 })
	if h := rec.lastHello(); h.FromKnownSentinel || h.CurrentEpoch != 7 {
		t.Fatalf("hostname hello = %+v", h)
	}
	if st := status(t, m, "mymaster"); len(st.Sentinels) != 1 {
		t.Fatalf("ignored hellos changed sentinels: %+v", st.Sentinels)
	}

	// A known runid announcing an invalid address loses its entry (redis
	// removes by runid before failing to create the new one).
	m.ProcessHello(hello("sentinel-host", 1, idC, 7, "mymaster", 0))
	rec.waitEvent(t, time.Second, "+sentinel-address-switch", func(e Event) bool { return e.Text == "ip sentinel-host port 1 for "+idC })
	if st := status(t, m, "mymaster"); len(st.Sentinels) != 0 {
		t.Fatalf("sentinels = %+v", st.Sentinels)
	}
}

func TestHelloLinkSharingAcrossMasters(t *testing.T) {
	rec := &recorder{}
	m := startMonitor(t, rec.config(idA, Config{Timing: fastTiming}))
	watchOffline(m, "m1")
	watchOffline(m, "m2")

	m.ProcessHello(hello("127.0.0.2", 1, idB, 1, "m1", 0))
	m.ProcessHello(hello("127.0.0.2", 1, idB, 1, "m2", 0))
	for _, name := range []string{"m1", "m2"} {
		st := status(t, m, name)
		if len(st.Sentinels) != 1 || st.Sentinels[0].LinkRefcount != 2 {
			t.Fatalf("%s sentinels = %+v", name, st.Sentinels)
		}
	}

	// An address switch seen under m1 moves the entry under m2 too.
	m.ProcessHello(hello("127.0.0.4", 1, idB, 1, "m1", 0))
	ev, _ := rec.waitEvent(t, time.Second, "+sentinel-address-update", nil)
	if ev.Text != "1 additional matching instances" || ev.Ref.Master != "m1" {
		t.Fatalf("address update event = %+v", ev)
	}
	for _, name := range []string{"m1", "m2"} {
		st := status(t, m, name)
		if len(st.Sentinels) != 1 || st.Sentinels[0].Ref.Addr.Host != "127.0.0.4" || st.Sentinels[0].LinkRefcount != 2 {
			t.Fatalf("%s sentinels after switch = %+v", name, st.Sentinels)
		}
	}

	m.Unwatch("m2")
	if st := status(t, m, "m1"); st.Sentinels[0].LinkRefcount != 1 {
		t.Fatalf("refcount after unwatch = %d", st.Sentinels[0].LinkRefcount)
	}
	if got := m.Names(); len(got) != 1 || got[0] != "m1" {
		t.Fatalf("Names = %v", got)
	}
}

func TestKnownTopologySeeded(t *testing.T) {
	rec := &recorder{}
	m := startMonitor(t, rec.config(idA, Config{Timing: fastTiming}))
	m.Watch(MasterSpec{
		Name: "m", Addr: Addr{Host: "127.0.0.1", Port: 0}, DownAfter: time.Hour,
		KnownReplicas:  []Addr{{Host: "127.0.0.5", Port: 0}, {Host: "not-an-ip", Port: 1}},
		KnownSentinels: []SentinelRef{{Addr: Addr{Host: "127.0.0.6", Port: 0}, RunID: idB}},
	})
	st := status(t, m, "m")
	if len(st.Replicas) != 1 || st.Replicas[0].Ref.Name != "127.0.0.5:0" || st.Replicas[0].RoleReported != "slave" ||
		st.Replicas[0].SlavePriority != 100 || !st.Replicas[0].ReplicaAnnounced || st.Replicas[0].MasterHost != "?" {
		t.Fatalf("replicas = %+v", st.Replicas)
	}
	if len(st.Sentinels) != 1 || st.Sentinels[0].RunID != idB {
		t.Fatalf("sentinels = %+v", st.Sentinels)
	}
	if st.Master.RoleReported != "master" || !st.Master.Disconnected || st.Master.Ref.Kind != KindMaster {
		t.Fatalf("master = %+v", st.Master)
	}
	// Seeding is silent.
	if n := rec.count("+slave", nil) + rec.count("+sentinel", nil); n != 0 {
		t.Fatalf("seeding emitted %d events", n)
	}
}

// A sentinel named by SetGroupMembers (a member of our Raft group) gets
// no hello of ours directly once its link confirmed its id; the others,
// and it again once it is no longer named, do.
func TestGroupMembersGetNoDirectHello(t *testing.T) {
	// A gosentinel: MYID answers idB, MAINTENANCE STATUS is known.
	sentinel := fakeSentinelFlavor(t, idB, func() string { return "+OK\r\n" })
	rec := &recorder{}
	m := startMonitor(t, rec.config(idA, Config{Timing: fastTiming,
		HelloPayload: func(name, ip string) (string, bool) { return "hi", true }}))
	m.Watch(MasterSpec{Name: "m", Addr: Addr{Host: "127.0.0.1", Port: 0}, DownAfter: time.Hour,
		KnownSentinels: []SentinelRef{{Addr: Addr{Host: "127.0.0.1", Port: sentinel.port()}, RunID: idB}}})
	published := func() int { return len(sentinel.commands("PUBLISH")) }
	pings := func() int { return len(sentinel.commands("PING")) }
	redistest.Until(t, 3*time.Second, "id confirmed and hellos published", func() bool {
		st := status(t, m, "m")
		return len(st.Sentinels) == 1 && st.Sentinels[0].IDConfirmed && published() >= 2
	})

	m.SetGroupMembers([]string{idC, idB})
	// A hello queued before the call went out with the PINGs of its run;
	// a PING the server received after the call's next run settles it.
	p0 := pings()
	redistest.Until(t, 2*time.Second, "a PING after the call", func() bool { return pings() >= p0+2 })
	before := published()
	p1 := pings()
	// Ten ping periods: five publish periods.
	redistest.Until(t, 5*time.Second, "ten more PINGs", func() bool { return pings() >= p1+10 })
	if n := published() - before; n != 0 {
		t.Fatalf("%d hellos published to a group member", n)
	}
	m.ForceHello("m")
	redistest.Until(t, 2*time.Second, "two more PINGs", func() bool { return pings() >= p1+12 })
	if n := published() - before; n != 0 {
		t.Fatalf("%d hellos published to a group member after ForceHello", n)
	}

	m.SetGroupMembers(nil)
	redistest.Until(t, 3*time.Second, "hellos again", func() bool { return published() > before })
}

// TestHelloWithOurIDFromElsewhereIsLogged: a hello that carries this
// sentinel's id from an address its own hellos never announced comes from
// a sentinel with the same myid (a copied sentinel.conf). Both ignore the
// other's hellos as their own, as redis-sentinel does, so neither counts
// the other and three such copies never fail over; the log now says why,
// at most once a minute (anyone who can PUBLISH to a node can send them).
func TestHelloWithOurIDFromElsewhereIsLogged(t *testing.T) {
	var logs strings.Builder
	m := New(Config{MyID: idA, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	t.Cleanup(m.Close)
	watchOffline(m, "m")
	const warning = "Another sentinel announces this sentinel's id"
	ours, copied := hello("10.0.0.1", 26379, idA, 1, "m", 1), hello("10.0.0.2", 26379, idA, 1, "m", 1)
	now := time.Now()
	// processHello runs hellos as the pub/sub link's handler does; the
	// counts are read with the lock released.
	processHello := func(payload string, at time.Time) {
		m.mu.Lock()
		m.processHelloLocked(payload, nil, at)
		m.mu.Unlock()
	}
	// Before this sentinel published a hello it cannot tell.
	processHello(copied, now)
	m.mu.Lock()
	m.noteOwnHello(ours)
	m.mu.Unlock()
	processHello(ours, now)
	if strings.Contains(logs.String(), warning) {
		t.Fatalf("logged before a hello of ours was known, or for our own:\n%s", logs.String())
	}
	for range 3 {
		processHello(copied, now)
	}
	if n := strings.Count(logs.String(), warning); n != 1 || !strings.Contains(logs.String(), "10.0.0.2,26379") {
		t.Fatalf("logged %d times, want once naming 10.0.0.2,26379:\n%s", n, logs.String())
	}
	processHello(copied, now.Add(dupIDWarnEvery))
	if n := strings.Count(logs.String(), warning); n != 2 {
		t.Fatalf("logged %d times a minute later, want twice", n)
	}
	if len(status(t, m, "m").Sentinels) != 0 {
		t.Fatal("a hello with our id added a sentinel")
	}
}
