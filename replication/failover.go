package replication

import (
	"context"
	"strconv"
	"time"

	"github.com/x0tta6bl4/gosentinel/monitor"
	"github.com/x0tta6bl4/gosentinel/quorum"
)

// driver carries one recorded failover to its end: promotion (unless the
// log says it happened), switch, repointing of the other replicas. It is
// built from the record, so a new leader drives a failover exactly as the
// leader that decided it would have.
type driver struct {
	e       *Engine
	t       *term
	name    string
	epoch   uint64
	replica monitor.Addr // the replica being promoted
	from    monitor.Addr // the master being replaced
	forced  bool         // SENTINEL FAILOVER
	started time.Time
	// promoted: OpFailoverPromoted is committed.
	promoted bool
	// settings is the latest copy of the master (credentials and renames
	// for the targets, timeouts).
	settings *quorum.Master
	// paused: we paused writes on the old master (switchover) and have not
	// released them yet; until pausedUntil, for pauseLen.
	paused      bool
	pausedUntil time.Time
	pauseLen    time.Duration
	// elected: the decision was won in redis-sentinel's election, whose
	// opening events (+new-epoch to +vote-for-leader) were published then.
	elected bool
	// fresh: this engine decided the failover (not resumed from the log),
	// so no other leader can have sent SLAVEOF NO ONE for its epoch.
	fresh bool
	// noOneSent: this driver sent SLAVEOF NO ONE at least once;
	// noOneUnknown: one of them got no reply, so it may still take effect.
	noOneSent, noOneUnknown bool
	// phaseStart is when the current phase began (for the Observer).
	phaseStart time.Time
}

func (e *Engine) newDriver(t *term, m *quorum.Master) *driver {
	f := m.Failover
	now := e.now()
	return &driver{
		e: e, t: t, name: m.Name, epoch: f.Epoch,
		replica: monitor.Addr(f.Replica), from: monitor.Addr(f.From), forced: f.Forced,
		started: startedAt(f, now), promoted: f.Promoted, settings: m,
		phaseStart: now,
	}
}

// startedAt is when a recorded failover started, by this sentinel's clock:
// the time of the command that recorded it, or now if that is later. The
// command's time is its leader's clock (quorum.Command.At); a leader whose
// clock ran ahead stamped a start in the future, and the failover-timeout
// deadline and the 2×failover-timeout pacing measured from it held a
// resumed failover, and the next one, back by as much: an hour ahead, an
// hour without failovers. A start stamped behind only makes a resumed
// failover time out sooner.
func startedAt(f *quorum.Failover, now time.Time) time.Time {
	if t := time.UnixMilli(f.StartedAt); t.Before(now) {
		return t
	}
	return now
}

// run drives the failover; fresh means this engine just decided it (the
// start events are announced), otherwise it is resumed from the log.
func (d *driver) run(fresh bool) {
	d.fresh = fresh
	defer d.cleanup()
	if fresh {
		d.announceStart()
	}
	if !d.promoted && !d.promote(fresh) {
		return
	}
	replicas := d.replicasToReconfigure()
	if !d.switchMaster() {
		return
	}
	// The old master is demoted before anything else if it answers as a
	// master: a switchover's, an automatic failover's this driver paused,
	// one a previous leader paused (a resumed driver does not know of that
	// pause), and one that was down when the failover was decided and is
	// back. Only a master down now is left to the group check, which
	// demotes it when it comes back after the failover; while the replicas
	// are repointed, watchOldMaster does.
	if !d.demoteOldMaster() {
		stop := d.watchOldMaster()
		defer stop()
	}
	d.reconfigure(replicas)
}

func (d *driver) masterRef() *monitor.Ref { return masterRef(d.name, d.from) }
func (d *driver) replicaRef(a monitor.Addr) *monitor.Ref {
	return replicaRef(d.name, d.from, a)
}

// announceStart publishes redis-sentinel's opening sequence, from
// +new-epoch to +failover-state-send-slaveof-noone. The decision is already
// in the log: election and selection happened before the commit.
func (d *driver) announceStart() {
	e, epoch := d.e, strconv.FormatUint(d.epoch, 10)
	if !d.elected {
		e.emit(monitor.LevelWarning, "+new-epoch", masterOnly(d.name), epoch)
		e.emit(monitor.LevelWarning, "+try-failover", d.masterRef(), "")
		e.emit(monitor.LevelWarning, "+vote-for-leader", masterOnly(d.name), e.cfg.MyID+" "+epoch)
	}
	e.emit(monitor.LevelWarning, "+elected-leader", d.masterRef(), "")
	if e.cfg.AfterElected != nil {
		e.cfg.AfterElected(d.name)
	}
	e.emit(monitor.LevelWarning, "+failover-state-select-slave", d.masterRef(), "")
	e.emit(monitor.LevelWarning, "+selected-slave", d.replicaRef(d.replica), "")
	e.emit(monitor.LevelNotice, "+failover-state-send-slaveof-noone", d.replicaRef(d.replica), "")
	e.setState(d.name, "send_slaveof_noone")
}

// fence re-reads the record: every side effect before the switch is done
// only while this very failover is the one in the log and the term lasts.
func (d *driver) fence() (*quorum.Master, bool) {
	if d.t.ctx.Err() != nil {
		return nil, false
	}
	m, ok := d.e.cfg.View.Master(d.name)
	if !ok || m.Failover == nil || m.Failover.Epoch != d.epoch {
		d.e.log.Warn("failover superseded", "master", d.name, "epoch", d.epoch)
		return nil, false
	}
	d.settings = m
	return m, true
}

// call returns a context for one command to one node within the term.
func (d *driver) call() (context.Context, context.CancelFunc) {
	return context.WithTimeout(d.t.ctx, callTimeout)
}

// promote turns the chosen replica into a master and records it. A resumed
// failover first asks the replica: if it already is a master the previous
// leader's SLAVEOF NO ONE took effect. A resumed switchover that did not
// get that far while its old master still answers as a master is aborted
// (the previous leader's catch-up cannot be trusted, promoting now could
// lose writes); a resumed automatic failover pauses such an old master, as
// a fresh one does. Otherwise SLAVEOF NO ONE is sent, resent every second,
// and the role polled every 50 ms until failover-timeout from the start,
// then the failover is aborted.
func (d *driver) promote(fresh bool) bool {
	m, ok := d.fence()
	if !ok {
		return false
	}
	deadline := d.started.Add(FailoverTimeout(m))
	if !fresh {
		ctx, cancel := d.call()
		rep, err := d.e.cfg.Redis.Replication(ctx, target(m, d.replica))
		cancel()
		if err == nil && rep.Role == "master" {
			return d.commitPromoted()
		}
		if d.forced && d.oldMasterAnswers(m, callTimeout) {
			d.e.log.Warn("aborting a resumed switchover whose old master still answers", "master", d.name)
			// The previous leader may have paused it: released under the
			// same rule as our own pause.
			if d.abort(m) && d.mayRelease(m) {
				d.releaseOldMaster(m)
			}
			return false
		}
	}
	// A fresh failover, and a resumed automatic one (whose old master may
	// answer again by now: the previous leader decided while it looked
	// down), pause an old master that answers before promoting; a resumed
	// switchover that got here found its old master silent.
	if (fresh || !d.forced) && !d.switchover(m, !d.forced) {
		return false
	}
	if d.paused {
		// Writes must stay paused until the old master is demoted: a
		// promotion that does not happen well within the pause is aborted
		// rather than completed with the old master writable again.
		deadline = minTime(deadline, d.pausedUntil.Add(-d.pauseLen/4))
	}
	waited, ok := d.prepareCandidate(m)
	if !ok {
		return false
	}
	deadline = deadline.Add(waited)
	// sentAt: the last SLAVEOF NO ONE that was answered OK; triedAt: the
	// last sent, answered or not. Both at most once per resendPromotion:
	// one that failed was sent again, with its quorum round trip, every
	// poll.
	var sentAt, triedAt time.Time
	for {
		m, ok := d.fence()
		if !ok {
			return false
		}
		now := d.e.now()
		if now.After(deadline) {
			d.abort(m)
			return false
		}
		tgt := target(m, d.replica)
		if triedAt.IsZero() || now.Sub(triedAt) >= resendPromotion {
			// A quorum round trip before every send (at most one a
			// second): this is the side effect a deposed leader must never
			// cause, and the term's context closes only once raft notices.
			if !d.e.verifyLeader(d.t) {
				return false
			}
			d.noOneSent, triedAt = true, now
			ctx, cancel := d.call()
			err := d.e.cfg.Redis.SlaveOf(ctx, tgt, nil)
			cancel()
			if err != nil {
				// No reply: the command may still reach the replica. (An
				// error reply would be definite, but telling the two apart
				// buys little: the pause lapses by itself.)
				d.noOneUnknown = true
				d.e.log.Warn("failed to send SLAVEOF NO ONE", "master", d.name, "replica", d.replica.String(), "err", err)
			} else {
				if sentAt.IsZero() {
					d.e.emit(monitor.LevelNotice, "+failover-state-wait-promotion", d.replicaRef(d.replica), "")
					d.e.setState(d.name, "wait_promotion")
				}
				sentAt = now
			}
		}
		if !sentAt.IsZero() {
			ctx, cancel := d.call()
			rep, err := d.e.cfg.Redis.Replication(ctx, tgt)
			cancel()
			if err == nil && rep.Role == "master" {
				if d.paused && !d.e.verifyLeader(d.t) {
					return false // the next leader resumes from the replica's role
				}
				d.renewPause(m)
				return d.commitPromoted()
			}
		}
		if !d.e.wait(d.t.ctx, pollInterval) {
			return false
		}
	}
}

// renewPause extends our pause of the old master once its replica is a
// master: what follows (the promotion's commit, the switch's, and the
// demotion) is bounded by the term, not by what is left of the pause, and
// a write the old master took after its pause lapsed would be lost at its
// demotion. Redis keeps the later of two pause ends. A renewal that fails
// changes nothing: the first pause still runs.
func (d *driver) renewPause(m *quorum.Master) {
	if !d.paused {
		return
	}
	ctx, cancel := d.call()
	err := d.e.cfg.Redis.PauseWrites(ctx, target(m, d.from), d.pauseLen)
	cancel()
	if err != nil {
		d.e.log.Warn("could not extend the old master's pause past the promotion", "master", d.name, "err", err)
		return
	}
	d.pausedUntil = d.e.now().Add(d.pauseLen)
}

// commitPromoted records the promotion; from then on the failover can only
// complete.
func (d *driver) commitPromoted() bool {
	err := d.e.propose(d.t.ctx, d.t, &quorum.Command{Op: quorum.OpFailoverPromoted, Name: d.name, Epoch: d.epoch})
	if err != nil {
		d.e.log.Warn("failed to record the promotion", "master", d.name, "epoch", d.epoch, "err", err)
		return false
	}
	d.promoted = true
	d.endPhase(PhasePromote)
	d.e.emit(monitor.LevelWarning, "+promoted-slave", d.replicaRef(d.replica), "")
	if d.e.cfg.AfterPromoted != nil {
		d.e.cfg.AfterPromoted(d.name)
	}
	d.e.emit(monitor.LevelWarning, "+failover-state-reconf-slaves", d.masterRef(), "")
	d.e.setState(d.name, "reconf_slaves")
	return true
}

// abort drops the failover (possible only before the promotion is
// recorded) with -failover-abort-slave-timeout, and tells whether the
// abort is committed. Our pause on the old master is released only if
// mayRelease says so; otherwise it lapses by itself.
func (d *driver) abort(m *quorum.Master) bool {
	err := d.e.propose(d.t.ctx, d.t, &quorum.Command{Op: quorum.OpFailoverAbort, Name: d.name, Epoch: d.epoch})
	if err != nil {
		d.e.log.Warn("failed to abort the failover", "master", d.name, "epoch", d.epoch, "err", err)
		return false
	}
	d.e.emit(monitor.LevelWarning, "-failover-abort-slave-timeout", d.masterRef(), "")
	d.finish(OutcomeAborted)
	if d.paused && d.mayRelease(m) {
		d.releaseOldMaster(m)
	}
	return true
}

// switchMaster commits the new address: from this moment every sentinel
// answers GET-MASTER-ADDR-BY-NAME with the promoted replica and publishes
// +switch-master.
func (d *driver) switchMaster() bool {
	m, ok := d.fence()
	if !ok || !m.Failover.Promoted {
		return false
	}
	err := d.e.propose(d.t.ctx, d.t, &quorum.Command{Op: quorum.OpSwitchMaster, Name: d.name,
		Addr: quorum.Addr(d.replica), From: quorum.Addr(d.from), Epoch: d.epoch})
	if err != nil {
		d.e.log.Warn("failed to switch the master address", "master", d.name, "epoch", d.epoch, "err", err)
		return false
	}
	d.e.noteAddr(d.name, quorum.Addr(d.replica))
	return true
}

// fenceSwitched is the fence after the switch: the master is still at the
// promoted address and no newer failover is recorded.
func (d *driver) fenceSwitched() (*quorum.Master, bool) {
	m, ok := d.switched()
	if !ok {
		d.e.log.Warn("failover superseded after the switch", "master", d.name, "epoch", d.epoch)
		return nil, false
	}
	d.settings = m
	return m, true
}

// switched is fenceSwitched's test without its effects (safe beside the
// driver's goroutine): the record still names this failover's replica.
func (d *driver) switched() (*quorum.Master, bool) {
	if d.t.ctx.Err() != nil {
		return nil, false
	}
	m, ok := d.e.cfg.View.Master(d.name)
	if !ok || m.Failover != nil || m.Addr != quorum.Addr(d.replica) || m.ConfigEpoch < d.epoch {
		return nil, false
	}
	return m, true
}

// cleanup runs when the driver stops for any reason. Writes paused on the
// old master are released only when mayRelease proves that no replica was
// or can still be promoted; otherwise they stay paused until the old master
// is demoted (by the leader that records the promotion) or the pause lapses
// by itself, so nothing is written that the new master will not have.
func (d *driver) cleanup() {
	if d.paused && d.settings != nil && d.mayRelease(d.settings) {
		d.releaseOldMaster(d.settings)
	}
}

// mayRelease tells whether writes paused on the old master may be released:
// it must be certain that no replica was or can still be promoted for this
// failover. That holds only
//   - while this sentinel still leads, verified now: after the term is lost
//     a new leader may resume the failover and promote at any moment, and
//     the release is then its decision;
//   - and either this driver decided the failover and never sent SLAVEOF
//     NO ONE (no other leader can have, the epoch is ours), or every
//     SLAVEOF NO ONE we sent was answered and the replica answers, asked
//     now, that it is still a replica. A previous leader sent its SLAVEOF
//     NO ONE right after a successful leadership check, and our term began
//     at least an election timeout after that check: short of a network
//     delaying one command by that long, it has arrived by now.
//
// Never once the promotion is recorded.
func (d *driver) mayRelease(m *quorum.Master) bool {
	if d.promoted || !d.e.verifyLeader(d.t) {
		return false
	}
	if d.fresh && !d.noOneSent {
		return true
	}
	if d.noOneUnknown {
		return false
	}
	ctx, cancel := d.call()
	rep, err := d.e.cfg.Redis.Replication(ctx, target(m, d.replica))
	cancel()
	return err == nil && rep.Role == "slave"
}

// releaseOldMaster sends CLIENT UNPAUSE to the old master. Callers decide
// with mayRelease first (or have demoted it): released while a replica may
// be a master, it would be a second writable master.
func (d *driver) releaseOldMaster(m *quorum.Master) {
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	if err := d.e.cfg.Redis.Unpause(ctx, target(m, d.from)); err != nil {
		d.e.log.Warn("failed to unpause the old master", "master", d.name, "addr", d.from.String(), "err", err)
		return
	}
	d.paused = false
}

// oldMasterAnswers tells whether the old master answers as a master
// within the given time.
func (d *driver) oldMasterAnswers(m *quorum.Master, within time.Duration) bool {
	ctx, cancel := context.WithTimeout(d.t.ctx, within)
	defer cancel()
	rep, err := d.e.cfg.Redis.Replication(ctx, target(m, d.from))
	return err == nil && rep.Role == "master"
}

// endPhase tells the Observer a phase ended and starts the next one.
func (d *driver) endPhase(p Phase) {
	now := d.e.now()
	d.e.observer().FailoverPhase(d.name, p, now.Sub(d.phaseStart))
	d.phaseStart = now
}

// finish tells the Observer how the failover ended, timed from its
// committed start.
func (d *driver) finish(o Outcome) {
	d.e.observer().FailoverFinished(d.name, o, d.e.now().Sub(d.started))
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
