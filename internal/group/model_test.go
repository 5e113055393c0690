package group

// A deterministic model of formation and membership: the decisions of
// decide.go, paxos.go and plan.go driven by a seeded scheduler with a fake
// clock and a simulated network that delays, reorders and drops messages,
// crashes and restarts sentinels (their acceptor state survives, their
// in-flight work does not), and cuts and heals links. No Raft and no real
// time: a seed is exactly reproducible, so thousands run in seconds.
//
// Formation invariants: at most one configuration is ever chosen, every
// bootstrap uses it, no sentinel joins as one that lost its state (none
// does here), and with the network healed and everybody up, the set ends
// with one group holding a majority of the expected size.
//
// Membership invariants (an abstract group whose leader applies PlanJoin
// and PlanRemoval): no removal leaves fewer voters than a majority of the
// expected size; a sentinel that is up and heard is never removed; every
// sentinel that returns (same id, new address, new id) is a voter at its
// current address once it asks to join.
//
//	go test -run TestModel ./internal/group/ -model.seeds 100000

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/quorum"
)

var (
	modelSeeds = flag.Int("model.seeds", 0, "seeds per model and set size (0: 3000, or 300 with -race)")
	modelSeed  = flag.Int64("model.seed", 0, "run this seed only")
)

func modelSeedRange() (int64, int64) {
	if *modelSeed != 0 {
		return *modelSeed, *modelSeed
	}
	n := *modelSeeds
	if n == 0 {
		n = 3000
		if raceEnabled {
			n = 300
		}
	}
	return 1, int64(n)
}

// TestModelFormation runs the formation model for sets of 1 to 5.
func TestModelFormation(t *testing.T) {
	first, last := modelSeedRange()
	chosenRuns := 0
	for _, n := range []int{1, 2, 3, 4, 5} {
		for seed := first; seed <= last; seed++ {
			m := newFormationModel(n, seed)
			if err := m.run(); err != nil {
				t.Fatalf("formation model, %d sentinels, seed %d: %v\nreplay: go test -run TestModelFormation ./internal/group/ -model.seed %d\ntrace:\n%s",
					n, seed, err, seed, m.traceTail())
			}
			if m.chosen != nil {
				chosenRuns++
			}
		}
	}
	t.Logf("%d formation runs ended in one group", chosenRuns)
}

// fmMsg is a message in flight.
type fmMsg struct {
	from, to int
	kind     string // status, status-reply, prepare, promise, accept, accepted, learn
	ballot   Ballot
	servers  []quorum.Server
	status   *Status
	prep     PrepareReply
	acc      AcceptReply
	round    int // the proposer's round it belongs to
}

// fmNode is one sentinel of the formation model.
type fmNode struct {
	id    int
	srv   quorum.Server
	up    bool
	acc   AcceptorState // durable
	state bool          // has Raft state (bootstrapped or joined); durable
	boot  []quorum.Server

	// volatile: lost on a crash
	statuses    map[int]*Status
	quorumSince time.Time
	jitter      time.Duration
	round       int // current proposer round (0: none)
	roundStart  time.Time
	ballot      Ballot
	decision    Decision
	promises    map[int]PrepareReply
	accepts     map[int]bool
	accepting   bool
	value       []quorum.Server
	nextTick    time.Time
}

type formationModel struct {
	rng    *rand.Rand
	n      int
	now    time.Time
	nodes  []*fmNode
	msgs   []fmMsg
	cut    [][]bool
	timing Timing
	tick   time.Duration
	chosen []quorum.Server // the first value a proposer saw chosen
	// accepted records every acceptance, per ballot: a value accepted by
	// a quorum in one ballot is chosen in Paxos' sense, whether or not
	// anybody learnt it.
	accepted map[Ballot]map[int][]quorum.Server
	boots    [][]quorum.Server
	// returning lists the sentinels that joined as members that lost
	// their state: no sentinel of the model loses its disk, so none may.
	returning []string
	trace     []string
	healed    bool
	rounds    int
	history   int
}

func newFormationModel(n int, seed int64) *formationModel {
	m := &formationModel{
		rng:      rand.New(rand.NewPCG(uint64(seed), uint64(n)+1000)),
		n:        n,
		now:      time.Unix(1_000_000, 0),
		timing:   Timing{Settle: 2 * time.Second, Takeover: time.Second},
		tick:     250 * time.Millisecond,
		accepted: map[Ballot]map[int][]quorum.Server{},
	}
	// Safety must not rest on timing: some seeds let every candidate
	// propose at once, which makes proposals duel.
	if m.rng.IntN(3) == 0 {
		m.timing = Timing{Settle: time.Duration(m.rng.IntN(2)) * time.Second}
	}
	m.cut = make([][]bool, n)
	for i := range n {
		m.cut[i] = make([]bool, n)
		node := &fmNode{id: i, srv: quorum.Server{ID: fmt.Sprintf("s%d", i), Addr: fmt.Sprintf("10.0.0.%d:26379", i+1)}}
		m.nodes = append(m.nodes, node)
	}
	return m
}

func (m *formationModel) logf(format string, args ...any) {
	m.trace = append(m.trace, m.now.Format("05.000 ")+fmt.Sprintf(format, args...))
}

func (m *formationModel) traceTail() string {
	t := m.trace
	if len(t) > 200 {
		t = t[len(t)-200:]
	}
	return strings.Join(t, "\n")
}

// run drives the model: a chaotic phase, then a healed, calm phase in which
// the set must end in one group.
func (m *formationModel) run() error {
	for _, nd := range m.nodes {
		if m.rng.IntN(3) > 0 {
			m.restart(nd)
		}
	}
	for step := 0; step < 400; step++ {
		if err := m.chaosStep(); err != nil {
			return err
		}
	}
	m.healed = true
	for i := range m.cut {
		clear(m.cut[i])
	}
	for _, nd := range m.nodes {
		if !nd.up {
			m.restart(nd)
		}
	}
	m.logf("healed, everybody up")
	for step := 0; step < 3000; step++ {
		if err := m.calmStep(); err != nil {
			return err
		}
		if m.formed() {
			return nil
		}
	}
	return fmt.Errorf("no group formed after the network healed (chosen %v, %d bootstraps)", m.chosen, len(m.boots))
}

// formed reports whether every sentinel has Raft state.
func (m *formationModel) formed() bool {
	for _, nd := range m.nodes {
		if !nd.state {
			return false
		}
	}
	return true
}

func (m *formationModel) chaosStep() error {
	switch r := m.rng.IntN(100); {
	case r < 45:
		return m.deliverOne(true)
	case r < 75:
		m.advance()
	case r < 80:
		nd := m.nodes[m.rng.IntN(m.n)]
		if nd.up {
			m.logf("crash %s", nd.srv.ID)
			nd.up = false
		} else {
			m.restart(nd)
		}
	case r < 85:
		i, j := m.rng.IntN(m.n), m.rng.IntN(m.n)
		if i != j {
			m.cut[i][j], m.cut[j][i] = true, true
			m.logf("cut %d-%d", i, j)
		}
	case r < 88:
		for i := range m.cut {
			clear(m.cut[i])
		}
		m.logf("heal")
	default:
		m.advance()
	}
	return m.check()
}

// calmStep: once healed, messages travel faster than a tick (as RPCs on a
// LAN do against a 250 ms round), in random order; then the clock moves.
func (m *formationModel) calmStep() error {
	for len(m.msgs) > 0 {
		if err := m.deliverOne(false); err != nil {
			return err
		}
	}
	m.advance()
	return m.check()
}

// restart brings a sentinel up with its durable state only.
func (m *formationModel) restart(nd *fmNode) {
	nd.up = true
	nd.statuses = map[int]*Status{}
	nd.quorumSince = time.Time{}
	nd.jitter = time.Duration(m.rng.Int64N(int64(DefaultMaxJitter)))
	nd.round = 0
	nd.nextTick = m.now.Add(time.Duration(m.rng.Int64N(int64(m.tick))))
	m.logf("start %s", nd.srv.ID)
}

// advance moves the clock to the next tick of an up sentinel and runs it.
func (m *formationModel) advance() {
	var next *fmNode
	for _, nd := range m.nodes {
		if nd.up && (next == nil || nd.nextTick.Before(next.nextTick)) {
			next = nd
		}
	}
	if next == nil {
		return
	}
	if next.nextTick.After(m.now) {
		m.now = next.nextTick
	}
	next.nextTick = m.now.Add(m.tick)
	m.tickNode(next)
}

func (m *formationModel) send(msg fmMsg) {
	m.msgs = append(m.msgs, msg)
}

// deliverOne delivers (or, in chaos, sometimes drops or duplicates) a
// random message in flight.
func (m *formationModel) deliverOne(chaos bool) error {
	if len(m.msgs) == 0 {
		m.advance()
		return m.check()
	}
	i := m.rng.IntN(len(m.msgs))
	msg := m.msgs[i]
	if !(chaos && m.rng.IntN(10) == 0) { // a duplicate stays in flight
		m.msgs = slices.Delete(m.msgs, i, i+1)
	}
	if chaos && m.rng.IntN(8) == 0 {
		return nil // dropped
	}
	to := m.nodes[msg.to]
	if !to.up || m.cut[msg.from][msg.to] {
		return nil
	}
	m.handle(to, msg)
	return m.check()
}

// statusOf is a sentinel's answer to group.status.
func (m *formationModel) statusOf(nd *fmNode) *Status {
	s := &Status{ID: nd.srv.ID, Addr: nd.srv.Addr, Expect: m.n, Promised: nd.acc.Promised, HasState: nd.state}
	if !nd.state {
		s.Chosen = slices.Clone(nd.acc.Chosen)
		s.GroupSeen = slices.Clone(nd.acc.GroupSeen)
		return s
	}
	s.Term = 1
	s.Voters = slices.Clone(m.chosen)
	// The group has a leader once a majority of its configuration has
	// Raft running (bootstrapped, or opened to be counted): Raft's
	// business, abstracted here.
	running := 0
	for _, o := range m.nodes {
		if o.state && o.up && contains(m.chosen, o.srv.ID) {
			running++
		}
	}
	if len(m.chosen) > 0 && running >= Quorum(len(m.chosen)) {
		s.LeaderID, s.LeaderAddr = m.chosen[0].ID, m.chosen[0].Addr
	}
	return s
}

func (m *formationModel) handle(nd *fmNode, msg fmMsg) {
	switch msg.kind {
	case "status":
		m.send(fmMsg{from: nd.id, to: msg.from, kind: "status-reply", status: m.statusOf(nd)})
	case "status-reply":
		nd.statuses[msg.from] = msg.status
	case "prepare":
		r := PrepareReply{Member: true}
		if !nd.state && len(nd.acc.GroupSeen) == 0 {
			r, _ = nd.acc.Prepare(msg.ballot)
		}
		m.send(fmMsg{from: nd.id, to: msg.from, kind: "promise", ballot: msg.ballot, prep: r, round: msg.round})
	case "accept":
		r := AcceptReply{Member: true}
		if !nd.state && len(nd.acc.GroupSeen) == 0 {
			r, _ = nd.acc.Accept(msg.ballot, msg.servers)
			m.recordAccept(nd, msg.ballot, msg.servers, r)
		}
		m.send(fmMsg{from: nd.id, to: msg.from, kind: "accepted", ballot: msg.ballot, acc: r, round: msg.round})
	case "learn":
		if !nd.state {
			m.learn(nd, msg.servers)
		}
	case "promise":
		m.onPromise(nd, msg)
	case "accepted":
		m.onAccepted(nd, msg)
	}
}

func (m *formationModel) learn(nd *fmNode, servers []quorum.Server) {
	if _, conflict := nd.acc.Learn(servers); conflict {
		m.logf("%s refused a second chosen value %v", nd.srv.ID, servers)
	}
}

// tickNode is one round of a sentinel: refresh statuses, then act on
// Decide, exactly as Group.freshRound does.
func (m *formationModel) tickNode(nd *fmNode) {
	if nd.state {
		return // a member: formation is over for it
	}
	if nd.round != 0 && m.now.Sub(nd.roundStart) > 2*m.tick {
		nd.round = 0 // abandoned: its messages were lost
	}
	for _, o := range m.nodes {
		if o != nd {
			m.send(fmMsg{from: nd.id, to: o.id, kind: "status"})
		}
	}
	var peers []PeerStatus
	for i, s := range nd.statuses {
		peers = append(peers, PeerStatus{Addr: m.nodes[i].srv.Addr, Status: s})
	}
	slices.SortFunc(peers, func(a, b PeerStatus) int { return strings.Compare(a.Addr, b.Addr) })
	// Answers age: a status older than two ticks is forgotten.
	clear(nd.statuses)
	d := Decide(FreshView{Self: nd.srv, Expect: m.n, Chosen: nd.acc.Chosen, Promised: !nd.acc.Promised.IsZero(), GroupSeen: nd.acc.GroupSeen, Peers: peers})
	if len(d.GroupVoters) > 0 && len(nd.acc.GroupSeen) == 0 {
		nd.acc.GroupSeen = d.GroupVoters
	}
	if d.Action != ActPropose {
		nd.quorumSince = time.Time{}
	} else if nd.quorumSince.IsZero() {
		nd.quorumSince = m.now
	}
	switch d.Action {
	case ActLearn:
		m.learn(nd, d.Servers)
	case ActBootstrap:
		m.bootstrap(nd, d.Servers)
	case ActJoin, ActOpen:
		nd.state = true // joins the existing group (Raft's business from here)
		m.logf("%s joins the group (returning %v)", nd.srv.ID, d.Returning)
		if d.Returning {
			m.returning = append(m.returning, nd.srv.ID)
		}
	case ActPropose:
		if nd.round == 0 && ProposeNow(d, nd.srv.ID, nd.quorumSince, m.now, m.timing, nd.jitter) {
			m.startRound(nd, d)
		}
	}
}

func (m *formationModel) bootstrap(nd *fmNode, servers []quorum.Server) {
	if nd.state {
		return
	}
	nd.state, nd.boot = true, slices.Clone(servers)
	m.boots = append(m.boots, nd.boot)
	m.logf("%s bootstraps %s", nd.srv.ID, FormatServers(servers))
}

func (m *formationModel) startRound(nd *fmNode, d Decision) {
	m.rounds++
	nd.round = m.rounds
	nd.roundStart = m.now
	nd.ballot = Ballot{N: max(d.MinBallot, nd.acc.Promised.N) + 1, ID: nd.srv.ID}
	nd.decision = d
	nd.promises = map[int]PrepareReply{}
	nd.accepts = map[int]bool{}
	nd.accepting = false
	m.logf("%s proposes ballot %d to %s", nd.srv.ID, nd.ballot.N, FormatServers(d.Servers))
	for _, s := range d.Servers {
		i := m.index(s.ID)
		if i == nd.id {
			r, _ := nd.acc.Prepare(nd.ballot)
			m.onPromise(nd, fmMsg{from: i, to: i, kind: "promise", ballot: nd.ballot, prep: r, round: nd.round})
		} else {
			m.send(fmMsg{from: nd.id, to: i, kind: "prepare", ballot: nd.ballot, round: nd.round})
		}
	}
	// A round that does not finish is abandoned after a few ticks.
	nd.nextTick = m.now.Add(m.tick)
}

func (m *formationModel) index(id string) int {
	for i, nd := range m.nodes {
		if nd.srv.ID == id {
			return i
		}
	}
	panic("unknown id " + id)
}

func (m *formationModel) onPromise(nd *fmNode, msg fmMsg) {
	if nd.round == 0 || msg.round != nd.round || nd.accepting {
		return
	}
	r := msg.prep
	if r.Member || len(r.Chosen) > 0 {
		if len(r.Chosen) > 0 {
			m.learn(nd, r.Chosen)
		}
		nd.round = 0
		return
	}
	if !r.Promised {
		return
	}
	nd.promises[msg.from] = r
	if len(nd.promises) < nd.decision.Quorum {
		return
	}
	var promises []PrepareReply
	var promisers []quorum.Server
	for _, s := range nd.decision.Servers {
		if p, ok := nd.promises[m.index(s.ID)]; ok {
			promises = append(promises, p)
			promisers = append(promisers, s)
		}
	}
	nd.value = ProposalValue(promises, promisers)
	nd.accepting = true
	for _, s := range promisers {
		i := m.index(s.ID)
		if i == nd.id {
			r, _ := nd.acc.Accept(nd.ballot, nd.value)
			m.recordAccept(nd, nd.ballot, nd.value, r)
			m.onAccepted(nd, fmMsg{from: i, to: i, kind: "accepted", ballot: nd.ballot, acc: r, round: nd.round})
		} else {
			m.send(fmMsg{from: nd.id, to: i, kind: "accept", ballot: nd.ballot, servers: nd.value, round: nd.round})
		}
	}
}

func (m *formationModel) onAccepted(nd *fmNode, msg fmMsg) {
	if nd.round == 0 || msg.round != nd.round || !nd.accepting || !msg.acc.Accepted {
		return
	}
	nd.accepts[msg.from] = true
	if len(nd.accepts) < nd.decision.Quorum {
		return
	}
	value := nd.value
	nd.round = 0
	m.logf("%s: %s chosen in ballot %d", nd.srv.ID, FormatServers(value), nd.ballot.N)
	if m.chosen == nil {
		m.chosen = value
	} else if !slices.Equal(m.chosen, value) {
		m.logf("VIOLATION: a second value chosen")
		m.chosen = append(m.chosen, quorum.Server{ID: "CONFLICT"})
	}
	m.learn(nd, value)
	for _, o := range m.nodes {
		if o != nd {
			m.send(fmMsg{from: nd.id, to: o.id, kind: "learn", servers: value})
		}
	}
	if contains(value, nd.srv.ID) {
		m.bootstrap(nd, value)
	}
}

func (m *formationModel) recordAccept(nd *fmNode, b Ballot, v []quorum.Server, r AcceptReply) {
	if !r.Accepted {
		return
	}
	if m.accepted[b] == nil {
		m.accepted[b] = map[int][]quorum.Server{}
	}
	m.accepted[b][nd.id] = slices.Clone(v)
}

// check is the formation safety invariant: one chosen value (in Paxos'
// sense: accepted by a quorum in one ballot), one bootstrap configuration,
// a quorum of the expected size in it.
func (m *formationModel) check() error {
	var chosen []quorum.Server
	for b, by := range m.accepted {
		votes := map[string]int{}
		for _, v := range by {
			votes[FormatServers(v)]++
		}
		for v, k := range votes {
			if k < Quorum(m.n) {
				continue
			}
			if chosen != nil && FormatServers(chosen) != v {
				return fmt.Errorf("two values chosen: %s and %s (ballot %v)", FormatServers(chosen), v, b)
			}
			chosen = by[func() int {
				for i, x := range by {
					if FormatServers(x) == v {
						return i
					}
				}
				return -1
			}()]
		}
	}
	if len(m.returning) > 0 {
		return fmt.Errorf("%s joined as returning members, but no sentinel of the model loses its disk", strings.Join(m.returning, ","))
	}
	if m.chosen != nil && contains(m.chosen, "CONFLICT") {
		return fmt.Errorf("two different configurations were chosen")
	}
	for _, b := range m.boots {
		if !slices.Equal(b, m.boots[0]) {
			return fmt.Errorf("two bootstrap configurations: %s and %s", FormatServers(m.boots[0]), FormatServers(b))
		}
		if len(b) < Quorum(m.n) {
			return fmt.Errorf("bootstrap configuration %s is smaller than a majority of %d", FormatServers(b), m.n)
		}
	}
	return nil
}

// TestModelMembership drives an abstract group through joins, returns
// with new addresses and new ids, silences and removals, with the leader
// applying PlanJoin and PlanRemoval on a fake clock.
func TestModelMembership(t *testing.T) {
	first, last := modelSeedRange()
	removals := 0
	for _, n := range []int{3, 5} {
		for seed := first; seed <= last; seed++ {
			r, err := runMembershipModel(n, seed)
			if err != nil {
				t.Fatalf("membership model, %d sentinels, seed %d: %v\nreplay: go test -run TestModelMembership ./internal/group/ -model.seed %d", n, seed, err, seed)
			}
			removals += r
		}
	}
	t.Logf("%d removals, none below a majority of the expected size", removals)
}

type mmSentinel struct {
	idx      int
	id, addr string
	gen      int
	up       bool
	heard    time.Time
}

func runMembershipModel(n int, seed int64) (removals int, err error) {
	rng := rand.New(rand.NewPCG(uint64(seed), uint64(n)+2000))
	now := time.Unix(2_000_000, 0)
	timeout := 5 * time.Minute
	var ss []*mmSentinel
	var voters []quorum.Server
	for i := range n {
		s := &mmSentinel{idx: i, id: fmt.Sprintf("s%d-0", i), addr: fmt.Sprintf("10.0.0.%d:26379", i+1), up: true, heard: now}
		ss = append(ss, s)
		voters = append(voters, quorum.Server{ID: s.id, Addr: s.addr})
	}
	leader := ss[0]
	heard := func(id string) time.Time {
		for _, s := range ss {
			if s.id == id {
				return s.heard
			}
		}
		return time.Time{} // an old id nobody uses: silent since forever
	}
	join := func(s *mmSentinel) error {
		want := quorum.Server{ID: s.id, Addr: s.addr}
		p := PlanJoin(voters, want)
		for _, c := range p.Changes {
			switch c.Kind {
			case Remove:
				voters = slices.DeleteFunc(voters, func(v quorum.Server) bool { return v.ID == c.Server.ID })
			case Add:
				i := slices.IndexFunc(voters, func(v quorum.Server) bool { return v.ID == c.Server.ID })
				if i >= 0 {
					voters[i] = c.Server
				} else {
					voters = append(voters, c.Server)
				}
			}
		}
		if !slices.Contains(voters, want) {
			return fmt.Errorf("%s at %s asked to join and is not a voter: %v", s.id, s.addr, voters)
		}
		addrs := map[string]bool{}
		for _, v := range voters {
			if addrs[v.Addr] {
				return fmt.Errorf("two voters at %s: %v", v.Addr, voters)
			}
			addrs[v.Addr] = true
		}
		return nil
	}
	for step := 0; step < 300; step++ {
		s := ss[rng.IntN(n)]
		switch r := rng.IntN(100); {
		case r < 20:
			s.up = !s.up || s == leader
		case r < 30 && s != leader:
			s.gen++
			s.addr = fmt.Sprintf("10.%d.0.%d:26379", s.gen, rng.IntN(n)+1)
			if !slices.ContainsFunc(ss, func(o *mmSentinel) bool { return o != s && o.addr == s.addr }) {
				s.up = true
				if err := join(s); err != nil {
					return removals, err
				}
			} else {
				s.addr = fmt.Sprintf("10.%d.1.%d:26379", s.gen, s.gen)
			}
		case r < 38 && s != leader:
			s.gen++
			s.id = fmt.Sprintf("s%d-%d", s.idx, s.gen)
			s.up = true
			if err := join(s); err != nil {
				return removals, err
			}
		case r < 50:
			if s.up {
				if err := join(s); err != nil { // a member that lost its place asks again
					return removals, err
				}
			}
		default:
			now = now.Add(time.Duration(rng.Int64N(int64(2 * timeout / 3))))
		}
		for _, o := range ss {
			if o.up {
				o.heard = now
			}
		}
		if v, ok := PlanRemoval(voters, leader.id, n, heard, now, timeout); ok {
			if len(voters)-1 < Quorum(n) {
				return removals, fmt.Errorf("removal of %s leaves %d voters, below a majority of %d", v.ID, len(voters)-1, n)
			}
			for _, o := range ss {
				if o.id == v.ID && o.up {
					return removals, fmt.Errorf("removed %s, which is up and heard", v.ID)
				}
			}
			voters = slices.DeleteFunc(voters, func(x quorum.Server) bool { return x.ID == v.ID })
			removals++
		}
	}
	return removals, nil
}
