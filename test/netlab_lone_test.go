package test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/bench/harness"
	"github.com/x0tta6bl4/gosentinel/bench/partition"
	"github.com/x0tta6bl4/gosentinel/internal/netlab"
	"github.com/x0tta6bl4/gosentinel/internal/redistest"
)

// TestNetlabLoneCut: issue 9's acceptance for faults that must not cause a
// failover. One sentinel (the Raft leader, then a follower) or one replica
// is cut by iptables from every other host for 4 s at down-after 1000,
// then healed: the master stays the master throughout and for 4 s after
// the heal, no sentinel logs +switch-master, and the master accepts the
// probe's write in every round (a refused or blocked write would be one
// redis-sentinel accepts).
func TestNetlabLoneCut(t *testing.T) {
	for _, who := range []string{"leader", "follower", "replica"} {
		t.Run(who, func(t *testing.T) {
			d, err := partition.Start(t, partition.Options{Bin: candidateBin(t), Raft: true, DownAfter: time.Second})
			if err != nil {
				t.Fatal(err)
			}
			hd := &harness.Deployment{Sentinels: d.Sentinels}
			leader, err := hd.WaitRaftLeader(30 * time.Second)
			if err != nil {
				t.Fatal(err)
			}
			var lone *netlab.Host
			switch who {
			case "leader":
				lone = d.SentinelHosts[leader]
			case "follower":
				lone = d.SentinelHosts[(leader+1)%len(d.SentinelHosts)]
			case "replica":
				lone = d.NodeHosts[1]
			}
			probe := partition.StartProbe(d.Nodes[:1], partition.ProbePeriod)
			if err := d.Lab.Cut([]*netlab.Host{lone}, d.AllBut(lone)); err != nil {
				t.Fatal(err)
			}
			cutAt := time.Now()
			// Held by polling for the master's role, which must not change.
			watch := func(until time.Time) error {
				return redistest.PollErr(time.Until(until)+time.Second, 100*time.Millisecond, func() error {
					if r := harness.ReadRole(d.Nodes[0], 500*time.Millisecond); r.Err == nil && r.Role != "master" {
						return fmt.Errorf("stop: the master turned %s", r.Role)
					}
					if time.Now().Before(until) {
						return fmt.Errorf("holding")
					}
					return nil
				})
			}
			if err := watch(cutAt.Add(4 * time.Second)); err != nil && !strings.HasPrefix(err.Error(), "holding") {
				t.Error(err)
			}
			if err := d.Lab.Heal(); err != nil {
				t.Fatal(err)
			}
			if err := watch(time.Now().Add(4 * time.Second)); err != nil && !strings.HasPrefix(err.Error(), "holding") {
				t.Error(err)
			}
			samples := probe.Stop()
			refused := 0
			for _, s := range samples {
				if !s.Accepted[0] {
					refused++
				}
			}
			t.Logf("%s %s cut for 4 s: the master accepted %d of %d probe writes", who, lone.Name, len(samples)-refused, len(samples))
			if refused > 0 {
				t.Errorf("the master refused or blocked %d of %d probe writes", refused, len(samples))
			}
			for _, s := range d.Sentinels {
				if ev := harness.Events(harness.RunLog(s.Process), "+switch-master"); len(ev) > 0 {
					t.Errorf("%s: %q", s.Name(), ev)
				}
			}
			harness.LogRunsIfFailed(t, d.Sentinels)
		})
	}
}
