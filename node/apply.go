package node

import (
	"fmt"
	"strconv"

	"github.com/x0tta6bl4/gosentinel/monitor"
	"github.com/x0tta6bl4/gosentinel/quorum"
)

// onApply reacts to every command the FSM applied, on every sentinel: it
// keeps the monitor's links in line with the replicated settings and
// announces address switches. It runs inside the store's apply path, so it
// must not propose.
func (n *Node) onApply(c *quorum.Command, result error) {
	if result != nil {
		return
	}
	switch c.Op {
	case quorum.OpMonitor:
		n.mu.Lock()
		if n.local[c.Master.Name] == nil {
			n.local[c.Master.Name] = &masterLocal{}
		}
		seed, ok := n.seed[c.Master.Name]
		delete(n.seed, c.Master.Name)
		// The config file's known replicas and sentinels belong to the
		// master it named: not to another master of that name that the
		// group created meanwhile (REMOVE then MONITOR elsewhere).
		ok = ok && seed.Addr == monitor.Addr(c.Master.Addr)
		n.mu.Unlock()
		n.resolveAhead(c.Master.Addr)
		n.seedSettings(c.Master)
		m := c.Master.Clone()
		n.withOwnSettings(m)
		spec := n.specFor(m)
		if st, watched := n.mon.Status(m.Name); watched && st.Master.Ref.Addr != spec.Addr {
			// A new master record of a name this sentinel was watching
			// elsewhere (its config file's, removed by the group while it
			// caught up): start afresh rather than treat it as a switch
			// that would carry the old master's replicas over.
			n.mon.Unwatch(m.Name)
		}
		if ok {
			spec.KnownReplicas, spec.KnownSentinels = seed.KnownReplicas, seed.KnownSentinels
		}
		n.mon.Watch(spec)
	case quorum.OpRemove:
		n.forgetMaster(c.Name)
	case quorum.OpFailoverBegin:
		// The decision is this sentinel's vote for itself in the failover
		// epoch (leader-epoch in the config file).
		if m, ok := n.master(c.Name); ok && m.Failover != nil {
			n.mu.Lock()
			if l := n.local[c.Name]; l != nil && c.Leader == n.myid {
				l.leader, l.leaderEpoch = n.myid, m.Failover.Epoch
			}
			n.mu.Unlock()
			n.mon.Watch(n.specFor(m))
		}
		n.flusher.request()
	case quorum.OpFailoverAbort, quorum.OpFailoverPromoted:
		if m, ok := n.master(c.Name); ok {
			n.mon.Watch(n.specFor(m))
		}
		n.flusher.request()
	case quorum.OpSet:
		if m, ok := n.master(c.Name); ok {
			n.mon.Watch(n.specFor(m))
		}
	case quorum.OpSwitchMaster:
		n.switchedMaster(c.Name, c.From, c.Addr, c.Epoch)
	case quorum.OpObserveEpoch, quorum.OpSetConfigEpoch:
		n.flusher.request()
	case quorum.OpMaintenance:
		n.onMaintenanceApplied(c)
	}
}

// switchedMaster is what a sentinel does when the state moved a master:
// announce it, watch the new address, say so in hellos, and run the
// client-reconfig-script as observer unless this sentinel led the
// failover (it ran the script as leader at the promotion).
func (n *Node) switchedMaster(name string, from, to quorum.Addr, epoch uint64) {
	n.resolveAhead(to)
	n.announceSwitch(name, from, to)
	n.mon.SwitchMaster(name, monitor.Addr(to))
	// The new configuration goes out in hellos at the next tick, not up to
	// a hello period later (sentinelForceHelloUpdateForMaster): a
	// redis-sentinel in the set learns it from hellos only.
	n.mon.ForceHello(name)
	n.mu.Lock()
	led := false
	if l := n.local[name]; l != nil {
		n.setODownLocked(l, false)
		led = epoch != 0 && l.ledEpoch == epoch
		l.ledEpoch = 0
	}
	n.mu.Unlock()
	if !led {
		n.observerScript(name, from, to)
	}
	n.flusher.request()
}

// observerScript runs the master's client-reconfig-script as redis-sentinel
// runs it on every sentinel that learns a switch it did not lead
// (sentinelCallClientReconfScript, SENTINEL_OBSERVER). Members learn a
// switch by applying it, not from a hello: the script ran only where a
// hello moved the master, so hooks that must run on every sentinel's host
// ran on the leader's alone.
func (n *Node) observerScript(name string, from, to quorum.Addr) {
	if m, ok := n.master(name); ok && m.ClientReconfigScript != "" {
		n.scripts.schedule([]string{m.ClientReconfigScript, m.Name, "observer", "start",
			n.hostAsAnnounced(name, monitor.Addr(from)), strconv.Itoa(from.Port),
			n.hostAsAnnounced(name, monitor.Addr(to)), strconv.Itoa(to.Port)})
	}
}

// announceSwitch publishes +switch-master <name> <old-ip> <old-port>
// <new-ip> <new-port>, the event every client that follows a master waits
// for.
func (n *Node) announceSwitch(name string, from, to quorum.Addr) {
	n.emitMsg(monitor.LevelWarning, "+switch-master", name, fmt.Sprintf("%s %s %d %s %d", name,
		n.hostAsAnnounced(name, monitor.Addr(from)), from.Port, n.hostAsAnnounced(name, monitor.Addr(to)), to.Port))
}

// forgetMaster drops what this sentinel holds about a master the state no
// longer has: its links, its local record and its own settings.
func (n *Node) forgetMaster(name string) {
	n.mon.Unwatch(name)
	n.mu.Lock()
	n.setLocalLocked(name, nil)
	n.mu.Unlock()
	n.dropSettings(name)
}
