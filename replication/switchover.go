package replication

import (
	"context"
	"time"

	"github.com/x0tta6bl4/gosentinel/monitor"
	"github.com/x0tta6bl4/gosentinel/quorum"
)

// switchover is the zero-loss half of SENTINEL FAILOVER on a reachable
// master: writes are paused on the old master (CLIENT PAUSE WRITE, for
// min(failover-timeout, 10 s)) and the promotion waits until the chosen
// replica has everything the master has (slave_repl_offset >=
// master_repl_offset), for at most half the pause (and 5 s). On timeout the
// writes are released and the failover aborted. A master that does not
// answer, or does not say it is a master, is promoted away from as
// redis-sentinel does (forced). It returns whether the promotion may go on.
//
// An automatic failover (auto) runs it too, with a short first read: a
// master the majority sees down may still answer the leader (packet loss,
// a process resumed from a stop), and without the pause it would accept
// writes next to the promoted replica until demoted. There a replica that
// does not catch up in time is promoted anyway, as redis-sentinel would
// (the master is down for a quorum), with the old master still paused.
func (d *driver) switchover(m *quorum.Master, auto bool) bool {
	master := target(m, d.from)
	probe := callTimeout
	if auto {
		probe = autoPauseProbe
	}
	ctx, cancel := context.WithTimeout(d.t.ctx, probe)
	rep, err := d.e.cfg.Redis.Replication(ctx, master)
	cancel()
	if err != nil || rep.Role != "master" {
		if !auto {
			d.e.log.Warn("old master unreachable or not a master: forced promotion", "master", d.name, "addr", d.from.String(), "err", err)
		}
		return true
	}
	if auto {
		d.e.log.Warn("the old master still answers the leader: pausing its writes before promoting", "master", d.name, "addr", d.from.String())
	}
	pause := min(FailoverTimeout(m), maxSwitchoverPause)
	ctx, cancel = d.call()
	err = d.e.cfg.Redis.PauseWrites(ctx, master, pause)
	cancel()
	if err != nil {
		// Without the pause this is redis-sentinel's lossy manual failover;
		// refusing it would leave operators without SENTINEL FAILOVER on
		// nodes whose ACL forbids CLIENT PAUSE.
		d.e.log.Warn("could not pause writes on the old master: writes may be lost", "master", d.name, "err", err)
		return true
	}
	start := d.e.now()
	d.phaseStart = start
	d.paused, d.pausedUntil, d.pauseLen = true, start.Add(pause), pause
	deadline := start.Add(min(pause/2, maxCatchUp))
	addrs := []monitor.Addr{d.from, d.replica}
	for {
		m, ok := d.fence()
		if !ok {
			return false
		}
		ctx, cancel := d.call()
		reads := d.e.readAll(ctx, m, addrs)
		cancel()
		if reads[0].err == nil && reads[1].err == nil && reads[1].rep.Offset() >= reads[0].rep.MasterReplOffset {
			d.endPhase(PhaseCatchUp)
			return true
		}
		// An old master that stops answering is promoted away from, but
		// only once it stayed silent until the deadline: one failed read
		// (a timeout on a loaded machine) promoted at once, and the writes
		// it had acknowledged and not yet sent to the replica were lost.
		if reads[0].err != nil && d.e.now().After(deadline) {
			d.e.log.Warn("old master stopped answering during the switchover: forced promotion", "master", d.name, "err", reads[0].err)
			d.endPhase(PhaseCatchUp)
			return true
		}
		if reads[0].err == nil && d.e.now().After(deadline) {
			d.e.log.Warn("replica did not catch up with the paused master", "master", d.name,
				"replica", d.replica.String(), "master_offset", reads[0].rep.MasterReplOffset,
				"replica_offset", reads[1].rep.Offset(), "err", reads[1].err)
			d.endPhase(PhaseCatchUp)
			if auto {
				return true
			}
			d.abort(m)
			return false
		}
		if !d.e.wait(d.t.ctx, pollInterval/5) {
			return false
		}
	}
}

// demoteOldMaster repoints the old master of a switchover to the new one
// right after the switch is committed, then releases its writes: the
// SLAVEOF transaction drops its clients, which reconnect to the master the
// sentinels now name. Paused by this driver, it is retried while the pause
// lasts. Otherwise (a previous leader's switchover or pause, or a master
// that did not answer when the failover was decided) it is demoted only if
// it answers as a master, asked for at most autoPauseProbe in an automatic
// failover (usually it is down, and the replicas' repointing waits on the
// answer), and retried until a previous leader's pause would have lapsed. A
// demotion that keeps failing leaves it paused: released, it would be a
// second writable master. The group check keeps trying after the failover.
//
// No leadership check here, nor for the replicas' repointing: the switch
// commit just proved this term, and a SLAVEOF <host> <port> only ever turns
// a node into a replica, never into a second writable master.
func (d *driver) demoteOldMaster() (demoted bool) {
	m, ok := d.fenceSwitched()
	if !ok {
		return false
	}
	until := d.pausedUntil
	if !d.paused {
		probe := callTimeout
		if !d.forced {
			probe = autoPauseProbe
		}
		if !d.oldMasterAnswers(m, probe) {
			return false
		}
		until = d.started.Add(maxSwitchoverPause)
	}
	tgt := target(m, d.from)
	for {
		// Each try only while the switch stands: a REMOVE committed
		// meanwhile ends the failover's side effects (sendReconf).
		if _, ok := d.switched(); !ok {
			return false
		}
		ctx, cancel := d.call()
		err := d.e.slaveOf(ctx, m, tgt, &d.replica)
		cancel()
		if err == nil {
			d.e.noteFix(d.from)
			d.e.emit(monitor.LevelNotice, "+convert-to-slave", replicaRef(d.name, d.replica, d.from), "")
			break
		}
		d.e.log.Warn("failed to demote the old master", "master", d.name, "addr", d.from.String(), "err", err)
		if d.e.now().After(until) || !d.e.wait(d.t.ctx, pollInterval) {
			d.e.log.Warn("old master not demoted: its writes stay paused until the pause lapses", "master", d.name, "addr", d.from.String())
			return false
		}
	}
	// A replica now: releasing its pause cannot make a second master.
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	if err := d.e.cfg.Redis.Unpause(ctx, tgt); err != nil {
		d.e.log.Warn("failed to unpause the old master", "master", d.name, "err", err)
	}
	d.paused = false
	return true
}

// watchOldMaster demotes the old master if it comes back as a master while
// the replicas are repointed: the tick's group check skips a master whose
// failover is active, and a reconfiguration lasts seconds to minutes (full
// syncs, parallel-syncs, failover-timeout), all the writes it took then lost
// at a later demotion. It probes every probeEvery, as the group check does
// after the failover, until stop is called or the old master is demoted.
// Leadership is verified before the SLAVEOF, as the group check's
// +convert-to-slave: the switch proved this term, but not that it still
// holds, and a newer term may have promoted the old master.
func (d *driver) watchOldMaster() (stop func()) {
	ctx, cancel := context.WithCancel(d.t.ctx)
	e := d.e
	e.mu.Lock()
	spawned := e.spawnLocked(d.t, func() {
		for e.wait(ctx, probeEvery) {
			m, ok := d.switched()
			if !ok {
				return
			}
			if d.demoteIfMaster(ctx, m) {
				return
			}
		}
	})
	e.mu.Unlock()
	if !spawned {
		cancel()
	}
	return cancel
}

// demoteIfMaster repoints the old master to the promoted replica if it
// answers as a master; true once it is a replica of it.
func (d *driver) demoteIfMaster(ctx context.Context, m *quorum.Master) bool {
	e := d.e
	rctx, cancel := context.WithTimeout(ctx, probeTimeout)
	reads := e.readAll(rctx, m, []monitor.Addr{d.from})
	cancel()
	if reads[0].err != nil {
		return false
	}
	if reads[0].rep.follows(d.replica) {
		return true
	}
	if reads[0].rep.Role != "master" {
		return false
	}
	// Paced as the group check's fixes: an old master that refuses the
	// transaction (-LOADING while it loads its data) was otherwise asked,
	// after a quorum round trip each time, every probe.
	e.mu.Lock()
	last, fixed := e.fixes[d.from]
	e.mu.Unlock()
	if fixed && e.now().Sub(last) < fixInterval || !e.verifyLeader(d.t) {
		return false
	}
	if _, ok := d.switched(); !ok { // the reads and the round trip took a moment (sendReconf)
		return false
	}
	ctx, cancel = context.WithTimeout(ctx, callTimeout)
	defer cancel()
	err := e.slaveOf(ctx, m, target(m, d.from), &d.replica)
	e.noteFix(d.from)
	if err != nil {
		e.log.Warn("failed to demote the old master", "master", d.name, "addr", d.from.String(), "err", err)
		return false
	}
	e.emit(monitor.LevelNotice, "+convert-to-slave", replicaRef(d.name, d.replica, d.from), "")
	return true
}

// noteFix records a SLAVEOF sent to an instance, so that the group check
// does not send another one within the fix interval.
func (e *Engine) noteFix(a monitor.Addr) {
	e.mu.Lock()
	e.fixes[a] = e.now()
	e.mu.Unlock()
}

// autoPauseProbe bounds an automatic failover's read of its old master:
// usually down, it must not delay the promotion by more than this.
const autoPauseProbe = 250 * time.Millisecond
