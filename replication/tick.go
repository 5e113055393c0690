package replication

import (
	"context"
	"errors"
	"time"

	"github.com/x0tta6bl4/gosentinel/monitor"
	"github.com/x0tta6bl4/gosentinel/quorum"
)

// tick looks at every master once: a recorded failover nobody drives is
// resumed, an ODOWN master gets a failover if pacing allows, and otherwise
// the master's group is checked for instances to demote or repoint.
func (e *Engine) tick(t *term) {
	now := e.now()
	// The revision is read before the masters: a change made meanwhile
	// leaves a newer copy under the older revision, replaced next tick.
	if rev := e.cfg.View.Revision(); rev != e.tickRev || !e.tickBuilt {
		e.tickRev, e.tickBuilt = rev, true
		e.buildTickList()
		e.forget(now)
	} else if now.Sub(e.forgotAt) >= forgetEvery {
		e.forget(now)
	}
	tilted := e.cfg.View.Tilted()
	for i := range e.tickList {
		if t.ctx.Err() != nil {
			return
		}
		te := &e.tickList[i]
		m := te.m
		e.mu.Lock()
		e.noteAddrLocked(te.pace, m.Addr, now)
		active := e.active[te.name] != nil
		e.mu.Unlock()
		if active {
			continue
		}
		odown := e.cfg.View.ObjectivelyDown(te.name)
		switch {
		case m.Failover != nil:
			e.maybeResume(t, m)
		case tilted:
		case e.autoDue(m, te.pace, odown, now) && !e.pausedNow(m):
			e.startAttempt(t, m)
		case !odown:
			e.checkGroup(t, m, now)
		}
	}
}

// tickEntry is one master of the tick's list: its name, the tick's copy of
// it and its pacing record (the same pointer as in Engine.paces, which
// forget keeps while the master is in the list).
type tickEntry struct {
	name string
	m    *quorum.Master
	pace *pacing
}

// forgetEvery paces forget between changes of the view: all it does then
// is drop instances not fixed for a minute.
const forgetEvery = time.Second

// buildTickList makes the tick's list of masters from the view, kept while
// the view's revision holds: a deep copy of every master every tick was the
// largest part of the leader's CPU at 1000 masters, although the masters
// rarely change; and looking up each master's copy, the name list and each
// pacing record in maps every tick was then about 7 % of the leader's CPU
// at 1000 masters. Only the tick's goroutine calls it.
func (e *Engine) buildTickList() {
	clear(e.tickList)
	list := e.tickList[:0]
	for _, name := range e.cfg.View.Names() {
		if m, ok := e.cfg.View.Master(name); ok {
			list = append(list, tickEntry{name: name, m: m})
		}
	}
	e.mu.Lock()
	for i := range list {
		list[i].pace = e.paceLocked(list[i].name)
	}
	e.mu.Unlock()
	e.tickList = list
}

// forget drops the memory of masters no longer in the tick's list and of
// instances not fixed for a minute. Only the tick's goroutine calls it: the
// set of names is kept between calls (a map of every master made anew each
// tick was a tenth of the leader's allocations at 1000 masters).
func (e *Engine) forget(now time.Time) {
	e.forgotAt = now
	if e.tickKnown == nil {
		e.tickKnown = make(map[string]bool, len(e.tickList))
	}
	known := e.tickKnown
	clear(known)
	for i := range e.tickList {
		known[e.tickList[i].name] = true
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for n := range e.paces {
		if !known[n] && e.active[n] == nil {
			delete(e.paces, n)
		}
	}
	for _, m := range []map[monitor.Addr]time.Time{e.fixes, e.probes} {
		for a, last := range m {
			if now.Sub(last) > time.Minute {
				delete(m, a)
			}
		}
	}
}

// noteAddr tracks address changes of a master, whoever made them: a switch
// restarts the failover pacing (redis-sentinel resets failover_start_time
// with the master) and opens the second-failover guard.
func (e *Engine) noteAddr(name string, a quorum.Addr) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.noteAddrLocked(e.paceLocked(name), a, e.now())
}

// noteAddrLocked is noteAddr on the master's pacing record p. Caller holds
// e.mu.
func (e *Engine) noteAddrLocked(p *pacing, a quorum.Addr, now time.Time) {
	if p.addrKnown && p.addr != a {
		p.lastSwitchAt = now
		p.lastStart = time.Time{}
		p.lastNoGood = time.Time{}
	}
	p.addr, p.addrKnown = a, true
}

// autoDue tells whether an automatic failover of m should be attempted now:
// ODOWN, seen by this sentinel at m's current address, with an SDOWN
// observed after the last address switch (down reports about the old
// master never count against the new one), outside the 2×failover-timeout
// window of the previous start, and not searched for a candidate in the
// last second. p is m's pacing record, odown whether the master is ODOWN
// now, now the tick's time.
func (e *Engine) autoDue(m *quorum.Master, p *pacing, odown bool, now time.Time) bool {
	if !odown {
		e.mu.Lock()
		p.lastNoGood = time.Time{}
		e.mu.Unlock()
		return false
	}
	ms, ok := e.cfg.View.Status(m.Name)
	if !ok || ms.Master.Ref.Addr != monitor.Addr(m.Addr) || !ms.Master.SDown {
		return false
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if !p.lastSwitchAt.IsZero() && !ms.Master.SDownSince.After(p.lastSwitchAt) {
		return false
	}
	last := p.lastStart
	if e.cfg.VotedAt != nil {
		if v := e.cfg.VotedAt(m.Name); v.After(last) {
			last = v
		}
	}
	if ft := FailoverTimeout(m); !last.IsZero() && now.Sub(last) < 2*ft {
		if now.Sub(p.lastBackoff) >= recheckInterval {
			p.lastBackoff = now
			e.observer().FailoverNotStarted(m.Name, ReasonBackoff)
		}
		if p.delayLogged != last {
			p.delayLogged = last
			e.log.Warn("Next failover delay: I will not start a failover before "+
				last.Add(2*ft).Format(time.ANSIC), "master", m.Name)
		}
		return false
	}
	if now.Sub(p.lastCheck) < recheckInterval {
		return false
	}
	p.lastCheck = now
	return true
}

// startAttempt runs an automatic failover attempt of m in the background.
func (e *Engine) startAttempt(t *term, m *quorum.Master) {
	name := m.Name
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.claimLocked(name, "select_slave") {
		return
	}
	if !e.spawnLocked(t, func() {
		defer e.release(name)
		e.attempt(t, name)
	}) {
		delete(e.active, name)
	}
}

// attempt chooses a replica with fresh offsets, commits the decision and
// drives the failover. Without a candidate nothing is committed and no
// epoch is used: -failover-abort-no-good-slave is reported (at most once
// per 2×failover-timeout) and the search is repeated every second while the
// master stays ODOWN.
func (e *Engine) attempt(t *term, name string) {
	m, ok := e.cfg.View.Master(name)
	if !ok || m.Failover != nil {
		return
	}
	ms, ok := e.cfg.View.Status(name)
	if !ok {
		return
	}
	decideStart := e.now()
	best, ok := e.pick(t.ctx, m, &ms)
	if !ok {
		e.observer().FailoverNotStarted(name, ReasonNoGoodReplica)
		e.noGoodSlave(m)
		return
	}
	// The fresh reads took a moment: the master may be back.
	if !e.cfg.View.ObjectivelyDown(name) || t.ctx.Err() != nil {
		return
	}
	var epoch uint64
	if e.cfg.Elect != nil {
		// The election starts the 2×failover-timeout pacing whatever
		// its outcome, as sentinelStartFailover does.
		e.mu.Lock()
		e.paceLocked(name).lastStart = e.now()
		e.mu.Unlock()
		var err error
		if epoch, err = e.cfg.Elect(t.ctx, m); err != nil {
			e.observer().FailoverNotStarted(name, ReasonNotElected)
			e.log.Info("failover not started: not elected", "master", name, "err", err)
			return
		}
	}
	d, err := e.begin(t, m, best.Ref.Addr, false, epoch)
	if err != nil {
		reason := ReasonCommitFailed
		if errors.Is(err, quorum.ErrFailoversPaused) {
			reason = ReasonPaused // a pause committed after pausedNow let the attempt start
		}
		e.observer().FailoverNotStarted(name, reason)
		e.log.Warn("failover not started", "master", name, "err", err)
		return
	}
	e.observer().FailoverPhase(name, PhaseDecide, e.now().Sub(decideStart))
	d.run(true)
}

// noGoodSlave reports that m has no replica to promote, at most once per
// 2×failover-timeout while it stays ODOWN.
func (e *Engine) noGoodSlave(m *quorum.Master) {
	now := e.now()
	e.mu.Lock()
	p := e.paceLocked(m.Name)
	report := p.lastNoGood.IsZero() || now.Sub(p.lastNoGood) >= 2*FailoverTimeout(m)
	if report {
		p.lastNoGood = now
	}
	e.mu.Unlock()
	if report {
		e.emit(monitor.LevelWarning, "-failover-abort-no-good-slave", masterRef(m.Name, monitor.Addr(m.Addr)), "")
	}
}

// begin commits the decision to fail m over to replica and returns its
// driver. The FSM assigns the epoch, unless the decision was won in an
// election (elected: its epoch); the commit is bounded by
// min(election-timeout, failover-timeout).
func (e *Engine) begin(t *term, m *quorum.Master, replica monitor.Addr, forced bool, elected uint64) (*driver, error) {
	ctx, cancel := context.WithTimeout(t.ctx, min(e.timing().ElectionTimeout, FailoverTimeout(m)))
	defer cancel()
	err := e.propose(ctx, t, &quorum.Command{Op: quorum.OpFailoverBegin, Name: m.Name, Addr: quorum.Addr(replica),
		From: m.Addr, Leader: e.cfg.MyID, Forced: forced, Epoch: elected})
	if err != nil {
		return nil, err
	}
	rec, ok := e.cfg.View.Master(m.Name)
	if !ok || rec.Failover == nil || rec.Failover.Replica != quorum.Addr(replica) || rec.Failover.Leader != e.cfg.MyID {
		return nil, errRecordMissing
	}
	e.mu.Lock()
	e.paceLocked(m.Name).lastStart = e.now()
	e.mu.Unlock()
	d := e.newDriver(t, rec)
	d.elected = elected != 0
	return d, nil
}

// maybeResume drives a failover recorded in the log that no goroutine of
// ours drives: a previous leader's, or ours from a term that ended. At most
// once per second per master, so a failover that keeps failing to make
// progress does not spin.
func (e *Engine) maybeResume(t *term, m *quorum.Master) {
	now := e.now()
	name := m.Name
	e.mu.Lock()
	defer e.mu.Unlock()
	p := e.paceLocked(name)
	if now.Sub(p.lastResume) < recheckInterval {
		return
	}
	state := "send_slaveof_noone"
	if m.Failover.Promoted {
		state = "reconf_slaves"
	}
	if !e.claimLocked(name, state) {
		return
	}
	p.lastResume = now
	if m.Failover.StartedAt > 0 && p.lastStart.IsZero() {
		p.lastStart = startedAt(m.Failover, now)
	}
	d := e.newDriver(t, m)
	if !e.spawnLocked(t, func() {
		defer e.release(name)
		e.log.Info("resuming failover from the log", "master", name, "epoch", d.epoch,
			"replica", d.replica.String(), "promoted", d.promoted, "leader", m.Failover.Leader)
		d.run(false)
	}) {
		delete(e.active, name)
	}
}
