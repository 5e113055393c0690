package replication

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/internal/redistest"
	"github.com/x0tta6bl4/gosentinel/monitor"
)

// The Controller against real redis-server processes.

func redisTarget(r *redistest.Redis) Target {
	return Target{Addr: addr(r.Port()), AuthPass: r.Opts.Password}
}

func TestParseReplication(t *testing.T) {
	master := "# Replication\r\nrole:master\r\nconnected_slaves:2\r\n" +
		"slave0:ip=127.0.0.1,port=7001,state=online,offset=1234,lag=0\r\n" +
		"slave1:ip=10.0.0.2,port=7002,state=wait_bgsave,offset=0,lag=1\r\n" +
		"master_replid:abc\r\nmaster_repl_offset:1300\r\n"
	r := ParseReplication(master)
	if r.Role != "master" || r.MasterReplOffset != 1300 || r.Offset() != 1300 || len(r.Replicas) != 2 ||
		r.Replicas[0] != (ReplicaInfo{Addr: addr(7001), State: "online", Offset: 1234}) ||
		r.Replicas[1].Addr != (monitor.Addr{Host: "10.0.0.2", Port: 7002}) || r.Replicas[1].State != "wait_bgsave" {
		t.Fatalf("master: %+v", r)
	}
	replica := "# Replication\r\nrole:slave\r\nmaster_host:127.0.0.1\r\nmaster_port:7000\r\n" +
		"master_link_status:down\r\nmaster_link_down_since_seconds:12\r\nslave_repl_offset:900\r\n" +
		"slave_priority:0\r\nmaster_repl_offset:901\r\n"
	r = ParseReplication(replica)
	if r.Role != "slave" || !r.follows(addr(7000)) || r.follows(addr(7001)) || r.MasterLinkUp ||
		r.MasterLinkDownTime != 12*time.Second || r.Offset() != 900 || r.SlavePriority != 0 {
		t.Fatalf("replica: %+v", r)
	}
	if r := ParseReplication("role:slave\r\nmaster_host:h\r\nmaster_port:1\r\n"); r.SlavePriority != 100 {
		t.Fatalf("default priority: %+v", r)
	}
}

func TestControllerAgainstRedis(t *testing.T) {
	// Both have a password (b replicates from a); b has SLAVEOF and CONFIG
	// renamed.
	a := redistest.StartRedis(t, redistest.RedisOptions{Password: "pw"})
	b := redistest.StartRedis(t, redistest.RedisOptions{Password: "pw", Args: []string{
		"--rename-command", "SLAVEOF", "MYSLAVEOF", "--rename-command", "CONFIG", "MYCONFIG"}})
	c := NewController()
	t.Cleanup(func() { c.Close() })
	ctx := context.Background()
	ta, tb := redisTarget(a), redisTarget(b)
	tb.Rename = map[string]string{"SLAVEOF": "MYSLAVEOF", "CONFIG": "MYCONFIG"}

	// Without the renames the transaction is refused, and that is reported.
	plain := tb
	plain.Rename = nil
	if err := c.SlaveOf(ctx, plain, &ta.Addr); err == nil {
		t.Fatal("SLAVEOF with the original name accepted on a node that renamed it")
	}
	wrongPass := tb
	wrongPass.AuthPass = "nope"
	if _, err := c.Replication(ctx, wrongPass); err == nil {
		t.Fatal("INFO with a wrong password succeeded")
	}

	if err := c.SlaveOf(ctx, tb, &ta.Addr); err != nil {
		t.Fatal(err)
	}
	redistest.Poll(t, 10*time.Second, 20*time.Millisecond, func() error {
		rep, err := c.Replication(ctx, tb)
		if err != nil {
			return err
		}
		if !rep.follows(ta.Addr) || !rep.MasterLinkUp {
			return redistest.ErrNotYet
		}
		return nil
	})
	rep, err := c.Replication(ctx, ta)
	if err != nil || rep.Role != "master" || len(rep.Replicas) != 1 || rep.Replicas[0].Addr.Port != b.Port() {
		t.Fatalf("master view: %+v %v", rep, err)
	}
	if err := c.SlaveOf(ctx, tb, nil); err != nil {
		t.Fatal(err)
	}
	if rep, err := c.Replication(ctx, tb); err != nil || rep.Role != "master" {
		t.Fatalf("after SLAVEOF NO ONE: %+v %v", rep, err)
	}

	// CLIENT PAUSE WRITE blocks writes until CLIENT UNPAUSE.
	if err := c.PauseWrites(ctx, ta, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	w := a.Dial(t)
	w.Timeout = 300 * time.Millisecond
	if r, err := w.Do("SET", "k", "v"); err == nil {
		t.Fatalf("write answered while paused: %v", r)
	}
	if err := c.Unpause(ctx, ta); err != nil {
		t.Fatal(err)
	}
	w.Timeout = 5 * time.Second
	if r, err := w.Read(); err != nil || r.Str != "OK" {
		t.Fatalf("paused write after unpause: %v %v", r, err)
	}
	// The SLAVEOF transaction drops normal clients (redis-sentinel's
	// contract: clients reconnect and ask the sentinels again).
	if err := c.SlaveOf(ctx, ta, &tb.Addr); err != nil {
		t.Fatal(err)
	}
	if r, err := w.Do("GET", "k"); err == nil && r.Kind != redistest.KindError {
		t.Fatalf("client survived the SLAVEOF transaction: %v", r)
	}
	if info, err := a.Info("replication"); err != nil || info["master_port"] != strconv.Itoa(b.Port()) {
		t.Fatalf("a after SLAVEOF: %v %v", info, err)
	}
}

// auth-pass is often configured before the nodes get their password: the
// AUTH error of a node without one must not cost the failover its replica
// (redis-sentinel ignores AUTH's reply).
func TestControllerAuthPassOnNodeWithoutPassword(t *testing.T) {
	a := redistest.StartRedis(t, redistest.RedisOptions{})
	c := NewController()
	t.Cleanup(func() { c.Close() })
	ta := redisTarget(a)
	ta.AuthPass = "not-yet-required"
	rep, err := c.Replication(context.Background(), ta)
	if err != nil || rep.Role != "master" {
		t.Fatalf("INFO through a controller with auth-pass on a node without a password: %+v %v", rep, err)
	}
}
