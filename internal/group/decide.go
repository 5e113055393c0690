package group

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/x0tta6bl4/gosentinel/quorum"
)

// Phases of a sentinel in the group, as INFO raft and the status RPC name
// them.
const (
	PhaseAlone   = "alone"   // no Raft state and no peer to form a group with
	PhaseForming = "forming" // no Raft state; peers known, no group yet
	PhaseJoining = "joining" // a group exists; this sentinel is not a caught-up voter yet
	PhaseMember  = "member"  // a voter that knows its leader and has caught up
)

// Status is a sentinel's answer to group.status.
type Status struct {
	ID   string `json:"id"`
	Addr string `json:"addr"`
	// Expect is the sentinel's own expected size of the set.
	Expect int `json:"expect"`
	// HasState is true when the sentinel has Raft state: a group exists
	// and this sentinel is, or was, in it. Reported whether or not a leader
	// is known: a group that is electing is still a group.
	HasState   bool   `json:"has_state"`
	Phase      string `json:"phase"`
	LeaderID   string `json:"leader_id,omitempty"`
	LeaderAddr string `json:"leader_addr,omitempty"`
	Term       uint64 `json:"term,omitempty"`
	// Applied is the sentinel's FSM applied index: a joining member
	// catches up to its leader's before it serves the group's state.
	Applied uint64 `json:"applied,omitempty"`
	// Voters is the latest configuration this sentinel knows.
	Voters []quorum.Server `json:"voters,omitempty"`
	// Chosen is the bootstrap configuration this (fresh) sentinel learnt.
	Chosen []quorum.Server `json:"chosen,omitempty"`
	// GroupSeen is the configuration of a group this (fresh) sentinel saw.
	GroupSeen []quorum.Server `json:"group_seen,omitempty"`
	// Promised is the highest formation ballot it promised.
	Promised Ballot `json:"promised"`
	// Foreign lists the sentinels in its hellos that are not gosentinels
	// (docs/DESIGN.md, "Mixed sets"): while any sentinel reports one, no
	// group is formed.
	Foreign []string `json:"foreign,omitempty"`
}

// PeerStatus is one peer's answer this round; Status is nil when it did
// not answer (down, partitioned, or not a gosentinel).
type PeerStatus struct {
	Addr   string
	Status *Status
}

// Action is what a fresh sentinel does in a round.
type Action int

const (
	// ActWait: nothing this round (Reason says why).
	ActWait Action = iota
	// ActLearn: record Servers, the configuration a peer learnt was
	// chosen, then decide again.
	ActLearn
	// ActBootstrap: bootstrap Raft with Servers, the chosen configuration.
	ActBootstrap
	// ActJoin: open Raft abstaining through Term, then ask the leader at
	// LeaderAddr to add this sentinel.
	ActJoin
	// ActOpen: open Raft abstaining through Term and wait to be counted:
	// the group lists this sentinel as a voter (it lost its state) and has
	// no leader to ask.
	ActOpen
	// ActPropose: Servers (this sentinel and the fresh peers that
	// answered) may form a group: run a formation round if ProposeNow.
	ActPropose
)

var actionNames = [...]string{"wait", "learn", "bootstrap", "join", "open", "propose"}

func (a Action) String() string { return actionNames[a] }

// Decision is the outcome of Decide.
type Decision struct {
	Action     Action
	Reason     string
	Servers    []quorum.Server
	LeaderAddr string
	Term       uint64
	// Expect is the largest expected size among this sentinel and the
	// fresh peers that answered (E_eff); Quorum is its majority.
	Expect, Quorum int
	// Full: every expected sentinel is among the candidates.
	Full bool
	// MinBallot is the highest ballot number any answer promised: a
	// proposal uses a higher one.
	MinBallot uint64
	// Returning (join, open): the group lists this sentinel's id as a
	// voter and its own formation record is empty: it was a member and
	// lost its state (the record is on the same disk), so what it knew
	// before is older than the group's and must not be proposed to it.
	// A listed sentinel whose record holds a promise is a founding member
	// whose peers bootstrapped first: it joins for the first time.
	Returning bool
	// GroupVoters, when not empty, is the configuration of a group a
	// member reported this round: the sentinel records it (AcceptorState.
	// GroupSeen) before acting, and never forms a group of its own after.
	GroupVoters []quorum.Server
}

// FreshView is what a sentinel without Raft state sees in a round.
type FreshView struct {
	Self   quorum.Server
	Expect int
	// Chosen is what its own acceptor learnt, if anything.
	Chosen []quorum.Server
	// Promised: its own acceptor promised a formation ballot, so it took
	// part in forming a group and its disk was not lost since.
	Promised bool
	// GroupSeen is the configuration of a group it saw before, if any.
	GroupSeen []quorum.Server
	// Foreign lists the sentinels it hears that are not gosentinels.
	Foreign []string
	Peers   []PeerStatus
}

// Decide is a fresh sentinel's formation decision (docs/DESIGN.md,
// "Formation"): join an existing group, bootstrap the chosen
// configuration, or, with a majority of the expected size answering,
// propose one.
func Decide(v FreshView) Decision {
	var term uint64
	var leader *Status
	var members []*Status
	chosen := v.Chosen
	for _, p := range v.Peers {
		s := p.Status
		if s == nil || s.ID == v.Self.ID {
			continue
		}
		term = max(term, s.Term)
		if s.HasState {
			members = append(members, s)
			if s.LeaderAddr != "" && (leader == nil || s.Term > leader.Term) {
				leader = s
			}
		}
		if len(chosen) == 0 && len(s.Chosen) > 0 {
			return Decision{Action: ActLearn, Servers: SortServers(s.Chosen),
				Reason: "learnt the chosen configuration from " + s.ID}
		}
	}
	if len(members) > 0 {
		// A group exists: never form another one.
		listed := slices.ContainsFunc(members, func(s *Status) bool { return contains(s.Voters, v.Self.ID) })
		var seen *Status
		for _, m := range members {
			if len(m.Voters) > 0 && (seen == nil || m.Term > seen.Term) {
				seen = m
			}
		}
		var voters []quorum.Server
		if seen != nil {
			voters = SortServers(seen.Voters)
		} else {
			// Members that only just opened Raft to join know no
			// configuration yet: they are the group seen, recorded all
			// the same (the fact that a group exists must be on disk
			// before anything acts on it).
			seen = members[0]
			for _, m := range members {
				voters = append(voters, quorum.Server{ID: m.ID, Addr: m.Addr})
			}
			voters = SortServers(voters)
		}
		// Listed without Raft state: a founding member that lost the race
		// to bootstrap (its promise is on record), or a member that lost
		// its disk (nothing on record).
		returning := listed && !v.Promised
		switch {
		case leader != nil:
			return Decision{Action: ActJoin, LeaderAddr: leader.LeaderAddr, Term: term, Returning: returning, GroupVoters: voters,
				Reason: "a group exists, led by " + leader.LeaderID}
		case listed && returning && len(unheardVoters(voters, v)) > 0:
			// It lost its disk, and with it the terms it voted in. The
			// abstain term must cover them, and the candidate it last
			// voted for may be any other voter: one cut off now may
			// lead a term the voters in sight never saw, and a vote
			// given again in that term elects a second leader in it.
			return Decision{Action: ActWait, GroupVoters: voters,
				Reason: "this sentinel lost its Raft state: opening Raft without a leader only once every other voter reported its term (not heard: " +
					strings.Join(unheardVoters(voters, v), ",") + ")"}
		case listed:
			return Decision{Action: ActOpen, Term: term, Returning: returning, GroupVoters: voters,
				Reason: "the group lists this sentinel as a voter and has no leader: opening Raft to be counted"}
		default:
			return Decision{Action: ActWait, GroupVoters: voters,
				Reason: fmt.Sprintf("a group exists (%s) but has no leader to join through", seen.ID)}
		}
	}
	if len(chosen) > 0 {
		if contains(chosen, v.Self.ID) {
			return Decision{Action: ActBootstrap, Servers: SortServers(chosen), Reason: "bootstrapping the chosen configuration"}
		}
		return Decision{Action: ActWait, Reason: "not in the chosen configuration: joining once it has a leader"}
	}
	if len(v.GroupSeen) > 0 {
		return Decision{Action: ActWait, Reason: "a group was seen (" + FormatServers(v.GroupSeen) + "): waiting for one of its members to join through"}
	}
	for _, p := range v.Peers {
		if s := p.Status; s != nil && s.ID != v.Self.ID && len(s.GroupSeen) > 0 {
			// A peer saw a group this sentinel cannot see: it exists all
			// the same.
			return Decision{Action: ActWait, GroupVoters: SortServers(s.GroupSeen),
				Reason: s.ID + " saw a group (" + FormatServers(s.GroupSeen) + "): waiting for one of its members to join through"}
		}
	}

	// A set that holds a redis-sentinel fails over by its protocol: a
	// group formed now would decide failovers beside it.
	if len(v.Foreign) > 0 {
		return Decision{Action: ActWait, Reason: "not forming a group while a sentinel that is not a gosentinel is in the set (" +
			strings.Join(v.Foreign, ",") + ")"}
	}
	for _, p := range v.Peers {
		if s := p.Status; s != nil && s.ID != v.Self.ID && len(s.Foreign) > 0 {
			return Decision{Action: ActWait, Reason: s.ID + " hears a sentinel that is not a gosentinel (" +
				strings.Join(s.Foreign, ",") + "): not forming a group"}
		}
	}

	expect := max(v.Expect, 1)
	candidates := []quorum.Server{v.Self}
	var minBallot uint64
	for _, p := range v.Peers {
		s := p.Status
		if s == nil || s.ID == "" || s.ID == v.Self.ID || contains(candidates, s.ID) {
			continue
		}
		expect = max(expect, s.Expect)
		minBallot = max(minBallot, s.Promised.N)
		candidates = append(candidates, quorum.Server{ID: s.ID, Addr: s.Addr})
	}
	q := Quorum(expect)
	d := Decision{Expect: expect, Quorum: q, MinBallot: minBallot, Servers: SortServers(candidates)}
	if len(candidates) < q {
		d.Action = ActWait
		d.Reason = fmt.Sprintf("%d of the %d expected sentinels can form a group, %d needed", len(candidates), expect, q)
		return d
	}
	d.Action = ActPropose
	d.Full = len(candidates) >= expect
	d.Reason = fmt.Sprintf("%d of the %d expected sentinels are ready to form a group", len(candidates), expect)
	return d
}

// unheardVoters are the ids of the voters other than v.Self that did not
// answer this round.
func unheardVoters(voters []quorum.Server, v FreshView) []string {
	var out []string
	for _, s := range voters {
		if s.ID == v.Self.ID {
			continue
		}
		if !slices.ContainsFunc(v.Peers, func(p PeerStatus) bool { return p.Status != nil && p.Status.ID == s.ID }) {
			out = append(out, s.ID)
		}
	}
	return out
}

// Timing is the formation schedule.
type Timing struct {
	// Settle is how long a majority that is not the whole expected set
	// waits for the rest before proposing (one hello period).
	Settle time.Duration
	// Takeover is how long after the smallest id should have proposed
	// another candidate proposes in its place.
	Takeover time.Duration
}

// ProposeNow reports whether this sentinel runs a formation round now,
// given a propose decision, since when the candidates have been a quorum,
// and its own takeover jitter: the smallest id at once when the set is
// full, after Settle when it is only a majority; any other candidate
// Takeover (plus jitter) later.
func ProposeNow(d Decision, selfID string, quorumSince, now time.Time, t Timing, jitter time.Duration) bool {
	if d.Action != ActPropose || quorumSince.IsZero() {
		return false
	}
	ready := quorumSince
	if !d.Full {
		ready = ready.Add(t.Settle)
	}
	if lowest(d.Servers) != selfID {
		ready = ready.Add(t.Takeover + jitter)
	}
	return !now.Before(ready)
}

func lowest(servers []quorum.Server) string {
	low := ""
	for _, s := range servers {
		if low == "" || strings.Compare(s.ID, low) < 0 {
			low = s.ID
		}
	}
	return low
}
