package test

import (
	"testing"
	"time"
)

// Issue 11's acceptance: a set of three redis-sentinels (each with its own
// sentinel.conf: monitor mymaster quorum 2, down-after 2 s,
// failover-timeout 5 s), a master, two replicas and a go-redis
// FailoverClient writing, rolled to gosentinel one pod at a time as helm
// rolls a StatefulSet (ordinal 2, then 1, then 0), each gosentinel started
// on the file its redis-sentinel rewrote (same myid, known-sentinel and
// known-replica lines) and on the same port; then pods 2 and 1 rolled back
// to redis-sentinel on the files gosentinel rewrote, beside the group the
// roll formed (which must go back to redis-sentinel's protocol: every
// gosentinel reports raft_failover_protocol:sentinel first), and rolled
// forward again to one group. At every stage (3+0, 2+1, 1+2, 0+3,
// rollback 1+2 and 2+1, again 1+2 and 0+3):
//
//  1. SIGKILL of the master's redis-server: exactly one failover (one
//     +elected-leader in all the sentinels' logs; every sentinel publishes
//     exactly one +switch-master, all naming the same new master, and every
//     sentinel names it within 2 s of the first; ROLE sampled every 20 ms
//     shows one promoted replica and never two masters), the client writes
//     again; the killed node restarts as a
//     fresh process with its original arguments and the set settles (one
//     master, two linked replicas, every sentinel agreeing on the master
//     and the config epoch, flags exactly "master": no failover in
//     progress).
//  2. SENTINEL FAILOVER sent to a gosentinel (at 3+0 to a redis-sentinel):
//     exactly one failover as above, the client writes again, and when a
//     gosentinel got it every acknowledged write is on the new master
//     (but those an earlier fault lost, reported in its figure). At 3+0
//     the loss is only reported: redis-sentinel's SENTINEL FAILOVER does
//     not pause writes, and the old master acknowledges writes after the
//     promotion until the client moves (hundreds of them here).
//  3. At 0+3 (both times): INFO raft on every gosentinel shows one group
//     of all three as voters, with one leader.
//
// GOSENTINEL_ROLL=short (the default, in make test) runs the kill fault at
// 3+0, 2+1 and rollback-1+2 (reaching 0+3 without faults) and ends at
// again-0+3 (one group again); GOSENTINEL_ROLL=full (make roll) runs every
// stage with both faults.

// TestRollMixedSet: the kill fault takes the master's redis-server only.
func TestRollMixedSet(t *testing.T) {
	testRoll(t, false)
}

// TestRollPodRestarts: the kill fault takes the master's whole pod, as a
// StatefulSet roll or a node failure does: its redis-server and its
// sentinel are SIGKILLed together, and once the two others have failed
// over both restart (the sentinel as whatever kind the pod runs at that
// stage, on the file it last wrote).
func TestRollPodRestarts(t *testing.T) {
	testRoll(t, true)
}

func testRoll(t *testing.T, podRestarts bool) {
	mode := rollMode(t)
	start := time.Now()
	r := startRoll(t)
	defer func() {
		r.report(t)
		t.Logf("%s roll: %v in all", mode, time.Since(start).Round(time.Second))
	}()
	for _, st := range rollStages(mode) {
		ok := t.Run(st.name, func(t *testing.T) {
			if st.pod >= 0 {
				r.replace(t, st.pod, st.to)
			}
			if st.protocol != "" {
				r.requireProtocol(t, st.protocol)
			}
			if st.protocol == "sentinel" {
				r.requirePauseRefused(t)
			}
			if mode == "full" || st.kill {
				r.killMaster(t, st.name, podRestarts)
			}
			if mode == "full" {
				r.manualFailover(t, st.name, st.via)
			}
			if st.group {
				r.requireOneGroup(t)
			}
		})
		if !ok {
			// The set is in an unknown state: later stages would only
			// report this failure again.
			return
		}
	}
	// Every acknowledged write no fault lost (each fault's figure counted
	// those it lost) is on the final master.
	master, err := r.d.AgreedMasterPort()
	if err != nil {
		t.Fatal(err)
	}
	if lost := r.lost(t, master); lost > 0 {
		t.Fatalf("%d acknowledged writes no fault lost are missing on the final master %d", lost, master)
	}
}
