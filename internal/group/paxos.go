package group

import (
	"slices"
	"strings"

	"github.com/x0tta6bl4/gosentinel/quorum"
)

// Formation agrees on one bootstrap configuration with single-decree Paxos
// (Lamport, "Paxos Made Simple"): every fresh sentinel is an acceptor, a
// quorum is a majority of the expected size, and the value is the list of
// voters every member of it passes to raft's BootstrapCluster. At most one
// value is ever chosen, so every bootstrap in the set uses the same
// configuration, which hashicorp/raft documents as safe.

// Ballot orders proposals: by N, then by the proposer's id, so that two
// proposers never use the same ballot.
type Ballot struct {
	N  uint64 `json:"n"`
	ID string `json:"id"`
}

// Less reports whether b orders before o.
func (b Ballot) Less(o Ballot) bool {
	if b.N != o.N {
		return b.N < o.N
	}
	return b.ID < o.ID
}

// IsZero reports whether b is the zero ballot (nothing promised).
func (b Ballot) IsZero() bool { return b.N == 0 && b.ID == "" }

// Proposal is a value accepted in a ballot.
type Proposal struct {
	Ballot  Ballot          `json:"ballot"`
	Servers []quorum.Server `json:"servers"`
}

// AcceptorState is what an acceptor must never forget: it is written to
// disk before any answer that depends on it is sent.
type AcceptorState struct {
	// Promised is the highest ballot this acceptor promised.
	Promised Ballot `json:"promised"`
	// Accepted is the proposal it accepted last, if any.
	Accepted *Proposal `json:"accepted,omitempty"`
	// Chosen is the configuration it learnt was chosen, if any.
	Chosen []quorum.Server `json:"chosen,omitempty"`
	// GroupSeen is the configuration of a group a member reported to
	// this sentinel: once it has seen that a group exists, it never
	// promises, accepts or proposes again (it only joins), even after that
	// member is out of sight or lost its own state.
	GroupSeen []quorum.Server `json:"group_seen,omitempty"`
	// FirstJoin: this sentinel opened Raft as a first-time member (to
	// join, to open as a founding member, to bootstrap) and has not been
	// activated since (Group.Activated). Opened Raft state alone does not
	// make a member from a previous run: a restart in between counted as
	// one, and forgot the masters only this sentinel knew instead of
	// proposing them.
	FirstJoin bool `json:"first_join,omitempty"`
}

// Clone returns a deep copy.
func (a AcceptorState) Clone() AcceptorState {
	out := AcceptorState{Promised: a.Promised, Chosen: slices.Clone(a.Chosen), GroupSeen: slices.Clone(a.GroupSeen), FirstJoin: a.FirstJoin}
	if a.Accepted != nil {
		out.Accepted = &Proposal{Ballot: a.Accepted.Ballot, Servers: slices.Clone(a.Accepted.Servers)}
	}
	return out
}

// PrepareReply answers a prepare.
type PrepareReply struct {
	// Promised is true if the acceptor promised the ballot.
	Promised bool `json:"promised"`
	// Highest is the highest ballot the acceptor has promised (so that a
	// refused proposer picks a higher one).
	Highest Ballot `json:"highest"`
	// Accepted is the acceptor's last accepted proposal, if any.
	Accepted *Proposal `json:"accepted,omitempty"`
	// Member is true if the acceptor has Raft state: a group exists, and
	// the proposer must join it rather than form another.
	Member bool `json:"member,omitempty"`
	// Chosen is a configuration the acceptor knows was chosen.
	Chosen []quorum.Server `json:"chosen,omitempty"`
}

// AcceptReply answers an accept.
type AcceptReply struct {
	Accepted bool            `json:"accepted"`
	Highest  Ballot          `json:"highest"`
	Member   bool            `json:"member,omitempty"`
	Chosen   []quorum.Server `json:"chosen,omitempty"`
}

// Prepare handles a prepare of ballot b. changed is true when the state
// must be persisted before the reply is sent.
func (a *AcceptorState) Prepare(b Ballot) (r PrepareReply, changed bool) {
	if a.Promised.Less(b) {
		a.Promised = b
		changed = true
		r.Promised = true
	}
	r.Highest = a.Promised
	if a.Accepted != nil {
		p := *a.Accepted
		r.Accepted = &p
	}
	r.Chosen = a.Chosen
	return r, changed
}

// Accept handles an accept of servers in ballot b: granted unless a higher
// ballot was promised. changed is true when the state must be persisted
// before the reply is sent.
func (a *AcceptorState) Accept(b Ballot, servers []quorum.Server) (r AcceptReply, changed bool) {
	if !b.Less(a.Promised) {
		a.Promised = b
		a.Accepted = &Proposal{Ballot: b, Servers: slices.Clone(servers)}
		changed = true
		r.Accepted = true
	}
	r.Highest = a.Promised
	r.Chosen = a.Chosen
	return r, changed
}

// Learn records servers as the chosen configuration. changed is true the
// first time. A second, different chosen value would mean two groups: it
// is refused and reported (conflict), never recorded.
func (a *AcceptorState) Learn(servers []quorum.Server) (changed, conflict bool) {
	if len(a.Chosen) > 0 {
		return false, !sameServers(a.Chosen, servers)
	}
	a.Chosen = SortServers(servers)
	return true, false
}

// ProposalValue is the value a proposer that collected promises must
// propose: the accepted proposal with the highest ballot among them, or,
// when none accepted anything, the promisers themselves.
func ProposalValue(promises []PrepareReply, promisers []quorum.Server) []quorum.Server {
	var best *Proposal
	for _, p := range promises {
		if p.Accepted != nil && (best == nil || best.Ballot.Less(p.Accepted.Ballot)) {
			best = p.Accepted
		}
	}
	if best != nil {
		return SortServers(best.Servers)
	}
	return SortServers(promisers)
}

// SortServers returns a copy of servers sorted by id: every member
// bootstraps the same bytes.
func SortServers(servers []quorum.Server) []quorum.Server {
	out := slices.Clone(servers)
	slices.SortFunc(out, func(a, b quorum.Server) int { return strings.Compare(a.ID, b.ID) })
	return out
}

func sameServers(a, b []quorum.Server) bool {
	return slices.Equal(SortServers(a), SortServers(b))
}

// contains reports whether servers lists id (at any address).
func contains(servers []quorum.Server, id string) bool {
	return slices.ContainsFunc(servers, func(s quorum.Server) bool { return s.ID == id })
}
