// Package node assembles one gosentinel: it takes a parsed sentinel.conf and
// wires the replicated state (quorum), the links to Redis nodes and peers
// (monitor) and the RESP command surface (sentinel), and implements the
// sentinel.Backend that the command surface answers from.
//
// It is the embeddable API: cmd/gosentinel is a thin argv wrapper around it,
// and a Go program or a test can run a sentinel in-process:
//
//	cfg, err := config.Load("sentinel.conf", nil)
//	n, err := node.New(cfg, node.Options{})
//	err = n.Serve(ctx) // until ctx ends or SHUTDOWN
//	n.Close()
package node

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/x0tta6bl4/gosentinel/config"
	"github.com/x0tta6bl4/gosentinel/internal/beat"
	"github.com/x0tta6bl4/gosentinel/internal/compat"
	"github.com/x0tta6bl4/gosentinel/internal/logging"
	"github.com/x0tta6bl4/gosentinel/internal/strerror"
	"github.com/x0tta6bl4/gosentinel/internal/tlsconf"
	"github.com/x0tta6bl4/gosentinel/monitor"
	"github.com/x0tta6bl4/gosentinel/quorum"
	"github.com/x0tta6bl4/gosentinel/replication"
	"github.com/x0tta6bl4/gosentinel/sentinel"
)

// Options are the embedding knobs that a config file does not carry.
type Options struct {
	// Listeners replace the listeners the node would open from the config's
	// bind/port (tests pass 127.0.0.1:0). The node owns and closes them.
	Listeners []net.Listener
	// Logger replaces the logger built from logfile/loglevel.
	Logger *slog.Logger
	// Executable is reported by INFO (defaults to os.Executable).
	Executable string
	// Version is gosentinel's build version, reported by
	// gosentinel_build_info (defaults to "dev").
	Version string
	// Cluster tunes Raft membership (environment variables fill what is
	// unset; see ClusterOptions).
	Cluster ClusterOptions
}

// Node is one running sentinel.
type Node struct {
	cfg    *config.Config // as loaded; runtime state is merged in on rewrite
	log    *slog.Logger
	logOut io.Closer
	// logLevel is the level of the log built from logfile/loglevel, which
	// SENTINEL CONFIG SET loglevel changes (8.0 profile).
	logLevel slog.LevelVar
	// compat is the redis-sentinel version this node behaves as.
	compat compat.Profile
	// hostIPs: the IPs events, INFO and GET-MASTER-ADDR-BY-NAME name
	// hostnames by (hostIP).
	hostIPs hostIPs

	// localFSM is the state while this sentinel is alone (Raft disabled,
	// or before it joined a group); active points at the state in force:
	// localFSM, or the Raft group's once joined.
	localFSM *quorum.FSM
	// localGate orders local proposals (read side) against the switch to
	// the group's state (write side, cluster.mergeAndSwitch): none lands
	// between the check that the group has the local state and the switch.
	localGate sync.RWMutex
	active    atomic.Pointer[quorum.FSM]
	store     *quorum.Local
	cl        *cluster // nil when Raft is disabled
	// own holds this sentinel's settings per master (settings.go).
	own   ownSettings
	mon   *monitor.Monitor
	srv   *sentinel.Server
	eng   *replication.Engine
	redis *replication.Controller
	lns   []net.Listener
	// tls holds the certificates when TLS is configured (tls.go), else nil.
	tls *tlsconf.TLS
	// respLns are where RESP clients arrive: lns themselves, or the
	// default routes of the port muxes when Raft shares the port; and
	// unixLn, the unixsocket (clients only, never Raft), if configured.
	respLns []net.Listener
	unixLn  net.Listener

	timing  *timings
	mx      *nodeMetrics // metrics registry and listener (metrics.go)
	scripts *scriptRunner
	queue   *monitor.CallbackQueue
	flusher *flusher

	mu      sync.Mutex // guards the local (non replicated) state below
	myid    string
	globals globals
	local   map[string]*masterLocal // per master: votes, odown, failover
	// odownLocals counts the records of local with odown set
	// (setODownLocked, setLocalLocked), so the ODOWN check, every 100 ms,
	// walks every record only while one is ODOWN.
	odownLocals int
	// electing counts redis-sentinel elections under way (elect.go).
	electing atomic.Int32
	// voteMu makes a vote's check of whether this sentinel votes and its
	// record one step against the changes that stop it voting (shared in
	// IsMasterDownByAddr, exclusive in protocol.go's quiet and rejoin):
	// a vote checked before such a change is recorded before that
	// change's check for recent votes.
	voteMu sync.RWMutex
	// seed holds the known replicas/sentinels of config-file masters until
	// their OpMonitor is applied and the monitor watches them.
	seed map[string]monitor.MasterSpec

	runID     string
	startedAt time.Time
	shutdown  chan struct{}
	closeOnce sync.Once
	wg        sync.WaitGroup
	cancel    context.CancelFunc
}

// globals are the sentinel-wide settings that CONFIG SET changes.
type globals struct {
	announceIP        string
	announceIPSet     bool
	announcePort      int
	resolveHostnames  bool
	announceHostnames bool
	sentinelUser      string
	sentinelPass      string
	denyScripts       bool
	simFailure        int    // bit 1: crash after election, bit 2: after promotion
	logLevel          string // SENTINEL CONFIG GET loglevel (8.0 profile)
}

// masterLocal is the per-sentinel, non-replicated state of a master.
type masterLocal struct {
	leader      string // runid this sentinel voted for
	leaderEpoch uint64
	odown       bool
	odownSince  time.Time
	// failoverStart paces failovers (2×failover-timeout between attempts).
	failoverStart time.Time
	// adoptedOf identifies the replicated master (origin and creation
	// time) this sentinel answered OK to a MONITOR of, once, although
	// another member had added it (see adoptOrDuplicate). Keyed by identity
	// rather than reset on REMOVE, because a member that was catching up
	// when the group removed and re-added the master never saw the REMOVE.
	adoptedOf string
	// ledEpoch is the epoch of the failover whose promotion this sentinel
	// led (its client-reconfig-script ran as leader): the switch it
	// records runs no observer script here (switchedMaster).
	ledEpoch uint64
}

// New builds a node from cfg. It opens the log and listeners but starts no
// goroutines; call Serve.
func New(cfg *config.Config, opts Options) (*Node, error) {
	n := &Node{
		cfg:       cfg.Clone(),
		timing:    newTimings(),
		local:     map[string]*masterLocal{},
		own:       ownSettings{m: map[string]*quorum.Master{}},
		seed:      map[string]monitor.MasterSpec{},
		runID:     randomHex(40),
		startedAt: time.Now(),
		shutdown:  make(chan struct{}),
	}
	p, err := compatProfile(cfg)
	if err != nil {
		return nil, err
	}
	n.compat = p
	if p == compat.V70 && cfg.LogLevel == "nothing" {
		return nil, cfg.LogLevelError()
	}
	if err := checkUsers(cfg, p); err != nil {
		return nil, err
	}
	if err := n.openLog(opts.Logger); err != nil {
		return nil, err
	}
	if err := n.setupTLS(cfg); err != nil {
		n.closeLog()
		return nil, err
	}
	n.globals = globals{
		announceIP:        cfg.AnnounceIP,
		announceIPSet:     cfg.AnnounceIP != "",
		announcePort:      cfg.AnnouncePort,
		resolveHostnames:  cfg.ResolveHostnames,
		announceHostnames: cfg.AnnounceHostnames,
		sentinelUser:      cfg.SentinelUser,
		sentinelPass:      cfg.SentinelPass,
		denyScripts:       cfg.DenyScriptsReconfig,
		logLevel:          orNotice(cfg.LogLevel),
	}
	n.myid = cfg.MyID
	newID := n.myid == ""
	if newID {
		n.myid = randomHex(40)
	}

	// The monitor's callbacks that may block on Raft or the server run on
	// the node's own queue, not on the monitor's delivering goroutine; what
	// is queued when the node stops is dropped.
	n.queue = monitor.NewCallbackQueue()
	n.scripts = newScriptRunner(n.log, n.timing)
	n.flusher = newFlusher(n)
	n.flusher.written = config.RenderState(cfg) // what the file holds
	n.localFSM = quorum.NewFSM(n.onApplyLocal)
	n.active.Store(n.localFSM)
	n.store = quorum.NewLocal(n.localFSM)

	n.mon = monitor.New(monitor.Config{
		MyID:              n.myid,
		HelloPayload:      n.helloPayload,
		OnEvent:           func(e monitor.Event) { n.queue.Push(func() { n.emitMonitorEvent(e) }) },
		OnHello:           n.hello,
		OnTopologyChange:  func(string) { n.flusher.request() },
		OnPeerVerdict:     func(master string) { n.queue.Push(func() { n.checkMasterObjectivelyDown(master) }) },
		Timing:            n.timing.monitorTiming,
		CurrentEpoch:      func() uint64 { return n.sm().CurrentEpoch() },
		SentinelUser:      cfg.SentinelUser,
		SentinelPass:      n.sentinelPassForPeers(),
		ResolveHostnames:  cfg.ResolveHostnames,
		AnnounceHostnames: cfg.AnnounceHostnames,
		TLS:               n.clientTLS(),
		NewTicker: func(d time.Duration) (<-chan time.Time, func()) {
			t := beat.NewTicker(d)
			return t.C, t.Stop
		},
		Logger: n.log, // the monitor names its component
	})

	mx, err := n.newMetrics(cmp.Or(opts.Version, "dev"))
	if err != nil {
		n.mon.Close()
		n.closeLog()
		return nil, err
	}
	n.mx = mx
	n.eng = n.newEngine()

	exe := opts.Executable
	if exe == "" {
		exe, _ = os.Executable()
	}
	maxClients, err := n.fitMaxClients(cfg.MaxClients())
	if err != nil {
		n.closeLog()
		return nil, err
	}
	unixPath, _ := cfg.UnixSocket()
	srv, err := sentinel.NewServer(sentinel.Config{
		MaxClients:     maxClients,
		Backend:        n,
		RequirePass:    cfg.RequirePass,
		HasRequirePass: cfg.HasRequirePass,
		Users:          cfg.Users,
		ACLFile:        cfg.ACLFile,
		RunID:          n.runID,
		Port:           cfg.Port,
		TLSPort:        cfg.TLSPort,
		UnixSocket:     unixPath,
		Bind:           cfg.Bind,
		ConfiguredHz:   cfg.Hz(),
		ConfigFile:     cfg.Path,
		Executable:     exe,
		Compat:         n.compat,
		CommandRenames: config.CommandRenames(cfg),
		OnShutdown:     n.requestShutdown,
		Logger:         n.log.With("component", "resp"),
	})
	if err != nil {
		n.closeLog()
		return nil, fmt.Errorf("failed to create the command server: %w", err)
	}
	n.srv = srv

	n.lns = opts.Listeners
	if len(n.lns) == 0 {
		lns, err := n.listenAll(cfg)
		if errors.Is(err, errListenNowhere) {
			n.log.Warn("Configured to not listen anywhere, exiting.")
			n.closeLog()
			return nil, fmt.Errorf("%w: %w", ErrReported, err)
		}
		if err != nil {
			// Where redis says it: in the log, not on stderr (the
			// official suite fails a run on any stderr output, and a
			// restart onto a busy port is one of its cases).
			n.log.Warn("Warning: Could not create server TCP listening socket: " + err.Error())
			n.log.Warn(fmt.Sprintf("Failed listening on port %d (TCP), aborting.", cfg.Port))
			n.closeLog()
			return nil, fmt.Errorf("%w: %w", ErrReported, err)
		}
		n.lns = lns
	}
	n.respLns = n.lns
	if w := backlogWarning(cfg.TCPBacklog(), somaxconn()); w != "" {
		n.log.Warn(w)
	}
	copts := clusterSettings(opts.Cluster, cfg)
	copts.Peers = n.checkedPeers(copts.Peers)
	if !copts.Disabled {
		resp, err := n.setupCluster(copts)
		if err != nil {
			n.closeAll()
			return nil, fmt.Errorf("failed to set up the Raft transport: %w", err)
		}
		n.respLns = resp
	}
	if path, perm := cfg.UnixSocket(); path != "" {
		ln, err := listenUnix(path, perm, cfg.TCPBacklog())
		if err != nil {
			n.log.Warn("Failed opening Unix socket: " + err.Error())
			n.closeAll()
			return nil, fmt.Errorf("%w: %w", ErrReported, err)
		}
		n.unixLn = ln
		n.respLns = append(n.respLns, ln)
	}

	// Seed the replicated state from the config file. With the local store
	// this happens on every start, as redis-sentinel does; the Raft store
	// seeds only an empty log.
	for _, m := range cfg.Masters {
		qm := &quorum.Master{
			Name: m.Name, Addr: quorum.Addr{Host: m.Host, Port: m.Port}, ConfigEpoch: m.ConfigEpoch, Origin: n.myid,
			Settings: m.Settings.Clone(),
		}
		n.fillDefaults(qm)
		seed := monitor.MasterSpec{Addr: monitor.Addr{Host: m.Host, Port: m.Port}}
		for _, r := range m.KnownReplicas {
			seed.KnownReplicas = append(seed.KnownReplicas, monitor.Addr(r))
		}
		for _, s := range m.KnownSentinels {
			seed.KnownSentinels = append(seed.KnownSentinels, monitor.SentinelRef{Addr: monitor.Addr(s.Addr), RunID: s.RunID})
		}
		n.mu.Lock()
		n.seed[m.Name] = seed
		n.setLocalLocked(m.Name, &masterLocal{leaderEpoch: m.LeaderEpoch})
		n.mu.Unlock()
		n.replaceSettings(qm)
		if err := n.propose(context.Background(), &quorum.Command{Op: quorum.OpMonitor, Master: qm, At: nowMs()}); err != nil {
			n.closeAll()
			return nil, fmt.Errorf("failed to load master %s: %w", m.Name, err)
		}
	}
	if cfg.CurrentEpoch > 0 {
		if err := n.propose(context.Background(), &quorum.Command{Op: quorum.OpObserveEpoch, Epoch: cfg.CurrentEpoch, At: nowMs()}); err != nil {
			n.closeAll()
			return nil, fmt.Errorf("failed to load current epoch: %w", err)
		}
	}
	if newID {
		// redis-sentinel persists a freshly generated id at once, so that a
		// restart keeps it; an unwritable file is logged, not fatal.
		if err := n.flushConfig(); err != nil {
			n.log.Warn("WARNING: Sentinel was not able to save the new configuration on disk!!!: " + err.Error())
		}
	}
	return n, nil
}

// listenUnix is redis' unixsocket: a stale socket file removed first, and
// the mode set when unixsocketperm gives one, tcp-backlog's backlog. The
// error reads as redis logs it ("bind: No such file or directory").
func listenUnix(path string, perm os.FileMode, backlog int) (net.Listener, error) {
	// anetUnixGenericServer's check, before anything is touched.
	const sunPath = 108 // sizeof(sockaddr_un.sun_path)
	if len(path) > sunPath-1 {
		return nil, fmt.Errorf("unix socket path too long (%d), must be under %d", len(path), sunPath)
	}
	// redis unlinks it too, and does not care if that fails; unlink
	// only (os.Remove would also remove an empty directory there, which
	// redis leaves, and then fails to bind).
	_ = syscall.Unlink(path)
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, syscallText(err)
	}
	if err := setBacklog(ln, backlog); err != nil {
		ln.Close()
		return nil, err
	}
	if perm != 0 {
		if err := os.Chmod(path, perm); err != nil {
			ln.Close()
			return nil, syscallText(err)
		}
	}
	return ln, nil
}

// syscallText is err as C code prints a failed call: "bind: No such file
// or directory".
func syscallText(err error) error {
	var se *os.SyscallError
	if errors.As(err, &se) {
		return fmt.Errorf("%s: %s", se.Syscall, strerror.Of(se.Err))
	}
	var pe *os.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %s", pe.Op, strerror.Of(pe.Err))
	}
	return err
}

// listen opens the configured bind addresses on the configured port.
// ErrReported marks an error that New already wrote to the sentinel's log:
// the caller exits without repeating it on stderr.
var ErrReported = errors.New("reported in the log")

// errListenNowhere is New's error for a bind list given and empty.
var errListenNowhere = errors.New("configured to not listen anywhere")

func listen(cfg *config.Config, port int) ([]net.Listener, error) {
	binds := cfg.Bind
	if binds != nil && len(binds) == 0 {
		// `bind ""`: no address, where an absent bind is every one.
		// redis has no other socket a sentinel serves (its unixsocket
		// aside) and exits.
		return nil, errListenNowhere
	}
	if len(binds) == 0 {
		// redis' default "bind * -::*": every IPv4 address, IPv6 optional.
		binds = []string{"*", "-::*"}
	}
	backlog := cfg.TCPBacklog()
	var lns []net.Listener
	for _, b := range binds {
		optional := len(b) > 0 && b[0] == '-'
		if optional {
			b = b[1:]
		}
		network, host := "tcp4", b
		switch b {
		case "*":
			host = "0.0.0.0"
		case "::*":
			network, host = "tcp6", "::"
		}
		if ip := net.ParseIP(host); ip != nil && ip.To4() == nil {
			network = "tcp6"
		}
		ln, err := net.Listen(network, net.JoinHostPort(host, strconv.Itoa(port)))
		if err == nil {
			if err = setBacklog(ln, backlog); err != nil {
				ln.Close()
			}
		}
		if err != nil {
			if optional {
				continue
			}
			for _, l := range lns {
				l.Close()
			}
			return nil, fmt.Errorf("failed to listen on %s:%d: %w", b, port, err)
		}
		lns = append(lns, ln)
	}
	if len(lns) == 0 {
		return nil, fmt.Errorf("failed to listen on port %d: no usable bind address", port)
	}
	return lns, nil
}

func (n *Node) openLog(l *slog.Logger) error {
	if l != nil {
		n.log = l
		return nil
	}
	level, err := logging.ParseLevel(n.cfg.LogLevel)
	if err != nil {
		level = 0
	}
	n.logLevel.Set(level)
	var w io.Writer = os.Stdout
	if n.cfg.LogFile != "" {
		f, err := logging.AppendFile(n.cfg.LogFile)
		if err != nil {
			return err
		}
		w, n.logOut = f, f
	}
	n.log = slog.New(logging.NewHandler(w, &n.logLevel))
	return nil
}

func (n *Node) closeLog() {
	if n.logOut != nil {
		n.logOut.Close()
	}
}

func (n *Node) closeAll() {
	n.closeMetrics()
	for _, l := range n.lns {
		l.Close()
	}
	if n.unixLn != nil {
		n.unixLn.Close()
	}
	n.mon.Close()
	n.closeLog()
}

// Addr returns the address of the first listener (useful with port 0).
func (n *Node) Addr() net.Addr { return n.lns[0].Addr() }

// MyID returns the sentinel id.
func (n *Node) MyID() string { return n.myid }

// Serve runs the sentinel until ctx ends or a client sends SHUTDOWN. It
// returns nil on an orderly stop.
func (n *Node) Serve(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	// Under the lock: Close may run while Serve starts (a test's Close
	// right after its go Serve raced this write).
	n.mu.Lock()
	n.cancel = cancel
	n.mu.Unlock()
	defer cancel()

	n.log.Info("Sentinel ID is " + n.myid)
	n.log.Info("Ready to accept connections")
	for _, name := range n.sm().State().Names() {
		m, _ := n.master(name)
		n.emit(monitor.LevelWarning, "+monitor", n.masterRef(m), fmt.Sprintf("quorum %d", m.Quorum))
	}

	errc := make(chan error, len(n.respLns))
	for _, ln := range n.respLns {
		ln := ln
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			if err := n.srv.Serve(ln); err != nil && !errors.Is(err, net.ErrClosed) {
				errc <- fmt.Errorf("failed to serve on %s: %w", ln.Addr(), err)
			}
		}()
	}
	n.serveMetrics(ctx)
	n.wg.Add(5)
	go func() { defer n.wg.Done(); n.mon.Run(ctx) }()
	// With the single-node store this sentinel always leads; with Raft the
	// engine runs only for the terms in which it does.
	go func() {
		defer n.wg.Done()
		if n.cl == nil {
			n.eng.Run(ctx)
			return
		}
		n.cl.run(ctx)
	}()
	go func() { defer n.wg.Done(); n.queue.Run(ctx.Done()) }()
	go func() { defer n.wg.Done(); n.flusher.run(ctx) }()
	go func() { defer n.wg.Done(); n.tick(ctx) }()

	var err error
	select {
	case <-ctx.Done():
	case <-n.shutdown:
		n.log.Warn("User requested shutdown...")
	case err = <-errc:
	}
	cancel()
	return err
}

// requestShutdown is SHUTDOWN's hook.
func (n *Node) requestShutdown() {
	n.closeOnce.Do(func() { close(n.shutdown) })
}

// Shutdown returns a channel closed when a client asked the node to exit.
func (n *Node) Shutdown() <-chan struct{} { return n.shutdown }

// Close stops serving and releases every resource. Safe after Serve returned
// or instead of it.
func (n *Node) Close() error {
	n.mu.Lock()
	cancel := n.cancel
	n.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	n.requestShutdown()
	n.srv.Close()
	n.closeMetrics()
	n.mon.Close()
	n.wg.Wait()
	if n.cl != nil {
		n.cl.close()
	}
	for _, l := range n.lns {
		l.Close()
	}
	if n.unixLn != nil {
		n.unixLn.Close() // removes the socket file, as redis removes it at shutdown
	}
	n.redis.Close()
	n.scripts.close()
	// Anything discovered since the last rewrite is saved on the way out.
	n.flusher.flushIfDirty()
	n.log.Warn("Sentinel is now ready to exit, bye bye...")
	n.closeLog()
	return nil
}

// tick runs the periodic sentinel-level checks (ODOWN) every 100 ms, the
// pace of redis-sentinel's timer.
func (n *Node) tick(ctx context.Context) {
	t := beat.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			n.checkObjectivelyDown()
			n.scripts.tick()
		}
	}
}

// fillDefaults applies the current DEBUG defaults to unset settings.
// parallel-syncs has no unset value: a master starts with 1 (MONITOR, the
// monitor line), and 0 is what a `parallel-syncs m 0` line sets, which
// redis-sentinel keeps, shows and writes back (its SET refuses 0).
func (n *Node) fillDefaults(m *quorum.Master) {
	if m.DownAfterMs == 0 {
		m.DownAfterMs = n.timing.ms("DEFAULT-DOWN-AFTER")
	}
	if m.FailoverTimeoutMs == 0 {
		m.FailoverTimeoutMs = n.timing.ms("DEFAULT-FAILOVER-TIMEOUT")
	}
}

// specFor builds the monitor's view of a master's settings.
func (n *Node) specFor(m *quorum.Master) monitor.MasterSpec {
	n.mu.Lock()
	fast := m.Failover != nil || (n.local[m.Name] != nil && n.local[m.Name].odown)
	n.mu.Unlock()
	return monitor.MasterSpec{
		Name:            m.Name,
		Addr:            monitor.Addr(m.Addr),
		DownAfter:       time.Duration(m.DownAfterMs) * time.Millisecond,
		AuthUser:        m.AuthUser,
		AuthPass:        m.AuthPass,
		RenameCommands:  m.RenameMap(),
		RebootDownAfter: time.Duration(m.RebootDownAfterMs) * time.Millisecond,
		FastInfo:        fast,
	}
}

// sentinelPassForPeers is sentinel-pass, falling back to requirepass: all
// sentinels of a deployment usually share one password (sentinel.c).
func (n *Node) sentinelPassForPeers() string {
	if n.globals.sentinelPass != "" {
		return n.globals.sentinelPass
	}
	return n.cfg.RequirePass
}

func randomHex(nchars int) string {
	b := make([]byte, (nchars+1)/2)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("failed to read random bytes: %s", err))
	}
	return hex.EncodeToString(b)[:nchars]
}

func nowMs() int64 { return time.Now().UnixMilli() }

// Logger returns the node's logger (redis-style lines to logfile or stdout).
func (n *Node) Logger() *slog.Logger { return n.log }

// sm is the state machine in force (see Node.active).
func (n *Node) sm() *quorum.FSM { return n.active.Load() }

// setActiveFSM switches the state in force (on joining a Raft group).
func (n *Node) setActiveFSM(f *quorum.FSM) { n.active.Store(f) }

// onApplyLocal reacts to commands of the local store while it is in force.
func (n *Node) onApplyLocal(c *quorum.Command, result error) {
	if n.sm() != n.localFSM {
		return
	}
	n.onApply(c, result)
}

// propose changes the state in force: through the Raft group once this
// sentinel is a member, else locally.
func (n *Node) propose(ctx context.Context, c *quorum.Command) error {
	n.localGate.RLock()
	if n.cl != nil && n.cl.isActive() {
		n.localGate.RUnlock()
		return n.cl.proposeRaft(ctx, c)
	}
	defer n.localGate.RUnlock()
	return n.store.Propose(ctx, c)
}

// Propose is the failover engine's path into the state (replication.Proposer).
func (n *Node) Propose(ctx context.Context, c *quorum.Command) error { return n.propose(ctx, c) }

// Barrier waits until this leader has applied everything committed before
// (replication.Barrier).
func (n *Node) Barrier(ctx context.Context) error {
	if n.cl == nil || !n.cl.isActive() {
		return ctx.Err()
	}
	return n.cl.getStore().Barrier(5 * time.Second)
}

// VerifyLeader confirms with a quorum round trip that this sentinel still
// leads the Raft group (replication.LeaderVerifier): the engine asks it
// before the side effects a deposed leader must never send. Without an
// active group (no Raft, or redis-sentinel's protocol in a mixed set) it
// asks its own links instead: this sentinel must reach a majority of the
// sentinels it knows (reach.go); one that knows none leads.
func (n *Node) VerifyLeader(ctx context.Context) error {
	if n.cl == nil || !n.cl.isActive() {
		if err := ctx.Err(); err != nil {
			return err
		}
		if !reachesMajority(time.Now(), sentinelLinks(n.mon, n.myid)) {
			return errNoMajority
		}
		return nil
	}
	st := n.cl.getStore()
	if st == nil {
		return ErrNoLeader
	}
	return st.VerifyLeader(ctx)
}

// vouches reports whether this sentinel may advertise master addresses now.
func (n *Node) vouches() bool { return n.cl == nil || n.cl.vouches() }
