package monitor

import "time"

// TILT is redis-sentinel's self-check (sentinelCheckTiltCondition): when
// the timer ran more than TILT-TRIGGER (2 s) after its previous run, this
// process was not running (stopped, starved of CPU, swapped out, a long
// pause), and the replies that arrived meanwhile may not have been read
// yet. Judging the nodes now would blame them for our own lateness. While
// in TILT the timer keeps pinging and reading but decides no SDOWN and asks
// no other sentinel (the acting half of handleInstance), and
// is-master-down-by-addr answers "not down" (the node asks Tilt), as in
// redis. The timer runs every 50 ms here, so 2 s is forty periods late; a
// clock jump cannot trigger it (the delta is on the monotonic clock).
//
// Unlike redis, TILT does not last 30 s whatever the masters' down-after:
// on entering, every pending PING's clock restarts, so each node gets a
// whole down-after from our return to answer, and TILT ends after the
// longest down-after of the watched masters (at most TILT-PERIOD). Then a
// node that is really down is judged at once, and one that answered is up.
// A sentinel SIGSTOPped for a few seconds (the chaos campaign does that to
// the Raft leader) was out of the set's votes for 30 s in redis-sentinel,
// and the next fault found no quorum.

// tiltState is the monitor's TILT. Guarded by Monitor.mu.
type tiltState struct {
	lastTick time.Time // zero until the first tick
	on       bool
	since    time.Time
}

// tiltStep is one timer run's TILT decision: enter when the timer ran more
// than trigger after its previous run (again while in TILT: the period
// starts over, as redis'), leave once period has passed since entering.
func tiltStep(st tiltState, now time.Time, trigger, period time.Duration) (next tiltState, entered, exited bool) {
	next = st
	if !st.lastTick.IsZero() {
		if d := now.Sub(st.lastTick); d < 0 || d > trigger {
			next.on, next.since, entered = true, now, true
		}
	}
	next.lastTick = now
	if next.on && !entered && now.Sub(next.since) > period {
		next.on, exited = false, true
	}
	return next, entered, exited
}

// checkTiltLocked applies tiltStep, restarts the pending PINGs' clocks on
// entering, and logs +tilt/-tilt as redis does. Caller holds m.mu.
func (m *Monitor) checkTiltLocked(now time.Time, t Timing) {
	// The longest down-after is only needed in or on entering TILT: not a
	// walk over every master on every tick.
	period := t.TiltPeriod
	if st := m.tilt; st.on || (!st.lastTick.IsZero() && now.Sub(st.lastTick) > t.TiltTrigger) {
		longest := time.Duration(0)
		for _, ri := range m.masters {
			longest = max(longest, ri.downAfter())
		}
		period = min(longest, t.TiltPeriod)
	}
	next, entered, exited := tiltStep(m.tilt, now, t.TiltTrigger, period)
	m.tilt = next
	switch {
	case entered:
		m.emit(LevelWarning, "+tilt", nil, "#tilt mode entered")
		restart := func(ri *instance) {
			if lk := ri.link; !lk.actPingTime.IsZero() {
				lk.actPingTime = now
			}
		}
		for _, ri := range m.masters {
			restart(ri)
			for _, r := range ri.replicas {
				restart(r)
			}
			for _, s := range ri.sentinels {
				restart(s)
			}
		}
	case exited:
		m.emit(LevelWarning, "-tilt", nil, "#tilt mode exited")
	}
}

// Tilt reports whether the monitor is in TILT, and since when (INFO's
// sentinel_tilt and sentinel_tilt_since_seconds).
func (m *Monitor) Tilt() (bool, time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.tilt.on, m.tilt.since
}
