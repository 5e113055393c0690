package node

// FailoversPaused tells whether automatic failovers of the master are
// paused (SENTINEL MAINTENANCE), group-wide or for that master.
// Placeholder until the maintenance mode lands: nothing is ever paused.
func (n *Node) FailoversPaused(name string) bool { return false }

// Maintenance returns the replicated maintenance state: all is true when
// every master is paused; masters lists the masters paused by name.
func (n *Node) Maintenance() (all bool, masters []string) { return false, nil }
