package quorum

import (
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"github.com/x0tta6bl4/gosentinel/internal/redistest"
)

// fullStable is a stable store whose writes fail while full is set, as
// raft-boltdb's do on a full disk; reads keep working.
type fullStable struct {
	*raft.InmemStore
	full atomic.Bool
	// refusedTerms counts the terms refused while full.
	refusedTerms atomic.Int64
}

var errDiskFull = errors.New("no space left on device")

func (s *fullStable) Set(k, v []byte) error {
	if s.full.Load() {
		return errDiskFull
	}
	return s.InmemStore.Set(k, v)
}

func (s *fullStable) SetUint64(k []byte, v uint64) error {
	if s.full.Load() {
		if string(k) == string(keyCurrentTerm) {
			s.refusedTerms.Add(1)
		}
		return errDiskFull
	}
	return s.InmemStore.SetUint64(k, v)
}

// TestRaftStore_UnsavedTermIsRefusedNotFatal: a server that cannot save a
// new term (its disk is full) refuses what needs one, the vote requests
// and appends of a newer term and its own elections, instead of stopping
// the process: hashicorp/raft v1.7.3 panics ("failed to save current
// term"), and a sentinel on a full disk crashed at every election while
// redis-sentinel keeps running. The group goes on without it, and it
// catches up once its disk has room.
func TestRaftStore_UnsavedTermIsRefusedNotFatal(t *testing.T) {
	stable := &fullStable{InmemStore: raft.NewInmemStore()}
	full := &inmemDisk{logs: raft.NewInmemStore(), stable: stable, snaps: raft.NewInmemSnapshotStore()}
	a, b := newInmemNode(t, "a", 0), newInmemNode(t, "b", 0)
	// c's own timers are long: it stands only when the TimeoutNow below
	// tells it to. With the test's 50 ms it became a candidate by itself
	// once it refused the new leader's heartbeats, and a TimeoutNow that
	// reaches a candidate leads to a pre-vote, never to electSelf.
	slow := testTiming
	slow.heartbeat, slow.election = 10*time.Second, 10*time.Second
	c := openTimedInmemNode(t, "c", 0, full, false, slow)
	connectAll(a, b, c)
	bootstrapLed(t, a, b, c)
	first := proposeMonitor(t, a, "before")
	waitApplied(t, c, first)
	term := c.store.Term()

	// A new term reaches c by b's vote request and then by b's appends.
	stable.full.Store(true)
	if err := a.store.TransferLeadershipTo("b"); err != nil {
		t.Fatal(err)
	}
	redistest.Wait(t, 5*time.Second, "b leads", func() error {
		if !b.store.IsLeader() {
			return fmt.Errorf("not yet")
		}
		return nil
	})
	during := proposeMonitor(t, b, "during")
	waitApplied(t, a, during)
	if got := c.store.Term(); got != term {
		t.Fatalf("c's term %d with its stable store full, want the saved %d", got, term)
	}
	if got := c.store.AppliedIndex(); got >= during {
		t.Fatalf("c applied %d, an entry of a term it could not save", got)
	}

	// Cut off and told to stand (a leadership transfer's TimeoutNow), c
	// cannot begin the election: it has no term to stand in.
	for _, n := range []*inmemNode{a, b} {
		n.trans.Disconnect(c.trans.LocalAddr())
		c.trans.Disconnect(n.trans.LocalAddr())
	}
	if got := c.store.Stats()["state"]; got != "Follower" {
		t.Fatalf("c is a %s before the TimeoutNow, want a follower", got)
	}
	tries := stable.refusedTerms.Load()
	_, caller := raft.NewInmemTransport("caller-addr")
	caller.Connect(c.trans.LocalAddr(), c.trans)
	req := &raft.TimeoutNowRequest{RPCHeader: raft.RPCHeader{ProtocolVersion: raft.ProtocolVersionMax, ID: []byte("b"), Addr: []byte(b.trans.LocalAddr())}}
	if err := caller.TimeoutNow(raft.ServerID(c.id), c.trans.LocalAddr(), req, &raft.TimeoutNowResponse{}); err != nil {
		t.Fatal(err)
	}
	redistest.Wait(t, 5*time.Second, "c's election refused", func() error {
		if stable.refusedTerms.Load() == tries {
			return fmt.Errorf("no term refused since the TimeoutNow")
		}
		return nil
	})
	if got := c.store.Term(); got != term {
		t.Fatalf("c's term %d after an election it could not save, want %d", got, term)
	}

	// With room again, c follows the leader and catches up.
	stable.full.Store(false)
	connectAll(a, b, c)
	l := leaderOf(t, a, b, c)
	after := proposeMonitor(t, l, "after")
	waitApplied(t, c, after)
	if got, want := c.store.Term(), l.store.Term(); got != want {
		t.Fatalf("c's term %d, the leader's %d", got, want)
	}
}

// waitApplied waits until n applied index idx.
func waitApplied(t *testing.T, n *inmemNode, idx uint64) {
	t.Helper()
	redistest.Wait(t, 5*time.Second, fmt.Sprintf("%s applies %d", n.id, idx), func() error {
		if got := n.store.AppliedIndex(); got < idx {
			return fmt.Errorf("applied %d", got)
		}
		return nil
	})
}

// leaderOf waits for one of nodes to lead and returns it.
func leaderOf(t *testing.T, nodes ...*inmemNode) *inmemNode {
	t.Helper()
	var l *inmemNode
	redistest.Wait(t, 5*time.Second, "a leader", func() error {
		for _, n := range nodes {
			if n.store.IsLeader() {
				l = n
				return nil
			}
		}
		return fmt.Errorf("none")
	})
	return l
}

// TestRaftStore_FailedAppendIsRetriedNotWalkedBack: a follower that cannot
// store the entries it is sent (a full disk) answers with the error, and
// the leader sends the same entries again after its backoff. It answered
// "not accepted", which the leader takes for a log that does not match:
// it stepped back one entry per answer, below the follower's snapshot
// and then its own, and a follower whose disk had room again was caught
// in snapshot installs that did not end (the resource-fault review).
func TestRaftStore_FailedAppendIsRetriedNotWalkedBack(t *testing.T) {
	disk := &fullDisk{LogStore: raft.NewInmemStore()}
	a, b := newCountedInmemNode(t, "a"), newInmemNode(t, "b", 0)
	c := openInmemNode(t, "c", 0, &inmemDisk{logs: disk, stable: raft.NewInmemStore(), snaps: raft.NewInmemSnapshotStore()}, false)
	connectAll(a, b, c)
	bootstrapLed(t, a, b, c)
	first := proposeMonitor(t, a, "before")
	waitApplied(t, c, first)
	to := c.trans.LocalAddr()
	a.counted.carriedTo(to)

	disk.full.Store(true)
	var last uint64
	for i := range 5 {
		last = proposeMonitor(t, a, fmt.Sprintf("m%d", i))
	}
	var sent carried
	redistest.Wait(t, 10*time.Second, "appends to c sent again", func() error {
		if c.store.LogStoreError() == nil {
			return errors.New("c stored everything")
		}
		got := a.counted.carriedTo(to)
		if got.n > 0 && (sent.n == 0 || got.lowestPrev < sent.lowestPrev) {
			sent.lowestPrev = got.lowestPrev
		}
		sent.n += got.n
		if sent.n < 4 {
			return fmt.Errorf("%d appends carrying entries to c", sent.n)
		}
		return nil
	})
	if sent.lowestPrev < first {
		t.Fatalf("the leader stepped back to entries after %d, below c's last entry %d, in %d appends", sent.lowestPrev, first, sent.n)
	}
	disk.full.Store(false)
	waitApplied(t, c, last)
}
