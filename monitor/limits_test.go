package monitor

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/internal/redistest"
)

// TestInstancesPerMasterAreBounded: one INFO reply listing 1,500 replicas,
// and 150 sentinels' hellos about one master, make at most
// MaxReplicasPerMaster and MaxSentinelsPerMaster instances. Each line or
// hello made one (with its connections), as in redis-sentinel, and finding
// a replica walks the list: an 8 MB INFO reply held the timer's lock for
// minutes.
func TestInstancesPerMasterAreBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString(masterInfo(strings.Repeat("4", 40)))
	for i := range MaxReplicasPerMaster + 500 {
		fmt.Fprintf(&b, "slave%d:ip=127.0.0.2,port=%d,state=online,offset=0,lag=0\r\n", i, 10000+i)
	}
	info := b.String()
	srv := newFakeServer(t, redisLike(func() string { return info }, func() string { return "+PONG\r\n" }))
	rec := &recorder{}
	m := startMonitor(t, rec.config(idA, Config{Timing: DefaultTiming}))
	m.Watch(MasterSpec{Name: "m", Addr: Addr{Host: "127.0.0.1", Port: srv.port()}, DownAfter: time.Minute})
	redistest.Until(t, 10*time.Second, "the master's INFO", func() bool { return !status(t, m, "m").Master.InfoRefresh.IsZero() })
	if n := len(status(t, m, "m").Replicas); n != MaxReplicasPerMaster {
		t.Fatalf("%d replicas from one INFO, want the limit %d", n, MaxReplicasPerMaster)
	}

	watchOffline(m, "other")
	for i := range MaxSentinelsPerMaster + 50 {
		m.ProcessHello(hello("127.0.0.3", 20000+i, fmt.Sprintf("%040x", i+1), 1, "other", 1))
	}
	if n := len(status(t, m, "other").Sentinels); n != MaxSentinelsPerMaster {
		t.Fatalf("%d sentinels from hellos, want the limit %d", n, MaxSentinelsPerMaster)
	}
}

// TestLimitIsLoggedAgainAfterAReset: the warning of a list at its limit is
// logged once per master until the master is reset (its lists start over),
// then once again if the limit is hit again. It was once per process.
func TestLimitIsLoggedAgainAfterAReset(t *testing.T) {
	var logs strings.Builder
	m := New(Config{MyID: idA, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	t.Cleanup(m.Close)
	watchOffline(m, "m")
	m.mu.Lock()
	ri := m.masters["m"]
	m.warnLimit(ri, "replicas", MaxReplicasPerMaster)
	m.warnLimit(ri, "replicas", MaxReplicasPerMaster)
	m.resetMaster(ri, false, time.Now())
	m.warnLimit(ri, "replicas", MaxReplicasPerMaster)
	m.mu.Unlock()
	if n := strings.Count(logs.String(), "not adding more replicas"); n != 2 {
		t.Fatalf("the limit was logged %d times, want once before the reset and once after:\n%s", n, logs.String())
	}
}
