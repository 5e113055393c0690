package node_test

import (
	"testing"

	"github.com/x0tta6bl4/gosentinel/node"
)

// The largest quorum is kept between changes: every change of a quorum
// (MONITOR, SET, REMOVE) must show in the next answer.
func TestMaxQuorumFollowsChanges(t *testing.T) {
	n, _ := startTestNode(t, "")
	check := func(step string, want int) {
		t.Helper()
		if got := node.MaxQuorum(n); got != want {
			t.Fatalf("%s: max quorum %d, want %d", step, got, want)
		}
	}
	check("start", 2)
	check("again", 2)
	if err := n.Set("mymaster", []string{"QUORUM", "4"}); err != nil {
		t.Fatal(err)
	}
	check("SET quorum 4", 4)
	if err := n.Monitor("other", "127.0.0.1", "6400", "7"); err != nil {
		t.Fatal(err)
	}
	check("MONITOR other quorum 7", 7)
	if err := n.Set("other", []string{"QUORUM", "3"}); err != nil {
		t.Fatal(err)
	}
	check("SET other quorum 3", 4)
	if err := n.Remove("mymaster"); err != nil {
		t.Fatal(err)
	}
	check("REMOVE mymaster", 3)
}
