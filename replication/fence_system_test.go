package replication

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/internal/redistest"
)

// Real redis-server processes: the Redis behaviour fencing relies on, and
// the engine applying it.

// writeOutcome sends one SET and tells whether it was acknowledged; a
// NOREPLICAS refusal is false, any other failure fails the test.
func writeOutcome(t *testing.T, c *redistest.Conn) bool {
	t.Helper()
	r, err := c.Do("SET", "fence-probe", "v")
	if err != nil {
		t.Fatal(err)
	}
	if r.IsError() {
		if !strings.HasPrefix(r.Str, "NOREPLICAS") {
			t.Fatalf("unexpected write error: %s", r.Str)
		}
		return false
	}
	return true
}

// With min-replicas-to-write 1 / max-lag 1 (what the engine sets): losing
// one of two replicas refuses nothing; losing both (SIGSTOP: their ACKs
// stop, the links stay open, as in a partition) refuses writes within
// fenceBound(1) + fenceMargin of the moment the last one stopped; writes
// are accepted again as soon as a replica's ACKs return.
func TestSystemFenceRefusesWritesWithinBound(t *testing.T) {
	if testing.Short() {
		t.Skip("starts redis-server processes")
	}
	if _, err := os.Stat(redistest.RedisServerBin); err != nil {
		t.Skip("redis-server not installed")
	}
	tp := redistest.StartTopology(t, 2, redistest.RedisOptions{})
	ctrl := NewController()
	defer ctrl.Close()
	master := Target{Addr: addr(tp.Master.Port())}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := ctrl.SetFence(ctx, master, ours); err != nil {
		t.Fatal(err)
	}
	if got, err := ctrl.Fence(ctx, master); err != nil || got != ours {
		t.Fatalf("fence read back: %+v, %v", got, err)
	}
	c := tp.Master.Dial(t)
	defer c.Close()
	redistest.Poll(t, 5*time.Second, 10*time.Millisecond, func() error {
		if !writeOutcome(t, c) {
			return errNoReplicas
		}
		return nil
	})

	// One replica stopped: every write for well past the bound is accepted.
	r1, r2 := tp.Replicas[0], tp.Replicas[1]
	if err := r1.Pause(); err != nil {
		t.Fatal(err)
	}
	defer r1.Resume()
	observeUntil := time.Now().Add(fenceBound(fenceMaxLag) + 2*time.Second)
	for n := 0; time.Now().Before(observeUntil); n++ {
		if !writeOutcome(t, c) {
			t.Fatalf("write %d refused with one of two replicas stopped", n)
		}
		time.Sleep(5 * time.Millisecond) // pacing of the observation, not synchronisation
	}

	// Both stopped: refused within the bound.
	if err := r2.Pause(); err != nil {
		t.Fatal(err)
	}
	defer r2.Resume()
	cut := time.Now()
	redistest.Poll(t, fenceBound(fenceMaxLag)+fenceMargin, 5*time.Millisecond, func() error {
		if writeOutcome(t, c) {
			return errStillWritable
		}
		return nil
	})
	fenced := time.Since(cut)
	t.Logf("writes refused %v after the last replica stopped (bound %v)", fenced, fenceBound(fenceMaxLag)+fenceMargin)

	// Heal: one replica back, writes accepted again.
	if err := r2.Resume(); err != nil {
		t.Fatal(err)
	}
	healed := time.Now()
	redistest.Poll(t, 5*time.Second, 5*time.Millisecond, func() error {
		if !writeOutcome(t, c) {
			return errNoReplicas
		}
		return nil
	})
	t.Logf("writes accepted again %v after a replica resumed", time.Since(healed))
}

// The engine fences a real master with two healthy replicas; after the
// master is killed the promotion waits out the fence (counted from the
// last PING reply); the new master is fenced once the old one follows it
// (two healthy replicas again), and the replicas carry no fence of ours.
func TestSystemEngineFencesAndWaits(t *testing.T) {
	const downAfter = time.Second
	s := startSystemWith(t, downAfter, true)
	ctrl := NewController()
	defer ctrl.Close()
	readFence := func(r *redistest.Redis) (FenceConfig, error) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		return ctrl.Fence(ctx, Target{Addr: addr(r.Port())})
	}
	fencedAs := func(r *redistest.Redis, want FenceConfig) func() error {
		return func() error {
			got, err := readFence(r)
			if err != nil {
				return err
			}
			if got != want {
				return errFenceDiffers{got, want}
			}
			return nil
		}
	}
	redistest.Poll(t, 10*time.Second, 20*time.Millisecond, fencedAs(s.tp.Master, ours))

	old := s.tp.Master
	if err := old.Kill(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	s.waitEvent("+failover-end", 20*time.Second)
	sent := s.rec.at("+failover-state-wait-promotion", 0)
	t.Logf("SLAVEOF NO ONE answered %v after SIGKILL (down-after %v)", sent.Sub(killed), downAfter)
	// The last PING reply was at most a ping period before the kill.
	if min := fenceBound(fenceMaxLag) + fenceMargin; sent.Sub(killed) < min {
		t.Fatalf("promoted %v after the kill, before the fence must hold (%v)", sent.Sub(killed), min)
	}
	m, _ := s.fsm.Master("mymaster")
	promoted := s.byPort(m.Addr.Port)
	// Born unfenced: with one healthy replica (the other is the dead old
	// master) it stays so.
	if got, err := readFence(promoted); err != nil || got.ToWrite != 0 {
		t.Fatalf("new master's fence right after the failover: %+v, %v", got, err)
	}

	if err := old.Start(); err != nil {
		t.Fatal(err)
	}
	waitRole(t, old, promoted.Port(), 10*time.Second)
	redistest.Poll(t, 15*time.Second, 50*time.Millisecond, fencedAs(promoted, ours))
	for _, r := range append([]*redistest.Redis{old}, s.tp.Replicas...) {
		if r == promoted {
			continue
		}
		got, err := readFence(r)
		if err == nil && got == ours {
			t.Errorf("replica %d carries our fence", r.Port())
		}
	}
}

type errFenceDiffers struct{ got, want FenceConfig }

func (e errFenceDiffers) Error() string {
	return "fence " + fenceString(e.got) + ", want " + fenceString(e.want)
}

func fenceString(c FenceConfig) string {
	return strings.Join([]string{itoa(c.ToWrite), itoa(c.MaxLag)}, "/")
}

func itoa(n int) string { return strconv.Itoa(n) }

var (
	errNoReplicas    = stringError("write refused with NOREPLICAS")
	errStillWritable = stringError("master still accepts writes")
)

type stringError string

func (e stringError) Error() string { return string(e) }

// A switchover pauses the old master (CLIENT PAUSE WRITE), demotes it,
// and removes our fence from it before lifting the pause. With the fence
// read on the monitor's link, that read once queued behind the link's
// hello PUBLISH, which the pause holds: it waited out its whole timeout,
// and the demoted node kept min-replicas-to-write 1 for up to ten more
// seconds, so a node promoted again right away (the official suite's next
// unit does so at once) refused every write with NOREPLICAS. The fence
// must be gone when the demotion is announced.
func TestSystemSwitchoverClearsTheOldMastersFence(t *testing.T) {
	s := startSystemOpts(t, 2*time.Second, systemOpts{fence: true, link: true, hellos: true})
	probe := NewController()
	defer probe.Close()
	read := func(r *redistest.Redis) (FenceConfig, error) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		return probe.Fence(ctx, Target{Addr: addr(r.Port())})
	}
	old := s.tp.Master
	redistest.Poll(t, 10*time.Second, 20*time.Millisecond, func() error {
		got, err := read(old)
		if err == nil && got != ours {
			err = errFenceDiffers{got, ours}
		}
		return err
	})
	// A hello PUBLISH goes out on the master's link every 20 ms here: the
	// pause holds one, and everything behind it on the link waits.
	if err := s.eng.Failover(context.Background(), "mymaster"); err != nil {
		t.Fatal(err)
	}
	s.waitEvent("+convert-to-slave", 10*time.Second)
	converted := time.Now()
	got, err := read(old)
	if err != nil || got.ToWrite != 0 {
		t.Fatalf("old master's fence when its demotion was announced: %+v, %v", got, err)
	}
	if d := s.rec.at("+convert-to-slave", 0).Sub(s.rec.at("+switch-master", 0)); d > 500*time.Millisecond {
		t.Errorf("old master demoted %v after the switch (a call waited out its timeout)", d)
	}
	t.Logf("fence gone, checked %v after +convert-to-slave", time.Since(converted))
}
