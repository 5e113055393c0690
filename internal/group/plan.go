package group

import (
	"time"

	"github.com/x0tta6bl4/gosentinel/quorum"
)

// RejoinTarget tells a member whether it must ask a leader to add it
// (again): when a sentinel that knows the leader reports a configuration
// without this sentinel at its current address (it was removed while away,
// or it came back at a new address). The leader's own answer is preferred;
// a follower's view may lag, which only costs an idempotent join.
func RejoinTarget(self quorum.Server, peers []PeerStatus) (leaderAddr string, ok bool) {
	var best *Status
	for _, p := range peers {
		s := p.Status
		if s == nil || !s.HasState || s.LeaderAddr == "" || s.ID == self.ID {
			continue
		}
		isLeader := s.ID == s.LeaderID
		if best == nil || (isLeader && best.ID != best.LeaderID) || (isLeader == (best.ID == best.LeaderID) && s.Term > best.Term) {
			best = s
		}
	}
	if best == nil || len(best.Voters) == 0 {
		return "", false
	}
	for _, v := range best.Voters {
		if v.ID == self.ID && v.Addr == self.Addr {
			return "", false
		}
	}
	return best.LeaderAddr, true
}

// ChangeKind is a configuration change.
type ChangeKind int

const (
	// Add adds a voter, or re-addresses it if its id is a voter.
	Add ChangeKind = iota
	// Remove removes a voter.
	Remove
)

// Change is one configuration change the leader makes.
type Change struct {
	Kind   ChangeKind
	Server quorum.Server
}

// JoinPlan is how the leader answers a join request.
type JoinPlan struct {
	Changes []Change
	// Replaces is the voter whose address the joining sentinel holds under
	// another id: the leader first checks that the address answers with
	// the joining id, so that no confused sentinel can evict a live one.
	Replaces *quorum.Server
}

// PlanJoin plans adding s to voters: nothing if it is a voter at that
// address; its address updated if its id is a voter elsewhere; and any
// other voter at its address (the same sentinel under an old id, or a
// sentinel that used to live there) removed first, because Raft refuses
// two servers at one address.
func PlanJoin(voters []quorum.Server, s quorum.Server) JoinPlan {
	var p JoinPlan
	for _, v := range voters {
		if v.ID == s.ID && v.Addr == s.Addr {
			return JoinPlan{}
		}
	}
	for _, v := range voters {
		if v.Addr == s.Addr && v.ID != s.ID {
			v := v
			p.Replaces = &v
			p.Changes = append(p.Changes, Change{Kind: Remove, Server: v})
		}
	}
	p.Changes = append(p.Changes, Change{Kind: Add, Server: s})
	return p
}

// PlanRemoval picks the member the leader removes this round, if any: a
// voter other than the leader not heard from on any channel for timeout,
// the longest silent first, and only while the group keeps a majority of
// the expected size without it. heard returns when a voter was last heard
// from on any channel (hellos, Raft heartbeats, peer RPC).
func PlanRemoval(voters []quorum.Server, leaderID string, expect int, heard func(id string) time.Time, now time.Time, timeout time.Duration) (quorum.Server, bool) {
	if len(voters)-1 < Quorum(expect) {
		return quorum.Server{}, false
	}
	var pick quorum.Server
	var oldest time.Time
	found := false
	for _, v := range voters {
		if v.ID == leaderID {
			continue
		}
		last := heard(v.ID)
		if now.Sub(last) <= timeout {
			continue
		}
		if !found || last.Before(oldest) {
			pick, oldest, found = v, last, true
		}
	}
	return pick, found
}
