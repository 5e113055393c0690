package redistest

import (
	"strings"
	"testing"
	"time"
)

// These tests prove the harness against the reference redis-sentinel.

func TestSentinelConfigRendering(t *testing.T) {
	got := SentinelConfig(SentinelOptions{
		MasterPort: 7000, DownAfter: 1500 * time.Millisecond, FailoverTimeout: 10 * time.Second,
		RequirePass: "s", AuthPass: "d", SentinelPass: "s", Extra: []string{"loglevel verbose"},
	}, 26000)
	want := "port 26000\nbind 127.0.0.1\nrequirepass s\n" +
		"sentinel monitor mymaster 127.0.0.1 7000 2\n" +
		"sentinel down-after-milliseconds mymaster 1500\n" +
		"sentinel failover-timeout mymaster 10000\n" +
		"sentinel auth-pass mymaster d\n" +
		"sentinel sentinel-pass s\nloglevel verbose\n"
	if got != want {
		t.Fatalf("config:\n%s\nwant:\n%s", got, want)
	}
}

func TestSentinelsDiscoverTopology(t *testing.T) {
	tp := StartTopology(t, 2, RedisOptions{Password: "pw"})
	opts := SentinelOptions{
		MasterPort: tp.Master.Port(), DownAfter: 2 * time.Second,
		RequirePass: "spw", SentinelPass: "spw", AuthPass: "pw",
	}
	ss := StartSentinels(t, 3, opts)
	WaitDiscovered(t, ss, tp, 30*time.Second)

	id, err := ss[0].MyID()
	if err != nil || len(id) != 40 {
		t.Fatalf("MYID = %q, %v", id, err)
	}
	// The sentinel has rewritten its config with what it learnt.
	Poll(t, 5*time.Second, 50*time.Millisecond, func() error {
		conf, err := ss[0].ReadConfig()
		if err != nil {
			return err
		}
		for _, want := range []string{"sentinel myid " + id, "sentinel known-replica mymaster", "sentinel known-sentinel mymaster"} {
			if !strings.Contains(conf, want) {
				return ErrNotYet
			}
		}
		return nil
	})
	// Unauthenticated clients are refused.
	c := MustDial(t, ss[1].Addr())
	if r, err := c.Do("SENTINEL", "MYID"); err != nil || !strings.HasPrefix(r.Str, "NOAUTH") {
		t.Fatalf("unauthenticated: %v %v", r, err)
	}
	// Restart keeps the identity (from the rewritten config file).
	if err := ss[0].Restart(); err != nil {
		t.Fatal(err)
	}
	if id2, err := ss[0].MyID(); err != nil || id2 != id {
		t.Fatalf("MYID after restart = %q (%v), want %q", id2, err, id)
	}
}
