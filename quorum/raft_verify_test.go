package quorum

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
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
	waitFor(t, 5*time.Second, "a leads", func() error {
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
	const bound = 300 * time.Millisecond
	vctx, vcancel := context.WithTimeout(context.Background(), bound)
	defer vcancel()
	start := time.Now()
	err := a.store.VerifyLeader(vctx)
	if err == nil {
		t.Fatal("a leader cut off from its majority verified")
	}
	if took := time.Since(start); took > bound+200*time.Millisecond {
		t.Fatalf("VerifyLeader took %v, bound %v", took, bound)
	}
	t.Logf("cut-off leader: %v", err)

	ended, endedCancel := context.WithCancel(context.Background())
	endedCancel()
	if err := b.store.VerifyLeader(ended); err == nil {
		t.Fatal("VerifyLeader with an ended context succeeded")
	}
}
