package monitor

import (
	"fmt"
	"strings"
	"time"
)

// refreshInstanceInfo is the monitoring half of sentinelRefreshInstanceInfo:
// cache the INFO text, track run_id, role and replica fields, and discover
// replicas from a master's slave<N> lines. The acting half (promotion,
// convert-to-slave, fix-slave-config, reconf progress) belongs to the
// failover logic, which reads the result through Status/OnInfo.
// Caller holds m.mu.
func (m *Monitor) refreshInstanceInfo(ri *instance, text string, now time.Time) {
	in := ParseInfo(text)
	ri.info = m.infoKeys.encode(text)
	ri.masterLinkDownTime = in.MasterLinkDownTime

	if in.RunID != "" {
		switch {
		case ri.runID == "":
			ri.runID = in.RunID
		case ri.runID != in.RunID:
			m.emit(LevelNotice, "+reboot", ri, "")
			if ri.kind == KindMaster && ri.spec.RebootDownAfter != 0 {
				ri.rebooting = true
				ri.rebootSince = now
			}
			ri.runID = in.RunID
		}
	}

	if ri.kind == KindMaster {
		for _, a := range in.Replicas {
			m.addReplicaFromInfo(ri, a, now)
		}
	}
	if in.HasMasterReplOffset {
		ri.masterReplOffset = in.MasterReplOffset
	}

	if in.Role == roleSlave {
		if in.HasMasterHost && (!ri.slaveMasterHostSet || !strings.EqualFold(in.MasterHost, ri.slaveMasterHost)) {
			ri.slaveMasterHost, ri.slaveMasterHostSet = in.MasterHost, true
			ri.slaveConfChangeTime = now
		}
		if in.HasMasterPort && in.MasterPort != ri.slaveMasterPort {
			ri.slaveMasterPort = in.MasterPort
			ri.slaveConfChangeTime = now
		}
		if in.HasMasterLinkStatus {
			ri.slaveMasterLinkUp = in.MasterLinkUp
		}
		if in.HasSlavePriority {
			ri.slavePriority = in.SlavePriority
		}
		if in.HasSlaveReplOffset {
			ri.slaveReplOffset = in.SlaveReplOffset
		}
		if in.HasReplicaAnnounced {
			ri.replicaAnnounced = in.ReplicaAnnounced
		}
	}
	ri.infoRefresh = now

	if in.Role != ri.roleReported {
		ri.roleReportedTime = now
		ri.roleReported = in.Role
		if in.Role == roleSlave {
			ri.slaveConfChangeTime = now
		}
		// "+" when the new role is what we think the instance is.
		typ := "-role-change"
		if (ri.kind == KindMaster && in.Role == roleMaster) || (ri.kind == KindReplica && in.Role == roleSlave) {
			typ = "+role-change"
		}
		reported := roleSlave
		if in.Role == roleMaster {
			reported = roleMaster
		}
		m.emit(LevelVerbose, typ, ri, "new reported role is %s", reported)
	}

	if cb := m.cfg.OnInfo; cb != nil {
		ref := *ri.ref()
		m.notes.Push(func() { cb(ref) })
	}
}

// addReplicaFromInfo creates a replica a master reported, unless known or
// its address is invalid. Caller holds m.mu.
func (m *Monitor) addReplicaFromInfo(master *instance, a Addr, now time.Time) {
	if master.findReplica(a) != nil {
		return
	}
	r := m.createReplica(master, a, now)
	if r == nil {
		return
	}
	m.emit(LevelNotice, "+slave", r, "")
	m.topologyChanged(master.name)
}

// createReplica adds a replica instance named ip:port. Caller holds m.mu.
func (m *Monitor) createReplica(master *instance, a Addr, now time.Time) *instance {
	addr, err := newAddress(a, m.resolveHostnames.Load())
	if err != nil {
		if m.log != nil {
			m.log.Warn("ignoring replica", "master", master.name, "err", err)
		}
		return nil
	}
	if master.findReplica(a) != nil {
		return nil
	}
	if len(master.replicas) >= MaxReplicasPerMaster {
		m.warnLimit(master, "replicas", MaxReplicasPerMaster)
		return nil
	}
	r := newInstance(KindReplica, a.String(), addr, master, now)
	master.replicas = append(master.replicas, r)
	return r
}

// MaxReplicasPerMaster and MaxSentinelsPerMaster bound the instances one
// master may hold. redis-sentinel has no bound: one INFO reply (up to
// 8 MB, about 300,000 slaveN lines) or a stream of forged hellos created
// an instance each, every one with its own connections, and finding a
// replica by address is a walk of the list, so such a reply took minutes
// of the timer's lock. Far above any real set (a Redis master with more
// than a thousand replicas, a sentinel set of more than a hundred).
const (
	MaxReplicasPerMaster  = 1000
	MaxSentinelsPerMaster = 100
)

// warnLimit logs, once per master and kind until the master is reset
// (SENTINEL RESET, a switch), that an instance was not added past the
// limit. Caller holds m.mu.
func (m *Monitor) warnLimit(master *instance, kind string, limit int) {
	if master.limitWarned == nil {
		master.limitWarned = map[string]bool{}
	}
	if master.limitWarned[kind] || m.log == nil {
		return
	}
	master.limitWarned[kind] = true
	m.log.Warn(fmt.Sprintf("not adding more %s to a master that has %d: the rest are ignored", kind, limit), "master", master.name)
}
