package replication

import "github.com/x0tta6bl4/gosentinel/quorum"

// pausedNow is the maintenance gate (SENTINEL MAINTENANCE), asked only when
// an automatic failover of m is due (autoDue, so at most once per recheck
// period): while m's failovers are paused it tells the observer, logs once
// per pause period, and the failover is not started. The FSM refuses an
// automatic OpFailoverBegin while paused too, so a pause committed between
// this check and the decision still holds.
//
// Only the start is gated. A failover already recorded (maybeResume) runs to
// its end: stopped after SLAVEOF NO ONE it would leave two masters, stopped
// before, a master that is down with none promoted, and either way the log
// would hold a decision nobody finishes. SENTINEL FAILOVER is an operator's
// explicit act (a pod's preStop handoff uses it during maintenance) and
// goes through; so do demotions and replica reconfiguration (checkGroup).
func (e *Engine) pausedNow(m *quorum.Master) bool {
	paused := e.cfg.View.FailoversPaused(m.Name)
	e.mu.Lock()
	p := e.paceLocked(m.Name)
	logIt := paused && !p.pauseLogged
	p.pauseLogged = paused
	e.mu.Unlock()
	if !paused {
		return false
	}
	e.observer().FailoverNotStarted(m.Name, ReasonPaused)
	if logIt {
		e.log.Warn("failover of " + m.Name + " not started: failovers are paused (SENTINEL MAINTENANCE)")
	}
	return true
}
