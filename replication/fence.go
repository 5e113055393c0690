package replication

import (
	"strings"
	"time"

	"github.com/x0tta6bl4/gosentinel/monitor"
)

// Fencing the cut-off master (docs/DESIGN.md, "Fencing the cut-off
// master"): the leader keeps min-replicas-to-write/min-replicas-max-lag on
// every master with at least two healthy replicas, so that a master that
// stops receiving its replicas' ACKs refuses writes by itself, and an
// automatic failover's SLAVEOF NO ONE waits until that must have happened.
// This file holds the pure decisions; fence_engine.go applies them.

const (
	// fenceMaxLag is the min-replicas-max-lag gosentinel sets, in seconds:
	// the smallest value Redis honours (0 disables the check).
	fenceMaxLag = 1
	// fenceMinHealthy is how many healthy replicas a master needs before
	// it is fenced: with one, losing it would refuse every write (where
	// redis-sentinel accepts them); with two, losing one refuses nothing.
	fenceMinHealthy = 2
	// fenceMargin covers an ACK in flight when the cut happened and the
	// jitter of Redis' once-a-second replicationCron.
	fenceMargin = 500 * time.Millisecond
	// pingSlack is how late after a ping period the monitor may send its
	// next PING (it looks every tick, 50 ms, and a PING is due only once
	// the period has passed).
	pingSlack = 100 * time.Millisecond
)

// FenceConfig is a node's min-replicas-to-write and min-replicas-max-lag
// (seconds).
type FenceConfig struct {
	ToWrite int
	MaxLag  int
}

// ours is the fence gosentinel sets. A user's (1, 1) is indistinguishable
// and treated as ours.
var ours = FenceConfig{ToWrite: 1, MaxLag: fenceMaxLag}

// Active tells whether Redis enforces the fence: both values non-zero
// (checkGoodReplicasStatus ignores the check when either is 0).
func (c FenceConfig) Active() bool { return c.ToWrite > 0 && c.MaxLag > 0 }

// FenceAction is what the leader does to a node's fence.
type FenceAction int

const (
	// FenceKeep leaves the node as it is.
	FenceKeep FenceAction = iota
	// FenceSet sets min-replicas-max-lag 1 then min-replicas-to-write 1.
	FenceSet
	// FenceClear sets min-replicas-to-write 0: the fence can be lowered
	// only by a verified leader.
	FenceClear
)

// FenceTarget decides what to do with a master's fence: cur is what the
// master reports now, healthy how many replicas the leader sees healthy and
// following it. Never lowers a fence the user set (anything but ours), and
// never fences a master that one lost replica would leave without a good
// one.
func FenceTarget(cur FenceConfig, healthy int) FenceAction {
	switch {
	case healthy < fenceMinHealthy:
		if cur == ours {
			return FenceClear
		}
		return FenceKeep
	case cur.ToWrite == 0:
		return FenceSet
	default:
		// Active (ours or the user's), or to-write set with max-lag 0: the
		// user's choice either way.
		return FenceKeep
	}
}

// ReplicaFenceTarget decides for a replica: ours is removed, because a
// replica keeps its config when promoted and a new master born fenced would
// refuse writes until a replica has synced with it.
func ReplicaFenceTarget(cur FenceConfig) FenceAction {
	if cur == ours {
		return FenceClear
	}
	return FenceKeep
}

// fenceBound is how long after the last replica ACK it received a master
// fenced with max-lag seconds may still accept writes: repl_ack_time is in
// whole seconds (up to 1 s early), a replica counts while unixtime -
// repl_ack_time <= max-lag, and replicationCron recounts once a second.
func fenceBound(maxLag int) time.Duration {
	return time.Duration(maxLag)*time.Second + 2*time.Second
}

// FenceWait is what the majority knows when it is about to promote a
// replica of an old master it cannot reach.
type FenceWait struct {
	Now time.Time
	// Known: this leader read the old master's fence config, Config is
	// what it read last. Unknown is taken as our fence.
	Known  bool
	Config FenceConfig
	// LastOKPingReply is the leader's last valid PING reply from the old
	// master (zero: none known, taken as now), PingPeriod the pace of its
	// PINGs.
	LastOKPingReply time.Time
	PingPeriod      time.Duration
	// PingPendingSince is when the leader sent its oldest unanswered PING
	// to the old master (zero if none).
	PingPendingSince time.Time
	// ReplicaLinkUp and ReplicaLastIO are the chosen replica's
	// master_link_status and master_last_io_seconds_ago, when it still
	// replicates from the old master.
	ReplicaLinkUp bool
	ReplicaLastIO time.Duration
	// Partners are the other members of the group this leader cannot
	// reach: each may be on the old master's side of the cut, holding a
	// cut-off pause on it (cutoff.go).
	Partners []CutOffPartner
}

// CutOffPartner is what the leader knows of another member that may have
// been cut off with the old master: its PING clocks in this leader's
// monitor, and whether a dial to it just now timed out (refused: the
// process is gone and pauses nothing; accepted: it is not cut off, hears
// the leader and pauses nothing either).
type CutOffPartner struct {
	LastOKPingReply, PingPendingSince time.Time
	TimedOut                          bool
}

// cutOffHold is how long after a cut a member cut off with the master has
// paused it at the latest: cutOffAfter of silence (its last heartbeat came
// no later than the cut), a heartbeat, a look's period, two probe rounds
// and the pause's own exchange (each bounded by cutOffProbe), plus 200 ms
// for scheduling.
const cutOffHold = cutOffAfter + 50*time.Millisecond + cutOffEvery + 3*cutOffProbe + 200*time.Millisecond

// lostAt returns the window in which the leader lost an instance: after
// its last valid PING reply p and no later than its first unanswered PING
// (at most a ping period and pingSlack after p, or the oldest pending one
// if later).
func lostAt(p, pending time.Time, period time.Duration) (after, by time.Time) {
	by = p.Add(period + pingSlack)
	if pending.After(by) {
		by = pending
	}
	return p, by
}

// cutOffPausedBy returns when a partner's cut-off pause must hold on the
// old master, if some partner was lost in the same window as the master
// (consistent with one cut that left them on the same side) and is
// neither dead nor reachable: the cut came before both first unanswered
// PINGs, the partner heard its last heartbeat no later than the cut, and
// paused the master within cutOffHold of that. Its first lease outlasts
// the master's own fence (cutOffFirstLease >= fenceBound(1)), so the pause
// hands over to min-replicas without a gap. ok is false without such a
// partner.
func cutOffPausedBy(w FenceWait) (time.Time, bool) {
	if w.LastOKPingReply.IsZero() {
		return time.Time{}, false
	}
	mAfter, mBy := lostAt(w.LastOKPingReply, w.PingPendingSince, w.PingPeriod)
	var best time.Time
	for _, p := range w.Partners {
		if !p.TimedOut || p.LastOKPingReply.IsZero() {
			continue
		}
		sAfter, sBy := lostAt(p.LastOKPingReply, p.PingPendingSince, w.PingPeriod)
		lo, hi := later(mAfter, sAfter), earlier(mBy, sBy)
		if !lo.Before(hi) {
			continue // lost at different times: not one cut
		}
		if at := hi.Add(cutOffHold); best.IsZero() || at.Before(best) {
			best = at
		}
	}
	return best, !best.IsZero()
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// PromotionAllowedAt is the earliest moment SLAVEOF NO ONE may be sent: the
// old master must have stopped accepting writes. The last ACK it can have
// received came before c, the later of the leader's first unanswered PING
// (at most a ping period and pingSlack after the last valid reply, or when
// the oldest pending one was sent, if later: under a partition by
// sides the replicas lost the master no later than the leader did) and the
// chosen replica's last contact with it; the master refuses writes by c +
// fenceBound. A master known to have no active fence needs no wait: zero.
// A partner cut off with the master (cutOffPausedBy) shortens the wait to
// when its pause must hold, if that is earlier.
func PromotionAllowedAt(w FenceWait) time.Time {
	lag := fenceMaxLag
	if w.Known {
		if !w.Config.Active() {
			return time.Time{}
		}
		lag = w.Config.MaxLag
	}
	c := w.Now
	if !w.LastOKPingReply.IsZero() {
		c = w.LastOKPingReply.Add(w.PingPeriod + pingSlack)
		if w.PingPendingSince.After(c) {
			c = w.PingPendingSince
		}
	}
	if w.ReplicaLinkUp {
		// master_last_io_seconds_ago is truncated: the contact was at most
		// a second before now - s, and possibly right at it.
		if io := w.Now.Add(-w.ReplicaLastIO); io.After(c) {
			c = io
		}
	}
	allowed := c.Add(fenceBound(lag) + fenceMargin)
	if paused, ok := cutOffPausedBy(w); ok && paused.Before(allowed) && lag <= fenceMaxLag {
		return paused
	}
	return allowed
}

// healthyReplicas counts the replicas of the master at a that the monitor
// sees healthy: answering, not SDOWN, replicating from a with the link up.
func healthyReplicas(ms *monitor.MasterStatus, a monitor.Addr) int {
	n := 0
	for i := range ms.Replicas {
		r := &ms.Replicas[i]
		if r.Ref.Addr == a || r.SDown || r.Disconnected || r.RoleReported != "slave" || !r.MasterLinkUp {
			continue
		}
		if !strings.EqualFold(r.MasterHost, a.Host) || r.MasterPort != a.Port {
			continue
		}
		n++
	}
	return n
}
