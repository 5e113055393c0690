package quorum

// The Raft store: hashicorp/raft feeding the FSM from a replicated log.
//
// Storage. Under RaftConfig.Dir: raft.db, one raft-boltdb/v2 (bbolt) file
// holding both the log and the stable store (term, vote), fronted by a small
// in-memory log cache; snapshots/, a raft FileSnapshotStore keeping the two
// newest snapshots. A snapshot is the FSM's versioned JSON state
// (WriteSnapshot's format); the state is small, so Snapshot deep-copies it
// and Persist writes it while Apply goes on.
//
// Transport. raft's NetworkTransport over a Layer: connections to and from
// peers travel on the sentinel port itself, told apart from RESP clients by
// a first byte no Redis client sends (internal/mux), so one port 26379 keeps
// working with an unchanged StatefulSet, Service and NetworkPolicy. The
// transport reports the advertised address (RaftConfig.Addr), not the
// listener's, because Raft sends its own address in vote requests and
// reports it as the leader's.
//
// Authentication. Every connection the Layer yields or dials has already
// passed the GSP3 handshake over the shared secret and is sealed after it
// (internal/peer): a process without the secret never gets one Raft byte
// through, so it cannot vote, append or join. quorum itself only sees
// authenticated connections.
//
// Timing defaults and why (raft's own defaults are 1 s / 1 s / 500 ms,
// tuned for WANs and large logs; sentinels are a handful of processes on one
// LAN exchanging a few small commands):
//   - HeartbeatTimeout 500 ms: a follower that hears nothing from the leader
//     for 500 ms-1 s (raft randomises) starts an election. The leader sends
//     heartbeats every 3/20 of it, 75 ms, to every follower at once
//     (third_party/raft.patch; upstream waits a random 50-100 ms per
//     follower), so this is six or more missed heartbeats: not triggered by
//     one GC pause or a busy 2-core machine,
//     yet a dead leader in the middle of a failover costs about a second,
//     not two.
//   - ElectionTimeout 500 ms: how long a candidate waits for votes before
//     retrying, likewise randomised; equal to the heartbeat timeout as in
//     raft's defaults.
//   - LeaderLeaseTimeout 250 ms: a leader that cannot reach a majority for
//     this long steps down (LeaderChanges delivers false), which bounds how
//     long a partitioned leader keeps believing it leads and so how long its
//     leader loop may run; must not exceed HeartbeatTimeout.
//   - CommitTimeout 50 ms: raft's default; how often the leader retries a
//     follower that lacks an entry or the commit index, or whose last RPC
//     failed. With third_party/raft.patch a new commit index is pushed at
//     once, and a follower that already has it is sent it again only once
//     a second, not every CommitTimeout.
//
// Leadership notifications come from raft.Config.NotifyCh, not LeaderCh:
// NotifyCh delivers every transition in order (LeaderCh coalesces them), so
// a leader loop started on true is always stopped by the matching false.

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
)

// Timing defaults for a sentinel group; see the file comment for why.
const (
	DefaultHeartbeatTimeout   = 500 * time.Millisecond
	DefaultElectionTimeout    = 500 * time.Millisecond
	DefaultLeaderLeaseTimeout = 250 * time.Millisecond
	DefaultCommitTimeout      = 50 * time.Millisecond
)

const (
	// raftDBFile holds the log and the stable store.
	raftDBFile = "raft.db"
	// retainSnapshots is how many snapshots the snapshot store keeps.
	retainSnapshots = 2
	// transportTimeout bounds dialing (and the handshake) and each RPC's IO.
	transportTimeout = 5 * time.Second
	// transportMaxPool is how many idle connections to keep per peer.
	transportMaxPool = 3
	// logCacheSize keeps the newest entries in memory for replication.
	logCacheSize = 512
	// defaultOpTimeout bounds proposals without a context deadline and
	// membership changes.
	defaultOpTimeout = 10 * time.Second
)

// Errors returned by RaftStore.
var (
	// ErrNotLeader is returned when an operation that needs the leader runs
	// on a follower or candidate; the caller forwards it to the leader.
	ErrNotLeader = errors.New("not the raft leader")
	// ErrLeadershipLost is returned by Propose when leadership was lost
	// after the command entered the log and before it was known to commit:
	// it may still apply. It matches ErrNotLeader with errors.Is; a caller
	// that must not apply a command twice checks for it first.
	ErrLeadershipLost = fmt.Errorf("%w: leadership lost before the command was known to commit (it may still apply)", ErrNotLeader)
	// ErrClosed is returned by operations on a store that is not open.
	ErrClosed = errors.New("raft store is not open")
)

// Server is a member of the Raft group: its server id (the sentinel's
// myid) and advertised host:port (its sentinel port).
type Server struct {
	ID   string
	Addr string
}

// RaftConfig configures a RaftStore. Zero durations and counts take the
// defaults above or raft's.
type RaftConfig struct {
	// ID is this server's id (the sentinel's myid); Addr its advertised
	// host:port (the sentinel port).
	ID, Addr string
	// Dir holds raft.db and snapshots/.
	Dir string
	// Layer carries Raft's authenticated connections.
	Layer Layer

	HeartbeatTimeout, ElectionTimeout, LeaderLeaseTimeout, CommitTimeout time.Duration
	// SnapshotThreshold is how many log entries trigger a snapshot (raft's
	// default 8192 when 0).
	SnapshotThreshold uint64
	// TrailingLogs is how many entries a snapshot leaves in the log so a
	// slightly lagging follower catches up without a snapshot (raft's
	// default 10240 when 0).
	TrailingLogs uint64
	// SnapshotInterval is how often raft checks SnapshotThreshold (raft's
	// default 120 s when 0; each check waits a random 1 to 2 intervals).
	SnapshotInterval time.Duration
	// Logger receives Raft's logs (bridged from hclog); nil discards them.
	Logger *slog.Logger
	// AbstainTerm, when non-zero and the stable store holds no term yet,
	// is recorded before Raft starts as the current term and as a term in
	// which this server already voted (for nobody). A sentinel that lost
	// its disk and rejoins passes the highest term its peers report, so it
	// can never vote a second time in a term its former self voted in.
	AbstainTerm uint64
	// OnConfiguration, if set, is called on every server for each
	// committed configuration entry, in log order (raft's
	// ConfigurationStore), with the voters it names: the node logs every
	// change of voters from it. Calls made while Recovering are replays.
	OnConfiguration func(index uint64, voters []Server)

	// DialAddress, if set, gives the address to dial server id at now,
	// instead of the one in the configuration (raft's
	// ServerAddressProvider): sentinels move, and a group whose members
	// all moved could otherwise never elect a leader to record it. The
	// node returns an address that also names the id, so that the dial
	// reaches that server or fails (internal/peer.TargetAddr).
	DialAddress func(id string) (string, bool)

	// Transport, LogStore, StableStore and SnapshotStore replace the
	// network transport over Layer and the stores under Dir (the group
	// simulation runs on raft's in-memory transport and stores). Either
	// all three stores are set or none.
	Transport     raft.Transport
	LogStore      raft.LogStore
	StableStore   raft.StableStore
	SnapshotStore raft.SnapshotStore
	// OnRestore, if set, is called after the FSM's state was replaced by a
	// snapshot (at Open from the local snapshot, or installed by the
	// leader), with the state it replaced: no ApplyFunc call reports such a
	// change, so the node re-reads the whole state, and tells a record the
	// snapshot moved from one it recreated (CreatedAt) by the state before.
	OnRestore func(before *State)
}

// RaftStore replicates Commands through hashicorp/raft and applies them to
// an FSM on every member. Lifecycle: NewRaftStore, Open (once), then
// Bootstrap if !HasState and this server forms the group, then Propose and
// the rest; Close at the end.
type RaftStore struct {
	cfg     RaftConfig
	fsm     *FSM
	adapter *raftFSM
	logger  *slog.Logger

	mu          sync.RWMutex // guards the fields below against Open/Close
	raft        *raft.Raft
	closeStores func() error // closes the bolt file; nil for injected stores
	logs        raft.LogStore
	logWatch    *logWatch // logs, watched (LogStoreError)
	stable      raft.StableStore
	snaps       raft.SnapshotStore
	opened      bool
	closed      bool
	// heartbeats tracks, on the leader, which followers fail heartbeats
	// and since when (membership decisions).
	heartbeats heartbeatWatch

	notifyCh  chan bool // raft.Config.NotifyCh
	leaderCh  chan bool // LeaderChanges, fed in order by forwardLeaderChanges
	fwdStop   chan struct{}
	fwdDone   chan struct{}
	closeOnce sync.Once
	// replayTo is the index of the last command in the log at Open, and
	// replayTerm its term: until the FSM has applied it, applies are
	// replays (Recovering), unless a new leader replaced that entry (it
	// was an uncommitted tail).
	replayTo   atomic.Uint64
	replayTerm uint64
	replayDone atomic.Bool
	// gate isolates this server from its group's Raft (Isolate).
	gate gate
	// tail caches FailoverAfterLog's answer.
	tailMu sync.Mutex
	tail   tailAnswer
}

// NewRaftStore checks cfg and returns a store that feeds fsm; call Open to
// start it.
func NewRaftStore(cfg RaftConfig, fsm *FSM) (*RaftStore, error) {
	inmem := cfg.LogStore != nil || cfg.StableStore != nil || cfg.SnapshotStore != nil
	if inmem && (cfg.LogStore == nil || cfg.StableStore == nil || cfg.SnapshotStore == nil) {
		return nil, errors.New("raft store needs all of its log, stable and snapshot stores, or none")
	}
	if cfg.ID == "" || cfg.Addr == "" || (cfg.Dir == "" && !inmem) || (cfg.Layer == nil && cfg.Transport == nil) || fsm == nil {
		return nil, errors.New("raft store needs an id, an address, a directory, a layer and an FSM")
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &RaftStore{
		cfg:      cfg,
		fsm:      fsm,
		adapter:  &raftFSM{fsm: fsm, onRestore: cfg.OnRestore, onConfiguration: cfg.OnConfiguration},
		logger:   logger,
		notifyCh: make(chan bool, 8),
		leaderCh: make(chan bool, 8),
		fwdStop:  make(chan struct{}),
		fwdDone:  make(chan struct{}),
	}, nil
}

// raftConfig turns cfg into raft's configuration with our defaults.
func (s *RaftStore) raftConfig(logger hclog.Logger) *raft.Config {
	c := raft.DefaultConfig()
	c.LocalID = raft.ServerID(s.cfg.ID)
	c.HeartbeatTimeout = pick(s.cfg.HeartbeatTimeout, DefaultHeartbeatTimeout)
	c.ElectionTimeout = pick(s.cfg.ElectionTimeout, DefaultElectionTimeout)
	c.LeaderLeaseTimeout = pick(s.cfg.LeaderLeaseTimeout, DefaultLeaderLeaseTimeout)
	c.CommitTimeout = pick(s.cfg.CommitTimeout, DefaultCommitTimeout)
	if s.cfg.SnapshotThreshold != 0 {
		c.SnapshotThreshold = s.cfg.SnapshotThreshold
	}
	if s.cfg.TrailingLogs != 0 {
		c.TrailingLogs = s.cfg.TrailingLogs
	}
	if s.cfg.SnapshotInterval != 0 {
		c.SnapshotInterval = s.cfg.SnapshotInterval
	}
	c.NotifyCh = s.notifyCh
	c.Logger = logger
	return c
}

func pick(v, def time.Duration) time.Duration {
	if v != 0 {
		return v
	}
	return def
}

// Open creates or reopens the stores under Dir and starts Raft. Existing
// state is recovered: the newest snapshot is restored into the FSM before
// Open returns, and the log after it is replayed once this server learns
// the commit index (from a leader, or by winning an election).
func (s *RaftStore) Open() (err error) {
	// s.mu is not held while raft starts: NewRaft restores the snapshot
	// synchronously and OnRestore may call back into the store.
	s.mu.Lock()
	if s.opened {
		s.mu.Unlock()
		return errors.New("raft store opened twice")
	}
	s.opened = true
	s.mu.Unlock()
	hlog := newHclogBridge(s.logger, "raft")
	rc := s.raftConfig(hlog)
	if err := raft.ValidateConfig(rc); err != nil {
		return fmt.Errorf("invalid raft configuration: %w", err)
	}
	st, err := s.openStores(hlog)
	if err != nil {
		return err
	}
	started := false
	defer func() {
		if !started && st.close != nil {
			st.close()
		}
	}()
	replayTo, replayTerm, err := lastCommand(st.logs)
	if err != nil {
		return err
	}
	watch := &logWatch{LogStore: st.logs}
	st.logs = watch
	s.adapter.logs = watch // before NewRaft, which may restore a snapshot
	st.snaps = indexSnapshots{SnapshotStore: st.snaps, fsm: s.adapter}
	s.replayTo.Store(replayTo)
	s.replayTerm = replayTerm
	if err := abstain(st.stable, s.cfg.AbstainTerm); err != nil {
		return err
	}
	trans := s.cfg.Transport
	if trans == nil {
		tc := &raft.NetworkTransportConfig{
			Stream:  &gatedLayer{streamLayer: &streamLayer{Layer: s.cfg.Layer, advertise: advertisedAddr(s.cfg.Addr)}, g: &s.gate},
			MaxPool: transportMaxPool,
			Timeout: transportTimeout,
			Logger:  hlog.Named("net"),
			// No pipelining: a sentinel group commits a few small
			// commands, and raft's pipeline reads a follower's address
			// without its lock when a member is re-addressed (a data race
			// in raft 1.7.3's pipelineSend, seen by the group simulation).
			MaxRPCsInFlight: 1,
		}
		if s.cfg.DialAddress != nil {
			tc.ServerAddressProvider = addressProvider{self: s.cfg.ID, advertise: s.cfg.Addr, dial: s.cfg.DialAddress}
		}
		trans = raft.NewNetworkTransportWithConfig(tc)
	}
	r, err := raft.NewRaft(rc, s.adapter, st.logs, st.stable, st.snaps, trans)
	if err != nil {
		if c, ok := trans.(io.Closer); ok && s.cfg.Transport == nil {
			c.Close()
		}
		return fmt.Errorf("failed to start raft: %w", err)
	}
	started = true
	// NewRaft restored the newest snapshot: entries up to it are not
	// replayed through Apply.
	s.adapter.raiseApplied(r.AppliedIndex())
	s.fsm.NoteIndex(r.AppliedIndex())
	s.heartbeats.watch(r)
	s.mu.Lock()
	s.raft, s.closeStores, s.logs, s.stable, s.snaps = r, st.close, st.logs, st.stable, st.snaps
	s.logWatch = watch
	closed := s.closed
	s.mu.Unlock()
	go s.forwardLeaderChanges()
	if closed { // Close ran while we were starting: it found nothing to stop
		s.shutdown()
		return ErrClosed
	}
	return nil
}

// lastCommand finds the newest command entry in the log, its index and
// term (trailing configuration changes and no-ops never reach the FSM).
func lastCommand(logs raft.LogStore) (index, term uint64, err error) {
	first, err := logs.FirstIndex()
	if err != nil {
		return 0, 0, fmt.Errorf("failed to read raft log: %w", err)
	}
	last, err := logs.LastIndex()
	if err != nil {
		return 0, 0, fmt.Errorf("failed to read raft log: %w", err)
	}
	for i := last; i >= first && i > 0; i-- {
		var l raft.Log
		if err := logs.GetLog(i, &l); err != nil {
			return 0, 0, fmt.Errorf("failed to read raft log entry %d: %w", i, err)
		}
		if l.Type == raft.LogCommand {
			return i, l.Term, nil
		}
	}
	return 0, 0, nil
}

// forwardLeaderChanges moves raft's notifications to LeaderChanges through
// an unbounded ordered queue: raft blocks on NotifyCh until it is read, and
// must never wait on the node.
func (s *RaftStore) forwardLeaderChanges() {
	defer close(s.fwdDone)
	var queue []bool
	for {
		var out chan bool
		var next bool
		if len(queue) > 0 {
			out, next = s.leaderCh, queue[0]
		}
		select {
		case v := <-s.notifyCh:
			queue = append(queue, v)
		case out <- next:
			queue = queue[1:]
		case <-s.fwdStop:
			return
		}
	}
}

// HasState reports whether Dir holds any Raft state (a log, a term or a
// snapshot): a server with state must not Bootstrap. Valid after Open.
func (s *RaftStore) HasState() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.raft == nil {
		return false
	}
	ok, err := raft.HasExistingState(s.logs, s.stable, s.snaps)
	if err != nil {
		s.logger.Warn("failed to check raft state", "component", "raft", "err", err)
		return true // the conservative answer: do not bootstrap over it
	}
	return ok
}

// Bootstrap makes servers the group's first configuration. Call it on a
// store without state, on one server (with every member) or on each with
// the same list.
func (s *RaftStore) Bootstrap(servers []Server) error {
	r, err := s.get()
	if err != nil {
		return err
	}
	cfg := raft.Configuration{}
	for _, srv := range servers {
		cfg.Servers = append(cfg.Servers, raft.Server{
			Suffrage: raft.Voter,
			ID:       raft.ServerID(srv.ID),
			Address:  raft.ServerAddress(srv.Addr),
		})
	}
	if err := r.BootstrapCluster(cfg).Error(); err != nil {
		return fmt.Errorf("failed to bootstrap raft group: %w", err)
	}
	return nil
}

// get returns the running raft or ErrClosed.
func (s *RaftStore) get() (*raft.Raft, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.raft == nil || s.closed {
		return nil, ErrClosed
	}
	return s.raft, nil
}

// Close shuts Raft down (closing its transport and so the Layer) and closes
// the stores. LeaderChanges is not closed.
func (s *RaftStore) Close() error {
	s.mu.Lock()
	s.closed = true
	started := s.raft != nil
	s.mu.Unlock()
	if !started {
		return nil
	}
	return s.shutdown()
}

func (s *RaftStore) shutdown() error {
	var err error
	s.closeOnce.Do(func() {
		s.mu.RLock()
		r, closeStores := s.raft, s.closeStores
		s.mu.RUnlock()
		if e := r.Shutdown().Error(); e != nil {
			err = fmt.Errorf("failed to shut raft down: %w", e)
		}
		s.heartbeats.stop(r)
		close(s.fwdStop)
		<-s.fwdDone
		if closeStores != nil {
			if e := closeStores(); e != nil && err == nil {
				err = fmt.Errorf("failed to close raft log store: %w", e)
			}
		}
	})
	return err
}
