package node

import (
	"context"
	"errors"
	"testing"

	"github.com/x0tta6bl4/gosentinel/replication"
)

// TestNodeVerifiesLeadership: the Proposer the node hands to the failover
// engine must implement replication.LeaderVerifier, or the engine's guard
// before SLAVEOF NO ONE checks nothing but its own term's context. A
// sentinel alone (local store) always leads; one whose Raft group is in
// force but has no store open does not.
func TestNodeVerifiesLeadership(t *testing.T) {
	var p replication.Proposer = &Node{}
	v, ok := p.(replication.LeaderVerifier)
	if !ok {
		t.Fatal("*Node does not implement replication.LeaderVerifier")
	}
	if err := v.VerifyLeader(context.Background()); err != nil {
		t.Fatalf("local store: %v", err)
	}
	n := &Node{cl: &cluster{active: true}}
	if err := n.VerifyLeader(context.Background()); !errors.Is(err, ErrNoLeader) {
		t.Fatalf("group in force without a store: %v, want ErrNoLeader", err)
	}
}
