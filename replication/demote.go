package replication

import (
	"context"
	"strings"
	"time"

	"github.com/x0tta6bl4/gosentinel/monitor"
	"github.com/x0tta6bl4/gosentinel/quorum"
)

// checkGroup demotes and repoints the instances of m's group that the
// monitor sees misconfigured, as soon as it sees them (redis-sentinel waits
// ~8 s, or failover-timeout for +fix-slave-config, because its sentinels
// might disagree; ours act on the committed address only):
//
//   - an instance that reports role:master but is not the master
//     (typically the old master coming back) gets +convert-to-slave;
//   - a replica replicating from another address gets +fix-slave-config.
//
// Only while the master itself is healthy (not ODOWN, not SDOWN here, and
// answering role:master when asked), and at most once per second per
// instance. The monitor's view only triggers the check: both the master and
// the instance are asked directly before the SLAVEOF.
//
// The tick calls it for a master that is not ODOWN, with its time.
func (e *Engine) checkGroup(t *term, m *quorum.Master, now time.Time) {
	ms, ok := e.cfg.View.GroupStatus(m.Name)
	maddr := monitor.Addr(m.Addr)
	if !ok || ms.Master.Ref.Addr != maddr || ms.Master.SDown {
		return
	}
	e.maintainFence(t, m, &ms, maddr, now)
	for _, r := range ms.Replicas {
		if r.Ref.Addr == maddr {
			continue
		}
		// An instance the monitor cannot see right now (typically the old
		// master, down until it restarts) is probed directly every
		// probeEvery: the monitor reconnects only once per ping period, and
		// a returning old master must be demoted as soon as it answers.
		// One that answers PING again but has not yet answered INFO (an
		// entry made at the switch, reconnected after a partition healed)
		// is probed too: waiting for the monitor's INFO would hold back the
		// demotion of a returning old master by up to an INFO period.
		unseen := r.SDown || r.Disconnected || r.InfoRefresh.IsZero() || r.RoleReported == ""
		if !unseen && viewMisconfig(&r, maddr) == "" {
			continue
		}
		if e.cautious() && !misconfigSettled(&r, now, mixedFixWait) {
			// A redis-sentinel's failover may be under way that this
			// sentinel has not heard of yet: wait as redis-sentinel
			// does, and never probe what the monitor cannot see.
			continue
		}
		key := r.Ref.Addr
		addr := r.Ref.Addr
		e.mu.Lock()
		// Probes and fixes are paced apart: a probe of an unseen instance
		// must not hold back, by a fix interval, the fix of the same
		// instance once the monitor sees it (the old master answering
		// INFO a moment after the heal). fixes also records every SLAVEOF
		// sent, so a fix follows a probe's SLAVEOF no sooner than the fix
		// interval.
		pace, every := e.fixes, fixInterval
		if unseen {
			pace, every = e.probes, probeEvery
		}
		if last, ok := pace[key]; (!ok || now.Sub(last) >= every) && !e.probing[key] {
			pace[key] = now
			e.probing[key] = true
			spawned := e.spawnLocked(t, func() {
				defer func() {
					e.mu.Lock()
					delete(e.probing, key)
					e.mu.Unlock()
				}()
				e.fixInstance(t, m, addr, unseen)
			})
			if !spawned {
				delete(e.probing, key)
			}
		}
		e.mu.Unlock()
	}
}

const (
	// probeEvery paces direct probes of instances the monitor cannot see.
	probeEvery = 100 * time.Millisecond
	// probeTimeout bounds such a probe's reads: a dial whose SYN was
	// dropped by a partition is retransmitted by the kernel only after a
	// second, so a probe begun just before the heal would hold the next
	// one back that long. A fresh dial every probeEvery + probeTimeout
	// reaches a healed node within a few hundred ms.
	probeTimeout = 300 * time.Millisecond
)

// mixedFixWait is how long, in a set that holds a redis-sentinel, an
// instance must have reported its wrong role or master before it is fixed:
// redis-sentinel's 4 × hello period (sentinelRefreshInstanceInfo), the time
// its failover leader's hellos take to announce a promotion it made.
const mixedFixWait = 8 * time.Second

// misconfigSettled reports whether the monitor saw r misconfigured for at
// least wait: its role reported that long ago, and for a replica following
// another master, its master last changed that long ago.
func misconfigSettled(r *monitor.InstanceStatus, now time.Time, wait time.Duration) bool {
	if r.SDown || r.Disconnected || r.RoleReported == "" || now.Sub(r.RoleReportedTime) < wait {
		return false
	}
	return r.RoleReported != "slave" || now.Sub(r.SlaveConfChangeTime) >= wait
}

// cautious tells whether the set holds a redis-sentinel (Config.Mixed).
func (e *Engine) cautious() bool { return e.cfg.Mixed != nil && e.cfg.Mixed() }

// viewMisconfig is the monitor's opinion of a replica of master: the event
// to fix it with, or "" if it looks right.
func viewMisconfig(r *monitor.InstanceStatus, master monitor.Addr) string {
	switch r.RoleReported {
	case "master":
		return "+convert-to-slave"
	case "slave":
		if r.MasterHost != "" && (!strings.EqualFold(r.MasterHost, master.Host) || r.MasterPort != master.Port) {
			return "+fix-slave-config"
		}
	}
	return ""
}

// misconfig is the same judgement on a fresh INFO replication.
func misconfig(rep Replication, master monitor.Addr) string {
	switch {
	case rep.Role == "master":
		return "+convert-to-slave"
	case rep.Role == "slave" && !rep.follows(master):
		return "+fix-slave-config"
	}
	return ""
}

// fixInstance confirms with fresh reads that m is a master and that the
// instance at a is not its replica, then sends SLAVEOF. probe: the monitor
// cannot see the instance, and the reads are bounded by probeTimeout.
func (e *Engine) fixInstance(t *term, m *quorum.Master, a monitor.Addr, probe bool) {
	maddr := monitor.Addr(m.Addr)
	readFor := callTimeout
	if probe {
		readFor = probeTimeout
	}
	rctx, rcancel := context.WithTimeout(t.ctx, readFor)
	reads := e.readAll(rctx, m, []monitor.Addr{maddr, a})
	rcancel()
	if reads[0].err != nil || reads[0].rep.Role != "master" || reads[1].err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(t.ctx, callTimeout)
	defer cancel()
	kind := misconfig(reads[1].rep, maddr)
	if kind == "" {
		return
	}
	// The reads took a moment: act only if the master is still the same and
	// no failover of it started meanwhile (nor a REMOVE committed).
	unchanged := func() (*quorum.Master, bool) {
		cur, ok := e.cfg.View.Master(m.Name)
		if !ok || cur.Failover != nil || cur.Addr != m.Addr || e.isActive(m.Name) || e.cfg.View.ObjectivelyDown(m.Name) {
			return nil, false
		}
		return cur, true
	}
	cur, ok := unchanged()
	if !ok {
		return
	}
	// Demoting an instance that claims to be the master discards whatever
	// it accepted: a deposed leader whose log is behind could demote the
	// master a newer term promoted, so leadership is verified first (a
	// quorum round trip, at most once per fix interval per instance).
	// Repointing a replica (+fix-slave-config) makes no master and loses
	// nothing a resync does not restore: not verified.
	if kind == "+convert-to-slave" && !e.verifyLeader(t) {
		return
	}
	if kind == "+convert-to-slave" {
		// The round trip took a moment too.
		if cur, ok = unchanged(); !ok {
			return
		}
	}
	err := e.slaveOf(ctx, cur, target(cur, a), &maddr)
	// Pace from the moment the command was sent, not from the tick that
	// decided it: the fresh reads before it take a variable time, and two
	// SLAVEOFs to one instance must be at least the interval apart.
	e.mu.Lock()
	e.fixes[a] = e.now()
	e.mu.Unlock()
	if err != nil {
		e.log.Warn("failed to repoint an instance", "master", m.Name, "addr", a.String(), "err", err)
		return
	}
	e.emit(monitor.LevelNotice, kind, replicaRef(m.Name, maddr, a), "")
}
