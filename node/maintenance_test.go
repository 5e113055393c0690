package node_test

import (
	"errors"
	"testing"

	"github.com/x0tta6bl4/gosentinel/node"
)

// TestMaintenanceNeedsTheGroup: with Raft on, SENTINEL MAINTENANCE changes
// only the group's state. A sentinel whose group has not formed (quorum 2:
// it expects 3) used to answer OK, pause in its local state, and lose the
// pause without a word when the group formed (the group's state replaced
// the local one) or when it restarted (the pause is never written to
// sentinel.conf). It answers NOQUORUM now, and pauses nothing; a sentinel
// whose group is formed (cluster-size 1) pauses.
func TestMaintenanceNeedsTheGroup(t *testing.T) {
	t.Parallel()
	t.Run("alone", func(t *testing.T) {
		t.Parallel()
		n, _ := startTestNode(t, "")
		for _, paused := range []bool{true, false} {
			if err := n.SetMaintenance(paused, nil); !errors.Is(err, node.ErrNoLeader) {
				t.Fatalf("SENTINEL MAINTENANCE %v before the group formed: %v, want %v", paused, err, node.ErrNoLeader)
			}
		}
		if n.FailoversPaused("mymaster") {
			t.Fatal("a refused SENTINEL MAINTENANCE ON paused the local state")
		}
	})
	t.Run("member", func(t *testing.T) {
		t.Parallel()
		n, _ := startTestNode(t, "sentinel cluster-size 1\n")
		raftInfo(t, n, func(f map[string]string) bool { return f["raft_state"] == "leader" })
		if err := n.SetMaintenance(true, nil); err != nil {
			t.Fatalf("SENTINEL MAINTENANCE ON in a formed group: %v", err)
		}
		if !n.FailoversPaused("mymaster") {
			t.Fatal("SENTINEL MAINTENANCE ON answered OK but mymaster is not paused")
		}
	})
}
