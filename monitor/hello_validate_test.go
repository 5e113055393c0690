package monitor

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/internal/redistest"
)

// A hello that fails validation reaches neither the sentinel table nor the
// receiver (OnHello: epochs, master addresses).
func TestInvalidHellosAreDropped(t *testing.T) {
	rec := &recorder{}
	m := startMonitor(t, rec.config(idA, Config{Timing: fastTiming}))
	watchOffline(m, "mymaster")
	for _, in := range []string{
		"127.0.0.2,-5," + idB + ",1,mymaster,127.0.0.1,6379,0",
		"127.0.0.2,70000," + idB + ",1,mymaster,127.0.0.1,6379,0",
		"127.0.0.2,26379,not-a-runid,1,mymaster,127.0.0.1,6379,0",
		"127.0.0.2,26379," + idB + ",-1,mymaster,127.0.0.1,6379,0",
		"127.0.0.2,26379," + idB + ",1,mymaster,127.0.0.1,0,99",
		"127.0.0.2,26379," + idB + ",1,mymaster,127.0.0.1,6379,18446744073709551616",
	} {
		m.ProcessHello(in)
	}
	// A valid hello after them is the first one delivered.
	m.ProcessHello("127.0.0.3,26379," + idC + ",1,mymaster,127.0.0.1,6379,0")
	redistest.Until(t, 2*time.Second, "the valid hello", func() bool { return rec.helloCount() >= 1 })
	if n := rec.helloCount(); n != 1 || rec.lastHello().SentinelID != idC {
		t.Fatalf("%d hellos delivered, last %+v", n, rec.lastHello())
	}
	if st := status(t, m, "mymaster"); len(st.Sentinels) != 1 || st.Sentinels[0].RunID != idC {
		t.Fatalf("sentinels = %+v", st.Sentinels)
	}
}

// A hello received on a master's pub/sub link is about that master: one
// naming another master is dropped (a node that one master's sentinels
// publish to cannot speak for another master).
func TestHelloForAnotherMasterOnALinkIsDropped(t *testing.T) {
	var mu sync.Mutex
	var payloads []string
	srv := newFakeServer(t, func(args []string) string {
		if strings.EqualFold(args[0], "SUBSCRIBE") {
			mu.Lock()
			defer mu.Unlock()
			out := "*3\r\n$9\r\nsubscribe\r\n$18\r\n__sentinel__:hello\r\n:1\r\n"
			for _, p := range payloads {
				out += fmt.Sprintf("*3\r\n$7\r\nmessage\r\n$18\r\n__sentinel__:hello\r\n$%d\r\n%s\r\n", len(p), p)
			}
			return out
		}
		return redisLike(func() string { return masterInfo(strings.Repeat("2", 40)) }, func() string { return "+PONG\r\n" })(args)
	})
	payloads = []string{
		"127.0.0.5,26379," + idB + ",1,other,127.0.0.1,6379,0",
		fmt.Sprintf("127.0.0.6,26379,%s,1,m,127.0.0.1,%d,0", idC, srv.port()),
	}
	rec := &recorder{}
	m := startMonitor(t, rec.config(idA, Config{Timing: fastTiming}))
	watchOffline(m, "other")
	m.Watch(MasterSpec{Name: "m", Addr: Addr{Host: "127.0.0.1", Port: srv.port()}, DownAfter: time.Hour})
	rec.waitEvent(t, 5*time.Second, "+sentinel", func(e Event) bool { return e.Ref.Name == idC })
	if st := status(t, m, "other"); len(st.Sentinels) != 0 {
		t.Fatalf("a hello about \"other\" on m's link added %+v", st.Sentinels)
	}
	for _, h := range hellosOf(rec) {
		if h.Master != "m" {
			t.Fatalf("hello delivered: %+v", h)
		}
	}
}

// fakeSentinel answers PING, SENTINEL MYID with myid, and
// is-master-down-by-addr with "down".
func fakeSentinel(t *testing.T, myid string) *fakeServer {
	return fakeSentinelMyID(t, func() string { return fmt.Sprintf("$%d\r\n%s\r\n", len(myid), myid) })
}

// fakeSentinelMyID is fakeSentinel whose SENTINEL MYID reply (raw RESP) is
// myid's, asked at each request.
func fakeSentinelMyID(t *testing.T, myid func() string) *fakeServer {
	return fakeSentinelAnswering(t, myid, func([]string) string { return "*3\r\n:1\r\n$1\r\n*\r\n:0\r\n" })
}

// fakeSentinelAnswering is a fake sentinel whose SENTINEL MYID reply (raw
// RESP) is myid's and whose is-master-down-by-addr reply is down's, given
// the request.
func fakeSentinelAnswering(t *testing.T, myid func() string, down func(args []string) string) *fakeServer {
	return fakeSentinelServer(t, myid, down, func() string { return "-ERR unknown subcommand\r\n" })
}

// fakeSentinelFlavor is a fake sentinel whose SENTINEL MYID reply is id's
// and whose SENTINEL MAINTENANCE STATUS reply (raw RESP) is maintenance's.
func fakeSentinelFlavor(t *testing.T, id string, maintenance func() string) *fakeServer {
	return fakeSentinelServer(t, func() string { return fmt.Sprintf("$%d\r\n%s\r\n", len(id), id) },
		func([]string) string { return "*3\r\n:1\r\n$1\r\n*\r\n:0\r\n" }, maintenance)
}

// fakeSentinelServer answers PING, and SENTINEL MYID, is-master-down-by-addr
// and MAINTENANCE STATUS with the replies (raw RESP) of myid, down and
// maintenance; other SENTINEL subcommands with an unknown-subcommand error,
// and anything else with +OK.
func fakeSentinelServer(t *testing.T, myid func() string, down func(args []string) string, maintenance func() string) *fakeServer {
	return newFakeServer(t, func(args []string) string {
		switch strings.ToUpper(args[0]) {
		case "PING":
			return "+PONG\r\n"
		case "SENTINEL":
			switch {
			case len(args) == 2 && strings.EqualFold(args[1], "myid"):
				return myid()
			case len(args) > 1 && strings.EqualFold(args[1], "is-master-down-by-addr"):
				return down(args)
			case len(args) == 3 && strings.EqualFold(args[1], "maintenance"):
				return maintenance()
			}
			return "-ERR unknown subcommand\r\n"
		}
		return "+OK\r\n"
	})
}

// A sentinel is counted (asked is-master-down-by-addr, its "down" kept) only
// once our own link to the address it announced answered SENTINEL MYID with
// the runid it announced. A hello naming an address where another sentinel
// (or anything else) answers gets no vote.
func TestSentinelVoteCountedOnlyOnceItsIDIsConfirmed(t *testing.T) {
	impostor := fakeSentinel(t, idC) // announced as idB, answers idC
	honest := fakeSentinel(t, "dddddddd44444444444444444444444444444444")
	rec := &recorder{}
	m := startMonitor(t, rec.config(idA, Config{Timing: fastTiming}))
	// The master's port is closed: it goes SDOWN after down-after.
	m.Watch(MasterSpec{Name: "m", Addr: Addr{Host: "127.0.0.1", Port: freePort(t)}, DownAfter: 200 * time.Millisecond})
	rec.waitEvent(t, 3*time.Second, "+sdown", kind(KindMaster))

	m.ProcessHello(fmt.Sprintf("127.0.0.1,%d,%s,0,m,127.0.0.1,6379,0", impostor.port(), idB))
	m.ProcessHello(fmt.Sprintf("127.0.0.1,%d,%s,0,m,127.0.0.1,6379,0", honest.port(), "dddddddd44444444444444444444444444444444"))
	redistest.Until(t, 5*time.Second, "the honest sentinel's vote", func() bool {
		for _, s := range status(t, m, "m").Sentinels {
			if s.Ref.Addr.Port == honest.port() {
				return s.MasterDown && s.IDConfirmed
			}
		}
		return false
	})
	// By now the impostor was asked MYID and answered long ago.
	redistest.Until(t, 3*time.Second, "MYID asked of the impostor", func() bool { return len(impostor.commands("SENTINEL")) > 0 })
	for _, s := range status(t, m, "m").Sentinels {
		if s.Ref.Addr.Port == impostor.port() && (s.MasterDown || s.IDConfirmed) {
			t.Fatalf("the impostor's vote counts: %+v", s)
		}
	}
	for _, c := range impostor.commands("SENTINEL") {
		if len(c) > 1 && strings.EqualFold(c[1], "is-master-down-by-addr") {
			t.Fatalf("the impostor was asked for its vote: %q", c)
		}
	}
}

func hellosOf(r *recorder) []Hello {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Hello(nil), r.hellos...)
}

// downAsks are the is-master-down-by-addr requests a fake sentinel received.
func downAsks(f *fakeServer) [][]string {
	var out [][]string
	for _, c := range f.commands("SENTINEL") {
		if len(c) > 1 && strings.EqualFold(c[1], "is-master-down-by-addr") {
			out = append(out, c)
		}
	}
	return out
}

// An is-master-down-by-addr reply whose leader is neither "*" nor a runid,
// or whose epoch is negative, is ignored like any malformed reply.
func TestMalformedDownReplyIgnored(t *testing.T) {
	const id = "dddddddd44444444444444444444444444444444"
	srv := newFakeServer(t, func(args []string) string {
		switch strings.ToUpper(args[0]) {
		case "PING":
			return "+PONG\r\n"
		case "SENTINEL":
			if strings.EqualFold(args[1], "myid") {
				return "$40\r\n" + id + "\r\n"
			}
			return "*3\r\n:1\r\n$3\r\nbad\r\n:-5\r\n"
		}
		return "+OK\r\n"
	})
	rec := &recorder{}
	m := startMonitor(t, rec.config(idA, Config{Timing: fastTiming}))
	m.Watch(MasterSpec{Name: "m", Addr: Addr{Host: "127.0.0.1", Port: freePort(t)}, DownAfter: 200 * time.Millisecond})
	rec.waitEvent(t, 3*time.Second, "+sdown", kind(KindMaster))
	m.ProcessHello(fmt.Sprintf("127.0.0.1,%d,%s,0,m,127.0.0.1,6379,0", srv.port(), id))
	redistest.Until(t, 5*time.Second, "three asks", func() bool { return len(downAsks(srv)) >= 3 })
	st := status(t, m, "m").Sentinels
	if len(st) != 1 || !st[0].IDConfirmed || st[0].MasterDown || st[0].VotedLeader != "" {
		t.Fatalf("after malformed replies: %+v", st)
	}
}

// A sentinel whose first SENTINEL MYID failed (still loading, an ACL
// changed since) is asked again: one transient error on a long-lived
// connection must not keep its vote out of ODOWN for the connection's
// life (in the chaos campaign a quorum was then never reached).
func TestSentinelIDConfirmedAfterAFailedMyID(t *testing.T) {
	const id = "dddddddd44444444444444444444444444444444"
	var mu sync.Mutex
	asked := 0
	srv := fakeSentinelMyID(t, func() string {
		mu.Lock()
		defer mu.Unlock()
		if asked++; asked == 1 {
			return "-LOADING Redis is loading the dataset in memory\r\n"
		}
		return fmt.Sprintf("$%d\r\n%s\r\n", len(id), id)
	})
	rec := &recorder{}
	m := startMonitor(t, rec.config(idA, Config{Timing: fastTiming}))
	m.Watch(MasterSpec{Name: "m", Addr: Addr{Host: "127.0.0.1", Port: freePort(t)}, DownAfter: 200 * time.Millisecond})
	rec.waitEvent(t, 3*time.Second, "+sdown", kind(KindMaster))
	m.ProcessHello(fmt.Sprintf("127.0.0.1,%d,%s,0,m,127.0.0.1,6379,0", srv.port(), id))
	redistest.Until(t, 5*time.Second, "the sentinel's vote once it confirmed its id", func() bool {
		for _, s := range status(t, m, "m").Sentinels {
			if s.Ref.Addr.Port == srv.port() {
				return s.MasterDown && s.IDConfirmed
			}
		}
		return false
	})
	mu.Lock()
	defer mu.Unlock()
	if asked < 2 {
		t.Fatalf("SENTINEL MYID asked %d times, want a retry after the error", asked)
	}
}

// A sentinel's flavor is positive evidence only: redis-sentinel declines
// gosentinel's own SENTINEL MAINTENANCE STATUS with its unknown-subcommand
// error (Declined), a gosentinel answers it, and an error that says
// nothing (an ACL's NOPERM) is asked again until an answer does. Failed
// peer probes alone (packet loss) made gosentinels look foreign before.
func TestSentinelFlavor(t *testing.T) {
	redistest.RequireBin(t, redistest.ReferenceSentinelBin)
	real := redistest.StartSentinel(t, redistest.SentinelOptions{Bin: redistest.ReferenceSentinelBin})
	realID, err := real.MyID()
	if err != nil {
		t.Fatal(err)
	}
	const goID = "eeeeeeee55555555555555555555555555555555"
	var mu sync.Mutex
	goAsked := 0
	gosentinel := fakeSentinelFlavor(t, goID, func() string {
		mu.Lock()
		defer mu.Unlock()
		if goAsked++; goAsked == 1 {
			return "-NOPERM User default has no permissions to run the 'sentinel|maintenance' command\r\n"
		}
		return maintenanceStatusReply
	})
	m := startMonitor(t, (&recorder{}).config(idA, Config{Timing: fastTiming}))
	m.Watch(MasterSpec{Name: "m", Addr: Addr{Host: "127.0.0.1", Port: freePort(t)}, DownAfter: 5 * time.Second})
	m.ProcessHello(fmt.Sprintf("127.0.0.1,%d,%s,0,m,127.0.0.1,6379,0", real.Port(), realID))
	m.ProcessHello(fmt.Sprintf("127.0.0.1,%d,%s,0,m,127.0.0.1,6379,0", gosentinel.port(), goID))
	byID := func() map[string]InstanceStatus {
		out := map[string]InstanceStatus{}
		for _, s := range status(t, m, "m").Sentinels {
			out[s.RunID] = s
		}
		return out
	}
	redistest.Until(t, 5*time.Second, "redis-sentinel declined, the gosentinel asked again after NOPERM", func() bool {
		s := byID()
		mu.Lock()
		defer mu.Unlock()
		return s[realID].Declined && s[realID].IDConfirmed && s[goID].IDConfirmed && goAsked >= 2
	})
	if s := byID(); s[goID].Declined {
		t.Fatalf("a gosentinel taken as declined: %+v", s[goID])
	}
}

// GroupStatus is Status without the sentinels: the same master and
// replicas.
func TestGroupStatusLeavesOutSentinels(t *testing.T) {
	rec := &recorder{}
	m := startMonitor(t, rec.config(idA, Config{Timing: fastTiming}))
	watchOffline(m, "mymaster")
	m.ProcessHello("127.0.0.3,26379," + idC + ",1,mymaster,127.0.0.1,6379,0")
	redistest.Until(t, 2*time.Second, "the sentinel", func() bool { return len(status(t, m, "mymaster").Sentinels) == 1 })
	full := status(t, m, "mymaster")
	g, ok := m.GroupStatus("mymaster")
	if !ok || g.Sentinels != nil {
		t.Fatalf("GroupStatus = %+v, %v; want no sentinels", g.Sentinels, ok)
	}
	if g.Master.Ref.Addr != full.Master.Ref.Addr || g.Master.Ref.Name != full.Master.Ref.Name || len(g.Replicas) != len(full.Replicas) {
		t.Fatalf("GroupStatus master %+v replicas %d; Status master %+v replicas %d", g.Master.Ref, len(g.Replicas), full.Master.Ref, len(full.Replicas))
	}
	if _, ok := m.GroupStatus("unknown"); ok {
		t.Fatal("GroupStatus found an unknown master")
	}
}

// AnyDeclined is true exactly while a command link is open to a sentinel
// that declined gosentinel's subcommand: not for a gosentinel, and no
// longer once that link closed (the node's mixed-set rounds skip their
// look at every sentinel record while it is false).
func TestAnyDeclinedFollowsTheLinks(t *testing.T) {
	const goID = "eeeeeeee55555555555555555555555555555555"
	const otherID = "ffffffff66666666666666666666666666666666"
	gosentinel := fakeSentinelFlavor(t, goID, func() string { return maintenanceStatusReply })
	other := fakeSentinelFlavor(t, otherID, func() string {
		return "-ERR unknown subcommand 'MAINTENANCE'. Try SENTINEL HELP.\r\n"
	})
	m := startMonitor(t, (&recorder{}).config(idA, Config{Timing: fastTiming}))
	m.Watch(MasterSpec{Name: "m", Addr: Addr{Host: "127.0.0.1", Port: freePort(t)}, DownAfter: 5 * time.Second})
	m.ProcessHello(fmt.Sprintf("127.0.0.1,%d,%s,0,m,127.0.0.1,6379,0", gosentinel.port(), goID))
	redistest.Until(t, 5*time.Second, "the gosentinel's id confirmed", func() bool {
		for _, s := range status(t, m, "m").Sentinels {
			if s.RunID == goID && s.IDConfirmed {
				return len(gosentinel.commands("SENTINEL")) >= 2
			}
		}
		return false
	})
	if m.AnyDeclined() {
		t.Fatal("AnyDeclined with only a gosentinel")
	}
	m.ProcessHello(fmt.Sprintf("127.0.0.1,%d,%s,0,m,127.0.0.1,6379,0", other.port(), otherID))
	redistest.Until(t, 5*time.Second, "AnyDeclined once the other sentinel declined", m.AnyDeclined)
	// Its connection drops and cannot come back (a restart, a reset):
	// it is still a redis-sentinel, in AnyDeclined and in Sentinels, until
	// a new connection answers otherwise or it is forgotten. Clearing it
	// with the connection let a gosentinel that is not a member take the
	// set for gosentinels only at once, and drop a running election.
	other.close()
	redistest.Until(t, 5*time.Second, "its link seen down", func() bool {
		for _, s := range status(t, m, "m").Sentinels {
			if s.RunID == otherID {
				return s.Disconnected && !s.IDConfirmed
			}
		}
		return false
	})
	if !m.AnyDeclined() {
		t.Error("AnyDeclined false once the redis-sentinel's connection closed")
	}
	var kept bool
	for _, s := range m.Sentinels() {
		if s.RunID == otherID {
			kept = s.Declined && !s.HelloReceived.IsZero()
		}
	}
	if !kept {
		t.Errorf("Sentinels no longer lists the redis-sentinel as declined with its hello: %+v", m.Sentinels())
	}
	// keptFor after its link last answered, it is gone for good.
	m.mu.Lock()
	for _, s := range m.masters["m"].sentinels {
		if s.runID == otherID {
			s.link.lastAvail = time.Now().Add(-keptFor)
		}
	}
	m.mu.Unlock()
	if m.AnyDeclined() {
		t.Error("AnyDeclined keptFor after the redis-sentinel's link last answered")
	}
	for _, s := range m.Sentinels() {
		if s.RunID == otherID && (s.Declined || !s.HelloReceived.IsZero()) {
			t.Errorf("Sentinels still keeps it: %+v", s)
		}
	}
}

// TestDeclinedUntilANewConnectionAnswers: a sentinel that declined and
// restarted as a gosentinel at the same address, with the same id (the
// roll's last step), is declined until its new connection answers, then
// not.
func TestDeclinedUntilANewConnectionAnswers(t *testing.T) {
	const id = "abababab77777777777777777777777777777777"
	var mu sync.Mutex
	reply := "-ERR unknown subcommand 'MAINTENANCE'. Try SENTINEL HELP.\r\n"
	s := fakeSentinelFlavor(t, id, func() string {
		mu.Lock()
		defer mu.Unlock()
		return reply
	})
	m := startMonitor(t, (&recorder{}).config(idA, Config{Timing: fastTiming}))
	m.Watch(MasterSpec{Name: "m", Addr: Addr{Host: "127.0.0.1", Port: freePort(t)}, DownAfter: 5 * time.Second})
	m.ProcessHello(fmt.Sprintf("127.0.0.1,%d,%s,0,m,127.0.0.1,6379,0", s.port(), id))
	redistest.Until(t, 5*time.Second, "declined", m.AnyDeclined)
	mu.Lock()
	reply = maintenanceStatusReply
	mu.Unlock()
	s.killConns()
	redistest.Until(t, 5*time.Second, "not declined once a new connection answered as a gosentinel", func() bool { return !m.AnyDeclined() })
	for _, x := range m.Sentinels() {
		if x.Declined {
			t.Errorf("still declined: %+v", x)
		}
	}
}

// maintenanceStatusReply is a gosentinel's answer to SENTINEL MAINTENANCE
// STATUS: no master paused.
const maintenanceStatusReply = "*1\r\n*2\r\n$1\r\n*\r\n:0\r\n"

// AppendReplicas and AppendSentinels append, after what dst holds, exactly
// the replicas and sentinels Status lists, and find no unknown master.
func TestAppendStatusesAsStatus(t *testing.T) {
	rec := &recorder{}
	m := startMonitor(t, rec.config(idA, Config{Timing: fastTiming}))
	m.Watch(MasterSpec{Name: "mymaster", Addr: Addr{Host: "127.0.0.1", Port: 0}, DownAfter: time.Hour,
		KnownReplicas: []Addr{{Host: "127.0.0.1", Port: 1}, {Host: "127.0.0.1", Port: 2}}})
	m.ProcessHello("127.0.0.3,26379," + idC + ",1,mymaster,127.0.0.1,6379,0")
	redistest.Until(t, 2*time.Second, "the sentinel", func() bool { return len(status(t, m, "mymaster").Sentinels) == 1 })
	full := status(t, m, "mymaster")
	if len(full.Replicas) != 2 {
		t.Fatalf("Status lists %d replicas, want 2", len(full.Replicas))
	}
	keep := InstanceStatus{RunID: "kept"}
	for _, c := range []struct {
		kind string
		fn   func([]InstanceStatus, string) ([]InstanceStatus, bool)
		want []InstanceStatus
	}{
		{"replicas", m.AppendReplicas, full.Replicas},
		{"sentinels", m.AppendSentinels, full.Sentinels},
	} {
		got, ok := c.fn([]InstanceStatus{keep}, "mymaster")
		if !ok || len(got) != 1+len(c.want) || got[0].RunID != "kept" {
			t.Fatalf("%s: %d statuses, %v; want the kept one and %d", c.kind, len(got), ok, len(c.want))
		}
		for i, w := range c.want {
			if g := got[1+i]; g.Ref != w.Ref || g.RunID != w.RunID || g.Disconnected != w.Disconnected {
				t.Errorf("%s %d: %+v, Status lists %+v", c.kind, i, g.Ref, w.Ref)
			}
		}
		if got, ok := c.fn(nil, "unknown"); ok || len(got) != 0 {
			t.Errorf("%s of an unknown master: %d, %v", c.kind, len(got), ok)
		}
	}
}
