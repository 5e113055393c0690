package node

// Raft membership of this sentinel: forming one group with the peers found
// through hellos, joining it, forwarding proposals to its leader, and
// running the failover engine only while leading.
//
// Group formation, with no extra config:
//
//  1. Every sentinel opens its Raft store (no configuration yet) on the
//     sentinel port, behind the peer handshake.
//  2. It learns its peers (id and address) from hellos, like
//     redis-sentinel, plus any explicit seeds (GOSENTINEL_PEERS).
//  3. Every formTick it asks each peer for its status. A peer that is a
//     member and knows its leader is joined through that leader (AddVoter).
//  4. Only the sentinel whose id is the smallest of all live ids it knows,
//     after its peer set has been stable for the settle time, and only when
//     a strict majority of the sentinels it knows (itself included)
//     answered that they are not members and know no smaller live id,
//     bootstraps a group of one. Everybody else waits and joins. "Live"
//     excludes a peer that is subjectively down (no valid reply for
//     down-after-milliseconds) and does not answer: a sentinel that dies
//     before the group forms must not stall formation (the official suite
//     kills one right after start), while a slow one that still answers
//     hellos keeps its place.
//
// Safety: two groups would need two bootstrappers A < B. B needs a majority
// of the known sentinels to report no live id below B's, A needs a majority
// to report A; the two majorities share a sentinel, which reports the
// smallest id it sees alive: it would have to see A down when B asked and
// alive when A asked, within one formation round, while A was also
// unreachable from B. Without such a flapping view it takes two disjoint
// sets of sentinels watching masters none of which both can see. A sentinel
// that has Raft state never bootstraps again; a removed one must be restarted
// with a fresh directory to rejoin.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/x0tta6bl4/gosentinel/internal/mux"
	"github.com/x0tta6bl4/gosentinel/internal/peer"
	"github.com/x0tta6bl4/gosentinel/quorum"
	"github.com/x0tta6bl4/gosentinel/sentinel"
)

// ClusterOptions tune Raft membership. The zero value means: Raft on, with
// the defaults below.
type ClusterOptions struct {
	// Disabled runs the sentinel alone, every decision local (the
	// redis-sentinel-like single-node mode; also GOSENTINEL_RAFT=off).
	Disabled bool
	// Secret overrides the peer secret (default: sentinel-pass, else
	// requirepass; also "sentinel cluster-secret" and
	// GOSENTINEL_CLUSTER_SECRET).
	Secret string
	// Peers are explicit seed addresses host:port ("sentinel
	// cluster-peers", GOSENTINEL_PEERS).
	Peers []string
	// StaleAfter is how long a member may go without hearing from a leader
	// before it stops vouching for master addresses (default 2 s).
	StaleAfter time.Duration
	// Settle is how long the peer set must be stable before the smallest id
	// bootstraps (default 3 s).
	Settle time.Duration
	// MemberTimeout is how long the leader keeps a member it cannot hear
	// from (no hello, no RPC) before removing it (default 5 min).
	MemberTimeout time.Duration
}

const (
	defaultStaleAfter    = 2 * time.Second
	defaultSettle        = 3 * time.Second
	defaultMemberTimeout = 5 * time.Minute
	formTick             = 250 * time.Millisecond
	rpcTimeout           = 2 * time.Second
)

// clusterFromEnv fills unset options from the environment.
func clusterFromEnv(o ClusterOptions) ClusterOptions {
	if v := os.Getenv("GOSENTINEL_RAFT"); strings.EqualFold(v, "off") || v == "0" || strings.EqualFold(v, "no") {
		o.Disabled = true
	}
	if o.Secret == "" {
		o.Secret = os.Getenv("GOSENTINEL_CLUSTER_SECRET")
	}
	if len(o.Peers) == 0 {
		for _, p := range strings.Split(os.Getenv("GOSENTINEL_PEERS"), ",") {
			if p = strings.TrimSpace(p); p != "" {
				o.Peers = append(o.Peers, p)
			}
		}
	}
	if o.StaleAfter == 0 {
		o.StaleAfter = envDuration("GOSENTINEL_STALE_AFTER_MS", defaultStaleAfter)
	}
	if o.Settle == 0 {
		o.Settle = envDuration("GOSENTINEL_SETTLE_MS", defaultSettle)
	}
	if o.MemberTimeout == 0 {
		o.MemberTimeout = envDuration("GOSENTINEL_MEMBER_TIMEOUT_MS", defaultMemberTimeout)
	}
	return o
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
	raftLn   net.Listener
	rpcLn    net.Listener
	raftDial *peer.Dialer
	rpcSrv   *peer.Server
	rpc      *peer.Client

	fsm *quorum.FSM // the replicated state once this sentinel is a member

	mu        sync.Mutex
	store     *quorum.RaftStore
	addr      string
	active    bool
	peerIDs   string    // last seen peer set, to detect changes
	peerSince time.Time // when it last changed
	// formingSince is when this sentinel first had a master to form a
	// group around: hellos need a couple of publish periods to arrive.
	formingSince time.Time
	// restarted is set when this sentinel reopened Raft state of a previous
	// run: it was a member, so its local state may be stale.
	restarted bool
	lastSeen  map[string]time.Time
}

// statusReply answers "cluster.status".
type statusReply struct {
	ID         string `json:"id"`
	Addr       string `json:"addr"`
	Member     bool   `json:"member"`
	LeaderID   string `json:"leader_id"`
	LeaderAddr string `json:"leader_addr"`
	LowestID   string `json:"lowest_id"`
	// Applied is the responder's FSM applied index: a joining member
	// takes over the group's state only once it has applied as much as
	// the leader had, so that it never answers from a half-replayed log.
	Applied uint64 `json:"applied"`
}

type joinRequest struct {
	ID   string `json:"id"`
	Addr string `json:"addr"`
}

// ErrNoLeader is returned to commands that need the group while it has no
// reachable leader.
var ErrNoLeader = sentinel.ReplyError("NOQUORUM The Sentinel group has no leader reachable from this Sentinel")

// setupCluster wraps the listeners in port muxes (RESP stays the default
// route) and prepares the peer transport. It returns the listeners the
// RESP server must serve.
func (n *Node) setupCluster(opts ClusterOptions) ([]net.Listener, error) {
	c := &cluster{n: n, opts: opts, lastSeen: map[string]time.Time{}, deaths: newDeathWatch()}
	c.fsm = quorum.NewFSM(n.onApplyRaft)
	secret := opts.Secret
	if secret == "" {
		secret = n.sentinelPassForPeers()
	}
	if secret == "" {
		n.log.Warn("No sentinel-pass, requirepass or GOSENTINEL_CLUSTER_SECRET set: Raft peers authenticate with an empty secret, so anything that can reach this port can join the group")
	}
	var raftLns, rpcLns, resp []net.Listener
	for _, ln := range n.lns {
		m := mux.New(ln)
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
	reject := peer.WithRejectHook(func(addr net.Addr, err error) {
		n.log.Warn("Rejected a peer connection that failed authentication", "from", addr.String(), "error", err)
	})
	c.raftLn = peer.NewListener(mux.Merge(raftLns...), secret, reject)
	c.rpcLn = peer.NewListener(mux.Merge(rpcLns...), secret, reject)
	c.raftDial = peer.NewDialer(peer.HeaderRaft, secret)
	c.rpc = peer.NewClient(peer.NewDialer(peer.HeaderRPC, secret), nil)
	c.rpcSrv = peer.NewServer(n.log.With("component", "peer-rpc"), nil)
	c.rpcSrv.Handle("cluster.status", c.handleStatus)
	c.rpcSrv.Handle("cluster.join", c.handleJoin)
	c.rpcSrv.Handle("cluster.propose", c.handlePropose)
	c.rpcSrv.Handle("cluster.failover", c.handleFailover)
	c.dir = filepath.Join(n.cfg.Dir, "gosentinel-raft-"+n.myid[:8])
	n.cl = c
	return resp, nil
}

// run serves the muxes and peer RPCs, then forms or rejoins the group,
// then follows leadership changes until ctx ends.
func (c *cluster) run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, m := range c.muxes {
		m := m
		wg.Add(1)
		go func() { defer wg.Done(); m.Serve() }()
	}
	wg.Add(1)
	go func() { defer wg.Done(); c.rpcSrv.Serve(c.rpcLn) }()
	wg.Add(1)
	go func() { defer wg.Done(); c.watchDeaths(ctx) }()
	defer wg.Wait()
	defer c.rpcSrv.Close()

	if err := c.openExisting(); err != nil {
		c.n.log.Warn("failed to open the Raft state: " + err.Error())
	}
	t := time.NewTicker(formTick)
	defer t.Stop()
	for !c.isActive() {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			c.formStep(ctx)
		}
	}
	c.followLeadership(ctx, t)
}

// openExisting reopens the Raft store of a previous run, if there is one.
func (c *cluster) openExisting() error {
	b, err := os.ReadFile(filepath.Join(c.dir, "advertise"))
	if err != nil {
		return nil // never formed: nothing to reopen
	}
	if err := c.open(strings.TrimSpace(string(b))); err != nil {
		return err
	}
	if st := c.getStore(); st.HasState() {
		c.mu.Lock()
		c.restarted = true
		c.mu.Unlock()
	}
	return nil
}

// open creates and starts the Raft store advertising addr.
func (c *cluster) open(addr string) error {
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		return fmt.Errorf("failed to create %s: %w", c.dir, err)
	}
	if err := writeFileSync(filepath.Join(c.dir, "advertise"), []byte(addr+"\n")); err != nil {
		return err
	}
	st, err := quorum.NewRaftStore(quorum.RaftConfig{
		ID: c.n.myid, Addr: addr, Dir: c.dir,
		Layer:  peer.NewLayer(c.raftLn, c.raftDial),
		Logger: c.n.log.With("component", "raft"),
	}, c.fsm)
	if err != nil {
		return err
	}
	if err := st.Open(); err != nil {
		return fmt.Errorf("failed to open raft in %s: %w", c.dir, err)
	}
	c.mu.Lock()
	c.store, c.addr = st, addr
	c.mu.Unlock()
	c.n.log.Info("Raft store open", "dir", c.dir, "addr", addr, "existing_state", st.HasState())
	return nil
}

func writeFileSync(path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("failed to write %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("failed to write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("failed to sync %s: %w", path, err)
	}
	f.Close()
	return os.Rename(tmp, path)
}

func (c *cluster) getStore() *quorum.RaftStore {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.store
}

// wasRestarted reports whether this sentinel reopened Raft state of a
// previous run (a member before, rather than joining for the first time).
func (c *cluster) wasRestarted() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.restarted
}

func (c *cluster) isActive() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.active
}

// peerInfo is a sentinel known through hellos or seeds.
type peerInfo struct {
	id   string
	addr string
	// down: subjectively down for every master it was seen with.
	down bool
}

// knownPeers gathers the other sentinels of every master, plus seeds.
func (c *cluster) knownPeers() []peerInfo {
	seen := map[string]peerInfo{}
	for _, name := range c.n.localFSM.State().Names() {
		ms, ok := c.n.mon.Status(name)
		if !ok {
			continue
		}
		for _, s := range ms.Sentinels {
			if s.RunID == "" || s.RunID == c.n.myid {
				continue
			}
			down := s.SDown
			if prev, ok := seen[s.RunID]; ok && !prev.down {
				down = false
			}
			seen[s.RunID] = peerInfo{id: s.RunID, addr: s.Ref.Addr.String(), down: down}
			if !s.LastHello.IsZero() {
				c.mu.Lock()
				if s.LastHello.After(c.lastSeen[s.RunID]) {
					c.lastSeen[s.RunID] = s.LastHello
				}
				c.mu.Unlock()
			}
		}
	}
	if active := c.isActive(); active {
		for _, name := range c.fsm.State().Names() {
			if ms, ok := c.n.mon.Status(name); ok {
				for _, s := range ms.Sentinels {
					if s.RunID != "" && s.RunID != c.n.myid {
						seen[s.RunID] = peerInfo{id: s.RunID, addr: s.Ref.Addr.String()}
					}
				}
			}
		}
	}
	out := make([]peerInfo, 0, len(seen)+len(c.opts.Peers))
	for _, p := range seen {
		out = append(out, p)
	}
	for _, a := range c.opts.Peers {
		out = append(out, peerInfo{addr: a})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id+out[i].addr < out[j].id+out[j].addr })
	return out
}

// advertiseAddr is the address peers reach this sentinel at: announce-ip,
// else a specific bind address, else the local address of a route toward
// target (no packet is sent for a UDP "dial").
func (c *cluster) advertiseAddr(target string) string {
	port := strconv.Itoa(c.n.announcedPort())
	c.n.mu.Lock()
	ip := ""
	if c.n.globals.announceIPSet && c.n.globals.announceIP != "" {
		ip = c.n.globals.announceIP
	}
	c.n.mu.Unlock()
	if ip == "" {
		if a, ok := c.n.lns[0].Addr().(*net.TCPAddr); ok && !a.IP.IsUnspecified() {
			ip = a.IP.String()
		}
	}
	if ip == "" && target != "" {
		if conn, err := net.Dial("udp", target); err == nil {
			ip = conn.LocalAddr().(*net.UDPAddr).IP.String()
			conn.Close()
		}
	}
	if ip == "" {
		ip = "127.0.0.1"
	}
	return net.JoinHostPort(ip, port)
}

// formStep is one round of group formation (see the file comment).
func (c *cluster) formStep(ctx context.Context) {
	st := c.getStore()
	if st != nil && st.HasState() {
		// A member from a previous run, or just joined: active once the log
		// replay is over and a leader is known.
		if !st.Recovering() {
			if id, addr := st.Leader(); id != "" && c.caughtUp(ctx, st, id, addr) {
				c.activate(ctx)
			}
		}
		return
	}
	peers := c.knownPeers()
	ids := make([]string, 0, len(peers))
	for _, p := range peers {
		ids = append(ids, p.id+"@"+p.addr)
	}
	set := strings.Join(ids, ",")
	now := time.Now()
	c.mu.Lock()
	if set != c.peerIDs || c.peerSince.IsZero() {
		c.peerIDs, c.peerSince = set, now
	}
	since := c.peerSince
	c.mu.Unlock()

	target := ""
	if len(peers) > 0 {
		target = peers[0].addr
	} else if names := c.n.localFSM.State().Names(); len(names) > 0 {
		m, _ := c.n.localFSM.Master(names[0])
		target = m.Addr.String()
	}
	if st == nil {
		if target == "" && len(c.opts.Peers) == 0 {
			return // nothing monitored yet: nobody to form a group with
		}
		if err := c.open(c.advertiseAddr(target)); err != nil {
			c.n.log.Warn("failed to start Raft: " + err.Error())
			return
		}
		st = c.getStore()
	}

	c.mu.Lock()
	if c.formingSince.IsZero() {
		c.formingSince = now
	}
	forming := now.Sub(c.formingSince)
	c.mu.Unlock()

	lowest := c.n.myid
	allAnswered := true
	answered := 0
	for _, p := range peers {
		var r statusReply
		cctx, cancel := context.WithTimeout(ctx, rpcTimeout)
		err := c.rpc.Call(cctx, p.addr, "cluster.status", nil, &r)
		cancel()
		if err != nil {
			if p.down {
				continue // dead before the group formed: not in the way
			}
			allAnswered = false
			if p.id != "" && p.id < lowest {
				lowest = p.id
			}
			continue
		}
		answered++
		if r.Member && r.LeaderAddr != "" {
			c.join(ctx, r.LeaderAddr)
			return
		}
		for _, id := range []string{r.ID, r.LowestID} {
			if id != "" && id < lowest {
				lowest = id
			}
		}
	}
	if lowest != c.n.myid || !allAnswered || now.Sub(since) < c.opts.Settle {
		return
	}
	if 2*(answered+1) <= len(peers)+1 {
		return // no majority of the known sentinels to vouch for us
	}
	// Give hellos time to arrive before concluding that we know everybody,
	// and expect at least quorum-1 peers (a master's quorum says how many
	// sentinels the operator runs at the very least); a sentinel that
	// stays short of that bootstraps anyway after loneAfter, so that a
	// group can form while some sentinels are down at first deployment.
	publish := c.n.timing.dur("PUBLISH-PERIOD")
	if forming < c.opts.Settle+2*publish {
		return
	}
	if need := c.expectedPeers(); len(peers) < need && forming < loneAfter {
		return
	}
	c.n.log.Warn("Bootstrapping a new Sentinel Raft group", "id", c.n.myid, "addr", c.addr, "known_peers", len(peers))
	if err := st.Bootstrap([]quorum.Server{{ID: c.n.myid, Addr: c.addr}}); err != nil {
		c.n.log.Warn("failed to bootstrap Raft: " + err.Error())
	}
}

// loneAfter is how long a sentinel that knows fewer peers than its
// masters' quorums imply waits before bootstrapping with what it knows.
const loneAfter = 30 * time.Second

// expectedPeers is the largest quorum of the masters watched, minus one.
func (c *cluster) expectedPeers() int {
	need := 0
	st := c.n.localFSM.State()
	for _, m := range st.Masters {
		if m.Quorum-1 > need {
			need = m.Quorum - 1
		}
	}
	return need
}

// join asks the leader to add this sentinel as a voter.
func (c *cluster) join(ctx context.Context, leaderAddr string) {
	cctx, cancel := context.WithTimeout(ctx, rpcTimeout)
	defer cancel()
	err := c.rpc.Call(cctx, leaderAddr, "cluster.join", joinRequest{ID: c.n.myid, Addr: c.addr}, nil)
	if err != nil {
		c.n.log.Info("join request failed", "leader", leaderAddr, "error", err)
		return
	}
	c.n.log.Warn("Joined the Sentinel Raft group", "leader", leaderAddr)
}

// activate makes the replicated state the node's state: the monitor is
// reconciled with it, and masters this sentinel knew alone are proposed to
// the group (first writer wins).
// caughtUp reports whether this member has applied everything the leader
// had applied when asked (the leader itself always has).
func (c *cluster) caughtUp(ctx context.Context, st *quorum.RaftStore, leaderID, leaderAddr string) bool {
	if leaderID == c.n.myid {
		return true
	}
	var r statusReply
	cctx, cancel := context.WithTimeout(ctx, rpcTimeout)
	defer cancel()
	if err := c.rpc.Call(cctx, leaderAddr, "cluster.status", nil, &r); err != nil {
		return false
	}
	return st.AppliedIndex() >= r.Applied
}

func (c *cluster) activate(ctx context.Context) {
	c.mu.Lock()
	if c.active {
		c.mu.Unlock()
		return
	}
	c.active = true
	c.mu.Unlock()
	n := c.n
	local := n.localFSM.State()
	n.setActiveFSM(c.fsm)
	n.reconcileMonitor()
	n.log.Warn("Sentinel Raft group active: the replicated state is now authoritative")
	if c.wasRestarted() {
		// A member from a previous run: the group's state is the truth.
		// Proposing its config file's masters would bring back a master
		// the group removed while it was down (or catching up).
		return
	}
	go c.mergeLocal(ctx, local)
}

// mergeLocal proposes what this sentinel knew before joining and the group
// does not have. Retries until it goes through or ctx ends.
func (c *cluster) mergeLocal(ctx context.Context, local *quorum.State) {
	for _, name := range local.Names() {
		m := local.Masters[name]
		for {
			if _, ok := c.fsm.Master(name); ok {
				break
			}
			err := c.n.propose(ctx, &quorum.Command{Op: quorum.OpMonitor, Master: m, At: nowMs()})
			if err == nil || errors.Is(err, quorum.ErrDuplicateMaster) || strings.Contains(err.Error(), "Duplicate master") {
				break
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(500 * time.Millisecond):
			}
		}
	}
	if local.CurrentEpoch > c.fsm.CurrentEpoch() {
		c.n.propose(ctx, &quorum.Command{Op: quorum.OpObserveEpoch, Epoch: local.CurrentEpoch, At: nowMs()})
	}
}

// followLeadership runs the failover engine for each term this sentinel
// leads, and the membership housekeeping.
func (c *cluster) followLeadership(ctx context.Context, t *time.Ticker) {
	st := c.getStore()
	var cancel context.CancelFunc
	stop := func() {
		if cancel != nil {
			cancel()
			cancel = nil
		}
	}
	defer stop()
	start := func() {
		if cancel != nil {
			return
		}
		var tctx context.Context
		tctx, cancel = context.WithCancel(ctx)
		go c.n.eng.Run(tctx)
	}
	if st.IsLeader() {
		start()
	}
	for {
		select {
		case <-ctx.Done():
			return
		case leader := <-st.LeaderChanges():
			if leader {
				start()
			} else {
				stop()
			}
		case <-t.C:
			if st.IsLeader() {
				start()
				c.collectMembers()
			}
		}
	}
}

// collectMembers removes members not heard from for MemberTimeout (no
// ghost sentinels): a member is heard from through its hellos.
func (c *cluster) collectMembers() {
	st := c.getStore()
	servers, err := st.Servers()
	if err != nil {
		return
	}
	c.knownPeers() // refreshes lastSeen from hellos
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range servers {
		if s.ID == c.n.myid {
			continue
		}
		seen, ok := c.lastSeen[s.ID]
		if !ok {
			c.lastSeen[s.ID] = now // start the clock when first considered
			continue
		}
		if now.Sub(seen) > c.opts.MemberTimeout {
			c.n.log.Warn("Removing Sentinel from the Raft group: not heard from", "id", s.ID, "addr", s.Addr, "for", now.Sub(seen).Round(time.Second))
			if err := st.RemoveServer(s.ID); err == nil {
				delete(c.lastSeen, s.ID)
			}
		}
	}
}

func (c *cluster) handleStatus(ctx context.Context, _ json.RawMessage) (any, error) {
	r := statusReply{ID: c.n.myid, LowestID: c.n.myid}
	for _, p := range c.knownPeers() {
		if p.id != "" && !p.down && p.id < r.LowestID {
			r.LowestID = p.id
		}
	}
	if st := c.getStore(); st != nil {
		r.Addr = c.addr
		r.Applied = st.AppliedIndex()
		if st.HasState() {
			r.LeaderID, r.LeaderAddr = st.Leader()
			r.Member = r.LeaderID != ""
		}
	}
	return r, nil
}

func (c *cluster) handleJoin(ctx context.Context, body json.RawMessage) (any, error) {
	var req joinRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, fmt.Errorf("bad join request: %w", err)
	}
	st := c.getStore()
	if st == nil || !st.IsLeader() {
		return nil, errors.New("not the leader")
	}
	if err := st.AddVoter(req.ID, req.Addr); err != nil {
		return nil, fmt.Errorf("failed to add %s at %s: %w", req.ID, req.Addr, err)
	}
	c.mu.Lock()
	c.lastSeen[req.ID] = time.Now()
	c.mu.Unlock()
	c.n.log.Warn("Sentinel joined the Raft group", "id", req.ID, "addr", req.Addr)
	return nil, nil
}

type failoverRequest struct {
	Name string `json:"name"`
}

func (c *cluster) handleFailover(ctx context.Context, body json.RawMessage) (any, error) {
	var req failoverRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, fmt.Errorf("bad failover request: %w", err)
	}
	st := c.getStore()
	if st == nil || !st.IsLeader() {
		return nil, ErrNoLeader
	}
	return nil, c.n.Failover(req.Name)
}

// forwardFailover asks the leader to run SENTINEL FAILOVER: redis-sentinel
// accepts it on any sentinel, and only the leader may act.
func (c *cluster) forwardFailover(ctx context.Context, name string) error {
	st := c.getStore()
	if st == nil {
		return ErrNoLeader
	}
	_, addr := st.Leader()
	if addr == "" {
		return ErrNoLeader
	}
	cctx, cancel := context.WithTimeout(ctx, rpcTimeout+5*time.Second)
	defer cancel()
	err := c.rpc.Call(cctx, addr, "cluster.failover", failoverRequest{Name: name}, nil)
	var re *peer.RemoteError
	if errors.As(err, &re) {
		return sentinel.ReplyError(re.Msg)
	}
	if err != nil {
		return ErrNoLeader
	}
	return nil
}

// vouches reports whether this sentinel may advertise master addresses:
// always when alone, and as a member only while it heard from a leader
// within StaleAfter.
func (c *cluster) vouches() bool {
	st := c.getStore()
	if !c.isActive() {
		// Alone so far: vouch like a lone redis-sentinel, unless this
		// sentinel was a member before a restart and still has not found
		// its group's leader after the stale bound.
		return st == nil || !c.wasRestarted() || time.Since(c.n.startedAt) < c.opts.StaleAfter
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
	for _, m := range c.muxes {
		m.Close()
	}
}

// reconcileMonitor points the monitor at the masters of the now active
// state: new or moved masters are watched, the others dropped.
func (n *Node) reconcileMonitor() {
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
	// Masters only this sentinel knew stay watched on a first join:
	// mergeLocal proposes them to the group, and their OpMonitor arrives
	// through onApply. A member from a previous run drops them: the group
	// removed them while it was away.
	if n.cl != nil && n.cl.wasRestarted() {
		for _, name := range n.mon.Names() {
			if _, ok := cur.Masters[name]; !ok {
				n.mon.Unwatch(name)
			}
		}
	}
	n.flusher.request()
}

// onApplyRaft reacts to replicated commands once the group is this node's
// state; before that (log replay, catch-up) the state is adopted wholesale
// at activation.
func (n *Node) onApplyRaft(c *quorum.Command, result error) {
	if n.cl == nil || !n.cl.isActive() {
		return
	}
	n.onApply(c, result)
}
