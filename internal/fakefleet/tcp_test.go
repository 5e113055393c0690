package fakefleet

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/internal/redistest"
	"github.com/x0tta6bl4/gosentinel/monitor"
)

func startFleet(t *testing.T, n int) *Fleet {
	t.Helper()
	f, err := ListenPorts(make([]int, n))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func dial(t *testing.T, port int) *redistest.Conn {
	t.Helper()
	return redistest.MustDial(t, redistest.Addr(port))
}

func do(t *testing.T, c *redistest.Conn, args ...string) *redistest.Reply {
	t.Helper()
	r, err := c.Do(args...)
	if err != nil {
		t.Fatalf("%q: %v", args, err)
	}
	return r
}

// TestSameRepliesAsRedis sends the same commands to a fake master and to a
// real redis-server 7.0.15 and compares the replies byte for byte.
func TestSameRepliesAsRedis(t *testing.T) {
	f := startFleet(t, 1)
	real := redistest.StartRedis(t, redistest.RedisOptions{})
	script := [][]string{
		{"PING"}, {"PING", "hi"}, {"PING", "a", "b"}, {"ECHO", "x"}, {"ROLE"},
		{"FOO", "a", "b"}, {"CLIENT", "GETNAME"}, {"CLIENT", "SETNAME", "sentinel-0123abcd-cmd"},
		{"CLIENT", "GETNAME"}, {"CLIENT", "SETNAME", "a b"}, {"CLIENT", "FOO"}, {"CLIENT", "KILL", "TYPE", "pubsub"},
		{"SCRIPT", "KILL"}, {"AUTH", "pw"}, {"AUTH", "default", "x"}, {"PUBLISH", "ch", "m"},
		{"CONFIG", "FOO"}, {"CONFIG", "GET", "min-replicas-to-write"}, {"CONFIG", "GET", "MIN-REPLICAS-MAX-LAG"},
		{"CONFIG", "GET", "nosuchparam"}, {"CONFIG", "SET", "nosuchparam", "1"}, {"CONFIG", "SET", "min-replicas-max-lag"},
		{"CONFIG", "SET", "min-replicas-max-lag", "7"}, {"CONFIG", "GET", "min-replicas-max-lag"}, {"CONFIG", "SET", "min-replicas-max-lag", "10"},
		{"REPLICAOF", "NO", "ONE"}, {"UNSUBSCRIBE"}, {"EXEC"}, {"DISCARD"},
		{"MULTI"}, {"ROLE"}, {"PING"}, {"EXEC"},
		{"MULTI"}, {"NOSUCH"}, {"PING"}, {"EXEC"},
		{"SUBSCRIBE", "__sentinel__:hello"}, {"PING"}, {"ROLE"}, {"UNSUBSCRIBE", "__sentinel__:hello"},
	}
	fake, ref := dial(t, f.Ports()[0]), real.Dial(t)
	for _, args := range script {
		want, got := do(t, ref, args...), do(t, fake, args...)
		if string(got.Raw) != string(want.Raw) {
			t.Errorf("%q: fake %q, redis-server %q", args, got.Raw, want.Raw)
		}
	}
}

func TestPublishReachesOnlyItsMaster(t *testing.T) {
	f := startFleet(t, 2)
	p := f.Ports()
	sub0, sub1, pub := dial(t, p[0]), dial(t, p[1]), dial(t, p[0])
	for _, s := range []*redistest.Conn{sub0, sub1} {
		if r := do(t, s, "SUBSCRIBE", "__sentinel__:hello"); len(r.Elems) != 3 || r.Elems[0].Str != "subscribe" {
			t.Fatalf("SUBSCRIBE: %s", r)
		}
	}
	if r := do(t, pub, "PUBLISH", "__sentinel__:hello", "hello-0"); r.Int != 1 {
		t.Fatalf("PUBLISH on master 0 reached %d subscribers, want 1", r.Int)
	}
	m, err := sub0.Read()
	if err != nil || len(m.Elems) != 3 || m.Elems[0].Str != "message" || m.Elems[2].Str != "hello-0" {
		t.Fatalf("master 0's subscriber read %v, %v", m, err)
	}
	sub1.Timeout = 200 * time.Millisecond
	if m, err := sub1.Read(); err == nil {
		t.Fatalf("master 1's subscriber got %s", m)
	}
}

func TestDarkAndLight(t *testing.T) {
	f := startFleet(t, 2)
	p := f.Ports()
	c, ctl, other := dial(t, p[0]), dial(t, p[0]), dial(t, p[1])
	do(t, c, "CLIENT", "SETNAME", "sentinel-0123abcd-cmd")
	if r := do(t, ctl, "FAKEFLEET", "DARK"); r.Str != "OK" {
		t.Fatalf("DARK: %s", r)
	}
	// A sentinel's PING may come behind its hello PUBLISH: it is noted
	// all the same.
	sent := time.Now()
	if err := c.WriteRaw(append(redistest.EncodeCommand("PUBLISH", "__sentinel__:hello", "x"), redistest.EncodeCommand("PING")...)); err != nil {
		t.Fatal(err)
	}
	c.Timeout = 300 * time.Millisecond
	if r, err := c.Read(); err == nil {
		t.Fatalf("a dark master answered %s", r)
	}
	// A new connection is still accepted, as by a SIGSTOPped redis.
	late := dial(t, p[0])
	if err := late.Send("INFO"); err != nil {
		t.Fatal(err)
	}
	if r := do(t, other, "PING"); r.Str != "PONG" {
		t.Fatalf("the other master answered %s", r)
	}
	if r := do(t, ctl, "FAKEFLEET", "STATE"); !strings.HasPrefix(r.Str, "dark=1 replicaof=none clients=") {
		t.Fatalf("STATE: %s", r)
	}
	pings := do(t, ctl, "FAKEFLEET", "PINGS")
	if len(pings.Elems) != 2 || pings.Elems[0].Str != "sentinel-0123abcd-cmd" {
		t.Fatalf("PINGS: %s", pings)
	}
	if at, _ := strconv.ParseInt(pings.Elems[1].Str, 10, 64); time.UnixMicro(at).Sub(sent).Abs() > 200*time.Millisecond {
		t.Fatalf("PINGS: the PING sent at %v noted at %v", sent, time.UnixMicro(at))
	}
	do(t, ctl, "FAKEFLEET", "LIGHT")
	c.Timeout = redistest.DefaultTimeout
	// The commands sent while dark are answered now, in order.
	if r, err := c.Read(); err != nil || r.Kind != redistest.KindInt {
		t.Fatalf("PUBLISH after LIGHT: %v, %v", r, err)
	}
	if r, err := c.Read(); err != nil || r.Str != "PONG" {
		t.Fatalf("PING after LIGHT: %v, %v", r, err)
	}
	if r := do(t, c, "ECHO", "still in order"); r.Str != "still in order" {
		t.Fatalf("ECHO after LIGHT: %s", r)
	}
	if r, err := late.Read(); err != nil || monitor.ParseInfo(r.Str).Role != "master" {
		t.Fatalf("INFO after LIGHT: %v, %v", r, err)
	}
}

func TestReplicaOfIsRecorded(t *testing.T) {
	f := startFleet(t, 1)
	c := dial(t, f.Ports()[0])
	// What sentinelSendSlaveOf sends.
	for _, args := range [][]string{{"MULTI"}, {"SLAVEOF", "127.0.0.1", "7002"}, {"CONFIG", "REWRITE"},
		{"CLIENT", "KILL", "TYPE", "normal"}, {"CLIENT", "KILL", "TYPE", "pubsub"}} {
		do(t, c, args...)
	}
	r := do(t, c, "EXEC")
	if r.String() == "" || len(r.Elems) != 4 || r.Elems[0].Str != "OK" || r.Elems[1].Str != "OK" {
		t.Fatalf("EXEC: %s", r)
	}
	if got := f.ReplicaOf(0); got != "127.0.0.1:7002" {
		t.Fatalf("ReplicaOf = %q", got)
	}
	in := monitor.ParseInfo(do(t, c, "INFO").Str)
	if in.Role != "slave" || in.MasterPort != 7002 {
		t.Fatalf("INFO after SLAVEOF: %+v", in)
	}
	if r := do(t, c, "ROLE"); len(r.Elems) != 5 || r.Elems[0].Str != "slave" || r.Elems[2].Int != 7002 {
		t.Fatalf("ROLE: %s", r)
	}
	do(t, c, "REPLICAOF", "NO", "ONE")
	if got := f.ReplicaOf(0); got != "" {
		t.Fatalf("after REPLICAOF NO ONE: %q", got)
	}
	want := "accepted=1 ping=0 info=1 publish=0 subscribe=0 client=2 role=1 replicaof=1 slaveof=1 multi=1 exec=1 script=0 auth=0 fakefleet=1 other=1"
	if r := do(t, c, "FAKEFLEET", "STATS"); r.Str != want {
		t.Fatalf("STATS = %q, want %q", r.Str, want)
	}
}
