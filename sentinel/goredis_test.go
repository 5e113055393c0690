package sentinel

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/x0tta6bl4/gosentinel/internal/redistest"
)

// startRedisServer runs a real redis-server (a data node) on a free port.
func startRedisServer(t *testing.T) int {
	t.Helper()
	bin := redistest.RedisServerBin
	redistest.RequireBin(t, bin)
	port := freePort(t)
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", t.TempDir())
	dieWithTest(cmd)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start redis-server: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
	})
	redistest.Until(t, 10*time.Second, "redis-server", func() bool {
		c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	return port
}

func TestGoRedisSentinelClient(t *testing.T) {
	fb := &fakeBackend{}
	srv, addr := startServer(t, Config{Backend: fb, RequirePass: "secret", HasRequirePass: true})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	sc := redis.NewSentinelClient(&redis.Options{Addr: addr, Password: "secret"})
	defer sc.Close()

	if got, err := sc.Ping(ctx).Result(); err != nil || got != "PONG" {
		t.Fatalf("PING = %q, %v", got, err)
	}
	hp, err := sc.GetMasterAddrByName(ctx, "mymaster").Result()
	if err != nil || len(hp) != 2 || hp[0] != "127.0.0.1" || hp[1] != "6379" {
		t.Fatalf("get-master-addr-by-name = %q, %v", hp, err)
	}
	if _, err := sc.GetMasterAddrByName(ctx, "nope").Result(); err != redis.Nil {
		t.Fatalf("unknown master: err %v, want redis.Nil", err)
	}
	m, err := sc.Master(ctx, "mymaster").Result()
	if err != nil || m["name"] != "mymaster" || m["flags"] != "master" {
		t.Fatalf("MASTER = %v, %v", m, err)
	}
	if _, err := sc.Master(ctx, "nope").Result(); err == nil || err.Error() != "ERR No such master with that name" {
		t.Fatalf("MASTER nope: %v", err)
	}
	if ms, err := sc.Masters(ctx).Result(); err != nil || len(ms) != 1 {
		t.Fatalf("MASTERS = %v, %v", ms, err)
	}
	fb.ReplFn = func(string) ([]Fields, error) {
		return []Fields{{{"name", "127.0.0.1:6380"}, {"ip", "127.0.0.1"}, {"port", "6380"}, {"flags", "slave"}}}, nil
	}
	if rs, err := sc.Replicas(ctx, "mymaster").Result(); err != nil || len(rs) != 1 || rs[0]["port"] != "6380" {
		t.Fatalf("REPLICAS = %v, %v", rs, err)
	}
	if ss, err := sc.Sentinels(ctx, "mymaster").Result(); err != nil || len(ss) != 0 {
		t.Fatalf("SENTINELS = %v, %v", ss, err)
	}
	if q, err := sc.CkQuorum(ctx, "mymaster").Result(); err != nil || !strings.HasPrefix(q, "OK 1 usable") {
		t.Fatalf("CKQUORUM = %q, %v", q, err)
	}
	if n, err := sc.Reset(ctx, "my*").Result(); err != nil || n != 1 {
		t.Fatalf("RESET = %d, %v", n, err)
	}
	if err := sc.Failover(ctx, "mymaster").Err(); err == nil || !strings.HasPrefix(err.Error(), "NOGOODSLAVE") {
		t.Fatalf("FAILOVER: %v", err)
	}
	if err := sc.FlushConfig(ctx).Err(); err != nil {
		t.Fatalf("FLUSHCONFIG: %v", err)
	}
	if err := sc.Monitor(ctx, "m2", "127.0.0.1", "7000", "2").Err(); err != nil {
		t.Fatalf("MONITOR: %v", err)
	}
	if err := sc.Set(ctx, "mymaster", "quorum", "2").Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	if err := sc.Remove(ctx, "mymaster").Err(); err != nil {
		t.Fatalf("REMOVE: %v", err)
	}
	// go-redis always speaks RESP3 to sentinels.
	srv.mu.Lock()
	resp3 := 0
	for _, c := range srv.clients {
		if c.proto() == 3 {
			resp3++
		}
	}
	srv.mu.Unlock()
	if resp3 == 0 {
		t.Fatalf("no RESP3 client: go-redis should have sent HELLO 3")
	}

	// Events through a go-redis subscription (RESP3 push frames).
	ps := sc.Subscribe(ctx, "+switch-master")
	defer ps.Close()
	if _, err := ps.Receive(ctx); err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	redistest.Until(t, 5*time.Second, "subscription registered", func() bool { return srv.Stats().PubsubChannels == 1 })
	if n := srv.Publish("+switch-master", "mymaster 127.0.0.1 6379 127.0.0.1 6380"); n != 1 {
		t.Fatalf("Publish delivered to %d", n)
	}
	msg, err := ps.ReceiveMessage(ctx)
	if err != nil || msg.Channel != "+switch-master" || msg.Payload != "mymaster 127.0.0.1 6379 127.0.0.1 6380" {
		t.Fatalf("message = %+v, %v", msg, err)
	}
}

func TestGoRedisFailoverClient(t *testing.T) {
	p1 := startRedisServer(t)
	p2 := startRedisServer(t)
	var mu sync.Mutex
	current := p1
	fb := &fakeBackend{AddrFn: func(name string) (string, string, bool) {
		mu.Lock()
		defer mu.Unlock()
		if name != "mymaster" {
			return "", "", false
		}
		return "127.0.0.1", strconv.Itoa(current), true
	}}
	srv, addr := startServer(t, Config{Backend: fb, RequirePass: "secret", HasRequirePass: true})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	fc := redis.NewFailoverClient(&redis.FailoverOptions{
		MasterName:       "mymaster",
		SentinelAddrs:    []string{addr},
		SentinelPassword: "secret",
		DialTimeout:      2 * time.Second,
	})
	defer fc.Close()
	if err := fc.Set(ctx, "k", "v1", 0).Err(); err != nil {
		t.Fatalf("SET through the failover client: %v", err)
	}
	port := func() string {
		v, err := fc.ConfigGet(ctx, "port").Result()
		if err != nil {
			return ""
		}
		return v["port"]
	}
	if got := port(); got != strconv.Itoa(p1) {
		t.Fatalf("connected to port %s, want %d", got, p1)
	}
	// Fail over: the backend now answers the new address and the event
	// tells go-redis to drop its connections to the old master.
	mu.Lock()
	current = p2
	mu.Unlock()
	redistest.Until(t, 10*time.Second, "go-redis subscribed to +switch-master", func() bool { return srv.Stats().PubsubChannels >= 1 })
	srv.Publish("+switch-master", fmt.Sprintf("mymaster 127.0.0.1 %d 127.0.0.1 %d", p1, p2))
	redistest.Until(t, 10*time.Second, "switch to the new master", func() bool { return port() == strconv.Itoa(p2) })
}
