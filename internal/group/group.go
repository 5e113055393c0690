package group

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/x0tta6bl4/gosentinel/internal/beat"
	"github.com/x0tta6bl4/gosentinel/internal/logging"
	"github.com/x0tta6bl4/gosentinel/internal/peer"
	"github.com/x0tta6bl4/gosentinel/quorum"
)

// Store is the Raft store a Group drives (*quorum.RaftStore).
type Store interface {
	HasState() bool
	Bootstrap(servers []quorum.Server) error
	Leader() (id, addr string)
	IsLeader() bool
	Servers() ([]quorum.Server, error)
	AddVoter(id, addr string) error
	RemoveServer(id string) error
	AppliedIndex() uint64
	Term() uint64
	Recovering() bool
	// FollowerContact reports, on the leader, when it last reached a
	// follower whose heartbeats are failing now.
	FollowerContact(id string) (last time.Time, failing bool)
}

// Opener opens this sentinel's Raft store advertising addr; abstainTerm is
// quorum.RaftConfig.AbstainTerm (0: none).
type Opener func(addr string, abstainTerm uint64) (Store, error)

// Peer is a sentinel this one knows of: through hellos (with its id) or
// seeds (address only).
type Peer struct {
	ID, Addr string
}

// Transport carries the group's RPCs to the sentinel at addr.
type Transport interface {
	Status(ctx context.Context, addr string, from quorum.Server) (*Status, error)
	Prepare(ctx context.Context, addr string, b Ballot) (PrepareReply, error)
	Accept(ctx context.Context, addr string, b Ballot, servers []quorum.Server) (AcceptReply, error)
	Learn(ctx context.Context, addr string, servers []quorum.Server) error
	Join(ctx context.Context, addr string, s quorum.Server) error
}

// Errors of the group's RPCs (registered as peer codes by Codes).
var (
	// ErrNotLeader answers a join sent to a sentinel that does not lead.
	ErrNotLeader = errors.New("not the leader of the sentinel group")
	// ErrJoinRefused answers a join that would replace a voter whose
	// address does not answer with the joining id.
	ErrJoinRefused = errors.New("join refused: the address belongs to another sentinel")
	// ErrNoGroup answers a join while this sentinel has no Raft store.
	ErrNoGroup = errors.New("no sentinel group here")
	// ErrMixedSet answers a formation ballot while this sentinel hears a
	// sentinel that is not a gosentinel.
	ErrMixedSet = errors.New("a sentinel that is not a gosentinel is in the set")
)

// Config configures a Group. Funcs are called from the group's goroutine
// and its RPC handlers, concurrently.
type Config struct {
	// ID is the sentinel's id (its Raft server id).
	ID string
	// Addr is the address peers reach this sentinel at now.
	Addr func() string
	// Expect is the expected size of the set now; forming: asked for a
	// formation round (no Raft state here), when every known sentinel
	// counts, down or not (ExpectInputs.KnownDown).
	Expect func(forming bool) Expectation
	// Peers are the sentinels known through hellos and seeds now.
	Peers func() []Peer
	// Foreign lists the sentinels heard that are not gosentinels (nil:
	// none): while there is one, this sentinel proposes no group and
	// refuses formation ballots (docs/DESIGN.md, "Mixed sets").
	Foreign func() []string
	// Heard is when a hello from sentinel id was last seen on any master
	// (zero if never): the leader removes only members gone on every
	// channel.
	Heard func(id string) time.Time
	// Transport sends the group's RPCs.
	Transport Transport
	// Open opens the Raft store.
	Open Opener
	// Existing says Raft state of a previous run is on disk: the store is
	// opened at once.
	Existing bool
	// Acceptor keeps the formation acceptor's state.
	Acceptor Persister

	// Timing is the formation schedule; Tick the round period;
	// RPCTimeout bounds one RPC; MemberTimeout is how long a member may be
	// gone on every channel before the leader removes it; RejoinAfter is
	// how long a member goes without a leader before it asks its peers
	// whether it lost its place.
	Timing        Timing
	Tick          time.Duration
	RPCTimeout    time.Duration
	MemberTimeout time.Duration
	RejoinAfter   time.Duration
	// MaxJitter bounds the random delay added to a takeover proposal.
	MaxJitter time.Duration

	// Logger receives the group's diagnostics; Event its redis-style
	// events (typ "+raft-voter", text "<id> <ip> <port>").
	Logger *slog.Logger
	Event  func(typ, text string)
}

// Defaults of Config's durations.
const (
	DefaultTick          = 250 * time.Millisecond
	DefaultRPCTimeout    = 500 * time.Millisecond
	DefaultSettle        = 2 * time.Second
	DefaultTakeover      = time.Second
	DefaultMemberTimeout = 5 * time.Minute
	DefaultRejoinAfter   = time.Second
	DefaultMaxJitter     = 500 * time.Millisecond
)

func (c *Config) defaults() {
	pick := func(d *time.Duration, def time.Duration) {
		if *d == 0 {
			*d = def
		}
	}
	pick(&c.Tick, DefaultTick)
	pick(&c.RPCTimeout, DefaultRPCTimeout)
	pick(&c.Timing.Settle, DefaultSettle)
	pick(&c.Timing.Takeover, DefaultTakeover)
	pick(&c.MemberTimeout, DefaultMemberTimeout)
	pick(&c.RejoinAfter, DefaultRejoinAfter)
	pick(&c.MaxJitter, DefaultMaxJitter)
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Event == nil {
		c.Event = func(string, string) {}
	}
	if c.Heard == nil {
		c.Heard = func(string) time.Time { return time.Time{} }
	}
}

// Group is one sentinel's part in the group: it forms or joins it, then
// keeps its membership. Lifecycle: New, Run (until ctx ends).
type Group struct {
	cfg Config
	// paced limits the warnings of failures every round repeats.
	pacedMu sync.Mutex
	paced   map[string]*logging.Limiter

	poke   chan struct{}
	joined chan struct{}

	mu        sync.Mutex
	store     Store
	restarted bool // reopened Raft state of a previous run
	// openWarned: openExisting logged a failed open (once).
	openWarned bool
	acc        AcceptorState
	phase      string
	expect     Expectation
	isMember   bool // joined closed
	// callers are sentinels that asked for our status: a source of peers
	// besides hellos, so that formation does not wait on whoever learns
	// of whom last.
	callers map[string]caller
	// quorumSince is when the candidates first made a quorum (zero: not
	// now); jitter is this sentinel's takeover delay.
	quorumSince time.Time
	jitter      time.Duration
	// lastLeader is when this member last knew a leader.
	lastLeader time.Time
	// leadingSince starts the membership clock of a new leader.
	leadingSince time.Time
	// voters is the last committed configuration; changes counts its
	// changes since start.
	voters  []quorum.Server
	changes int
	// lastAdvice is the last formation decision's reason, for INFO.
	lastAdvice string
}

type caller struct {
	addr string
	at   time.Time
}

// callerTTL is how long a sentinel that asked for our status stays a
// known peer.
const callerTTL = 10 * time.Second

// New returns a group; call Run.
func New(cfg Config) (*Group, error) {
	cfg.defaults()
	if cfg.ID == "" || cfg.Addr == nil || cfg.Expect == nil || cfg.Peers == nil || cfg.Transport == nil || cfg.Open == nil || cfg.Acceptor == nil {
		return nil, errors.New("group needs an id, an address, an expectation, peers, a transport, a store opener and an acceptor store")
	}
	acc, err := cfg.Acceptor.Load()
	if err != nil {
		return nil, err
	}
	return &Group{
		cfg:     cfg,
		poke:    make(chan struct{}, 1),
		joined:  make(chan struct{}),
		acc:     acc,
		phase:   PhaseAlone,
		callers: map[string]caller{},
		jitter:  time.Duration(rand.Int64N(int64(cfg.MaxJitter) + 1)),
	}, nil
}

// Joined is closed once this sentinel is a voter that knows its leader and
// has applied what the leader had: the group's state may become the
// node's.
func (g *Group) Joined() <-chan struct{} { return g.joined }

// setReturning records that this sentinel rejoins a group that lists it
// after it lost its disk (Decision.Returning): it counts as restarted.
func (g *Group) setReturning(returning bool) {
	if returning {
		g.mu.Lock()
		g.restarted = true
		g.mu.Unlock()
	}
}

// Restarted reports whether this sentinel was a member before: it reopened
// Raft state of a previous run, or rejoins a group that lists it after it
// lost that state (rather than joining for the first time).
func (g *Group) Restarted() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.restarted
}

// Phase is the sentinel's phase (PhaseAlone ... PhaseMember).
func (g *Group) Phase() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.phase
}

// Store returns the Raft store once opened, else nil.
func (g *Group) Store() Store {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.store
}

// Run forms or joins the group, then keeps its membership, until ctx ends.
func (g *Group) Run(ctx context.Context) {
	t := beat.NewTicker(g.cfg.Tick)
	defer t.Stop()
	for {
		g.round(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-g.poke:
		}
	}
}

// wake runs a round as soon as possible.
func (g *Group) wake() {
	select {
	case g.poke <- struct{}{}:
	default:
	}
}

func (g *Group) self() quorum.Server { return quorum.Server{ID: g.cfg.ID, Addr: g.cfg.Addr()} }

// round is one formation or membership round.
func (g *Group) round(ctx context.Context) {
	if ctx.Err() != nil {
		return
	}
	if g.cfg.Existing && !g.openExisting() {
		return
	}
	g.mu.Lock()
	st := g.store
	g.mu.Unlock()
	forming := st == nil || !st.HasState()
	exp := g.cfg.Expect(forming)
	g.mu.Lock()
	g.expect = exp
	g.mu.Unlock()
	if forming {
		g.freshRound(ctx, exp)
		return
	}
	g.memberRound(ctx, st)
}

// openExisting opens the Raft state of a previous run, before anything
// else is decided, and reports whether it is open. It was opened once, at
// the start: when that open failed (a full disk, the bolt lock's timeout),
// the rounds went on as for a sentinel without state, and the open one of
// them made later did not count the state as a previous run's (an open to
// join writes state of its own), so the member counted as new and proposed
// its sentinel.conf's masters, bringing back those the group had removed.
func (g *Group) openExisting() bool {
	g.mu.Lock()
	opened, warned := g.store != nil, g.openWarned
	g.mu.Unlock()
	if opened {
		return true
	}
	if err := g.open(g.cfg.Addr(), 0); err != nil {
		if !warned {
			g.cfg.Logger.Warn("failed to open the Raft state of a previous run (retried every round): " + err.Error())
			g.mu.Lock()
			g.openWarned = true
			g.mu.Unlock()
		}
		return false
	}
	g.mu.Lock()
	g.restarted = g.store.HasState() && !g.acc.FirstJoin
	g.mu.Unlock()
	return true
}

// markFirstJoin records, before Raft opens, that this sentinel opens it as
// a first-time member (AcceptorState.FirstJoin).
func (g *Group) markFirstJoin() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.updateAcceptorLocked(func(a *AcceptorState) bool {
		changed := !a.FirstJoin
		a.FirstJoin = true
		return changed
	})
}

// Activated records that this sentinel's activation is done (its own
// masters proposed, the group's state switched in): from now on a restart
// finds a member from a previous run.
func (g *Group) Activated() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.updateAcceptorLocked(func(a *AcceptorState) bool {
		changed := a.FirstJoin
		a.FirstJoin = false
		return changed
	})
}

// open opens the Raft store (once).
func (g *Group) open(addr string, abstainTerm uint64) error {
	g.mu.Lock()
	opened := g.store != nil
	g.mu.Unlock()
	if opened {
		return nil
	}
	st, err := g.cfg.Open(addr, abstainTerm)
	if err != nil {
		return err
	}
	g.mu.Lock()
	g.store = st
	g.mu.Unlock()
	return nil
}

// knownPeers are the hello/seed peers plus recent callers, one per address.
func (g *Group) knownPeers(extra ...quorum.Server) []Peer {
	seen := map[string]bool{}
	var out []Peer
	add := func(p Peer) {
		if p.Addr == "" || p.ID == g.cfg.ID || seen[p.Addr] {
			return
		}
		seen[p.Addr] = true
		out = append(out, p)
	}
	for _, p := range g.cfg.Peers() {
		add(p)
	}
	for _, s := range extra {
		add(Peer{ID: s.ID, Addr: s.Addr})
	}
	now := time.Now()
	var callers []Peer
	g.mu.Lock()
	for id, c := range g.callers {
		if now.Sub(c.at) > callerTTL {
			delete(g.callers, id)
			continue
		}
		callers = append(callers, Peer{ID: id, Addr: c.addr})
	}
	g.mu.Unlock()
	slices.SortFunc(callers, func(a, b Peer) int { return strings.Compare(a.ID, b.ID) })
	for _, p := range callers {
		add(p)
	}
	return out
}

// statusAll asks every peer for its status, concurrently.
func (g *Group) statusAll(ctx context.Context, peers []Peer) []PeerStatus {
	out := make([]PeerStatus, len(peers))
	self := g.self()
	var wg sync.WaitGroup
	for i, p := range peers {
		out[i].Addr = p.Addr
		wg.Add(1)
		go func() {
			defer wg.Done()
			cctx, cancel := context.WithTimeout(ctx, g.cfg.RPCTimeout)
			defer cancel()
			if s, err := g.cfg.Transport.Status(cctx, p.Addr, self); err == nil {
				out[i].Status = s
			}
		}()
	}
	wg.Wait()
	return out
}

// freshRound is a round of a sentinel without Raft state.
func (g *Group) freshRound(ctx context.Context, exp Expectation) {
	peers := g.knownPeers()
	statuses := g.statusAll(ctx, peers)
	g.mu.Lock()
	chosen, seen, promised := slices.Clone(g.acc.Chosen), slices.Clone(g.acc.GroupSeen), !g.acc.Promised.IsZero()
	g.mu.Unlock()
	self := g.self()
	d := Decide(FreshView{Self: self, Expect: exp.Size, Chosen: chosen, Promised: promised, GroupSeen: seen, Foreign: g.foreign(), Peers: statuses})
	if len(d.GroupVoters) > 0 && len(seen) == 0 {
		// Remember for good that a group exists before acting on it:
		// this sentinel must never help form another (DESIGN.md).
		if err := g.recordGroupSeen(d.GroupVoters); err != nil {
			g.warnPaced("record the group seen", err)
			return
		}
	}
	answered := 0
	for _, p := range statuses {
		if p.Status != nil {
			answered++
		}
	}
	now := time.Now()
	g.mu.Lock()
	switch {
	case d.Action == ActJoin || d.Action == ActOpen:
		g.phase = PhaseJoining
	case answered == 0 && d.Action == ActWait && len(chosen) == 0:
		// Nobody to form a group with is alive (seeds or hellos of
		// sentinels that are down count for nothing): commands do not
		// wait for a group that is not coming.
		g.phase = PhaseAlone
	default:
		g.phase = PhaseForming
	}
	if d.Action != ActPropose {
		g.quorumSince = time.Time{}
	} else if g.quorumSince.IsZero() {
		g.quorumSince = now
	}
	since, jitter := g.quorumSince, g.jitter
	changed := d.Reason != g.lastAdvice
	g.lastAdvice = d.Reason
	g.mu.Unlock()
	if changed {
		g.cfg.Logger.Info("group formation: "+d.Reason, "action", d.Action.String())
	}

	switch d.Action {
	case ActLearn:
		g.learn(d.Servers)
		g.wake()
	case ActBootstrap:
		g.bootstrap(d.Servers)
	case ActJoin:
		if !g.openToJoin(self.Addr, d) {
			return
		}
		g.join(ctx, d.LeaderAddr)
	case ActOpen:
		if !g.openToJoin(self.Addr, d) {
			return
		}
		if d.Returning {
			g.cfg.Logger.Warn("Rejoining the Sentinel Raft group as one of its voters", "abstain_term", d.Term)
		} else {
			g.cfg.Logger.Warn("Joining the Sentinel Raft group it was formed with as one of its voters", "abstain_term", d.Term)
		}
	case ActPropose:
		if ProposeNow(d, g.cfg.ID, since, now, g.cfg.Timing, jitter) {
			g.propose(ctx, d)
		}
	}
}

// openToJoin opens Raft to join the group (ActJoin) or to be counted in it
// (ActOpen), abstaining through d.Term; a first-time member records that it
// is one first (AcceptorState.FirstJoin).
func (g *Group) openToJoin(addr string, d Decision) bool {
	if !d.Returning {
		if err := g.markFirstJoin(); err != nil {
			g.warnPaced("record a first join", err)
			return false
		}
	}
	if err := g.open(addr, d.Term); err != nil {
		g.warnPaced("open Raft to join the group", err)
		return false
	}
	g.setReturning(d.Returning)
	return true
}

// bootstrap makes this sentinel a founding member with servers, the chosen
// configuration.
func (g *Group) bootstrap(servers []quorum.Server) {
	// The store advertises where this sentinel is now; if that is not the
	// address the configuration names (it moved since it promised), the
	// member round asks the leader to re-address it.
	if err := g.markFirstJoin(); err != nil {
		g.warnPaced("record a first join", err)
		return
	}
	if err := g.open(g.cfg.Addr(), 0); err != nil {
		g.warnPaced("open Raft to bootstrap the group", err)
		return
	}
	st := g.Store()
	if st.HasState() {
		return
	}
	g.cfg.Logger.Warn("Bootstrapping the Sentinel Raft group", "voters", FormatServers(servers))
	if err := st.Bootstrap(servers); err != nil {
		g.warnPaced("bootstrap the Raft group", err)
		return
	}
	g.cfg.Event("+raft-bootstrap", FormatServers(servers))
}

// join asks the leader at addr to add this sentinel.
func (g *Group) join(ctx context.Context, leaderAddr string) {
	cctx, cancel := context.WithTimeout(ctx, 2*g.cfg.RPCTimeout+5*time.Second)
	defer cancel()
	self := g.self()
	if err := g.cfg.Transport.Join(cctx, leaderAddr, self); err != nil {
		g.cfg.Logger.Info("join request failed", "leader", leaderAddr, "error", err)
		return
	}
	g.cfg.Logger.Warn("Joined the Sentinel Raft group", "leader", leaderAddr, "addr", self.Addr)
}

// warnPaced logs a failure to do what, which the formation rounds (every
// 250 ms) repeat for as long as its cause lasts (a full disk): the first at
// once, then at most one a minute per what, with how many were not logged.
func (g *Group) warnPaced(what string, err error) {
	g.pacedMu.Lock()
	l := g.paced[what]
	if l == nil {
		if g.paced == nil {
			g.paced = map[string]*logging.Limiter{}
		}
		l = logging.NewLimiter(time.Minute)
		g.paced[what] = l
	}
	g.pacedMu.Unlock()
	if ok, held := l.Allow(); ok {
		g.cfg.Logger.Warn("failed to "+what+": "+err.Error(), "not_logged_since_the_last", held)
	}
}

// recordGroupSeen durably records that a group with voters exists.
func (g *Group) recordGroupSeen(voters []quorum.Server) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.updateAcceptorLocked(func(a *AcceptorState) bool {
		a.GroupSeen = SortServers(voters)
		return true
	})
}

// learn records a chosen configuration.
func (g *Group) learn(servers []quorum.Server) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.learnLocked(servers)
}

func (g *Group) learnLocked(servers []quorum.Server) {
	err := g.updateAcceptorLocked(func(a *AcceptorState) bool {
		changed, conflict := a.Learn(servers)
		if conflict {
			g.cfg.Logger.Error("two different bootstrap configurations reported as chosen: keeping the first",
				"kept", FormatServers(a.Chosen), "refused", FormatServers(servers))
		}
		return changed
	})
	if err != nil {
		g.warnPaced("save the chosen configuration", err)
	}
}

// propose runs one formation round as proposer (paxos.go).
func (g *Group) propose(ctx context.Context, d Decision) {
	g.mu.Lock()
	b := Ballot{N: max(d.MinBallot, g.acc.Promised.N) + 1, ID: g.cfg.ID}
	g.mu.Unlock()

	prep := make([]PrepareReply, len(d.Servers))
	oks := make([]bool, len(d.Servers))
	g.each(ctx, d.Servers, func(cctx context.Context, i int, s quorum.Server) {
		var r PrepareReply
		var err error
		if s.ID == g.cfg.ID {
			r, err = g.handlePrepare(b)
		} else {
			r, err = g.cfg.Transport.Prepare(cctx, s.Addr, b)
		}
		prep[i], oks[i] = r, err == nil
	})
	var promises []PrepareReply
	var promisers []quorum.Server
	for i, r := range prep {
		if !oks[i] {
			continue
		}
		if r.Member || len(r.Chosen) > 0 {
			if len(r.Chosen) > 0 {
				g.learn(r.Chosen)
			}
			g.wake()
			return // a group exists or a configuration was chosen: next round follows it
		}
		if r.Promised {
			promises = append(promises, r)
			promisers = append(promisers, d.Servers[i])
		}
	}
	if len(promisers) < d.Quorum {
		g.cfg.Logger.Info("formation ballot not promised by a quorum", "ballot", b.N, "promised", len(promisers), "quorum", d.Quorum)
		return
	}
	value := ProposalValue(promises, promisers)

	acc := make([]bool, len(promisers))
	g.each(ctx, promisers, func(cctx context.Context, i int, s quorum.Server) {
		var r AcceptReply
		var err error
		if s.ID == g.cfg.ID {
			r, err = g.handleAccept(b, value)
		} else {
			r, err = g.cfg.Transport.Accept(cctx, s.Addr, b, value)
		}
		acc[i] = err == nil && r.Accepted
	})
	n := 0
	for _, ok := range acc {
		if ok {
			n++
		}
	}
	if n < d.Quorum {
		g.cfg.Logger.Info("formation ballot not accepted by a quorum", "ballot", b.N, "accepted", n, "quorum", d.Quorum)
		return
	}
	g.cfg.Logger.Warn("Sentinel Raft group configuration chosen", "voters", FormatServers(value), "ballot", b.N)
	g.learn(value)
	// Tell everybody; whoever misses it learns it from a status reply.
	targets := append(slices.Clone(d.Servers), value...)
	for _, p := range g.knownPeers() {
		targets = append(targets, quorum.Server{ID: p.ID, Addr: p.Addr})
	}
	targets = uniqueByAddr(targets, g.cfg.ID)
	g.each(ctx, targets, func(cctx context.Context, _ int, s quorum.Server) {
		g.cfg.Transport.Learn(cctx, s.Addr, value)
	})
	if contains(value, g.cfg.ID) {
		g.bootstrap(value)
	}
}

// each runs fn for every server concurrently, each call bounded by the RPC
// timeout, and waits for all.
func (g *Group) each(ctx context.Context, servers []quorum.Server, fn func(ctx context.Context, i int, s quorum.Server)) {
	var wg sync.WaitGroup
	for i, s := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cctx, cancel := context.WithTimeout(ctx, g.cfg.RPCTimeout)
			defer cancel()
			fn(cctx, i, s)
		}()
	}
	wg.Wait()
}

func uniqueByAddr(servers []quorum.Server, selfID string) []quorum.Server {
	seen := map[string]bool{}
	var out []quorum.Server
	for _, s := range servers {
		if s.ID == selfID || s.Addr == "" || seen[s.Addr] {
			continue
		}
		seen[s.Addr] = true
		out = append(out, s)
	}
	return out
}

// memberRound is a round of a sentinel with Raft state.
func (g *Group) memberRound(ctx context.Context, st Store) {
	now := time.Now()
	self := g.self()
	leaderID, leaderAddr := st.Leader()
	voters, _ := st.Servers()
	inConfig := slices.Contains(voters, self)
	g.mu.Lock()
	if leaderID != "" {
		g.lastLeader = now
	} else if g.lastLeader.IsZero() {
		g.lastLeader = now // the clock starts when the store is open
	}
	lost := now.Sub(g.lastLeader) > g.cfg.RejoinAfter
	member := g.isMember
	g.mu.Unlock()

	if !inConfig || lost {
		statuses := g.statusAll(ctx, g.knownPeers(voters...))
		if addr, ok := RejoinTarget(self, statuses); ok {
			g.cfg.Logger.Info("asking the leader to add this sentinel (back) to the group", "leader", addr, "addr", self.Addr)
			g.join(ctx, addr)
		}
	}

	if !member {
		g.setPhase(PhaseJoining)
		if leaderID != "" && inConfig && !st.Recovering() && g.caughtUp(ctx, st, leaderID, leaderAddr) {
			g.mu.Lock()
			g.isMember = true
			g.phase = PhaseMember
			g.mu.Unlock()
			close(g.joined)
		}
	} else {
		g.setPhase(PhaseMember)
	}

	if st.IsLeader() {
		g.collectMembers(st, voters, now)
	} else {
		g.mu.Lock()
		g.leadingSince = time.Time{}
		g.mu.Unlock()
	}
}

func (g *Group) setPhase(p string) {
	g.mu.Lock()
	g.phase = p
	g.mu.Unlock()
}

// caughtUp reports whether this member has applied everything the leader
// had applied when asked (the leader itself always has).
func (g *Group) caughtUp(ctx context.Context, st Store, leaderID, leaderAddr string) bool {
	if leaderID == g.cfg.ID {
		return true
	}
	cctx, cancel := context.WithTimeout(ctx, g.cfg.RPCTimeout)
	defer cancel()
	s, err := g.cfg.Transport.Status(cctx, leaderAddr, g.self())
	if err != nil {
		return false
	}
	return st.AppliedIndex() >= s.Applied
}

// lastHeard is when voter id was last heard from on any channel: its
// hellos, a status call (callers, copied under g.mu), and Raft's contact
// (now while Raft reaches it).
func (g *Group) lastHeard(st Store, id string, callers map[string]time.Time, now time.Time) time.Time {
	last, failing := st.FollowerContact(id)
	if !failing {
		return now
	}
	return latest(latest(g.cfg.Heard(id), callers[id]), last)
}

func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// collectMembers removes a member gone on every channel (PlanRemoval).
func (g *Group) collectMembers(st Store, voters []quorum.Server, now time.Time) {
	g.mu.Lock()
	if g.leadingSince.IsZero() {
		g.leadingSince = now
	}
	since := g.leadingSince
	exp := g.expect.Size
	callers := make(map[string]time.Time, len(g.callers))
	for id, c := range g.callers {
		callers[id] = c.at
	}
	g.mu.Unlock()
	heard := func(id string) time.Time {
		// A new leader starts every member's clock.
		return latest(since, g.lastHeard(st, id, callers, now))
	}
	s, ok := PlanRemoval(voters, g.cfg.ID, exp, heard, now, g.cfg.MemberTimeout)
	if !ok {
		return
	}
	g.cfg.Logger.Warn("Removing a Sentinel from the Raft group: gone on every channel",
		"id", s.ID, "addr", s.Addr, "for", now.Sub(heard(s.ID)).Round(time.Second))
	if err := st.RemoveServer(s.ID); err != nil {
		g.cfg.Logger.Warn("failed to remove a member: " + err.Error())
	}
}

// ConfigurationCommitted is the store's OnConfiguration hook: it logs
// every change of voters (unless replayed at start) and keeps the list for
// INFO.
func (g *Group) ConfigurationCommitted(voters []quorum.Server, replay bool) {
	g.mu.Lock()
	prev := g.voters
	g.voters = slices.Clone(voters)
	if !replay && prev != nil {
		g.changes++
	}
	g.mu.Unlock()
	if replay {
		return
	}
	for _, v := range voters {
		if !slices.Contains(prev, v) {
			g.cfg.Event("+raft-voter", FormatServer(v))
		}
	}
	for _, v := range prev {
		if !slices.Contains(voters, v) {
			g.cfg.Event("-raft-voter", FormatServer(v))
		}
	}
}

// FormatServer renders a voter as the events show it: "<id> <ip> <port>".
func FormatServer(s quorum.Server) string {
	host, port := s.Addr, ""
	if i := strings.LastIndexByte(s.Addr, ':'); i >= 0 {
		host, port = strings.Trim(s.Addr[:i], "[]"), s.Addr[i+1:]
	}
	return s.ID + " " + host + " " + port
}

// FormatServers renders a configuration as "id@addr,id@addr".
func FormatServers(servers []quorum.Server) string {
	parts := make([]string, len(servers))
	for i, s := range servers {
		parts[i] = s.ID + "@" + s.Addr
	}
	return strings.Join(parts, ",")
}

// whereNow is where sentinel id is now by its own word: the address it
// last called us from, else the one its hellos announce.
func (g *Group) whereNow(id string) (string, bool) {
	g.mu.Lock()
	c, ok := g.callers[id]
	g.mu.Unlock()
	if ok && time.Since(c.at) <= callerTTL {
		return c.addr, true
	}
	for _, p := range g.cfg.Peers() {
		if p.ID == id && p.Addr != "" {
			return p.Addr, true
		}
	}
	return "", false
}

// DialAddress is where server id can be reached now, for Raft's dials
// (quorum.RaftConfig.DialAddress): the address it last called us from, else
// the one its hellos announce, else the one in the configuration. Raft
// alone would only ever dial the configuration's, and a group whose
// members all moved could never elect the leader that records the moves.
func (g *Group) DialAddress(id string) (string, bool) {
	if a, ok := g.whereNow(id); ok {
		return a, true
	}
	g.mu.Lock()
	voters := g.voters
	g.mu.Unlock()
	for _, v := range voters {
		if v.ID == id {
			return v.Addr, true
		}
	}
	return "", false
}

// Info is what INFO raft shows of the group.
type Info struct {
	Phase      string
	Expect     Expectation
	Voters     []quorum.Server
	Changes    int
	LastAdvice string
}

// Info returns the group's state for INFO raft.
func (g *Group) Info() Info {
	g.mu.Lock()
	defer g.mu.Unlock()
	return Info{Phase: g.phase, Expect: g.expect, Voters: slices.Clone(g.voters), Changes: g.changes,
		LastAdvice: g.lastAdvice}
}

// status answers group.status, remembering the caller as a peer.
func (g *Group) status(from quorum.Server) *Status {
	now := time.Now()
	g.mu.Lock()
	if from.ID != "" && from.ID != g.cfg.ID && from.Addr != "" {
		g.callers[from.ID] = caller{addr: from.Addr, at: now}
	}
	st := g.store
	s := &Status{ID: g.cfg.ID, Expect: g.expect.Size, Phase: g.phase, Promised: g.acc.Promised,
		Chosen: slices.Clone(g.acc.Chosen), GroupSeen: slices.Clone(g.acc.GroupSeen)}
	g.mu.Unlock()
	s.Addr = g.cfg.Addr()
	s.Foreign = g.foreign()
	if st != nil && st.HasState() {
		s.HasState = true
		s.Chosen, s.GroupSeen = nil, nil
		s.LeaderID, s.LeaderAddr = st.Leader()
		s.Term = st.Term()
		s.Applied = st.AppliedIndex()
		s.Voters, _ = st.Servers()
	}
	return s
}

// foreign lists the sentinels heard that are not gosentinels.
func (g *Group) foreign() []string {
	if g.cfg.Foreign == nil {
		return nil
	}
	return g.cfg.Foreign()
}

// hasState reports whether this sentinel has Raft state.
func (g *Group) hasState() bool {
	st := g.Store()
	return st != nil && st.HasState()
}

// updateAcceptorLocked runs change on a copy of the acceptor state and,
// if it changed it, saves the copy before making it current: an answer
// that depends on the state is sent only once it is on disk. Caller holds
// g.mu.
func (g *Group) updateAcceptorLocked(change func(*AcceptorState) bool) error {
	next := g.acc.Clone()
	if !change(&next) {
		return nil
	}
	if err := g.cfg.Acceptor.Save(next); err != nil {
		return err
	}
	g.acc = next
	return nil
}

// handlePrepare answers a prepare, persisting the promise first. A
// sentinel that is in a group, or saw one, refuses: the proposer must join.
func (g *Group) handlePrepare(b Ballot) (PrepareReply, error) {
	if g.hasState() {
		return PrepareReply{Member: true}, nil
	}
	if f := g.foreign(); len(f) > 0 {
		return PrepareReply{}, fmt.Errorf("%w (%s)", ErrMixedSet, strings.Join(f, ","))
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.acc.GroupSeen) > 0 {
		return PrepareReply{Member: true}, nil
	}
	var r PrepareReply
	err := g.updateAcceptorLocked(func(a *AcceptorState) (changed bool) {
		r, changed = a.Prepare(b)
		return changed
	})
	if err != nil {
		return PrepareReply{}, fmt.Errorf("failed to save the promise: %w", err)
	}
	return r, nil
}

// handleAccept answers an accept, persisting the acceptance first.
func (g *Group) handleAccept(b Ballot, servers []quorum.Server) (AcceptReply, error) {
	if g.hasState() {
		return AcceptReply{Member: true}, nil
	}
	if f := g.foreign(); len(f) > 0 {
		return AcceptReply{}, fmt.Errorf("%w (%s)", ErrMixedSet, strings.Join(f, ","))
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.acc.GroupSeen) > 0 {
		return AcceptReply{Member: true}, nil
	}
	var r AcceptReply
	err := g.updateAcceptorLocked(func(a *AcceptorState) (changed bool) {
		r, changed = a.Accept(b, servers)
		return changed
	})
	if err != nil {
		return AcceptReply{}, fmt.Errorf("failed to save the acceptance: %w", err)
	}
	return r, nil
}

// handleLearn records a chosen configuration and wakes the loop to act on
// it.
func (g *Group) handleLearn(servers []quorum.Server) {
	if g.hasState() {
		return
	}
	g.learn(servers)
	g.wake()
}

// handleJoin adds (or re-addresses, or replaces) a voter on the leader.
func (g *Group) handleJoin(ctx context.Context, s quorum.Server) error {
	st := g.Store()
	if st == nil {
		return ErrNoGroup
	}
	if !st.IsLeader() {
		return ErrNotLeader
	}
	voters, err := st.Servers()
	if err != nil {
		return err
	}
	plan := PlanJoin(voters, s)
	if old := plan.Replaces; old != nil {
		now := time.Now()
		g.mu.Lock()
		called := g.callers[old.ID].at
		g.mu.Unlock()
		heard := g.lastHeard(st, old.ID, map[string]time.Time{old.ID: called}, now)
		at, _ := g.whereNow(old.ID)
		if old.ID == g.cfg.ID {
			at = g.cfg.Addr()
		}
		switch PlanHeld(*old, g.cfg.ID, heard, now, at, s.Addr) {
		case HeldWait:
			return fmt.Errorf("%w: %s is held by %s, heard from %v ago", ErrJoinRefused, s.Addr, old.ID, now.Sub(heard).Round(time.Second))
		case HeldPark:
			parked := peer.TargetAddr(old.Addr, old.ID)
			g.cfg.Logger.Warn("A Sentinel took the address of a member alive elsewhere: moving that member's entry aside",
				"member", old.ID, "from", old.Addr, "now at", at, "joining", s.ID)
			if err := st.AddVoter(old.ID, parked); err != nil {
				return err
			}
			if voters, err = st.Servers(); err != nil {
				return err
			}
			plan = PlanJoin(voters, s)
		}
	}
	if plan.Replaces != nil {
		cctx, cancel := context.WithTimeout(ctx, g.cfg.RPCTimeout)
		got, err := g.cfg.Transport.Status(cctx, s.Addr, g.self())
		cancel()
		if err != nil || got.ID != s.ID {
			return fmt.Errorf("%w: %s does not answer as %s", ErrJoinRefused, s.Addr, s.ID)
		}
		g.cfg.Logger.Warn("A Sentinel returned with a new id: replacing its old entry",
			"old", plan.Replaces.ID, "new", s.ID, "addr", s.Addr)
	}
	for _, c := range plan.Changes {
		switch c.Kind {
		case Remove:
			err = st.RemoveServer(c.Server.ID)
		case Add:
			err = st.AddVoter(c.Server.ID, c.Server.Addr)
		}
		if err != nil {
			return err
		}
	}
	if len(plan.Changes) > 0 {
		g.cfg.Logger.Warn("Sentinel joined the Raft group", "id", s.ID, "addr", s.Addr)
	}
	return nil
}
