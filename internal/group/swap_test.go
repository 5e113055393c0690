package group

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/quorum"
)

// Addresses are reused: two members that restart with their addresses
// swapped (a Docker bridge or a CNI handing freed IPs out again) each come
// back at an address the other's entry names. The leader used to take the
// address as proof that its previous holder was gone and removed it: a
// live member, or the leader itself (whose Raft then shut down). With the
// third member down the removal could not commit and the two live members
// of three were left without a leader for good.

// newSwapCluster is a simulation of n sentinels at 10.0.0.1-n, the
// directive giving E = n (sim_test.go's harness, without a schedule),
// started and converged to one group.
func newSwapCluster(t *testing.T, n int) *simCluster {
	return newConvergedCluster(t, n, nil)
}

// newConvergedCluster is newSwapCluster with the slots given to setup
// before any starts.
func newConvergedCluster(t *testing.T, n int, setup func(slots []*simSlot)) *simCluster {
	c := &simCluster{t: t, seed: 1, n: n, leaders: map[uint64]string{}, logs: &simLog{}, stats: &simStats{counts: map[string]int{}}}
	for i := range n {
		c.slots = append(c.slots, &simSlot{idx: i, id: fmt.Sprintf("s%d-g0", i), addr: fmt.Sprintf("10.0.0.%d:26379", i+1), disks: map[string]*simDisk{}})
	}
	c.cut = make([][]bool, n)
	for i := range c.cut {
		c.cut[i] = make([]bool, n)
	}
	if setup != nil {
		setup(c.slots)
	}
	t.Cleanup(c.stopAll)
	for _, s := range c.slots {
		c.start(s)
	}
	if err := c.converge(); err != nil {
		t.Fatal(err)
	}
	return c
}

// swapAddresses restarts s0 and s1 with each other's address.
func (c *simCluster) swapAddresses(s0, s1 *simSlot) {
	c.stop(s0)
	c.stop(s1)
	c.mu.Lock()
	s0.addr, s1.addr = s1.addr, s0.addr
	c.mu.Unlock()
	c.start(s1)
	c.start(s0)
}

// removals are the log lines of members removed or replaced (a
// -raft-voter event also marks an entry moved to another address).
func (c *simCluster) removals() []string {
	c.logs.mu.Lock()
	defer c.logs.mu.Unlock()
	var out []string
	for _, l := range c.logs.lines {
		if strings.Contains(l, "replacing its old entry") || strings.Contains(l, "Removing a Sentinel") {
			out = append(out, l)
		}
	}
	return out
}

func TestAddressSwapKeepsEveryMember(t *testing.T) {
	c := newSwapCluster(t, 3)
	c.swapAddresses(c.slots[0], c.slots[1])
	// converge: one leader, every sentinel a voter at its own address.
	if err := c.converge(); err != nil {
		t.Fatalf("%v; removals: %q", err, c.removals())
	}
	if r := c.removals(); len(r) > 0 {
		t.Fatalf("a live member was removed: %q", r)
	}
}

func TestAddressSwapWithTheThirdMemberDown(t *testing.T) {
	c := newSwapCluster(t, 3)
	s0, s1, s2 := c.slots[0], c.slots[1], c.slots[2]
	c.stop(s2)
	c.swapAddresses(s0, s1)
	want := []quorum.Server{{ID: s0.id, Addr: s0.addr}, {ID: s1.id, Addr: s1.addr}, {ID: s2.id, Addr: s2.addr}}
	deadline := time.Now().Add(simConverge)
	for {
		var leader *quorum.RaftStore
		for _, s := range []*simSlot{s0, s1} {
			if st := c.storeOf(s); st != nil && st.IsLeader() {
				leader = st
			}
		}
		var voters []quorum.Server
		if leader != nil {
			voters, _ = leader.Servers()
			if len(voters) == 3 && slices.Contains(voters, want[0]) && slices.Contains(voters, want[1]) && slices.Contains(voters, want[2]) {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("two live members of three: leader %v, voters %v after %v (want %v); removals: %q",
				leader != nil, voters, simConverge, want, c.removals())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if r := c.removals(); len(r) > 0 {
		t.Fatalf("a live member was removed: %q", r)
	}
}
