package replication

import (
	"time"

	"github.com/x0tta6bl4/gosentinel/monitor"
)

// reconfState is a replica's progress towards the new master
// (SRI_RECONF_SENT / _INPROG / _DONE).
type reconfState int

const (
	reconfNone reconfState = iota
	reconfSent
	reconfInProg
	reconfDone
	// reconfSkipped: SDOWN when the failover reached this phase, or its
	// SLAVEOF kept failing for slave-reconf-timeout. The group check
	// repoints it later (+fix-slave-config).
	reconfSkipped
)

// reconfReplica is one replica to repoint.
type reconfReplica struct {
	addr         monitor.Addr
	state        reconfState
	sentAt       time.Time
	failingSince time.Time
}

// replicasToReconfigure lists the old master's replicas other than the
// promoted one, in the monitor's order, as seen before the switch (after it
// the monitor rebuilds the list and forgets their state).
func (d *driver) replicasToReconfigure() []reconfReplica {
	ms, ok := d.e.cfg.View.Status(d.name)
	if !ok {
		return nil
	}
	var out []reconfReplica
	for _, r := range ms.Replicas {
		if r.Ref.Addr == d.replica || r.Ref.Addr == d.from {
			continue
		}
		st := reconfNone
		if r.SDown {
			st = reconfSkipped
		}
		out = append(out, reconfReplica{addr: r.Ref.Addr, state: st})
	}
	return out
}

// reconfigure repoints the replicas to the promoted one, at most
// parallel-syncs at a time (sentinelFailoverReconfNextSlave), following each
// by asking it directly: +slave-reconf-inprog once it names the new master,
// +slave-reconf-done once its link is up; -slave-reconf-sent-timeout after
// slave-reconf-timeout counts it as done. The failover ends when every
// replica is done or skipped, or after failover-timeout
// (+failover-end-for-timeout, then a best-effort SLAVEOF to the rest).
func (d *driver) reconfigure(list []reconfReplica) {
	e := d.e
	start := e.now()
	for {
		m, ok := d.fenceSwitched()
		if !ok {
			return
		}
		tm := e.timing()
		now := e.now()
		d.pollReconf(list, now, tm.SlaveReconfTimeout)
		seen := d.replicasNow()
		if settled(list, seen) {
			break
		}
		if now.Sub(start) > FailoverTimeout(m) {
			e.emit(monitor.LevelWarning, "+failover-end-for-timeout", d.masterRef(), "")
			e.emit(monitor.LevelWarning, "+failover-end", d.masterRef(), "")
			d.endPhase(PhaseReconfigure)
			d.finish(OutcomeTimeout)
			// Best effort, as sentinelFailoverDetectEnd: every replica not
			// done and not just sent one (in progress, skipped, never
			// reached), unless the monitor has no link to it.
			for i := range list {
				r := &list[i]
				if r.state == reconfDone || r.state == reconfSent {
					continue
				}
				if st := seen[r.addr]; st != nil && st.Disconnected {
					continue
				}
				if !d.sendReconf(r.addr) {
					continue
				}
				r.state = reconfSent
				e.emit(monitor.LevelNotice, "+slave-reconf-sent-be", d.replicaRef(r.addr), "")
			}
			return
		}
		inProgress := 0
		for _, r := range list {
			if r.state == reconfSent || r.state == reconfInProg {
				inProgress++
			}
		}
		parallel := max(m.ParallelSyncs, 1)
		for i := range list {
			r := &list[i]
			if inProgress >= parallel {
				break
			}
			if r.state != reconfNone {
				continue
			}
			if !d.sendReconf(r.addr) {
				if r.failingSince.IsZero() {
					r.failingSince = now
				} else if now.Sub(r.failingSince) > tm.SlaveReconfTimeout {
					r.state = reconfSkipped
					e.log.Warn("giving up repointing an unreachable replica", "master", d.name, "replica", r.addr.String())
				}
				continue
			}
			r.state, r.sentAt = reconfSent, now
			inProgress++
			e.emit(monitor.LevelNotice, "+slave-reconf-sent", d.replicaRef(r.addr), "")
		}
		if !d.e.wait(d.t.ctx, pollInterval) {
			return
		}
	}
	e.emit(monitor.LevelWarning, "+failover-end", d.masterRef(), "")
	d.endPhase(PhaseReconfigure)
	d.finish(OutcomeSuccess)
}

// pollReconf asks every replica in reconf_sent/inprog where it stands.
func (d *driver) pollReconf(list []reconfReplica, now time.Time, reconfTimeout time.Duration) {
	var idx []int
	var addrs []monitor.Addr
	for i, r := range list {
		if r.state == reconfSent || r.state == reconfInProg {
			idx = append(idx, i)
			addrs = append(addrs, r.addr)
		}
	}
	if len(idx) == 0 {
		return
	}
	ctx, cancel := d.call()
	reads := d.e.readAll(ctx, d.settings, addrs)
	cancel()
	for j, i := range idx {
		r, rd := &list[i], reads[j]
		if rd.err == nil && rd.rep.follows(d.replica) {
			if r.state == reconfSent {
				r.state = reconfInProg
				d.e.emit(monitor.LevelNotice, "+slave-reconf-inprog", d.replicaRef(r.addr), "")
			}
			if rd.rep.MasterLinkUp {
				r.state = reconfDone
				d.e.emit(monitor.LevelNotice, "+slave-reconf-done", d.replicaRef(r.addr), "")
			}
		}
		if r.state == reconfSent && now.Sub(r.sentAt) > reconfTimeout {
			r.state = reconfDone
			d.e.emit(monitor.LevelNotice, "-slave-reconf-sent-timeout", d.replicaRef(r.addr), "")
		}
	}
}

// sendReconf sends SLAVEOF <promoted> to a, only while the switch still
// stands (switched): a pass repoints up to parallel-syncs replicas one
// after the other, and the pass's fence was read before the first. A
// SENTINEL REMOVE committed between two of them stopped nothing: the
// official 8.0 suite's next test created its own replication set at once
// and one replica was repointed after it (06-ckquorum's init, cc114).
// redis-sentinel's REMOVE frees the master, failover and all, between two
// timer runs.
func (d *driver) sendReconf(a monitor.Addr) bool {
	if _, ok := d.switched(); !ok {
		return false
	}
	ctx, cancel := d.call()
	defer cancel()
	if err := d.e.slaveOf(ctx, d.settings, target(d.settings, a), &d.replica); err != nil {
		d.e.log.Warn("failed to repoint a replica", "master", d.name, "replica", a.String(), "err", err)
		return false
	}
	d.e.noteFix(a)
	return true
}

// replicasNow is the monitor's view of the master's replicas now, by
// address: after the switch, the new master's list, which holds the old
// master's replicas from the switch on.
func (d *driver) replicasNow() map[monitor.Addr]*monitor.InstanceStatus {
	ms, ok := d.e.cfg.View.GroupStatus(d.name) // every poll: without the sentinels' records
	if !ok {
		return nil
	}
	out := make(map[monitor.Addr]*monitor.InstanceStatus, len(ms.Replicas))
	for i := range ms.Replicas {
		out[ms.Replicas[i].Ref.Addr] = &ms.Replicas[i]
	}
	return out
}

// settled: every replica is done or skipped, or SDOWN in the monitor now
// (sentinelFailoverDetectEnd: a replica that died while it was being
// repointed must not hold the failover, and the master's next one, until
// failover-timeout; the group check repoints it when it is back).
func settled(list []reconfReplica, seen map[monitor.Addr]*monitor.InstanceStatus) bool {
	for _, r := range list {
		if r.state == reconfDone || r.state == reconfSkipped {
			continue
		}
		if st := seen[r.addr]; st != nil && st.SDown {
			continue
		}
		return false
	}
	return true
}
