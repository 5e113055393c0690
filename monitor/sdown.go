package monitor

import "time"

// SDownInput is what sentinelCheckSubjectivelyDown looks at for one
// instance (spec §8.5, §8.12).
type SDownInput struct {
	Now time.Time
	// PingPendingSince is the time of the oldest unanswered PING (zero when
	// none is pending). Link creation sets it, so an instance that was never
	// reachable is measured from then.
	PingPendingSince time.Time
	Disconnected     bool
	LastOKPingReply  time.Time
	DownAfter        time.Duration
	// PubsubPong is the last answer to a PING on the pub/sub connection
	// (zero: none): a node that answered it within down-after is not down,
	// whatever waits on the command link (a write pause holding our hello
	// PUBLISH and the PINGs behind it).
	PubsubPong time.Time
	// RepliesWaiting: the node has sent something this process has not
	// handled yet (conn.behind): it answered, and we are the ones behind.
	// A starved process, or one whose lock was held while the replies came
	// in, then does not blame the node for its own lateness.
	// redis-sentinel's TILT catches such lateness only when its single
	// thread is late for its own timer; ours runs on its own goroutine
	// and can be punctual while the readers are not.
	RepliesWaiting bool

	// Masters only.
	IsMaster         bool
	RoleReported     string // "master" or "slave" from INFO
	RoleReportedTime time.Time
	InfoPeriod       time.Duration
	Rebooting        bool // run_id changed and no +PONG since (master-reboot state)
	RebootSince      time.Time
	RebootDownAfter  time.Duration
}

// IsSubjectivelyDown reports whether an instance is SDOWN: it has not
// validly answered for more than down-after (counted from the oldest
// pending PING, or, when disconnected with nothing pending, from the last
// valid reply), nor answered a PING on its pub/sub connection within
// down-after, nor sent anything still waiting to be handled; or it is a
// master that reports role:slave for more than
// down-after + 2×info-period; or a master still in its reboot state for more
// than master-reboot-down-after-period.
func IsSubjectivelyDown(in SDownInput) bool {
	var elapsed time.Duration
	if from, ok := in.silentSince(); ok {
		elapsed = in.Now.Sub(from)
	}
	if elapsed > in.DownAfter && (in.PubsubPong.IsZero() || in.Now.Sub(in.PubsubPong) > in.DownAfter) && !in.RepliesWaiting {
		return true
	}
	if in.IsMaster && in.RoleReported == roleSlave &&
		in.Now.Sub(in.RoleReportedTime) > in.DownAfter+2*in.InfoPeriod {
		return true
	}
	return in.IsMaster && in.Rebooting && in.Now.Sub(in.RebootSince) > in.RebootDownAfter
}

// SDownDeadline is the first instant at which IsSubjectivelyDown's link
// clause holds for in if nothing is answered meanwhile (in.Now is not
// used): down-after past the PING awaiting its reply, or past the last
// good reply of a link that is down, and past the last pub/sub PONG. False
// when neither clock runs. The timer looks at an instance then (Run), not
// at its next 50 ms tick: the PING's clock starts when the run that sent
// it has written it, a few milliseconds after the tick, so the tick
// down-after later came just short of it and the next one, 50 ms later,
// found it down.
func SDownDeadline(in SDownInput) (time.Time, bool) {
	from, ok := in.silentSince()
	if !ok {
		return time.Time{}, false
	}
	if in.PubsubPong.After(from) {
		from = in.PubsubPong
	}
	return from.Add(in.DownAfter + 1), true // elapsed > DownAfter
}

// silentSince is where the link clause's clock starts: the PING awaiting
// its reply, else the last good reply of a link that is down; false when
// neither runs.
func (in SDownInput) silentSince() (time.Time, bool) {
	switch {
	case !in.PingPendingSince.IsZero():
		return in.PingPendingSince, true
	case in.Disconnected:
		return in.LastOKPingReply, true
	}
	return time.Time{}, false
}

const (
	roleMaster = "master"
	roleSlave  = "slave"
)
