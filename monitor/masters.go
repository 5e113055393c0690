package monitor

import (
	"maps"
	"slices"
	"time"
)

// Watch adds a master, or updates the settings of a watched one. Changed
// auth-pass/auth-user drop the links of the master and its replicas so they
// reconnect with the new credentials. A changed address is handled like
// SwitchMaster. KnownReplicas and KnownSentinels seed a new master only.
func (m *Monitor) Watch(spec MasterSpec) {
	spec = cloneSpec(spec)
	now := time.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	ri := m.masters[spec.Name]
	if ri == nil {
		m.addMaster(spec, now)
		return
	}
	old := ri.spec
	ri.spec = spec
	if old.AuthPass != spec.AuthPass || old.AuthUser != spec.AuthUser {
		m.dropInstanceConnections(ri)
	}
	if spec.Addr != ri.addr.Addr {
		m.switchMasterLocked(ri, spec.Addr, now)
	}
}

// addMaster creates a master and its seeded topology. Caller holds m.mu.
func (m *Monitor) addMaster(spec MasterSpec, now time.Time) {
	// The node validated the address when the master was configured; keep
	// what it gave even if it is a hostname (resolved at connect).
	addr, err := newAddress(spec.Addr, true)
	if err != nil {
		addr = address{Addr: spec.Addr}
	}
	ri := newInstance(KindMaster, spec.Name, addr, nil, now)
	ri.spec = spec
	m.masters[spec.Name] = ri
	m.sorted = nil
	for _, a := range spec.KnownReplicas {
		m.createReplica(ri, a, now)
	}
	for _, s := range spec.KnownSentinels {
		sa, err := newAddress(s.Addr, m.resolveHostnames.Load())
		if err != nil {
			continue
		}
		if si := m.createSentinel(ri, sa, s.RunID, now); si != nil {
			m.tryConnectionSharing(si)
		}
	}
	m.poke()
}

// Unwatch stops monitoring a master and releases its links.
func (m *Monitor) Unwatch(name string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ri := m.masters[name]
	if ri == nil {
		return
	}
	delete(m.masters, name)
	delete(m.sdownMasters, name)
	m.sorted = nil
	for _, r := range ri.replicas {
		m.releaseInstance(r)
	}
	for _, s := range ri.sentinels {
		m.releaseInstance(s)
	}
	m.releaseInstance(ri)
}

// Reset is SENTINEL RESET for one master (sentinelResetMaster): replicas
// and sentinels are dropped, links closed, flags and run id cleared, PING
// clocks restarted, role back to master; discovery starts over. The
// "+reset-master" event is the caller's.
func (m *Monitor) Reset(name string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.resetLocked(name)
}

// resetLocked is Reset with m.mu held. It pokes the timer, which
// reconnects at once: on loopback the master may be rediscovered before
// the lock is next free. Caller holds m.mu.
func (m *Monitor) resetLocked(name string) {
	ri := m.masters[name]
	if ri == nil {
		return
	}
	m.resetMaster(ri, false, time.Now())
	m.topologyChanged(name)
	m.poke()
}

// SetElection starts (epoch > 0) or ends (0) this sentinel's leader
// election for master name: while it runs, the is-master-down-by-addr asks
// to the master's sentinels carry this sentinel's run id and the election's
// epoch, so that their replies are votes (SentinelStatus.VotedLeader), and
// the first ask goes out on the next tick instead of after the ask period,
// as sentinelStartFailover's forced ask.
func (m *Monitor) SetElection(name string, epoch uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ri := m.masters[name]
	if ri == nil {
		return
	}
	ri.electionEpoch = epoch
	ri.electionAsk = epoch != 0
	if epoch != 0 {
		m.poke()
	}
}

// SwitchMaster points a master at its new address after a failover
// (sentinelResetMasterAndChangeAddress): replicas become the old replicas
// minus newAddr plus the old master address, each announced with "+slave";
// sentinels and their links are kept; SDOWN state is cleared.
func (m *Monitor) SwitchMaster(name string, newAddr Addr) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ri := m.masters[name]
	if ri == nil {
		return
	}
	m.switchMasterLocked(ri, newAddr, time.Now())
	ri.spec.Addr = newAddr
}

func (m *Monitor) switchMasterLocked(ri *instance, newAddr Addr, now time.Time) {
	na, err := newAddress(newAddr, true)
	if err != nil {
		na = address{Addr: newAddr}
	}
	var keep []Addr
	for _, r := range ri.replicas {
		if r.addr.same(na) {
			continue
		}
		keep = append(keep, r.addr.Addr)
	}
	if !na.same(ri.addr) {
		keep = append(keep, ri.addr.Addr)
	}
	m.resetMaster(ri, true, now)
	ri.addr = na
	ri.sdownSince = time.Time{}
	for _, a := range keep {
		if r := m.createReplica(ri, a, now); r != nil {
			m.emit(LevelNotice, "+slave", r, "")
		}
	}
	m.topologyChanged(ri.name)
	m.poke()
}

// resetMaster is sentinelResetMaster. Caller holds m.mu.
func (m *Monitor) resetMaster(ri *instance, keepSentinels bool, now time.Time) {
	for _, r := range ri.replicas {
		m.releaseInstance(r)
	}
	ri.replicas = nil
	if !keepSentinels {
		for _, s := range ri.sentinels {
			m.releaseInstance(s)
		}
		ri.sentinels = nil
	}
	m.closeLinks(ri)
	m.setSDown(ri, false)
	ri.scriptKillSent = false
	ri.rebooting = false
	ri.runID = ""
	ri.slaveMasterHost, ri.slaveMasterHostSet = "", false
	ri.limitWarned = nil // a limit hit again after a reset or a switch is logged again
	lk := ri.link
	// A reset link is a new link in sentinel.c (createInstanceLink): it
	// reconnects on the next tick instead of waiting out the ping period
	// of the old one, which with down-after <= ping period made a freshly
	// switched-to master look SDOWN for a moment.
	lk.ccReconnTime = time.Time{}
	lk.pcReconnTime = time.Time{}
	lk.actPingTime = now
	lk.lastPingTime = time.Time{}
	lk.lastAvail = now
	lk.lastPong = now
	ri.roleReportedTime = now
	ri.roleReported = roleMaster
}

// dropInstanceConnections closes the links of a master and its replicas.
// Caller holds m.mu.
func (m *Monitor) dropInstanceConnections(ri *instance) {
	m.closeLinks(ri)
	for _, r := range ri.replicas {
		m.closeLinks(r)
	}
}

func cloneSpec(s MasterSpec) MasterSpec {
	s.RenameCommands = maps.Clone(s.RenameCommands)
	s.KnownReplicas = slices.Clone(s.KnownReplicas)
	s.KnownSentinels = slices.Clone(s.KnownSentinels)
	return s
}
