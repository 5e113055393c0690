package node

import (
	"errors"
	"time"

	"github.com/x0tta6bl4/gosentinel/monitor"
)

// Leading without Raft. A sentinel that decides failovers on its own copy
// of the state (no Raft, or redis-sentinel's protocol in a mixed set) has
// no quorum round trip to prove that it still reaches the majority before
// a side effect only a leader may send. The fence is such a side effect:
// lowering min-replicas-to-write on a master whose replicas this sentinel
// stopped seeing is right when the replicas died and wrong when this
// sentinel and the master were cut off together (the chaos campaign: a
// member that took its peers for redis-sentinels under packet loss, then
// cut off with the master, unfenced it 2 s into the cut, and the old
// master took writes beside the new one). So here the sentinel must
// reach a majority of the set over its own command links, now.

// reachFresh bounds how old a sentinel's last valid PING reply may be,
// and how long its oldest PING may be pending, for it to count as reached.
// PINGs go out every ping period (1 s); a reached sentinel answers within
// a round trip.
const (
	reachReplyAge = 1500 * time.Millisecond
	reachPending  = 500 * time.Millisecond
)

// errNoMajority is VerifyLeader's answer without Raft when this sentinel
// does not reach a majority of the set.
var errNoMajority = errors.New("this sentinel does not reach a majority of the sentinels it knows")

// reached is one sentinel's link as the check sees it.
type reached struct {
	disconnected bool
	pendingSince time.Time // zero: no PING pending
	lastOK       time.Time
}

// reachesMajority reports whether this sentinel plus the sentinels it
// reaches now are a majority of itself plus every sentinel it knows (by
// run id; for a sentinel listed under several masters, its best link).
func reachesMajority(now time.Time, known map[string]reached) bool {
	n := 1
	for _, r := range known {
		if !r.disconnected && (r.pendingSince.IsZero() || now.Sub(r.pendingSince) < reachPending) &&
			!r.lastOK.IsZero() && now.Sub(r.lastOK) < reachReplyAge {
			n++
		}
	}
	return n > (len(known)+1)/2
}

// sentinelLinks collects every known sentinel's best link from the
// monitor, by run id.
func sentinelLinks(mon *monitor.Monitor, self string) map[string]reached {
	out := map[string]reached{}
	if mon == nil {
		return out
	}
	for _, s := range mon.Sentinels() {
		if s.RunID != self {
			out[s.RunID] = reached{disconnected: s.Disconnected, pendingSince: s.PingPendingSince, lastOK: s.LastOKPingReply}
		}
	}
	return out
}
