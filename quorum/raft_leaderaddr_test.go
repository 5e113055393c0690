package quorum

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"github.com/x0tta6bl4/gosentinel/internal/peer"
	"github.com/x0tta6bl4/gosentinel/internal/redistest"
)

// TestRaftStore_FollowersSeeOneLeaderAddress runs three stores whose
// DialAddress answers as the node's does (an address naming the id), and
// learns the members' addresses only once a leader is elected, as a group
// does while it forms. raft puts the leader's own address, as its
// ServerAddressProvider gives it, in every RPC's header; its heartbeats
// build that header once per term and its other AppendEntries on every
// call, so with a provider that answered for the local id the header went
// from "addr" (learnt too late for the heartbeats) to "addr#id" and back on
// every RPC. A follower then recorded a new leader address each time:
// INFO raft's raft_leader_addr flapped, and every RPC woke the store's
// observers (23 wake-ups a second on an idle follower, one of its most
// frequent).
func TestRaftStore_FollowersSeeOneLeaderAddress(t *testing.T) {
	var addrs sync.Map // id -> address, filled once a leader is elected
	dial := func(c *RaftConfig) {
		c.DialAddress = func(id string) (string, bool) {
			a, ok := addrs.Load(id)
			if !ok {
				return "", false
			}
			return peer.TargetAddr(a.(string), id), true
		}
	}
	nodes := newBootstrappedTrio(t, "secret", dial)
	leader := waitLeader(t, nodes...)
	for _, n := range nodes {
		addrs.Store(n.id, n.addr)
	}

	// A flap is a leader address change with the same leader id: an
	// election may legitimately change the id on a loaded machine.
	type watch struct {
		mu      sync.Mutex
		id      raft.ServerID
		addr    raft.ServerAddress
		flaps   []string
		contact map[time.Time]bool
	}
	var watches []*watch
	for _, n := range nodes {
		if n == leader {
			continue
		}
		r, err := n.store.get()
		if err != nil {
			t.Fatal(err)
		}
		w := &watch{contact: map[time.Time]bool{}}
		w.addr, w.id = r.LeaderWithID()
		ch := make(chan raft.Observation, 256)
		obs := raft.NewObserver(ch, false, func(o *raft.Observation) bool {
			_, ok := o.Data.(raft.LeaderObservation)
			return ok
		})
		r.RegisterObserver(obs)
		t.Cleanup(func() { r.DeregisterObserver(obs) })
		go func() {
			for o := range ch {
				lo := o.Data.(raft.LeaderObservation)
				w.mu.Lock()
				if lo.LeaderID == w.id && lo.LeaderID != "" && lo.LeaderAddr != w.addr {
					w.flaps = append(w.flaps, fmt.Sprintf("%q -> %q", w.addr, lo.LeaderAddr))
				}
				w.id, w.addr = lo.LeaderID, lo.LeaderAddr
				w.mu.Unlock()
			}
		}()
		watches = append(watches, w)
	}
	// Enough RPCs for both kinds of AppendEntries to reach each follower:
	// commands (replicate's AppendEntries) and 30 distinct contacts.
	for i := 0; i < 3; i++ {
		leader = proposeOnLeader(t, monitorCmd(fmt.Sprintf("m%d", i), 6379+i, int64(i)), nodes...)
	}
	redistest.Wait(t, 20*time.Second, "30 contacts with the leader on each follower", func() error {
		i := 0
		for _, n := range nodes {
			if n.store.IsLeader() {
				continue
			}
			if i >= len(watches) {
				break
			}
			w := watches[i]
			i++
			w.contact[n.store.LastContact()] = true
			if len(w.contact) < 30 {
				return fmt.Errorf("%s: %d contacts", n.id, len(w.contact))
			}
		}
		return nil
	})
	for _, w := range watches {
		w.mu.Lock()
		flaps := w.flaps
		w.mu.Unlock()
		if len(flaps) > 0 {
			t.Errorf("the leader's address changed %d times with the same leader id, first %s", len(flaps), flaps[0])
		}
	}
}
