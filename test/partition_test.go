package test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/bench/harness"
	"github.com/x0tta6bl4/gosentinel/internal/redistest"
)

// staleAfter is the documented bound after which a sentinel cut off from
// the Raft leader stops vouching for the master (GOSENTINEL_STALE_AFTER_MS,
// its default), and staleSlack what the acceptance allows on top.
const (
	staleAfter = 2 * time.Second
	staleSlack = time.Second
	// quietWindow is how long after the master's death a lone sentinel is
	// watched for any failover step: down-after plus three ask periods.
	quietWindow = failoverDownAfter + 3*time.Second
)

// TestFailoverPartitionedSentinel: a sentinel alone (its two peers stopped
// with SIGSTOP, so it has no Raft majority) answers GET-MASTER-ADDR-BY-NAME
// with null within StaleAfter + 1 s, first as a
// follower, then as the group's leader; and with the master killed too it
// promotes nothing. Once its peers are back, the group fails over once.
func TestFailoverPartitionedSentinel(t *testing.T) {
	d := startFailoverDeployment(t, harness.Options{StaleAfter: staleAfter})
	w := startWriter(t, d, "partition", 0)
	old := d.Topology.Master

	leader, err := d.WaitRaftLeader(settleDeadline)
	if err != nil {
		t.Fatal(err)
	}
	follower := (leader + 1) % len(d.Sentinels)
	ok := t.Run("follower-alone", func(t *testing.T) {
		isolate(t, d, follower)
		requireStopsVouching(t, d.Sentinels[follower])
		rejoin(t, d, follower, old.Port())
	})
	if !ok {
		t.FailNow()
	}

	if leader, err = d.WaitRaftLeader(settleDeadline); err != nil {
		t.Fatal(err)
	}
	lone := d.Sentinels[leader]
	ok = t.Run("leader-alone-master-killed", func(t *testing.T) {
		isolate(t, d, leader)
		requireStopsVouching(t, lone)

		replicas := d.Nodes[1:]
		sampler := harness.StartRoleSampler(replicas, 20*time.Millisecond)
		defer sampler.Stop()
		before := lone.Log()
		if err := old.Kill(); err != nil {
			t.Fatal(err)
		}
		// Nothing may happen for the whole window: each poll checks, and
		// the poll only "succeeds" when the window is over.
		end := time.Now().Add(quietWindow)
		err := redistest.PollErr(quietWindow+time.Second, 50*time.Millisecond, func() error {
			if p, err := harness.MasterPort(lone); err != nil || p != 0 {
				return redistest.Abort(fmt.Errorf("%s: GET-MASTER-ADDR-BY-NAME = %d, %v after vouching stopped", lone.Name(), p, err))
			}
			if time.Now().Before(end) {
				return redistest.ErrNotYet
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range sampler.Stop() {
			if m := harness.Masters(s.Roles); len(m) > 0 {
				t.Fatalf("a replica was promoted while the sentinel was alone: %v at %s", s.Roles, s.At.Format("15:04:05.000"))
			}
		}
		during := strings.TrimPrefix(lone.Log(), before)
		for _, ev := range []string{"+try-failover", "+elected-leader", "+selected-slave", "+promoted-slave", "+switch-master"} {
			if lines := harness.Events(during, ev); len(lines) > 0 {
				t.Fatalf("%s, alone, logged %q", lone.Name(), lines)
			}
		}
		t.Logf("%s alone for %v after the master's SIGKILL: no failover step, no promoted replica", lone.Name(), quietWindow)
	})
	if !ok {
		t.FailNow()
	}

	// Healed: the group, whole again, fails over exactly once.
	healed := time.Now()
	for i, s := range d.Sentinels {
		if i != leader {
			if err := s.Resume(); err != nil {
				t.Fatal(err)
			}
		}
	}
	newMaster, err := d.WaitSwitched(old.Port(), switchDeadline)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("healed: the group switched to %d %v after the peers resumed", newMaster, time.Since(healed).Round(time.Millisecond))
	if _, err := w.WaitAcksAfter(healed, 20, resumeDeadline); err != nil {
		t.Fatal(err)
	}
	waitFailoverEnd(t, d, 1)
	waitHealthy(t, d, newMaster)
	requireFailovers(t, d, 1, old.Port(), newMaster)
	requireNoLoss(t, d, w.Stop())
}

// isolate stops (SIGSTOP) every sentinel of d but lone. If the test ends
// first, the processes' cleanup continues them before stopping them.
func isolate(t *testing.T, d *harness.Deployment, lone int) {
	t.Helper()
	for i, s := range d.Sentinels {
		if i == lone {
			continue
		}
		if err := s.Pause(); err != nil {
			t.Fatal(err)
		}
	}
}

// requireStopsVouching polls s from now until it answers
// GET-MASTER-ADDR-BY-NAME with null, which must happen within
// staleAfter + staleSlack.
func requireStopsVouching(t *testing.T, s *redistest.Sentinel) {
	t.Helper()
	start := time.Now()
	err := redistest.PollErr(staleAfter+staleSlack, 20*time.Millisecond, func() error {
		p, err := harness.MasterPort(s)
		if err != nil {
			return err
		}
		if p != 0 {
			return fmt.Errorf("%s still answers GET-MASTER-ADDR-BY-NAME with port %d", s.Name(), p)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("%s alone: %v", s.Name(), err)
	}
	t.Logf("%s alone: GET-MASTER-ADDR-BY-NAME null after %v (bound %v + %v)", s.Name(),
		time.Since(start).Round(time.Millisecond), staleAfter, staleSlack)
}

// rejoin resumes every sentinel of d but lone and waits until lone vouches
// for master again.
func rejoin(t *testing.T, d *harness.Deployment, lone, master int) {
	t.Helper()
	for i, s := range d.Sentinels {
		if i != lone {
			if err := s.Resume(); err != nil {
				t.Fatal(err)
			}
		}
	}
	redistest.Poll(t, settleDeadline, 20*time.Millisecond, func() error {
		p, err := harness.MasterPort(d.Sentinels[lone])
		if err != nil {
			return err
		}
		if p != master {
			return fmt.Errorf("%s answers master %d, want %d", d.Sentinels[lone].Name(), p, master)
		}
		return nil
	})
}

// TestFailoverWrongSecretCannotJoin: gosentinels that do not hold the
// group's secret (one with another requirepass, one with none) watch the
// same master and learn the group's sentinels from its hellos, but never
// join the group, nor form one of their own.
func TestFailoverWrongSecretCannotJoin(t *testing.T) {
	const secret = "group-secret"
	d := startFailoverDeployment(t, harness.Options{Secret: secret})
	w := startWriter(t, d, "secret", 0)

	var intruders []*redistest.Sentinel
	for _, pass := range []string{"another-secret", ""} {
		o := d.SentinelOptions()
		o.RequirePass, o.SentinelPass = pass, pass
		intruders = append(intruders, redistest.StartSentinel(t, o))
	}
	// They know the members, so they have every chance to try.
	var members []int
	for _, s := range d.Sentinels {
		members = append(members, s.Port())
	}
	redistest.Poll(t, settleDeadline, 50*time.Millisecond, func() error {
		for _, in := range intruders {
			peers, err := in.Sentinels(harness.MasterName)
			if err != nil {
				return err
			}
			for _, p := range members {
				if !hasInstance(peers, p) {
					return fmt.Errorf("intruder %s does not know member %d yet", in.Name(), p)
				}
			}
		}
		return nil
	})
	// Group formation needs the settle time (1 s) and a few 250 ms rounds;
	// give it several times that.
	const window = 5 * time.Second
	end := time.Now().Add(window)
	err := redistest.PollErr(window+time.Second, 100*time.Millisecond, func() error {
		for _, in := range intruders {
			log := harness.RunLog(in.Process)
			for _, bad := range []string{harness.GroupActiveLine, harness.JoinedLine, harness.BootstrapLine} {
				if strings.Contains(log, bad) {
					return redistest.Abort(fmt.Errorf("intruder %s logged %q", in.Name(), bad))
				}
			}
			id, err := in.MyID()
			if err != nil {
				return redistest.Abort(err)
			}
			for _, s := range d.Sentinels {
				// The leader logs both when it adds a voter.
				log := s.Log()
				if strings.Contains(log, "joined the Raft group id="+id) || strings.Contains(log, "server-id="+id) {
					return redistest.Abort(fmt.Errorf("member %s let intruder %s (%s) join", s.Name(), in.Name(), id))
				}
			}
		}
		if time.Now().Before(end) {
			return redistest.ErrNotYet
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d intruders knew the members for %v and never joined", len(intruders), window)
	if _, err := w.WaitAcksAfter(time.Now(), 20, resumeDeadline); err != nil {
		t.Fatal(err)
	}
	requireNoLoss(t, d, w.Stop())
}

// TestSurvivorOfDeadPeersKeepsVouching: when the other sentinels die
// (their ports refuse connections) rather than being cut off, nobody is
// left who could commit a switch without the survivor, so it keeps
// answering GET-MASTER-ADDR-BY-NAME past the stale bound, as redis-sentinel
// does when its peers crash. (TestFailoverPartitionedSentinel covers peers
// that are only stopped: their ports accept, so nothing is proven.)
func TestSurvivorOfDeadPeersKeepsVouching(t *testing.T) {
	t.Parallel() // mostly waiting: see parallelTests in main_test.go
	d := startFailoverDeployment(t, harness.Options{StaleAfter: staleAfter})
	master := d.Topology.Master.Port()
	for _, s := range d.Sentinels[1:] {
		if err := s.Kill(); err != nil {
			t.Fatal(err)
		}
	}
	survivor := d.Sentinels[0]
	end := time.Now().Add(staleAfter + staleSlack + time.Second)
	err := redistest.PollErr(staleAfter+staleSlack+3*time.Second, 50*time.Millisecond, func() error {
		p, err := harness.MasterPort(survivor)
		if err != nil || p != master {
			return redistest.Abort(fmt.Errorf("%s, peers dead: GET-MASTER-ADDR-BY-NAME = %d, %v; want %d", survivor.Name(), p, err, master))
		}
		if time.Now().Before(end) {
			return redistest.ErrNotYet
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s still answers %d %v after its peers died (stale bound %v)", survivor.Name(), master, staleAfter+staleSlack+time.Second, staleAfter)
}
