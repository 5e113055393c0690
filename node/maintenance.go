package node

import (
	"strings"

	"github.com/x0tta6bl4/gosentinel/monitor"
	"github.com/x0tta6bl4/gosentinel/quorum"
	"github.com/x0tta6bl4/gosentinel/sentinel"
)

// Maintenance mode (SENTINEL MAINTENANCE ON|OFF [<master-name> ...]):
// automatic failovers paused, group-wide or per master. The pause is
// replicated state (quorum.OpMaintenance), so every member agrees and it
// survives restarts and leader changes through the Raft log and snapshots;
// it is never written to sentinel.conf. With GOSENTINEL_RAFT=off it lives
// in the local state only and is lost at restart. The failover engine asks
// FailoversPaused before starting an automatic failover (nodeView); the
// metrics and health endpoints read the accessors below.

// FailoversPaused tells whether automatic failovers of the master are
// paused (SENTINEL MAINTENANCE), group-wide or for that master.
func (n *Node) FailoversPaused(name string) bool { return n.sm().FailoversPaused(name) }

// Maintenance returns the replicated maintenance state: all is true when
// every master is paused; masters lists the masters paused by name.
func (n *Node) Maintenance() (all bool, masters []string) { return n.sm().Maintenance() }

// SetMaintenance answers SENTINEL MAINTENANCE ON|OFF [<master-name> ...]:
// it commits the pause (paused) or its end through the group, like
// MONITOR and REMOVE (forwarded to the leader by a follower, which answers
// once it has applied it), and never to the local state while Raft is on
// (proposeToGroup). An unknown name fails the whole command.
func (n *Node) SetMaintenance(paused bool, names []string) error {
	n.awaitGroup()
	for _, name := range names {
		if _, ok := n.sm().Master(name); !ok {
			return sentinel.ErrNoSuchMaster
		}
	}
	err := n.proposeToGroup(&quorum.Command{Op: quorum.OpMaintenance, Paused: paused, Names: names, At: nowMs()})
	if err != nil {
		return replyError(err)
	}
	return nil
}

// Maintenance events, of gosentinel's own: published on every sentinel
// when the change is applied, and logged in redis-sentinel's format. The
// payload is "*" for the whole set, else the master's %@ reference
// ("master <name> <ip> <port>"). No notification script runs for them:
// scripts written for redis-sentinel know only its event types.
const (
	eventFailoversPaused  = "+failovers-paused"
	eventFailoversResumed = "-failovers-paused"
)

// onMaintenanceApplied announces an applied OpMaintenance.
func (n *Node) onMaintenanceApplied(c *quorum.Command) {
	typ := eventFailoversResumed
	if c.Paused {
		typ = eventFailoversPaused
	}
	if len(c.Names) == 0 {
		n.emitMsg(monitor.LevelWarning, typ, "", "*")
		return
	}
	for _, name := range c.Names {
		if m, ok := n.master(name); ok {
			n.emitMsg(monitor.LevelWarning, typ, "", n.announcedRef(n.masterRef(m)).String())
		}
	}
}

// maintenanceInfo writes the INFO raft lines of the maintenance state:
// failovers_paused (the group-wide flag) and failovers_paused_masters (the
// masters paused by name, comma separated).
func (n *Node) maintenanceInfo(line func(k string, v any)) {
	all, masters := n.Maintenance()
	line("failovers_paused", boolInt(all))
	line("failovers_paused_masters", strings.Join(masters, ","))
}
