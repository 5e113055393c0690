package test

import (
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/bench/partition"
)

// TestNetlabPartition runs issue 9's partition scenario once against
// gosentinel, each process in its own network namespace (internal/netlab;
// needs root, ip and iptables: without them it fails): {master, one
// sentinel, a FailoverClient} cut by iptables from {two sentinels, two
// replicas} for 4 s at down-after 1000, then healed. It asserts what
// gosentinel guarantees today: the majority side announces a new master
// during the cut, the cut-off sentinel stops vouching (answers null)
// during the cut, and the old master is demoted within demoteBound of the
// heal. The two-masters window and the lost writes are logged, not
// asserted: fencing (issue 9 item 1) will turn them into assertions.
func TestNetlabPartition(t *testing.T) {
	// Issue 9 asks for 1 s, which gosentinel does not always meet today:
	// 44-1069 ms measured by bench-partition (median 0.6-0.7 s), as the
	// leader's link to the old master comes back with the monitor's next
	// dial or the kernel's next SYN retransmission (1 s after a dropped
	// one). The bound holds today with margin; issue 9 will tighten it.
	const demoteBound = 2 * time.Second
	const cut = 4 * time.Second
	res, err := partition.Run(t, partition.Options{
		Bin: candidateBin(t), Raft: true, DownAfter: time.Second, Cut: cut,
		SettleTimeout: 20 * time.Second, Logf: t.Logf,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Raft leader cut off: %v; new master announced %v after the cut; cut-off sentinel null after %v; old master demoted %v after the heal; final master %s",
		res.LeaderCutOff, res.Announced, res.StoppedVouching, res.Demoted, res.FinalMaster)
	t.Logf("two masters accepting writes: %v (probe every %v)", res.TwoMasters, partition.ProbePeriod)
	for _, w := range []struct {
		name string
		w    partition.Writes
	}{{"plain", res.Plain}, {"WAIT 1", res.Wait1}} {
		t.Logf("%s writer: %d acked, %d lost, %.0f/s before the cut, %d acked in the first second of the cut; acks by node before %v, during %v, after %v",
			w.name, w.w.Acked, w.w.Lost, w.w.Rate, w.w.FirstSecond, w.w.Before, w.w.During, w.w.After)
	}
	if res.Announced < 0 || res.Announced > cut {
		t.Errorf("the majority side announced a new master %v after the cut, want within the %v cut", res.Announced, cut)
	}
	if res.StoppedVouching < 0 || res.StoppedVouching > cut {
		t.Errorf("the cut-off sentinel stopped vouching %v after the cut, want within the %v cut", res.StoppedVouching, cut)
	}
	if res.Demoted < 0 || res.Demoted > demoteBound {
		t.Errorf("old master demoted %v after the heal, want within %v", res.Demoted, demoteBound)
	}
	if res.Demoted > time.Second {
		t.Logf("old master demoted %v after the heal: over issue 9's 1 s target", res.Demoted)
	}
	if res.FinalMaster == "m" {
		t.Errorf("the old master is the final master: no failover happened")
	}
}
