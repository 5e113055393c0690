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

// ReplaceQuiet is how long a voter must have been silent on every channel
// (hellos, Raft contact, status calls) before a sentinel at its address
// under another id may replace it. An address proves who holds it now, not
// that its previous holder is gone: addresses are reused (two members that
// restart with their IPs swapped, a pod given the IP a peer just released),
// and a voter alive elsewhere that was removed for it left the group short
// of a majority, or removed the leader itself. Five hello periods: a
// sentinel that really restarted with a new id at its old address waits
// that long at most.
const ReplaceQuiet = 10 * time.Second

// HeldAction is what the leader does with the voter whose address a
// sentinel joining under another id holds.
type HeldAction int

const (
	// HeldReplace removes it (gone: the same sentinel under a new id, or
	// one that used to live there) before adding the joining one.
	HeldReplace HeldAction = iota
	// HeldPark moves its entry to an address no sentinel announces
	// (peer.TargetAddr of the old address and its id): it is alive
	// elsewhere, so it stays a voter, and its own next join puts its entry
	// where it is. Only the address changes, never the set of voters.
	HeldPark
	// HeldWait refuses the join for now: heard from recently, and nowhere
	// else than at this address.
	HeldWait
)

// PlanHeld decides what happens to old, the voter at the address of a
// sentinel that asks to join under another id. lastHeard is when old was
// last heard from (its hellos, a status call, Raft's contact; now while
// Raft reaches it) and at is where it is now ("" if unknown: the address it
// last called from, else the one its hellos announce). The leader itself
// is alive wherever its entry says.
func PlanHeld(old quorum.Server, leaderID string, lastHeard, now time.Time, at, joinAddr string) HeldAction {
	alive := old.ID == leaderID || now.Sub(lastHeard) <= ReplaceQuiet
	switch {
	case !alive:
		return HeldReplace
	case at != "" && at != joinAddr:
		return HeldPark
	}
	return HeldWait
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
