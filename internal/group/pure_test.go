package group

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/quorum"
)

func srv(id string) quorum.Server { return quorum.Server{ID: id, Addr: id + ":26379"} }

func servers(ids ...string) []quorum.Server {
	out := make([]quorum.Server, len(ids))
	for i, id := range ids {
		out[i] = srv(id)
	}
	return out
}

func TestExpected(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   ExpectInputs
		want Expectation
	}{
		{"directive wins, even 1", ExpectInputs{Explicit: 1, ExplicitSource: SourceDirective, MaxQuorum: 3, KnownAlive: 4}, Expectation{1, SourceDirective}},
		{"quorum 2 of 3", ExpectInputs{MaxQuorum: 2}, Expectation{3, SourceQuorum}},
		{"official suite: quorum 3 of 5", ExpectInputs{MaxQuorum: 3, KnownAlive: 4}, Expectation{5, SourceQuorum}},
		{"quorum 1 with two known sentinels", ExpectInputs{MaxQuorum: 1, KnownAlive: 2}, Expectation{3, SourceKnown}},
		{"a member: the down ones do not count", ExpectInputs{MaxQuorum: 2, KnownAlive: 1, KnownDown: 3}, Expectation{3, SourceQuorum}},
		{"forming: the down ones count", ExpectInputs{MaxQuorum: 2, KnownAlive: 1, KnownDown: 3, Forming: true}, Expectation{5, SourceKnown}},
		{"quorum 1 alone is never 1", ExpectInputs{MaxQuorum: 1}, Expectation{2, SourceFloor}},
		{"no masters yet", ExpectInputs{}, Expectation{2, SourceFloor}},
		{"seeds", ExpectInputs{MaxQuorum: 2, Seeds: 4}, Expectation{5, SourceSeeds}},
	} {
		if got := Expected(tc.in); got != tc.want {
			t.Errorf("%s: Expected(%+v) = %v, want %v", tc.name, tc.in, got, tc.want)
		}
	}
}

func TestAcceptor(t *testing.T) {
	var a AcceptorState
	b1, b2, b0 := Ballot{1, "a"}, Ballot{1, "b"}, Ballot{0, "z"}
	if r, ch := a.Prepare(b1); !r.Promised || !ch || r.Accepted != nil {
		t.Fatalf("first prepare: %+v changed=%v", r, ch)
	}
	if r, ch := a.Prepare(b1); r.Promised || ch {
		t.Fatalf("the same ballot twice is not promised again: %+v changed=%v", r, ch)
	}
	if r, _ := a.Prepare(b0); r.Promised || r.Highest != b1 {
		t.Fatalf("a lower ballot: %+v", r)
	}
	if r, ch := a.Accept(b1, servers("b", "a")); !r.Accepted || !ch {
		t.Fatalf("accept of the promised ballot: %+v", r)
	}
	if r, _ := a.Prepare(b2); !r.Promised || r.Accepted == nil || r.Accepted.Ballot != b1 {
		t.Fatalf("a higher prepare must report the accepted proposal: %+v", r)
	}
	if r, ch := a.Accept(b1, servers("x")); r.Accepted || ch {
		t.Fatalf("accept below the promise: %+v", r)
	}
	if ch, conflict := a.Learn(servers("b", "a")); !ch || conflict || !slices.Equal(a.Chosen, servers("a", "b")) {
		t.Fatalf("learn: changed=%v conflict=%v chosen=%v", ch, conflict, a.Chosen)
	}
	if ch, conflict := a.Learn(servers("a", "b")); ch || conflict {
		t.Fatalf("learning the same value again: changed=%v conflict=%v", ch, conflict)
	}
	if ch, conflict := a.Learn(servers("c")); ch || !conflict || !slices.Equal(a.Chosen, servers("a", "b")) {
		t.Fatalf("a second value must be refused: changed=%v conflict=%v chosen=%v", ch, conflict, a.Chosen)
	}
}

func TestProposalValue(t *testing.T) {
	promisers := servers("c", "a", "b")
	if got := ProposalValue([]PrepareReply{{Promised: true}, {Promised: true}}, promisers); !slices.Equal(got, servers("a", "b", "c")) {
		t.Fatalf("nothing accepted: %v", got)
	}
	got := ProposalValue([]PrepareReply{
		{Accepted: &Proposal{Ballot: Ballot{2, "a"}, Servers: servers("a", "b")}},
		{Accepted: &Proposal{Ballot: Ballot{3, "a"}, Servers: servers("b", "c")}},
		{},
	}, promisers)
	if !slices.Equal(got, servers("b", "c")) {
		t.Fatalf("the highest accepted proposal must be kept: %v", got)
	}
}

func fresh(id string, expect int) PeerStatus {
	return PeerStatus{Addr: id + ":26379", Status: &Status{ID: id, Addr: id + ":26379", Expect: expect, Phase: PhaseForming}}
}

func TestDecide(t *testing.T) {
	self := srv("b")
	member := func(id, leader string, term uint64, voters ...string) PeerStatus {
		p := fresh(id, 3)
		p.Status.HasState, p.Status.Term, p.Status.Voters = true, term, servers(voters...)
		if leader != "" {
			p.Status.LeaderID, p.Status.LeaderAddr = leader, leader+":26379"
		}
		return p
	}
	down := PeerStatus{Addr: "z:26379"}
	seenBy := func(id string, voters ...string) PeerStatus {
		p := fresh(id, 3)
		p.Status.GroupSeen = servers(voters...)
		return p
	}
	foreignBy := func(id string, foreign ...string) PeerStatus {
		p := fresh(id, 3)
		p.Status.Foreign = foreign
		return p
	}
	chosenBy := func(id string, chosen ...string) PeerStatus {
		p := fresh(id, 3)
		p.Status.Chosen = servers(chosen...)
		return p
	}
	for _, tc := range []struct {
		name   string
		v      FreshView
		action Action
		check  func(Decision) bool
	}{
		{"alone", FreshView{Self: self, Expect: 3}, ActWait, nil},
		{"everybody, but we hear a redis-sentinel: no group", FreshView{Self: self, Expect: 3, Foreign: []string{"r"}, Peers: []PeerStatus{fresh("a", 3), fresh("c", 3)}}, ActWait, nil},
		{"everybody, but a peer hears a redis-sentinel: no group", FreshView{Self: self, Expect: 3, Peers: []PeerStatus{fresh("a", 3), foreignBy("c", "r")}}, ActWait, nil},
		{"a redis-sentinel in the set does not stop joining a group", FreshView{Self: self, Expect: 3, Foreign: []string{"r"}, Peers: []PeerStatus{member("a", "a", 4, "a", "c")}}, ActJoin, nil},
		{"a redis-sentinel in the set does not stop bootstrapping the chosen configuration", FreshView{Self: self, Expect: 3, Foreign: []string{"r"}, Chosen: servers("b", "c")}, ActBootstrap, nil},
		{"one peer of three is a majority", FreshView{Self: self, Expect: 3, Peers: []PeerStatus{fresh("c", 3), down}}, ActPropose,
			func(d Decision) bool { return !d.Full && d.Quorum == 2 && len(d.Servers) == 2 }},
		{"everybody", FreshView{Self: self, Expect: 3, Peers: []PeerStatus{fresh("a", 3), fresh("c", 3)}}, ActPropose,
			func(d Decision) bool { return d.Full && slices.Equal(d.Servers, servers("a", "b", "c")) }},
		{"a peer's larger expectation wins", FreshView{Self: self, Expect: 3, Peers: []PeerStatus{fresh("a", 5), fresh("c", 3)}}, ActPropose,
			func(d Decision) bool { return d.Expect == 5 && d.Quorum == 3 && !d.Full }},
		{"a peer's larger expectation can leave us short", FreshView{Self: self, Expect: 3, Peers: []PeerStatus{fresh("a", 7), fresh("c", 3)}}, ActWait,
			func(d Decision) bool { return d.Expect == 7 && d.Quorum == 4 }},
		{"a member with a leader: join, abstaining through the highest term", FreshView{Self: self, Expect: 3, Peers: []PeerStatus{fresh("c", 3), member("a", "a", 4, "a", "c")}}, ActJoin,
			func(d Decision) bool { return d.LeaderAddr == "a:26379" && d.Term == 4 && !d.Returning }},
		{"a group listing us, with a leader: a returning member joins", FreshView{Self: self, Expect: 3, Peers: []PeerStatus{member("a", "a", 4, "a", "b", "c")}}, ActJoin,
			func(d Decision) bool { return d.Returning }},
		{"a member without a leader, listing us, every other voter heard: open and be counted", FreshView{Self: self, Expect: 3, Peers: []PeerStatus{member("a", "", 6, "a", "b", "c"), member("c", "", 7, "a", "b", "c")}}, ActOpen,
			func(d Decision) bool { return d.Term == 7 && d.Returning }},
		// The reviewer's case: we lost our disk after voting for c in a
		// term a never saw; c is out of sight. Opening through a's term
		// let a win c's term with our second vote.
		{"a member without a leader, listing us, a voter not heard: a member that lost its disk waits", FreshView{Self: self, Expect: 3, Peers: []PeerStatus{member("a", "", 6, "a", "b", "c"), down}}, ActWait,
			func(d Decision) bool { return strings.Contains(d.Reason, "not heard: c") }},
		// A founding member whose peers bootstrapped the chosen
		// configuration before it learnt it: listed, without Raft state,
		// but its promise is on record, so it never was a member. As a
		// returning member it would drop the masters it knew at
		// activation (and the sentinels it had discovered with them).
		{"listing us, our promise on record, no leader: a founding member opens as a first-time member", FreshView{Self: self, Expect: 3, Promised: true, Peers: []PeerStatus{member("a", "", 1, "a", "b", "c"), member("c", "", 1, "a", "b", "c")}}, ActOpen,
			func(d Decision) bool { return !d.Returning }},
		{"listing us, our promise on record, with a leader: a founding member joins as a first-time member", FreshView{Self: self, Expect: 3, Promised: true, Peers: []PeerStatus{member("a", "a", 2, "a", "b", "c")}}, ActJoin,
			func(d Decision) bool { return !d.Returning }},
		{"a member without a leader, not listing us: never form a second group", FreshView{Self: self, Expect: 3, Peers: []PeerStatus{fresh("c", 3), fresh("d", 3), member("a", "", 2, "a", "x")}}, ActWait, nil},
		{"own chosen configuration: bootstrap", FreshView{Self: self, Expect: 3, Chosen: servers("c", "b")}, ActBootstrap,
			func(d Decision) bool { return slices.Equal(d.Servers, servers("b", "c")) }},
		{"chosen without us: wait to join", FreshView{Self: self, Expect: 3, Chosen: servers("a", "c")}, ActWait, nil},
		{"a peer's chosen configuration is learnt first", FreshView{Self: self, Expect: 3, Peers: []PeerStatus{chosenBy("c", "a", "c")}}, ActLearn,
			func(d Decision) bool { return slices.Equal(d.Servers, servers("a", "c")) }},
		{"our own answer (a stale hello at our address) is not a peer", FreshView{Self: self, Expect: 3, Peers: []PeerStatus{fresh("b", 3)}}, ActWait, nil},
		{"cluster-size 1", FreshView{Self: self, Expect: 1}, ActPropose, func(d Decision) bool { return d.Full && d.Quorum == 1 }},
		{"a member seen is recorded", FreshView{Self: self, Expect: 3, Peers: []PeerStatus{fresh("c", 3), member("a", "", 2, "a", "x")}}, ActWait,
			func(d Decision) bool { return slices.Equal(d.GroupVoters, servers("a", "x")) }},
		// A sentinel that just opened Raft to join has state and no
		// configuration yet, and the highest term: the group it joins was
		// not recorded, since it named no voters.
		{"a member without a configuration yet is recorded too", FreshView{Self: self, Expect: 3, Peers: []PeerStatus{fresh("c", 3), member("d", "", 5)}}, ActWait,
			func(d Decision) bool { return slices.Equal(d.GroupVoters, servers("d")) }},
		{"the configuration recorded is the highest-term member's that has one", FreshView{Self: self, Expect: 3, Peers: []PeerStatus{member("d", "", 5), member("a", "", 2, "a", "x")}}, ActWait,
			func(d Decision) bool { return slices.Equal(d.GroupVoters, servers("a", "x")) }},
		{"a group seen before, out of sight now: never form another", FreshView{Self: self, Expect: 3, GroupSeen: servers("a", "x"),
			Peers: []PeerStatus{fresh("c", 3), fresh("d", 3)}}, ActWait, nil},
		{"a peer saw a group: it exists all the same", FreshView{Self: self, Expect: 3, Peers: []PeerStatus{fresh("c", 3), seenBy("d", "a", "x")}}, ActWait,
			func(d Decision) bool { return slices.Equal(d.GroupVoters, servers("a", "x")) }},
		{"chosen and in it, group seen: bootstrap the same configuration", FreshView{Self: self, Expect: 3, GroupSeen: servers("a", "b"), Chosen: servers("a", "b")}, ActBootstrap, nil},
	} {
		d := Decide(tc.v)
		if d.Action != tc.action || (tc.check != nil && !tc.check(d)) {
			t.Errorf("%s: %s %+v", tc.name, d.Action, d)
		}
	}
}

func TestProposeNow(t *testing.T) {
	t0 := time.Unix(1000, 0)
	tm := Timing{Settle: 2 * time.Second, Takeover: time.Second}
	full := Decision{Action: ActPropose, Full: true, Servers: servers("a", "b", "c")}
	major := Decision{Action: ActPropose, Servers: servers("a", "b")}
	for _, tc := range []struct {
		name string
		d    Decision
		self string
		at   time.Duration
		want bool
	}{
		{"smallest id, full set: at once", full, "a", 0, true},
		{"another id, full set: not yet", full, "b", 900 * time.Millisecond, false},
		{"another id, full set: takes over", full, "b", time.Second + 100*time.Millisecond, true},
		{"smallest id, majority: waits the settle time", major, "a", 1900 * time.Millisecond, false},
		{"smallest id, majority: after the settle time", major, "a", 2 * time.Second, true},
		{"another id, majority: settle plus takeover plus jitter", major, "b", 3*time.Second + 50*time.Millisecond, false},
		{"another id, majority: later", major, "b", 3*time.Second + 100*time.Millisecond, true},
		{"not a proposal", Decision{Action: ActWait}, "a", time.Hour, false},
	} {
		if got := ProposeNow(tc.d, tc.self, t0, t0.Add(tc.at), tm, 100*time.Millisecond); got != tc.want {
			t.Errorf("%s: ProposeNow = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestRejoinTarget(t *testing.T) {
	self := quorum.Server{ID: "b", Addr: "10.0.0.2:26379"}
	st := func(id, leader string, term uint64, voters ...quorum.Server) PeerStatus {
		return PeerStatus{Status: &Status{ID: id, HasState: true, LeaderID: leader, LeaderAddr: leader + ":26379", Term: term, Voters: voters}}
	}
	in := []quorum.Server{srv("a"), self}
	moved := []quorum.Server{srv("a"), {ID: "b", Addr: "10.0.0.9:26379"}}
	removed := []quorum.Server{srv("a"), srv("c")}
	for _, tc := range []struct {
		name  string
		peers []PeerStatus
		want  bool
	}{
		{"listed at our address", []PeerStatus{st("a", "a", 3, in...)}, false},
		{"listed at an old address", []PeerStatus{st("a", "a", 3, moved...)}, true},
		{"removed", []PeerStatus{st("a", "a", 3, removed...)}, true},
		{"the leader's own view beats a lagging follower's", []PeerStatus{st("c", "a", 3, removed...), st("a", "a", 3, in...)}, false},
		{"nobody knows a leader", []PeerStatus{{Status: &Status{ID: "a", HasState: true, Voters: removed}}}, false},
		{"no answers", []PeerStatus{{}}, false},
	} {
		if _, got := RejoinTarget(self, tc.peers); got != tc.want {
			t.Errorf("%s: rejoin = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestPlanJoin(t *testing.T) {
	a, b := srv("a"), srv("b")
	newB := quorum.Server{ID: "b2", Addr: b.Addr}
	movedB := quorum.Server{ID: "b", Addr: "10.0.0.9:26379"}
	for _, tc := range []struct {
		name     string
		voters   []quorum.Server
		s        quorum.Server
		want     []Change
		replaces bool
	}{
		{"already a voter", []quorum.Server{a, b}, b, nil, false},
		{"new sentinel", []quorum.Server{a}, b, []Change{{Add, b}}, false},
		{"same id, new address", []quorum.Server{a, b}, movedB, []Change{{Add, movedB}}, false},
		{"new id at a voter's address: replace", []quorum.Server{a, b}, newB, []Change{{Remove, b}, {Add, newB}}, true},
	} {
		p := PlanJoin(tc.voters, tc.s)
		if !slices.Equal(p.Changes, tc.want) || (p.Replaces != nil) != tc.replaces {
			t.Errorf("%s: %+v", tc.name, p)
		}
	}
}

func TestPlanRemoval(t *testing.T) {
	now := time.Unix(10000, 0)
	timeout := 5 * time.Minute
	heard := map[string]time.Time{"a": now, "b": now.Add(-6 * time.Minute), "c": now.Add(-10 * time.Minute), "d": now, "e": now}
	h := func(id string) time.Time { return heard[id] }
	for _, tc := range []struct {
		name   string
		voters []quorum.Server
		expect int
		want   string
	}{
		{"the longest silent goes first", servers("a", "b", "c", "d", "e"), 5, "c"},
		{"never below a majority of the expected size", servers("a", "b", "c"), 5, ""},
		{"three of three, one gone: 2 keep a majority of 3", servers("a", "b", "d"), 3, "b"},
		{"nobody silent", servers("a", "d", "e"), 3, ""},
		{"the leader itself is never removed", servers("c", "a", "d"), 3, ""},
	} {
		leader := "a"
		if tc.name == "the leader itself is never removed" {
			leader = "c"
		}
		got, ok := PlanRemoval(tc.voters, leader, tc.expect, h, now, timeout)
		if (tc.want == "") == ok || (ok && got.ID != tc.want) {
			t.Errorf("%s: removal %v %v, want %q", tc.name, got, ok, tc.want)
		}
	}
}

func TestPlanHeld(t *testing.T) {
	now := time.Unix(10000, 0)
	old := quorum.Server{ID: "b", Addr: "10.0.0.2:26379"}
	join := "10.0.0.2:26379"
	for _, tc := range []struct {
		name      string
		leader    string
		lastHeard time.Time
		at        string
		want      HeldAction
	}{
		{"silent past the quiet time: replaced", "a", now.Add(-ReplaceQuiet - time.Second), "", HeldReplace},
		{"silent past the quiet time, hellos naming another address: replaced", "a", now.Add(-ReplaceQuiet - time.Second), "10.0.0.1:26379", HeldReplace},
		{"heard now, from another address (swapped): parked", "a", now, "10.0.0.1:26379", HeldPark},
		{"heard now, nowhere else: wait", "a", now, "", HeldWait},
		{"heard now, at the joiner's address (a new id there just now): wait", "a", now, join, HeldWait},
		{"the leader's own entry, the leader elsewhere: parked", "b", time.Time{}, "10.0.0.1:26379", HeldPark},
		{"the leader's own entry, never replaced", "b", time.Time{}, "", HeldWait},
	} {
		if got := PlanHeld(old, tc.leader, tc.lastHeard, now, tc.at, join); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestPartitionAtFirstStartFormsOneGroup: five sentinels with quorum 2,
// each listing the other four (known-sentinel lines), cut {s0,s1,s2} |
// {s3,s4} at their first start for longer than down-after, so each side
// sees the other subjectively down. Counting only the reachable peers made
// the expected size 3 on both sides, and each proposed with a quorum of 2:
// two groups, two leaders failing the same master over. Counting every
// known sentinel while forming, only the side with a majority of the five
// may propose.
func TestPartitionAtFirstStartFormsOneGroup(t *testing.T) {
	at := func(i int) quorum.Server {
		return quorum.Server{ID: fmt.Sprintf("s%d", i), Addr: fmt.Sprintf("10.0.0.%d:26379", i+1)}
	}
	decide := func(self int, side []int) Decision {
		e := Expected(ExpectInputs{MaxQuorum: 2, KnownAlive: len(side) - 1, KnownDown: 5 - len(side), Forming: true})
		var peers []PeerStatus
		for _, i := range side {
			if i != self {
				peers = append(peers, PeerStatus{Addr: at(i).Addr, Status: &Status{ID: at(i).ID, Addr: at(i).Addr, Expect: e.Size}})
			}
		}
		return Decide(FreshView{Self: at(self), Expect: e.Size, Peers: peers})
	}
	if d := decide(0, []int{0, 1, 2}); d.Action != ActPropose || d.Quorum != 3 {
		t.Errorf("the side of three: %v with quorum %d, want a proposal needing 3", d.Action, d.Quorum)
	}
	for _, self := range []int{3, 4} {
		if d := decide(self, []int{3, 4}); d.Action == ActPropose {
			t.Errorf("s%d, on the side of two, proposes with quorum %d: a second group", self, d.Quorum)
		}
	}
}
