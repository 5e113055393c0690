package quorum

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/internal/redistest"
)

// TestRaftStore_VerifyLeader: a leader in touch with its majority verifies;
// a follower does not; a leader cut off from its majority fails within the
// caller's bound, before (or however long) raft takes to notice by itself.
func TestRaftStore_VerifyLeader(t *testing.T) {
	a, b, c := newInmemNode(t, "a", 0), newInmemNode(t, "b", 0), newInmemNode(t, "c", 0)
	connectAll(a, b, c)
	if err := a.store.Bootstrap([]Server{a.server()}); err != nil {
		t.Fatal(err)
	}
	redistest.Wait(t, 5*time.Second, "a leads", func() error {
		if !a.store.IsLeader() {
			return fmt.Errorf("not yet")
		}
		return nil
	})
	for _, n := range []*inmemNode{b, c} {
		if err := a.store.AddVoter(n.id, string(n.trans.LocalAddr())); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := a.store.VerifyLeader(ctx); err != nil {
		t.Fatalf("leader with its majority: %v", err)
	}
	if err := b.store.VerifyLeader(ctx); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("follower: %v, want ErrNotLeader", err)
	}

	// Cut a off from both followers, both ways.
	a.trans.DisconnectAll()
	b.trans.Disconnect(a.trans.LocalAddr())
	c.trans.Disconnect(a.trans.LocalAddr())
	// Replies to RPCs the leader sent before the cut may still arrive (the
	// in-memory transport completes an RPC already handed to the peer), and
	// hashicorp/raft counts a reply that arrives after VerifyLeader was
	// called: until those have drained (well within a second here) a call
	// may still verify. After that every call must fail, each within the
	// caller's bound, and keep failing.
	const bound = 300 * time.Millisecond
	cutAt := time.Now()
	var err error
	failures := 0
	for failures < 2 {
		vctx, vcancel := context.WithTimeout(context.Background(), bound)
		start := time.Now()
		err = a.store.VerifyLeader(vctx)
		took := time.Since(start)
		vcancel()
		switch {
		case err != nil && took > bound+200*time.Millisecond:
			t.Fatalf("VerifyLeader took %v, bound %v", took, bound)
		case err != nil:
			failures++
		case failures > 0:
			t.Fatal("a cut-off leader verified again after a failed verification")
		case time.Since(cutAt) > time.Second:
			t.Fatalf("a leader cut off from its majority still verifies %v after the cut", time.Since(cutAt))
		}
	}
	t.Logf("cut-off leader: %v", err)

	ended, endedCancel := context.WithCancel(context.Background())
	endedCancel()
	if err := b.store.VerifyLeader(ended); err == nil {
		t.Fatal("VerifyLeader with an ended context succeeded")
	}
}
