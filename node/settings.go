package node

import (
	"sync"

	"github.com/x0tta6bl4/gosentinel/quorum"
	"github.com/x0tta6bl4/gosentinel/replication"
)

// Settings are per sentinel, as in redis-sentinel: quorum, down-after,
// failover-timeout, parallel-syncs, scripts, auth-pass/auth-user,
// master-reboot-down-after-period and rename-command belong to the
// sentinel that was given them (by its config file, MONITOR or SET), and
// SENTINEL SET on one sentinel changes no other. The replicated record
// carries the master's identity, address, epochs and failover; its
// settings only seed a member that learns the master from the group.
//
// Why: the credentials and script paths are about this process's links and
// file system, and users (and the official suite) configure sentinels one
// by one, expecting the untouched ones to keep their old values. The
// failover leader acts with its own settings, as redis-sentinel's leader
// does.

// copySettings copies the per-sentinel settings of src into dst.
func copySettings(dst, src *quorum.Master) { dst.Settings = src.Settings.Clone() }

// settingsFrom returns a settings holder seeded from m.
func settingsFrom(m *quorum.Master) *quorum.Master {
	s := &quorum.Master{Name: m.Name}
	copySettings(s, m)
	return s
}

// ownSettings holds each master's settings for this sentinel, under its
// own lock so that readers never contend with (or nest in) n.mu.
type ownSettings struct {
	mu sync.Mutex
	m  map[string]*quorum.Master
	// rev counts the changes of m (revision): the failover engine keeps
	// its copies of the masters, settings included, while it holds.
	rev uint64
	// maxQuorum as computed at quorumAt (Node.revision), if quorumSet.
	quorum    int
	quorumAt  replication.Revision
	quorumSet bool
}

// revision is the number of changes made to the settings so far.
func (o *ownSettings) revision() uint64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.rev
}

// master returns the replicated master with this sentinel's own settings.
func (n *Node) master(name string) (*quorum.Master, bool) {
	m, ok := n.sm().Master(name)
	if !ok {
		return nil, false
	}
	n.withOwnSettings(m)
	return m, true
}

// revision is the replicated state's and this sentinel's settings': what
// is derived from both holds while it does.
func (n *Node) revision() replication.Revision {
	return replication.Revision{State: n.sm().Revision(), Settings: n.own.revision()}
}

// maxQuorum is the largest quorum this sentinel uses among its masters.
// The group asks for it every round (four times a second), so it is kept
// while the revision holds: a look at every master was 6 % of a
// follower's CPU at 1000 masters.
func (n *Node) maxQuorum() int {
	// The revision is read first: a change while the quorum is computed
	// leaves a revision older than the state, which the next call redoes.
	rev := n.revision()
	n.own.mu.Lock()
	if n.own.quorumSet && n.own.quorumAt == rev {
		q := n.own.quorum
		n.own.mu.Unlock()
		return q
	}
	n.own.mu.Unlock()
	q := n.computeMaxQuorum()
	n.own.mu.Lock()
	n.own.quorum, n.own.quorumAt, n.own.quorumSet = q, rev, true
	n.own.mu.Unlock()
	return q
}

// computeMaxQuorum is maxQuorum without the cache: it reads the settings,
// not a copy of every master.
func (n *Node) computeMaxQuorum() int {
	q := 0
	var unset []string
	names := n.MasterNames()
	n.own.mu.Lock()
	for _, name := range names {
		if s := n.own.m[name]; s != nil {
			q = max(q, s.Quorum)
		} else {
			unset = append(unset, name)
		}
	}
	n.own.mu.Unlock()
	for _, name := range unset {
		if m, ok := n.master(name); ok {
			q = max(q, m.Quorum)
		}
	}
	return q
}

// withOwnSettings overlays this sentinel's settings on a copy of a
// replicated master (m must not be shared with the FSM).
func (n *Node) withOwnSettings(m *quorum.Master) {
	n.own.mu.Lock()
	defer n.own.mu.Unlock()
	if s := n.own.m[m.Name]; s != nil {
		copySettings(m, s)
	} else {
		clearScripts(&m.Settings) // another sentinel's (settingsFromGroup)
	}
}

// seedSettings gives the master this sentinel's settings from m unless it
// has some already (a master learned from the group, or restored).
func (n *Node) seedSettings(m *quorum.Master) {
	n.own.mu.Lock()
	defer n.own.mu.Unlock()
	if n.own.m[m.Name] == nil {
		n.own.m[m.Name] = settingsFromGroup(m)
		n.own.rev++
	}
}

// settingsFromGroup is settingsFrom for a master of the replicated state:
// its record carries the settings of the sentinel that monitored it first,
// scripts included, and a script is only ever the sentinel's whose config
// file or SENTINEL SET named it, as redis-sentinels share no script paths.
// Taken over, another sentinel's path ran on this host whatever its
// deny-scripts-reconfig said, was written into its config file, and made
// its next start fail where no such file was executable.
func settingsFromGroup(m *quorum.Master) *quorum.Master {
	s := settingsFrom(m)
	clearScripts(&s.Settings)
	return s
}

func clearScripts(s *quorum.Settings) { s.NotificationScript, s.ClientReconfigScript = "", "" }

// replaceSettings sets the master's settings to m's (config file load,
// SENTINEL MONITOR here).
func (n *Node) replaceSettings(m *quorum.Master) {
	n.own.mu.Lock()
	defer n.own.mu.Unlock()
	n.own.m[m.Name] = settingsFrom(m)
	n.own.rev++
}

// setParam applies one SENTINEL SET parameter to this sentinel's settings.
func (n *Node) setParam(name string, p quorum.Param) error {
	n.own.mu.Lock()
	defer n.own.mu.Unlock()
	s := n.own.m[name]
	if s == nil {
		m, ok := n.sm().Master(name)
		if !ok {
			return quorum.ErrNoSuchMaster
		}
		s = settingsFromGroup(m)
		n.own.m[name] = s
	}
	n.own.rev++
	return quorum.ApplyParam(s, p)
}

// dropSettings forgets a removed master's settings.
func (n *Node) dropSettings(name string) {
	n.own.mu.Lock()
	defer n.own.mu.Unlock()
	delete(n.own.m, name)
	n.own.rev++
}
