package test

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/bench/harness"
	"github.com/x0tta6bl4/gosentinel/internal/redistest"
)

// TestRollbackTwoPodsLeaderless: docs/DESIGN.md's "A member its group
// cannot follow", against real processes (before it, the member voted for
// nobody and every election of the redis-sentinel left was lost). A StatefulSet
// rolled back two pods at once: the roll of issue 11 reaches 0+3 (one Raft
// group of the three gosentinels), the master is moved off pod 0, then the
// gosentinels of pods 1 and 2 are SIGKILLed together and redis-sentinels
// start on the files they wrote (same run ids, same ports). The group lost
// its majority before any member heard a foreign sentinel, so no enter
// entry (OpProtocol) can ever be committed: pod 0's gosentinel stays a Raft
// member without a leader beside two redis-sentinels. Then the master's
// whole pod is SIGKILLed (its redis-server and its redis-sentinel, as
// TestRollPodRestarts' kill fault does). The one redis-sentinel left is 1 of
// the master's 3 sentinels: its election needs a majority of them (2,
// also the quorum), so it fails over only with pod 0's gosentinel's vote.
// The set must still fail over exactly once, as three redis-sentinels that
// lost one would: one +elected-leader, one promoted replica, every running
// sentinel (pod 0's gosentinel included) naming it within rollAgreeBound of
// the first +switch-master, the client writing again, and the pod, back,
// settling without a second failover.
func TestRollbackTwoPodsLeaderless(t *testing.T) {
	start := time.Now()
	r := startRoll(t)
	defer func() {
		r.report(t)
		t.Logf("rollback of two pods beside a leaderless member: %v in all", time.Since(start).Round(time.Second))
	}()

	// The roll without faults, in helm's order (rollStages' 2+1, 1+2 and
	// 0+3): the gap needs the group to exist, not the faults before it.
	for _, pod := range []int{2, 1, 0} {
		r.replace(t, pod, kindGo)
	}
	r.requireOneGroup(t)

	// The master must not be on pod 0: its pod is killed below, and pod 0's
	// gosentinel is the member left behind whose vote is needed. The set
	// starts with the master on node 0, so a SENTINEL FAILOVER to the
	// group (checked like any of the roll's faults) moves it to pod 1 or 2.
	master, err := r.d.AgreedMasterPort()
	if err != nil {
		t.Fatal(err)
	}
	if r.podOf(t, master) == 0 {
		r.manualFailover(t, "0+3", kindGo)
		if master, err = r.d.AgreedMasterPort(); err != nil {
			t.Fatal(err)
		}
	}
	masterPod := r.podOf(t, master)
	if masterPod == 0 {
		t.Fatalf("the master %d is still on pod 0 after SENTINEL FAILOVER", master)
	}
	// survivor is the pod of 1 and 2 whose redis-sentinel outlives the
	// master's pod.
	survivor := 3 - masterPod
	rolled := []int{1, 2}

	// The rollback of two pods at once, faster than any member could
	// commit enter: both gosentinels get SIGKILL before either is reaped
	// (the group loses its majority in one step, as when helm deletes the
	// two pods together), and the redis-sentinels start only once both
	// are gone, so no member ever heard a foreign sentinel while the
	// group had a leader.
	ids := map[int]string{}
	for _, pod := range rolled {
		if ids[pod], err = r.d.Sentinels[pod].MyID(); err != nil {
			t.Fatal(err)
		}
	}
	for _, pod := range rolled {
		if err := r.d.Sentinels[pod].Signal(syscall.SIGKILL); err != nil {
			t.Fatalf("SIGKILL pod %d's gosentinel: %v", pod, err)
		}
	}
	for _, pod := range rolled {
		if err := r.d.Sentinels[pod].Kill(); err != nil { // reaps it
			t.Fatal(err)
		}
	}
	killed := time.Now()
	for _, pod := range rolled {
		s := r.startSentinel(t, pod, kindRedis)
		if got, err := s.MyID(); err != nil || got != ids[pod] {
			t.Fatalf("pod %d: redis-sentinel on the file gosentinel wrote answers SENTINEL MYID %q (%v), want %q", pod, got, err, ids[pod])
		}
		r.kinds[pod] = kindRedis
	}
	rolledBack := time.Now()
	t.Logf("pods 1 and 2: gosentinels SIGKILLed together, redis-sentinels started on their files in %v; sentinels now %s",
		rolledBack.Sub(killed).Round(time.Millisecond), r.describe())

	// Before the fault, every sentinel knows the two others (flags
	// exactly "sentinel": linked, not down) and has heard a hello from
	// each one's current process: the known-sentinel lines of a file list
	// peers before any is heard, and redis-sentinel starts its record of
	// each at its own start, so a last hello younger than the time since
	// the rollback was heard from a process running now. Not r.settle:
	// it asks GET-MASTER-ADDR-BY-NAME of every sentinel, and whether a
	// member without a leader vouches is part of what is tested (it named
	// the master here and answered null once it died before it could cut
	// itself off), so only the failover below judges it.
	var replicas []int
	for _, n := range r.d.Nodes {
		if n.Port() != master {
			replicas = append(replicas, n.Port())
		}
	}
	redistest.Wait(t, settleDeadline, "every sentinel to know and hear the two others after the rollback", func() error {
		since := time.Since(rolledBack)
		for i, s := range r.d.Sentinels {
			var others []int
			for _, o := range r.d.Sentinels {
				if o != s {
					others = append(others, o.Port())
				}
			}
			if err := s.CheckDiscovered(harness.MasterName, replicas, others); err != nil {
				return fmt.Errorf("pod %d (%s): %w", i, r.kinds[i], err)
			}
			sens, err := s.Sentinels(harness.MasterName)
			if err != nil {
				return err
			}
			for _, e := range sens {
				ms, err := strconv.Atoi(e["last-hello-message"])
				if err != nil || time.Duration(ms)*time.Millisecond >= since {
					return fmt.Errorf("pod %d (%s): no hello from %s since the rollback (last-hello-message %q)", i, r.kinds[i], e["port"], e["last-hello-message"])
				}
			}
			if r.kinds[i] == kindRedis {
				if p, err := harness.MasterPort(s); err != nil || p != master {
					return fmt.Errorf("pod %d (%s) names master %d (%v), want %d", i, r.kinds[i], p, err, master)
				}
			}
		}
		return nil
	})
	if sw := r.watch.since(killed); len(sw) > 0 {
		t.Fatalf("the rollback of pods 1 and 2 caused a switch: %v", sw)
	}
	t.Logf("the set knows itself %v after the rollback; pod 0's gosentinel: %s", time.Since(rolledBack).Round(time.Millisecond), memberState(r.d.Sentinels[0]))

	// The fault: the master's whole pod.
	node, podSentinel := r.d.Nodes[masterPod], r.d.Sentinels[masterPod]
	logs := r.tailLogs()
	sampler := harness.StartRoleSampler(r.d.Nodes, rollSamplePeriod)
	defer sampler.Stop()
	if err := node.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := podSentinel.Kill(); err != nil {
		t.Fatal(err)
	}
	at := time.Now()
	f := rollFigure{stage: "rollback-2+1-two-pods", fault: "kill-pod", from: master}

	// The bound is rollSwitchDeadline (40 s), which fits this fault: the
	// survivor marks the master SDOWN after down-after (2 s), ODOWN with
	// pod 0's "down" answer within an ask period (1 s), and starts its
	// election at once. An election lasts at most min(election-timeout,
	// failover-timeout) = 5 s, and a lost one holds the next off for
	// 2 x failover-timeout = 10 s from its start: before pod 0's
	// gosentinel cut itself off (every one lost) they started about 2-3,
	// 13, 24 and 34 s after the fault (two runs). 40 s holds three whole
	// elections, the third decided by about 29 s (pod 0's gosentinel cuts
	// itself off isolateAfter, 5 s, after it heard a redis-sentinel with
	// no leader, which may be after the first one),
	// plus the promotion on this loaded 2-core machine. Three redis-sentinels that
	// lost the master's pod win the first election (about 5 s). The
	// survivor's own answer is what this first wait reads: it names a new
	// master only once its failover promoted one, whatever pod 0's
	// gosentinel answers meanwhile; waitOneSwitch then requires every
	// running sentinel to name it within rollAgreeBound of the first
	// +switch-master.
	surv := r.d.Sentinels[survivor]
	if err := redistest.PollErr(rollSwitchDeadline, 20*time.Millisecond, func() error {
		p, err := harness.MasterPort(surv)
		switch {
		case err != nil:
			return err
		case p == master:
			return fmt.Errorf("pod %d's redis-sentinel still names the killed master %d", survivor, master)
		}
		return nil
	}); err != nil {
		// What each side did meanwhile: the survivor's elections (tried,
		// aborted not elected) and pod 0's answers to them.
		var trace []string
		for _, pod := range []int{survivor, 0} {
			log := logs[pod].next()
			for _, ev := range []string{"+sdown", "+odown", "+try-failover", "+vote-for-leader", "-failover-abort-not-elected", "+elected-leader"} {
				for _, line := range harness.Events(log, ev) {
					trace = append(trace, fmt.Sprintf("  pod %d (%s): %s", pod, r.kinds[pod], line))
				}
			}
		}
		var views []string
		if sens, err := surv.Sentinels(harness.MasterName); err == nil {
			for _, e := range sens {
				views = append(views, fmt.Sprintf("%s flags=%s voted-leader=%s voted-leader-epoch=%s", e["port"], e["flags"], e["voted-leader"], e["voted-leader-epoch"]))
			}
		}
		promoted := map[int]bool{}
		for _, s := range sampler.Stop() {
			for _, p := range harness.Masters(s.Roles) {
				if p != master {
					promoted[p] = true
				}
			}
		}
		t.Fatalf("no failover of %d within %v of the SIGKILL of pod %d (sentinels %s): %v\n"+
			"pod 0's gosentinel: %s\npod %d's redis-sentinel sees the sentinels: %s\npromoted (ROLE every %v): %v; +switch-master published since: %v\n"+
			"election events since the fault, by pod and event:\n%s",
			master, rollSwitchDeadline, masterPod, r.describe(), err, memberState(r.d.Sentinels[0]), survivor, strings.Join(views, "; "),
			rollSamplePeriod, slices.Sorted(maps.Keys(promoted)), r.watch.since(at), strings.Join(trace, "\n"))
	}
	newMaster := r.recoverFromKill(t, f, at, masterPod, true, logs, sampler)

	// Pod 0's gosentinel voted cut off from Raft: the redis-sentinels are
	// still there, so it still is.
	g := r.d.Sentinels[0]
	if info, err := raftInfo(g); err != nil || info["raft_isolated"] != "1" || info["raft_failover_protocol"] != "sentinel" {
		t.Fatalf("pod 0's gosentinel beside two redis-sentinels after the failover: %s (%v), want raft_isolated 1 and protocol sentinel",
			memberState(g), err)
	}
	// Restarted (its pod's sentinel container), it comes back cut off:
	// the first INFO raft that shows its store says so (its vote may
	// still be leading a failover, and it has forgotten when it gave it),
	// then it votes and answers clients again as a sentinel that is not
	// a member.
	if err := g.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := g.Start(); err != nil {
		t.Fatalf("restart pod 0's gosentinel: %v", err)
	}
	redistest.Poll(t, settleDeadline, 5*time.Millisecond, func() error {
		info, err := raftInfo(g)
		if err != nil {
			return err
		}
		switch info["raft_isolated"] {
		case "":
			return errors.New("its Raft store is not open yet")
		case "1":
			return nil
		}
		return redistest.Abort(fmt.Errorf("pod 0's gosentinel restarted connected to Raft: %s", memberState(g)))
	})
	redistest.Poll(t, settleDeadline, 20*time.Millisecond, func() error {
		info, err := raftInfo(g)
		if err != nil {
			return err
		}
		if info["raft_isolated"] != "1" {
			return redistest.Abort(fmt.Errorf("pod 0's gosentinel reconnected beside redis-sentinels: %s", memberState(g)))
		}
		if p, err := harness.MasterPort(g); info["raft_failover_protocol"] != "sentinel" || err != nil || p != newMaster {
			return fmt.Errorf("restarted pod 0's gosentinel: %s, want protocol sentinel naming %d", memberState(g), newMaster)
		}
		return nil
	})
}

// memberState renders what a gosentinel says of its group: INFO raft's
// state, leader and failover protocol, and its GET-MASTER-ADDR-BY-NAME
// answer (0: null, it does not vouch).
func memberState(s *redistest.Sentinel) string {
	info, err := raftInfo(s)
	if err != nil {
		return err.Error()
	}
	p, err := harness.MasterPort(s)
	return fmt.Sprintf("raft_state=%s raft_leader_id=%q raft_failover_protocol=%s raft_foreign_sentinels=%s, GET-MASTER-ADDR-BY-NAME port %d (%v)",
		info["raft_state"], info["raft_leader_id"], info["raft_failover_protocol"], info["raft_foreign_sentinels"], p, err)
}
