package test

// Issue 10, the peer secret: a rolling change of the secret (CONFIG SET
// sentinel-pass, or a new config and a restart, one member at a time)
// never partitions the group.

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/bench/harness"
	"github.com/x0tta6bl4/gosentinel/internal/redistest"
)

// leaderWatch polls the sentinels' INFO raft and records the longest
// stretch during which none of them led.
type leaderWatch struct {
	once    sync.Once
	mu      sync.Mutex
	longest time.Duration
	stop    chan struct{}
	done    chan struct{}
}

func watchLeader(ss []*redistest.Sentinel) *leaderWatch {
	w := &leaderWatch{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		last := time.Now()
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-w.stop:
				return
			case <-tick.C:
			}
			if _, _, err := leaderInfo(ss); err == nil {
				last = time.Now()
			}
			w.mu.Lock()
			w.longest = max(w.longest, time.Since(last))
			w.mu.Unlock()
		}
	}()
	return w
}

func (w *leaderWatch) Stop() time.Duration {
	w.once.Do(func() { close(w.stop) })
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.longest
}

// followSettle is how long after a change waitAllFollow starts to believe
// what it sees: a follower's last contact must have happened after the
// change, not before it.
const followSettle = 1500 * time.Millisecond

// waitAllFollow polls until one sentinel leads with every sentinel a voter
// and every other one hearing from it within the last second, at least
// followSettle after since: nobody is partitioned away.
func waitAllFollow(t *testing.T, ss []*redistest.Sentinel, ids []string, since time.Time) {
	t.Helper()
	redistest.Poll(t, groupDeadline, 100*time.Millisecond, func() error {
		if time.Since(since) < followSettle {
			return fmt.Errorf("settling")
		}
		leader, info, err := leaderInfo(ss)
		if err != nil {
			return err
		}
		if got := len(voters(info)); got != len(ids) {
			return fmt.Errorf("the leader %s has %d voters, want %d", leader.Name(), got, len(ids))
		}
		for _, s := range ss {
			if s == leader {
				continue
			}
			fi, err := raftInfo(s)
			if err != nil {
				return err
			}
			lc, err := strconv.Atoi(fi["raft_last_contact_ms"])
			if fi["raft_state"] != "follower" || fi["raft_leader_id"] != info["raft_leader_id"] || err != nil || lc < 0 || lc > 1000 {
				return fmt.Errorf("%s: state %s, leader %q (want %q), last contact %s ms", s.Name(), fi["raft_state"], fi["raft_leader_id"], info["raft_leader_id"], fi["raft_last_contact_ms"])
			}
		}
		return nil
	})
}

// TestGroupRotatesPeerSecretWithoutPartition: a three-member group whose
// peer secret (sentinel-pass) is changed one member at a time, by a new
// config file and a restart on the first, by CONFIG SET on the second, by
// both on the third, keeps a leader (no gap longer than an election and a
// restart) and every member follows it after each step: a member on the
// new secret still proves and accepts the old one. Before, CONFIG SET did
// not change the peer secret at all, and a restart with a new one left
// that member alone until a majority had it.
func TestGroupRotatesPeerSecretWithoutPartition(t *testing.T) {
	t.Parallel() // mostly waiting: see parallelTests in main_test.go
	const oldSecret, newSecret = "old-peer-secret-1", "new-peer-secret-2"
	d := startFailoverDeployment(t, harness.Options{Extra: []string{"sentinel sentinel-pass " + oldSecret}})
	ss := d.Sentinels
	var ids []string
	for _, s := range ss {
		ids = append(ids, idAt(t, s, s.Addr()))
	}
	waitAllFollow(t, ss, ids, time.Now())
	w := watchLeader(ss)
	defer w.Stop()

	configSet := func(s *redistest.Sentinel) {
		if r, err := s.Do("SENTINEL", "CONFIG", "SET", "sentinel-pass", newSecret); err != nil || r.Kind == redistest.KindError {
			t.Fatalf("%s: CONFIG SET sentinel-pass: %v %v", s.Name(), r, err)
		}
	}
	restartWithNewConfig := func(s *redistest.Sentinel) {
		if err := s.Stop(redistest.StopTimeout); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(s.ConfigPath)
		if err != nil {
			t.Fatal(err)
		}
		conf := strings.ReplaceAll(string(b), oldSecret, newSecret)
		if !strings.Contains(conf, "sentinel-pass "+newSecret) {
			t.Fatalf("%s: no sentinel-pass line in its config:\n%s", s.Name(), conf)
		}
		if err := os.WriteFile(s.ConfigPath, []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := s.Start(); err != nil {
			t.Fatal(err)
		}
	}
	// The first change is a restart: the others still have only the old
	// secret, so the restarted member must still prove and accept it.
	steps := []struct {
		what string
		do   func(*redistest.Sentinel)
	}{
		{"new config and restart", restartWithNewConfig},
		{"CONFIG SET", configSet},
		{"CONFIG SET, then restart", func(s *redistest.Sentinel) {
			configSet(s)
			if err := s.Restart(); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for i, step := range steps {
		if l, _, err := leaderInfo(ss); err == nil {
			t.Logf("leader before step %d: %s", i, l.Name())
		}
		step.do(ss[i])
		waitAllFollow(t, ss, ids, time.Now())
		t.Logf("%s rotated by %s: the group follows one leader", ss[i].Name(), step.what)
	}
	// The second member, rotated by CONFIG SET only, restarts on the new
	// secret too: every connection is now a new one.
	if err := ss[1].Restart(); err != nil {
		t.Fatal(err)
	}
	waitAllFollow(t, ss, ids, time.Now())
	gap := w.Stop()
	// A restarted leader is missed until a follower's election timeout
	// fires and an election completes.
	if gap > 5*time.Second {
		t.Fatalf("the group had no leader for %v", gap)
	}
	t.Logf("longest time without a leader during the roll: %v", gap.Round(time.Millisecond))
	for _, s := range ss {
		log := s.Log()
		if !strings.Contains(log, "Raft peers authenticate with a secret derived from sentinel sentinel-pass") {
			t.Errorf("%s: the log does not say where the peer secret came from", s.Name())
		}
		if strings.Contains(log, oldSecret) || strings.Contains(log, newSecret) {
			t.Errorf("%s: the log holds the secret", s.Name())
		}
	}
}
