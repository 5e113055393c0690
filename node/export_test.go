package node

import "github.com/x0tta6bl4/gosentinel/replication"

// EngineView is the view the node gives its failover engine, for the
// external tests.
func EngineView(n *Node) replication.View { return nodeView{n} }

// MaxQuorum is the largest quorum the node uses, for the external tests.
func MaxQuorum(n *Node) int { return n.maxQuorum() }
