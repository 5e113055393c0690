package node

import (
	"context"
	"errors"
	"testing"

	"github.com/x0tta6bl4/gosentinel/monitor"
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
	// Without an active group, a sentinel that knows others must reach a
	// majority of them: here two it has never reached.
	mon := monitor.New(monitor.Config{MyID: "aaaaaaaa11111111111111111111111111111111"})
	mon.Watch(monitor.MasterSpec{Name: "m", Addr: monitor.Addr{Host: "127.0.0.1", Port: 6379}})
	mon.ProcessHello("127.0.0.1,26380,bbbbbbbb22222222222222222222222222222222,0,m,127.0.0.1,6379,0")
	mon.ProcessHello("127.0.0.1,26381,cccccccc33333333333333333333333333333333,0,m,127.0.0.1,6379,0")
	if st, _ := mon.Status("m"); len(st.Sentinels) != 2 {
		t.Fatalf("sentinels known: %+v", st.Sentinels)
	}
	alone := &Node{mon: mon, myid: "aaaaaaaa11111111111111111111111111111111"}
	if err := alone.VerifyLeader(context.Background()); !errors.Is(err, errNoMajority) {
		t.Fatalf("no group, two sentinels known and not reached: %v, want errNoMajority", err)
	}
	n := &Node{cl: &cluster{active: true}}
	if err := n.VerifyLeader(context.Background()); !errors.Is(err, ErrNoLeader) {
		t.Fatalf("group in force without a store: %v, want ErrNoLeader", err)
	}
}
