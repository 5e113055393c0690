package node

import (
	"fmt"
	"slices"
	"time"

	"github.com/x0tta6bl4/gosentinel/monitor"
)

// isObjectivelyDown is sentinelCheckObjectivelyDown's rule as a pure
// function: the master must be SDOWN here, and this sentinel plus the peers
// whose latest is-master-down-by-addr reply said "down" must reach quorum.
// Only peers whose id is confirmed count (monitor/confirm.go): a sentinel
// that a hello announced is not a vote until our own link to its address
// answered SENTINEL MYID with the runid the hello gave.
func isObjectivelyDown(ms *monitor.MasterStatus, quorum int) (down bool, votes int) {
	if !ms.Master.SDown {
		return false, 0
	}
	votes = 1
	for _, s := range ms.Sentinels {
		if s.MasterDown && s.IDConfirmed {
			votes++
		}
	}
	return votes >= quorum, votes
}

// checkObjectivelyDown updates every master's ODOWN flag and emits
// +odown/-odown on transitions (the 100 ms tick; a peer's changed verdict
// and this sentinel's own +sdown check their master at once).
//
// Only a master that is SDOWN here can become ODOWN, and only one that is
// ODOWN can stop being it: the others are not looked at (at 1000 masters,
// copying each one's status ten times a second was a seventh of the
// leader's CPU).
func (n *Node) checkObjectivelyDown() {
	// Not in TILT: the SDOWN flags and the peers' answers it would count
	// are as old as the stall, and redis-sentinel checks nothing in TILT.
	// An ODOWN raised from them started a failover of a master that had
	// recovered meanwhile.
	if tilt, _ := n.mon.Tilt(); tilt {
		return
	}
	names := n.mon.SDownMasters()
	n.mu.Lock()
	if n.odownLocals > 0 {
		for name, l := range n.local {
			if l.odown && !slices.Contains(names, name) {
				names = append(names, name)
			}
		}
	}
	n.mu.Unlock()
	for _, name := range names {
		n.checkMasterObjectivelyDown(name)
	}
}

// checkMasterObjectivelyDown updates one master's ODOWN flag.
func (n *Node) checkMasterObjectivelyDown(name string) {
	m, ms, ok := n.status(name)
	if !ok {
		return
	}
	down, votes := isObjectivelyDown(ms, m.Quorum)
	n.mu.Lock()
	l := n.local[name]
	if l == nil || l.odown == down {
		n.mu.Unlock()
		return
	}
	n.setODownLocked(l, down)
	if down {
		l.odownSince = time.Now()
	} else {
		l.odownSince = time.Time{}
	}
	n.mu.Unlock()
	// Replicas of a master that is down are polled every second.
	n.mon.Watch(n.specFor(m))
	if down {
		n.eng.Kick()
		n.emit(monitor.LevelWarning, "+odown", n.masterRef(m), fmt.Sprintf("#quorum %d/%d", votes, m.Quorum))
	} else {
		n.emit(monitor.LevelWarning, "-odown", n.masterRef(m), "")
	}
}

// setODownLocked sets l.odown, keeping n.odownLocals in step. Caller
// holds n.mu.
func (n *Node) setODownLocked(l *masterLocal, down bool) {
	if l.odown == down {
		return
	}
	l.odown = down
	if down {
		n.odownLocals++
	} else {
		n.odownLocals--
	}
}

// setLocalLocked makes l the local record of master name (nil: none),
// keeping n.odownLocals in step for the record it replaces. Caller holds
// n.mu.
func (n *Node) setLocalLocked(name string, l *masterLocal) {
	if old := n.local[name]; old != nil && old.odown {
		n.odownLocals--
	}
	if l == nil {
		delete(n.local, name)
		return
	}
	if l.odown {
		n.odownLocals++
	}
	n.local[name] = l
}
