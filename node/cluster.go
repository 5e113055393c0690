package node

// The node's side of the Raft group: it gives internal/group the
// sentinel's peers (hellos, seeds), address and expected size, opens the
// Raft store for it, and once this sentinel is a caught-up member makes the
// group's state the node's (activate), then runs the failover engine for
// every term it leads. Formation, joining and membership themselves, and
// their safety argument, are internal/group's (docs/DESIGN.md, "The Raft
// group").

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/x0tta6bl4/gosentinel/config"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/x0tta6bl4/gosentinel/internal/atomicfile"
	"github.com/x0tta6bl4/gosentinel/internal/beat"
	"github.com/x0tta6bl4/gosentinel/internal/group"
	"github.com/x0tta6bl4/gosentinel/internal/logging"
	"github.com/x0tta6bl4/gosentinel/internal/mux"
	"github.com/x0tta6bl4/gosentinel/internal/peer"
	"github.com/x0tta6bl4/gosentinel/quorum"
	"github.com/x0tta6bl4/gosentinel/replication"
	"github.com/x0tta6bl4/gosentinel/sentinel"
)

// ClusterOptions tune Raft membership. The zero value means: Raft on, with
// the defaults below.
type ClusterOptions struct {
	// Disabled runs the sentinel alone, every decision local (the
	// redis-sentinel-like single-node mode; also GOSENTINEL_RAFT=off).
	Disabled bool
	// Secret overrides the peer secret (default: sentinel-pass, else
	// requirepass, else the ACL users' passwords; also "sentinel
	// cluster-secret" and GOSENTINEL_CLUSTER_SECRET). SecretSource names
	// where it was set, for the log.
	Secret, SecretSource string
	// SecretGrace is how long a replaced peer secret stays accepted
	// (default peer.DefaultRotationGrace).
	SecretGrace time.Duration
	// Peers are explicit seed addresses host:port ("sentinel
	// cluster-peers", GOSENTINEL_PEERS).
	Peers []string
	// Size is the expected number of sentinels in the set ("sentinel
	// cluster-size", GOSENTINEL_CLUSTER_SIZE); 0 derives it (see
	// internal/group.Expected). SizeSource says where it came from.
	Size       int
	SizeSource string
	// StaleAfter is how long a member may go without hearing from a leader
	// before it stops vouching for master addresses (default 2 s).
	StaleAfter time.Duration
	// Settle is how long a majority of the expected sentinels waits for
	// the rest before forming the group (default 2 s, one hello period).
	Settle time.Duration
	// MemberTimeout is how long a member may be gone on every channel
	// before the leader removes it (default 5 min).
	MemberTimeout time.Duration
	// SnapshotThreshold, SnapshotInterval and TrailingLogs tune Raft's
	// snapshots (0: raft's defaults, 8192 entries, 120 s, 10240 entries).
	SnapshotThreshold uint64
	SnapshotInterval  time.Duration
	TrailingLogs      uint64
}

const (
	defaultStaleAfter = 2 * time.Second
	// clusterTick is the period of the group's rounds and of the node's
	// leadership housekeeping.
	clusterTick = 250 * time.Millisecond
	rpcTimeout  = 2 * time.Second
)

// rejectLogEvery spaces the lines logged for peer connections refused.
const rejectLogEvery = 10 * time.Second

// clusterSettings is the cluster's options: those given win, then the
// environment, then sentinel.conf (as `gosentinel --help` says).
func clusterSettings(o ClusterOptions, cfg *config.Config) ClusterOptions {
	o = clusterFromEnv(o)
	if o.Secret == "" && cfg.ClusterSecret != "" {
		o.Secret, o.SecretSource = cfg.ClusterSecret, secretFromClusterSecret
	}
	if len(o.Peers) == 0 {
		o.Peers = cfg.ClusterPeers
	}
	if o.Size == 0 && cfg.ClusterSize > 0 {
		o.Size, o.SizeSource = cfg.ClusterSize, group.SourceDirective
	}
	return o
}

// checkedPeers drops, saying so, the seeds that are not host:port: the
// config's cluster-peers are checked at load, GOSENTINEL_PEERS is not, and
// a seed that can never be dialed would still count toward the expected
// size.
func (n *Node) checkedPeers(peers []string) []string {
	var ok []string
	for _, p := range peers {
		if !config.IsHostPort(p) {
			n.log.Warn("Ignoring a cluster peer that is not host:port", "peer", p)
			continue
		}
		ok = append(ok, p)
	}
	return ok
}

// clusterFromEnv fills unset options from the environment.
func clusterFromEnv(o ClusterOptions) ClusterOptions {
	if v := os.Getenv(config.EnvRaft); strings.EqualFold(v, "off") || v == "0" || strings.EqualFold(v, "no") {
		o.Disabled = true
	}
	if o.Secret == "" {
		if o.Secret = os.Getenv(config.EnvClusterSecret); o.Secret != "" {
			o.SecretSource = config.EnvClusterSecret
		}
	}
	if len(o.Peers) == 0 {
		for _, p := range strings.Split(os.Getenv(config.EnvPeers), ",") {
			if p = strings.TrimSpace(p); p != "" {
				o.Peers = append(o.Peers, p)
			}
		}
	}
	if o.Size == 0 {
		if v, err := strconv.Atoi(os.Getenv(config.EnvClusterSize)); err == nil && v > 0 {
			o.Size, o.SizeSource = v, group.SourceEnv
		}
	}
	if o.StaleAfter == 0 {
		o.StaleAfter = envDuration(config.EnvStaleAfterMs, defaultStaleAfter)
	}
	if o.Settle == 0 {
		o.Settle = envDuration(config.EnvSettleMs, group.DefaultSettle)
	}
	if o.MemberTimeout == 0 {
		o.MemberTimeout = envDuration(config.EnvMemberTimeout, group.DefaultMemberTimeout)
	}
	if o.SnapshotThreshold == 0 {
		o.SnapshotThreshold = envCount(config.EnvRaftSnapshotThreshold)
	}
	if o.SnapshotInterval == 0 {
		o.SnapshotInterval = envDuration(config.EnvRaftSnapshotIntervalMs, 0)
	}
	if o.TrailingLogs == 0 {
		o.TrailingLogs = envCount(config.EnvRaftTrailingLogs)
	}
	return o
}

// envCount is a positive count from the environment, 0 when unset or bad.
func envCount(name string) uint64 {
	v, err := strconv.ParseUint(os.Getenv(name), 10, 64)
	if err != nil {
		return 0
	}
	return v
}

func envDuration(name string, def time.Duration) time.Duration {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return time.Duration(v) * time.Millisecond
	}
	return def
}

// cluster is the node's Raft side.
type cluster struct {
	n    *Node
	opts ClusterOptions
	dir  string
	// deaths proves members dead while no leader is heard (vouch.go).
	deaths *deathWatch

	muxes    []*mux.Mux
	raftGate *gatedListener
	rpcLn    net.Listener
	raftDial *peer.Dialer
	rpcDial  *peer.Dialer // c.rpc's; mixed.go proves peers with its handshake alone
	keys     *peer.Keys   // what peers prove (peersecret.go)
	rpcSrv   *peer.Server
	rpc      *peer.Client
	grp      *group.Group

	// existing says a previous run's Raft state was on disk at the start:
	// a member whose state does not open (a full disk, the bolt lock) is
	// a returning member all the same, and vouches only within the stale
	// bound.
	existing bool
	fsm      *quorum.FSM // the replicated state once this sentinel is a member

	// mixed tells gosentinels from other sentinels (mixed.go).
	mixed *mixedSet

	// termStop asks followLeadership to stop the term's engine and
	// closes the channel it sends once it has (protocol.go's detach).
	termStop chan chan struct{}

	// secretChange orders peerSecretChanged's runs.
	secretChange sync.Mutex

	mu     sync.Mutex
	secret peerSecret // the secret keys' current key came from
	store  *quorum.RaftStore
	active bool
	// voters: the other voters of the last committed configuration
	// (noteVoters).
	voters []string
	// mode and quietGen: how this member takes part in failovers
	// (protocol.go).
	mode       memberMode
	quietGen   uint64
	localSince time.Time // when it last entered modeLocal
	// isolated: in modeLocal, cut off from the group's Raft (protocol.go's
	// isolate): its group had no leader to record the mixed set.
	isolated bool
	// isolatedAt: when Raft was last cut off (isolate.go);
	// isolatedAtStart: it was when this sentinel started.
	isolatedAt      time.Time
	isolatedAtStart bool
	// isolatedVoteAt: the last vote given while cut off before the
	// restart (isolatedAtStart), from the isolated file; lastVoteAt: the
	// last vote given in this run (noteVote).
	isolatedVoteAt, lastVoteAt time.Time
	// leaderSeenAt: when this member last knew a leader (leaderlessFor).
	leaderSeenAt time.Time
	// isoMu orders followIsolation's cut against activate (isolate.go).
	isoMu sync.Mutex
	// cutWarn paces the warning of a cut that fails (retried every tick).
	cutWarn *logging.Limiter
	// addr caches the advertised address (finding it may take a UDP
	// route lookup); addrAt is when it was computed.
	addr   string
	addrAt time.Time
	// pv caches the peer view (view).
	pv *peerView
	// caughtUp: the masters the group removed and monitored again while
	// this member of a previous run was away, learnt before its
	// activation (records.go).
	caughtUp catchUp
}

// ErrNoLeader is returned to commands that need the group while it has no
// reachable leader.
var ErrNoLeader = sentinel.ReplyError("NOQUORUM The Sentinel group has no leader reachable from this Sentinel")

// peerCodes are the errors that cross the peer RPC as values: every
// gosentinel registers the same table on both ends (internal/peer.Codes).
// ErrLeadershipLost comes before ErrNotLeader, which it wraps: a command
// that may still apply must never be taken for one that was refused.
var peerCodes = peer.NewCodes(slices.Concat([]peer.Code{
	{Name: "no-leader", Err: ErrNoLeader},
	{Name: "leadership-lost", Err: quorum.ErrLeadershipLost},
	{Name: "not-leader", Err: quorum.ErrNotLeader},
	{Name: "closed", Err: quorum.ErrClosed},
	{Name: "inprog", Err: replication.ErrInProgress},
	{Name: "nogoodslave", Err: replication.ErrNoGoodSlave},
}, verdictCodes(), group.Codes())...)

// verdictCodes are the state machine's refusals (quorum.Verdicts) as
// peer codes: a forwarded proposal's verdict keeps its identity.
func verdictCodes() []peer.Code {
	codes := make([]peer.Code, len(quorum.Verdicts))
	for i, v := range quorum.Verdicts {
		codes[i] = peer.Code{Name: v.Name, Err: v.Err}
	}
	return codes
}

// setupCluster wraps the listeners in port muxes (RESP stays the default
// route) and prepares the peer transport and the group. It returns the
// listeners the RESP server must serve.
func (n *Node) setupCluster(opts ClusterOptions) ([]net.Listener, error) {
	c := &cluster{n: n, opts: opts, deaths: newDeathWatch(), mixed: newMixedSet(), termStop: make(chan chan struct{}),
		cutWarn: logging.NewLimiter(rejectLogEvery)}
	c.fsm = quorum.NewFSM(n.onApplyRaft)
	c.dir = filepath.Join(n.cfg.Dir, "gosentinel-raft-"+n.myid[:8])
	c.initPeerKeys()
	var raftLns, rpcLns, resp []net.Listener
	for _, ln := range n.lns {
		m := mux.New(ln)
		// A connection being sniffed holds a descriptor as a client does,
		// on any of the listeners.
		m.Limit(n.srv.MaxClients(), c.heldConnections)
		m.SetAcceptErrorHook(func(err error) {
			// redis' text; at most one a wait (5 ms doubling to 1 s).
			n.log.Warn("Accepting client connection: " + err.Error())
		})
		rl, err := m.Listen(peer.HeaderRaft)
		if err != nil {
			return nil, err
		}
		pl, err := m.Listen(peer.HeaderRPC)
		if err != nil {
			return nil, err
		}
		c.muxes = append(c.muxes, m)
		raftLns = append(raftLns, rl)
		rpcLns = append(rpcLns, pl)
		resp = append(resp, m.Default())
	}
	// Anyone who reaches the port can provoke the first: one line per
	// rejectLogEvery each, with the count held back.
	rejected, closed := logging.NewLimiter(rejectLogEvery), logging.NewLimiter(rejectLogEvery)
	reject := peer.WithRejectHook(func(addr net.Addr, err error) {
		if ok, held := rejected.Allow(); ok {
			n.log.Warn("Rejected a peer connection that failed authentication", "from", addr.String(), "error", err, "not_logged_since_the_last", held)
		}
	})
	dialReject := peer.WithDialRejectHook(func(addr net.Addr, err error) {
		if ok, held := closed.Allow(); ok {
			n.log.Warn("Closed a peer connection whose data failed authentication", "to", addr.String(), "error", err, "not_logged_since_the_last", held)
		}
	})
	// The address stated in handshakes is the one last computed (the group
	// asks for it every round): a handshake never waits on the node's lock.
	self := func() peer.Identity {
		c.mu.Lock()
		defer c.mu.Unlock()
		return peer.Identity{ID: n.myid, Addr: c.addr}
	}
	identity := peer.WithIdentity(self)
	c.raftGate = newGatedListener(peer.NewListener(mux.Merge(raftLns...), peer.HeaderRaft, c.keys, reject, identity))
	c.rpcLn = peer.NewListener(mux.Merge(rpcLns...), peer.HeaderRPC, c.keys, reject, identity)
	c.raftDial = peer.NewDialer(peer.HeaderRaft, c.keys, peer.WithSelf(self), dialReject, n.peerTransport())
	c.rpcDial = peer.NewDialer(peer.HeaderRPC, c.keys, peer.WithSelf(self), dialReject, n.peerTransport())
	c.rpc = peer.NewClient(c.rpcDial, peerCodes)
	c.rpcSrv = peer.NewServer(n.log.With("component", "peer-rpc"), peerCodes)
	c.rpcSrv.Handle("cluster.propose", c.handlePropose)
	c.rpcSrv.Handle("cluster.failover", c.handleFailover)
	c.rpcSrv.Handle("cluster.lead", c.handleLead)
	c.rpcSrv.Handle("cluster.protocol", c.handleProtocol)
	_, statErr := os.Stat(filepath.Join(c.dir, "advertise"))
	c.existing = statErr == nil
	grp, err := group.New(group.Config{
		ID:            n.myid,
		Addr:          c.advertiseAddr,
		Expect:        c.expectation,
		Peers:         c.peers,
		Heard:         c.heard,
		Foreign:       c.foreign,
		Transport:     group.RPCTransport{Client: c.rpc},
		Open:          c.open,
		Existing:      statErr == nil, // Raft state of a previous run is on disk
		Acceptor:      group.FilePersister{Path: filepath.Join(c.dir, "formation.json")},
		Timing:        group.Timing{Settle: opts.Settle, Takeover: group.DefaultTakeover},
		Tick:          clusterTick,
		MemberTimeout: opts.MemberTimeout,
		Logger:        n.log.With("component", "group"),
		Event:         func(typ, text string) { n.log.Warn(typ + " " + text) },
	})
	if err != nil {
		return nil, fmt.Errorf("failed to set up the sentinel group: %w", err)
	}
	c.grp = grp
	grp.Register(c.rpcSrv)
	n.cl = c
	return resp, nil
}

// run serves the muxes and peer RPCs, runs the group, makes its state the
// node's once this sentinel is a member, then follows leadership changes
// until ctx ends.
func (c *cluster) run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, m := range c.muxes {
		wg.Add(1)
		go func() { defer wg.Done(); m.Serve() }()
	}
	wg.Add(5)
	go func() { defer wg.Done(); c.runMixed(ctx) }()
	go func() { defer wg.Done(); c.rpcSrv.Serve(c.rpcLn) }()
	go func() { defer wg.Done(); c.watchDeaths(ctx) }()
	go func() { defer wg.Done(); c.runCutOffFence(ctx) }()
	go func() { defer wg.Done(); c.grp.Run(ctx) }()
	defer wg.Wait()
	defer c.rpcSrv.Close()

	select {
	case <-ctx.Done():
		return
	case <-c.grp.Joined():
	}
	if err := c.activate(ctx); err != nil {
		return // ctx ended while merging
	}
	// From now on a restart finds a member from a previous run; before, a
	// restart proposes this sentinel's masters again, as it would have.
	if err := c.grp.Activated(); err != nil {
		c.n.log.Warn("failed to record this sentinel's activation (a restart would propose its masters again): " + err.Error())
	}
	wg.Add(1)
	go func() { defer wg.Done(); c.runProtocol(ctx) }()
	c.followLeadership(ctx)
}

// heldConnections is what maxclients counts: the command surface's
// clients and the connections every listener's mux is sniffing.
func (c *cluster) heldConnections() int {
	held := c.n.srv.Clients()
	for _, m := range c.muxes {
		held += m.Sniffing()
	}
	return held
}

// open is the group's store opener: it creates and starts the Raft store
// advertising addr (internal/group calls it once, from its goroutine).
func (c *cluster) open(addr string, abstainTerm uint64) (group.Store, error) {
	// Private: Raft's log and snapshots hold auth-pass (quorum keeps
	// what it writes there 0600 in 0700 directories).
	if err := atomicfile.PrivateDir(c.dir); err != nil {
		return nil, fmt.Errorf("failed to create %s: %w", c.dir, err)
	}
	prev, _ := os.ReadFile(filepath.Join(c.dir, "advertise"))
	if old := strings.TrimSpace(string(prev)); old != "" && old != addr {
		c.n.log.Warn("This sentinel's address changed since its last run: the group will be told", "was", old, "now", addr)
	}
	// Written only when it changed: rewritten at every open, it kept the
	// Raft state of a sentinel whose disk is full from ever opening.
	if string(prev) != addr+"\n" {
		if err := atomicfile.Write(filepath.Join(c.dir, "advertise"), []byte(addr+"\n")); err != nil {
			return nil, fmt.Errorf("failed to record the advertised address in %s: %w", c.dir, err)
		}
	}
	var st *quorum.RaftStore
	st, err := quorum.NewRaftStore(quorum.RaftConfig{
		ID: c.n.myid, Addr: addr, Dir: c.dir,
		Layer:       peer.NewLayer(c.raftGate.view(), c.raftDial),
		Logger:      c.n.log, // the bridge names the component (raft, raft.net, ...)
		AbstainTerm: abstainTerm,
		DialAddress: func(id string) (string, bool) {
			a, ok := c.grp.DialAddress(id)
			if !ok {
				return "", false
			}
			return peer.TargetAddr(a, id), true
		},
		OnConfiguration: func(_ uint64, voters []quorum.Server) {
			c.grp.ConfigurationCommitted(voters, st.Recovering())
			c.noteVoters(voters)
		},
		OnRestore:         c.onRestore,
		SnapshotThreshold: c.opts.SnapshotThreshold,
		SnapshotInterval:  c.opts.SnapshotInterval,
		TrailingLogs:      c.opts.TrailingLogs,
	}, c.fsm)
	if err != nil {
		return nil, err
	}
	// Isolated (if it was when it stopped, or may have voted) before
	// anyone sees the store; no vote between the check and the store's
	// publication (voteMu).
	c.n.voteMu.Lock()
	err = c.isolateAtOpen(st)
	if err == nil {
		c.mu.Lock()
		c.store = st
		c.mu.Unlock()
	}
	c.n.voteMu.Unlock()
	if err != nil {
		return nil, err
	}
	if err := st.Open(); err != nil {
		return nil, fmt.Errorf("failed to open raft in %s: %w", c.dir, err)
	}
	// Raft connections that arrived before the store was open were closed:
	// from now on they reach Raft.
	c.raftGate.open()
	c.n.log.Info("Raft store open", "dir", c.dir, "addr", addr, "existing_state", st.HasState(), "abstain_term", abstainTerm)
	return st, nil
}

func (c *cluster) getStore() *quorum.RaftStore {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.store
}

// wasRestarted reports whether this sentinel reopened Raft state of a
// previous run (a member before, rather than joining for the first time).
func (c *cluster) wasRestarted() bool { return c.grp.Restarted() }

// noteVoters keeps the other voters of the last committed configuration
// and, once the group is this sentinel's, names them to the monitor
// (SetGroupMembers): a member learns this sentinel's configuration from
// the group's log, not from hellos published to it. The monitor is told
// under c.mu, so that this and switchToGroup cannot tell it in the wrong
// order.
func (c *cluster) noteVoters(voters []quorum.Server) {
	ids := make([]string, 0, len(voters))
	for _, v := range voters {
		if v.ID != c.n.myid {
			ids = append(ids, v.ID)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.voters = ids
	if c.active {
		c.n.mon.SetGroupMembers(ids)
	}
}

func (c *cluster) isActive() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.active
}

// forming reports whether a group may soon be this sentinel's: it knows a
// peer to form a group with or a group to join, or is a member whose
// activation is under way, and the group's state is not the node's yet.
// Commands that need the group wait for it then (docs/DESIGN.md). A live
// peer heard in hellos counts before it answered the group's status call:
// the formation round that asks it runs every 250 ms, later under load,
// and SENTINEL FAILOVER sent as soon as the sentinels reported each other
// was answered NOQUORUM in that window (TestGroupFreshDeploymentSentinelFailover).
func (c *cluster) forming() bool {
	if c.isActive() || c.isMixed() || c.memberMode() != modeNone {
		return false
	}
	return c.grp.Phase() != group.PhaseAlone || c.view().heardWithin(time.Now(), formingHelloAge) > 0
}

// formingHelloAge: a peer whose hello is no older counts as one to form a
// group with before it answered (three hello periods); a known-sentinel
// line of a peer that is gone does not.
const formingHelloAge = 6 * time.Second

// heardWithin counts the peers whose last hello is at most age old.
func (v *peerView) heardWithin(now time.Time, age time.Duration) int {
	k := 0
	for _, at := range v.heard {
		if !at.IsZero() && now.Sub(at) <= age {
			k++
		}
	}
	return k
}

// expectation is the expected size of the set (internal/group.Expected):
// the operator's, else derived from this sentinel's masters and peers.
func (c *cluster) expectation(forming bool) group.Expectation {
	in := group.ExpectInputs{Explicit: c.opts.Size, ExplicitSource: c.opts.SizeSource, Seeds: len(c.opts.Peers), Forming: forming}
	if in.Explicit > 0 && in.ExplicitSource == "" {
		in.ExplicitSource = group.SourceDirective
	}
	in.MaxQuorum = c.n.maxQuorum()
	v := c.view()
	in.KnownAlive, in.KnownDown = v.alive, len(v.peers)-v.alive
	return group.Expected(in)
}

// peerView is what the monitor knows of the other sentinels, across every
// master it watches: who they are, where, when each was last heard, how
// many are not subjectively down. The group asks for it several times a
// round; it is built at most once per peerViewTTL, because it walks every
// master (a sentinel set may watch a thousand).
type peerView struct {
	at    time.Time
	peers []group.Peer
	heard map[string]time.Time
	// hello is when a hello of each sentinel whose id is confirmed last
	// arrived (zero: none since it was added), for telling gosentinels
	// from others.
	hello map[string]time.Time
	// declined: the sentinels whose command link answered like a sentinel
	// that is not a gosentinel (monitor's InstanceStatus.Declined).
	declined map[string]bool
	alive    int
}

// peerViewTTL bounds the view's age until this sentinel is a member:
// formation acts on a hello within a round. memberViewTTL bounds it after:
// a member's rounds act over seconds (the expected size, removing a member
// gone for MemberTimeout), and so does Raft's dialing (Group.DialAddress,
// asked on every RPC Raft sends or answers). At 1000 masters, rebuilding
// the view at every 100 ms for those was about 12 % of a sentinel's CPU
// (issue 12).
const (
	peerViewTTL   = 100 * time.Millisecond
	memberViewTTL = time.Second
)

func (c *cluster) view() *peerView {
	ttl := peerViewTTL
	if c.grp != nil {
		select {
		case <-c.grp.Joined():
			ttl = memberViewTTL
		default:
		}
	}
	return c.viewWithin(ttl)
}

// viewWithin is view for a reader content with one up to maxAge old.
func (c *cluster) viewWithin(maxAge time.Duration) *peerView {
	c.mu.Lock()
	v := c.pv
	c.mu.Unlock()
	if v != nil && time.Since(v.at) < maxAge {
		return v
	}
	n := c.n
	v = &peerView{at: time.Now(), heard: map[string]time.Time{}, hello: map[string]time.Time{}, declined: map[string]bool{}}
	for _, s := range n.mon.Sentinels() {
		if s.RunID == n.myid {
			continue
		}
		v.peers = append(v.peers, group.Peer{ID: s.RunID, Addr: s.Addr.String()})
		v.heard[s.RunID] = s.LastHello
		// Only a sentinel that confirmed its run id (SENTINEL MYID on
		// our own link) can be foreign: a forged hello naming a plain
		// Redis node never holds the group back.
		if !s.HelloReceived.IsZero() {
			v.hello[s.RunID] = s.HelloReceived
		}
		if s.Declined {
			v.declined[s.RunID] = true
		}
		if s.Up {
			v.alive++
		}
	}
	c.mu.Lock()
	c.pv = v
	c.mu.Unlock()
	return v
}

// peers are the other sentinels of every watched master (hellos, the
// config file's known-sentinel lines), plus the seeds.
func (c *cluster) peers() []group.Peer {
	out := slices.Clone(c.view().peers)
	for _, a := range c.opts.Peers {
		out = append(out, group.Peer{Addr: a})
	}
	return out
}

// heard is when a hello from sentinel id was last seen on any master this
// sentinel watches.
func (c *cluster) heard(id string) time.Time { return c.view().heard[id] }

// advertiseAddrTTL bounds how long the advertised address is cached.
const advertiseAddrTTL = time.Second

// advertiseAddr is the address peers reach this sentinel at: announce-ip,
// else a specific bind address, else the local address of a route toward a
// peer or a master (no packet is sent for a UDP "dial").
func (c *cluster) advertiseAddr() string {
	c.mu.Lock()
	if c.addr != "" && time.Since(c.addrAt) < advertiseAddrTTL {
		a := c.addr
		c.mu.Unlock()
		return a
	}
	c.mu.Unlock()
	n := c.n
	port := strconv.Itoa(n.announcedPort())
	n.mu.Lock()
	ip := ""
	if n.globals.announceIPSet && n.globals.announceIP != "" {
		ip = n.globals.announceIP
	}
	n.mu.Unlock()
	if ip == "" {
		if a, ok := n.lns[0].Addr().(*net.TCPAddr); ok && !a.IP.IsUnspecified() {
			ip = a.IP.String()
		}
	}
	if ip == "" {
		target := ""
		if ps := c.peers(); len(ps) > 0 {
			target = ps[0].Addr
		} else if names := n.MasterNames(); len(names) > 0 {
			if m, ok := n.sm().Master(names[0]); ok {
				target = m.Addr.String()
			}
		}
		if target != "" {
			if conn, err := net.Dial("udp", target); err == nil {
				ip = conn.LocalAddr().(*net.UDPAddr).IP.String()
				conn.Close()
			}
		}
	}
	if ip == "" {
		ip = "127.0.0.1"
	}
	a := net.JoinHostPort(ip, port)
	c.mu.Lock()
	c.addr, c.addrAt = a, time.Now()
	c.mu.Unlock()
	return a
}

// activate makes the replicated state the node's state, so that joining
// is invisible to clients: a first-time member first proposes the masters
// only it knew (first writer wins) and waits until they are applied; the
// masters it knew count as its own (a duplicate MONITOR stays a
// duplicate) and keep its settings and links; only then is the group's
// state switched in. A member from a previous run proposes nothing.
func (c *cluster) activate(ctx context.Context) error {
	n := c.n
	// Cut off from Raft as it caught up (followIsolation): it connects
	// again under the quiet conditions first, voting meanwhile.
	if err := c.awaitConnected(ctx); err != nil {
		return err
	}
	// A member's failovers are the Raft leader's: the engine that ran on
	// the local state in a mixed set stops first (until the group's
	// failovers follow redis-sentinel's protocol: protocol.go).
	c.stopLocalEngine(true)
	merge := !c.wasRestarted()
	if merge {
		if err := c.mergeLocal(ctx); err != nil {
			return err
		}
	}
	if mixed, gen, _ := c.fsm.Protocol(); mixed {
		// The group's failovers follow redis-sentinel's protocol: its
		// state is not kept up to date (each member decides on its own
		// copy), so this sentinel keeps deciding on its own state,
		// detached, rather than take the group's older one and announce
		// a switch back to an old master (protocol.go).
		c.mu.Lock()
		c.mode, c.localSince = modeLocal, time.Now()
		c.mu.Unlock()
		c.allowLocalEngine()
		n.log.Warn("Sentinel Raft group joined while its failovers follow redis-sentinel's protocol: this sentinel votes and fails over on its own state",
			"generation", gen)
		return nil
	}
	err := c.mergeAndSwitch(ctx, merge, func(local *quorum.State) {
		for _, name := range local.Names() {
			m, ok := c.fsm.Master(name)
			if ok && m.Addr == local.Masters[name].Addr {
				n.mu.Lock()
				l := n.local[name]
				if l == nil {
					l = &masterLocal{}
					n.local[name] = l
				}
				l.adoptedOf = adoptionKey(m)
				n.mu.Unlock()
			}
		}
	})
	if err != nil {
		return err
	}
	n.log.Warn("Sentinel Raft group active: the replicated state is now authoritative")
	return nil
}

// switchToGroup makes the group's state the node's, and announces the
// masters the group switched away from local's addresses: they moved for
// this sentinel's clients now, as for a redis-sentinel that learns a new
// configuration from a hello.
func (c *cluster) switchToGroup(local *quorum.State) {
	n := c.n
	c.mu.Lock()
	c.active = true
	c.mode, c.quietGen = modeRaft, 0
	n.mon.SetGroupMembers(c.voters)
	c.mu.Unlock()
	n.setActiveFSM(c.fsm)
	// A master the group has elsewhere is the one this sentinel knew,
	// moved by failovers it missed, unless it is another master of that
	// name: watched afresh then, as OpMonitor's apply does, not switched
	// to, which would carry the old, unrelated node over as a replica to
	// reconfigure.
	c.mu.Lock()
	recreated := c.caughtUp.recreated
	c.caughtUp = catchUp{}
	c.mu.Unlock()
	moved := map[string]quorum.Addr{}
	for _, name := range local.Names() {
		m, ok := c.fsm.Master(name)
		if !ok || m.Addr == local.Masters[name].Addr {
			continue
		}
		if otherRecord(local.Masters[name], m, recreated[name]) {
			n.mon.Unwatch(name)
			continue
		}
		moved[name] = m.Addr
	}
	// A first-time member proposed the masters only it knew before
	// activating, so the group has them; a member from a previous run
	// drops them: the group removed them while it was away.
	n.reconcileMonitor(c.wasRestarted())
	for _, name := range local.Names() {
		if to, ok := moved[name]; ok {
			n.announceSwitch(name, local.Masters[name].Addr, to)
		}
	}
}

// mergeLocal proposes what this sentinel knew before joining (or learnt
// while detached, protocol.go) and the group does not have: masters it
// monitors, newer master addresses and config epochs (a failover decided
// by redis-sentinel's election), a newer current epoch. It returns once the
// group has all of it (or ctx ends). It reads the local state again after
// each pass: a MONITOR applied locally meanwhile (one that waited longer
// than commandLeaderWait) is merged too.
func (c *cluster) mergeLocal(ctx context.Context) error {
	for {
		cmds, waiting := mergeStep(c.n.localFSM.State(), c.fsm.State())
		if len(cmds) == 0 && waiting == 0 {
			return nil
		}
		for _, cmd := range cmds {
			err := c.proposeRaft(ctx, cmd)
			switch {
			case err == nil, isTransient(err), errors.Is(err, quorum.ErrDuplicateMaster), errors.Is(err, quorum.ErrStaleSwitch):
			case cmd.Op == quorum.OpObserveEpoch:
			default:
				name := cmd.Name
				if cmd.Master != nil {
					name = cmd.Master.Name
				}
				c.n.log.Info("failed to give the group what this sentinel knew; retrying", "master", name, "op", cmd.Op, "error", err)
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(leaderRetryEvery):
		}
	}
}

// mergeStep is what the group's state (group) lacks of this sentinel's
// (local): the commands that give it, and how many masters wait for a
// failover the group runs (newerConfig). Both empty: the group has it all.
func mergeStep(local, group *quorum.State) (cmds []*quorum.Command, waiting int) {
	for _, name := range local.Names() {
		lm := local.Masters[name]
		gm, ok := group.Masters[name]
		if !ok {
			cmds = append(cmds, &quorum.Command{Op: quorum.OpMonitor, Master: lm, At: nowMs()})
			continue
		}
		cmd, wait := newerConfig(lm, gm)
		if wait {
			waiting++
		} else if cmd != nil {
			cmds = append(cmds, cmd)
		}
	}
	if local.CurrentEpoch > group.CurrentEpoch {
		cmds = append(cmds, &quorum.Command{Op: quorum.OpObserveEpoch, Epoch: local.CurrentEpoch, At: nowMs()})
	}
	return cmds, waiting
}

// mergeAndSwitch merges this sentinel's state into the group's (unless
// merge is false) and makes the group's the node's, with no local change
// in between: the check that the group has it all and the switch hold the
// node's localGate, which every local proposal holds too. Without it, a
// hello applied locally after mergeLocal's last pass (the leader's switch,
// before this member applied it from the log) was announced as a switch
// back to the old master (TestGroupFreshDeploymentSentinelFailover: three
// +switch-master). before runs under the gate, on the state switched from.
func (c *cluster) mergeAndSwitch(ctx context.Context, merge bool, before func(local *quorum.State)) error {
	n := c.n
	for {
		if merge {
			if err := c.mergeLocal(ctx); err != nil {
				return err
			}
		}
		n.localGate.Lock()
		local := n.localFSM.State()
		if merge {
			if cmds, waiting := mergeStep(local, c.fsm.State()); len(cmds) > 0 || waiting > 0 {
				n.localGate.Unlock()
				continue
			}
		}
		if before != nil {
			before(local)
		}
		c.switchToGroup(local)
		n.localGate.Unlock()
		return nil
	}
}

// newerConfig is the command that gives the group's record of a master
// (group) the newer configuration of this sentinel's (local), or nil if
// local's is not newer. wait: the group runs a failover of it at an epoch
// no older, which decides; local's newer configuration is most likely that
// failover's, learnt from the leader's hello before this sentinel applied
// the switch, and switching to the group's state before the switch lands
// would announce a switch back to the old master (the fresh-deployment
// test caught three +switch-master that way).
func newerConfig(local, group *quorum.Master) (cmd *quorum.Command, wait bool) {
	if local.ConfigEpoch < group.ConfigEpoch || local.ConfigEpoch == group.ConfigEpoch && local.Addr == group.Addr {
		return nil, false
	}
	// The failover's promotion records its epoch as the config epoch
	// before its switch records the address: an equal epoch with another
	// address is that failover's too.
	if group.Failover != nil && group.Failover.Epoch >= local.ConfigEpoch {
		return nil, true
	}
	if local.ConfigEpoch == group.ConfigEpoch {
		return nil, false
	}
	if local.Addr == group.Addr {
		return &quorum.Command{Op: quorum.OpSetConfigEpoch, Name: local.Name, Epoch: local.ConfigEpoch, At: nowMs()}, false
	}
	return &quorum.Command{Op: quorum.OpSwitchMaster, Name: local.Name, Addr: local.Addr, From: group.Addr,
		Epoch: local.ConfigEpoch, At: nowMs()}, false
}

// followLeadership runs the failover engine for each term this sentinel
// leads, while the group's state is the node's (modeRaft): a detaching
// member asks it to stop the engine and waits (termStop).
func (c *cluster) followLeadership(ctx context.Context) {
	st := c.getStore()
	var cancel context.CancelFunc
	var done chan struct{}
	stop := func() {
		if cancel != nil {
			cancel()
			<-done
			cancel, done = nil, nil
		}
	}
	// On the way out the engine is only cancelled, not waited for: it may
	// take seconds to unwind a call, and nothing else will run on the
	// state (waiting held a sentinel's shutdown for up to 10 s).
	defer func() {
		if cancel != nil {
			cancel()
		}
	}()
	start := func() {
		if cancel != nil || c.memberMode() != modeRaft {
			return
		}
		var tctx context.Context
		tctx, cancel = context.WithCancel(ctx)
		done = make(chan struct{})
		go func(done chan struct{}) { defer close(done); c.n.eng.Run(tctx) }(done)
	}
	if st.IsLeader() {
		start()
	}
	t := beat.NewTicker(clusterTick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case ack := <-c.termStop:
			stop()
			close(ack)
		case leader := <-st.LeaderChanges():
			if leader {
				start()
			} else {
				stop()
			}
		case <-t.C:
			switch {
			case c.memberMode() != modeRaft:
				stop()
			case st.IsLeader():
				start()
			}
		}
	}
}

// stopTerm stops the term's engine, if it runs, and waits for it.
func (c *cluster) stopTerm(ctx context.Context) {
	ack := make(chan struct{})
	select {
	case c.termStop <- ack:
	case <-ctx.Done():
		return
	}
	select {
	case <-ack:
	case <-ctx.Done():
	}
}

// failoverRequest names the master of a forwarded SENTINEL FAILOVER. The
// name is any bytes, so it crosses by the group's rule for strings
// (quorum.EscapeStrings): as plain JSON a name that is not UTF-8 reached
// the leader with U+FFFD, a master it does not have. An older leader reads
// an escaped name as its text and answers so, as it answered U+FFFD.
type failoverRequest struct {
	Name string `json:"name"`
}

func (c *cluster) handleFailover(ctx context.Context, body json.RawMessage) (any, error) {
	var req failoverRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, fmt.Errorf("bad failover request: %w", err)
	}
	if err := quorum.UnescapeStrings(&req); err != nil {
		return nil, fmt.Errorf("bad failover request: %w", err)
	}
	st := c.getStore()
	if st == nil || !st.IsLeader() {
		return nil, ErrNoLeader
	}
	return nil, c.n.failover(ctx, req.Name)
}

// leadRequest asks the leader to hand Raft leadership to the member ID.
type leadRequest struct {
	ID string `json:"id"`
}

// handleLead transfers leadership to the member asking (SENTINEL FAILOVER
// asked of a follower: the sentinel asked leads it). It declines while a
// failover is recorded: that one finishes under the leader running it.
func (c *cluster) handleLead(ctx context.Context, body json.RawMessage) (any, error) {
	var req leadRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, fmt.Errorf("bad lead request: %w", err)
	}
	st := c.getStore()
	if st == nil || !st.IsLeader() {
		return nil, ErrNoLeader
	}
	state := c.n.sm().State()
	for _, name := range state.Names() {
		if state.Masters[name].Failover != nil {
			return nil, replication.ErrInProgress
		}
	}
	c.n.log.Info("handing raft leadership over for a failover asked there", "to", req.ID)
	return nil, st.TransferLeadershipTo(req.ID)
}

// takeLeadership asks the leader to hand Raft leadership to this sentinel
// and waits, within leadTimeout, until this sentinel leads with its
// failover engine running. false: it does not lead (the leader declined,
// the transfer failed, or it took too long); the caller forwards instead.
func (c *cluster) takeLeadership(ctx context.Context) bool {
	st := c.getStore()
	if st == nil {
		return false
	}
	addr := leaderTarget(st)
	if addr == "" {
		return false
	}
	cctx, cancel := context.WithTimeout(ctx, leadTimeout)
	defer cancel()
	if err := c.rpc.Call(cctx, addr, "cluster.lead", leadRequest{ID: c.n.myid}, nil); err != nil {
		c.n.log.Info("the leader did not hand raft leadership over; forwarding the failover", "err", err)
		return false
	}
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for !st.IsLeader() || !c.n.eng.Leading() {
		select {
		case <-cctx.Done():
			return false
		case <-t.C:
		}
	}
	return true
}

// leadTimeout bounds takeLeadership: raft's transfer gives up after an
// election timeout (500 ms by default); a failover asked of a follower is then
// forwarded to whoever leads.
const leadTimeout = 2 * time.Second

// leaderTarget is the address to send the leader an RPC at, naming its id
// so that the dial fails rather than reach another sentinel now at that
// address (peer.TargetAddr); "" when no leader is known.
func leaderTarget(st *quorum.RaftStore) string {
	id, addr := st.Leader()
	if id == "" || addr == "" {
		return ""
	}
	return peer.TargetAddr(addr, id)
}

// forwardFailover asks the leader to run SENTINEL FAILOVER: redis-sentinel
// accepts it on any sentinel, and only the leader may act. The leader's
// error comes back as the same value (peer codes).
func (c *cluster) forwardFailover(ctx context.Context, name string) error {
	st := c.getStore()
	if st == nil {
		return ErrNoLeader
	}
	addr := leaderTarget(st)
	if addr == "" {
		return ErrNoLeader
	}
	cctx, cancel := context.WithTimeout(ctx, rpcTimeout+5*time.Second)
	defer cancel()
	err := forwardedFailoverOutcome(c.rpc.Call(cctx, addr, "cluster.failover", quorum.EscapeStrings(&failoverRequest{Name: name}), nil))
	if errors.Is(err, errFailoverUnknown) {
		c.n.log.Warn("The Raft leader did not answer a forwarded FAILOVER: it may have started", "leader", addr, "error", err)
	}
	return err
}

// forwardedFailoverOutcome classifies the result of a FAILOVER forwarded to
// the leader: its own answer (OK, or its error as a value) stands; a call
// that never left (peer.ErrNotSent: the leader just died) started nothing
// and is ErrNoLeader, which the caller retries with the next leader; any
// other failure came after the request was written, when the leader may
// have committed the decision, so it is errFailoverUnknown (wrapping the
// cause) and never retried.
func forwardedFailoverOutcome(err error) error {
	var re *peer.RemoteError
	switch {
	case err == nil || errors.As(err, &re):
		return err
	case errors.Is(err, peer.ErrNotSent):
		return fmt.Errorf("%w (%w)", ErrNoLeader, err)
	}
	return fmt.Errorf("%w (%w)", errFailoverUnknown, err)
}

// errFailoverUnknown answers a FAILOVER forwarded to the leader that got
// no answer after it was sent: the leader may have started it, so neither
// OK nor NOQUORUM would be true.
var errFailoverUnknown = sentinel.ReplyError("ERR The Raft leader did not answer: the failover may have started. Check SENTINEL MASTER before asking again.")

// vouches reports whether this sentinel may advertise master addresses:
// always when alone, and as a member only while its last append to the
// Raft log succeeded and it heard from a leader within StaleAfter.
func (c *cluster) vouches() bool {
	// One read of the fields under c.mu: this runs on every
	// GET-MASTER-ADDR-BY-NAME (it took c.mu five times).
	c.mu.Lock()
	st, mode, active := c.store, c.mode, c.active
	c.mu.Unlock()
	// localVoteMode, plus a quiet member.
	if mode == modeLocal || mode == modeQuiet || mode == modeNone && !active && c.isMixed() {
		// Detached while the group's failovers follow redis-sentinel's
		// protocol, or not a member (a member restarted whose group
		// has no majority left, the others rolled back) in a mixed
		// set: its own state is in force and kept current by hellos,
		// as a redis-sentinel's. Answering null would make the chart's
		// start scripts fail (they treat it as fatal).
		return true
	}
	if !active {
		// Alone so far: vouch like a lone redis-sentinel, unless this
		// sentinel was a member before a restart (its state opened, or
		// is on disk and has not) and still has not found its group's
		// leader after the stale bound.
		returning := c.wasRestarted() || c.existing && c.grp.Store() == nil
		return !returning || time.Since(c.n.startedAt) < c.opts.StaleAfter
	}
	if st.LogStoreError() != nil {
		// It cannot append what the leader sends (a full disk): its
		// state stays behind the group's while the leader's heartbeats
		// keep its last contact fresh.
		return false
	}
	if st.IsLeader() {
		return true
	}
	if !quorum.IsStale(st.LastContact(), time.Now(), c.opts.StaleAfter) {
		return true
	}
	return !c.outvotable(st) // see vouch.go
}

// close hands leadership over if leading, then stops Raft and the peers'
// listeners.
func (c *cluster) close() {
	if st := c.getStore(); st != nil {
		if st.IsLeader() {
			if err := st.TransferLeadership(); err == nil {
				c.n.log.Warn("Raft leadership handed over before shutdown")
			}
		}
		st.Close()
	}
	c.rpc.Close()
	c.rpcSrv.Close()
	// Closed by rpcSrv only if its Serve had begun: a node closed at once
	// left the listener's accept goroutine behind.
	c.rpcLn.Close()
	c.raftGate.Close()
	for _, m := range c.muxes {
		m.Close()
	}
}

// onRestore runs when the group's state was replaced by a snapshot: the
// leader sent one because this member fell further behind than the log
// keeps (a partition), or Raft reopened its own. No command reported the
// changes, so an active member re-reads the whole state as at activation:
// masters added, removed or moved while it was away are watched, dropped
// or switched, and each switch it missed is announced (+switch-master),
// since its clients may subscribe to it alone. Before activation there is
// nothing to do: activation adopts the state wholesale. It runs on Raft's
// FSM goroutine and proposes nothing.
func (c *cluster) onRestore(before *quorum.State) {
	recreated := recreatedRecords(before, c.fsm.State())
	if !c.isActive() {
		// Before activation: the records the snapshot recreated are
		// watched afresh at activation (switchToGroup).
		c.noteRecreated(recreated...)
		return
	}
	n := c.n
	watched := map[string]quorum.Addr{}
	for _, name := range n.mon.Names() {
		if ms, ok := n.mon.Status(name); ok {
			watched[name] = quorum.Addr(ms.Master.Ref.Addr)
		}
	}
	n.log.Warn("The group's state was replaced by a snapshot: re-reading it")
	for name, from := range watched {
		to, ok := c.fsm.MasterAddr(name)
		if !ok || to == from {
			continue
		}
		if slices.Contains(recreated, name) {
			// Another master of that name (REMOVE, then MONITOR
			// elsewhere): watched afresh, not switched to.
			n.mon.Unwatch(name)
			continue
		}
		n.switchedMaster(name, from, to, 0)
	}
	n.reconcileMonitor(true)
}

// reconcileMonitor points the monitor at the masters of the now active
// state: new or moved masters are watched; with dropMissing, the masters
// the state no longer has are forgotten.
func (n *Node) reconcileMonitor(dropMissing bool) {
	cur := n.sm().State()
	for _, name := range cur.Names() {
		n.mu.Lock()
		if n.local[name] == nil {
			n.local[name] = &masterLocal{}
		}
		n.mu.Unlock()
		m := cur.Masters[name]
		n.seedSettings(m)
		n.withOwnSettings(m)
		n.mon.Watch(n.specFor(m))
	}
	if dropMissing {
		for _, name := range n.mon.Names() {
			if _, ok := cur.Masters[name]; !ok {
				n.forgetMaster(name)
			}
		}
	}
	n.flusher.request()
}

// onApplyRaft reacts to replicated commands once the group is this node's
// state; before that (log replay, catch-up) the state is adopted wholesale
// at activation.
func (n *Node) onApplyRaft(c *quorum.Command, result error) {
	if n.cl == nil {
		return
	}
	if !n.cl.isActive() {
		n.cl.noteCatchUp(c, result)
		return
	}
	n.onApply(c, result)
}
