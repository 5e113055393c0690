package monitor

import (
	"context"
	"crypto/tls"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The timer. redis-sentinel runs its timer at 10–19 Hz over every
// instance. Ours passes over every instance every passInterval (10 Hz),
// and every tickInterval in between looks only at the instances the last
// pass found close to an SDOWN deadline or with a PING due
// (Monitor.nearDown), so a node is PINGed within tickInterval of when it
// is due, as when every tick was a whole pass, and found down at its SDOWN
// deadline (Run looks then when it comes before the next tick).
// The whole pass every 50 ms was a third of a follower's CPU at 1000
// masters (a cache miss or more per instance record); its other work
// (INFOs and hellos due, links to redial) is paced in hundreds of
// milliseconds or seconds.
const (
	tickInterval = 50 * time.Millisecond
	passInterval = 2 * tickInterval
)

// Config wires a Monitor to its node. Callbacks are never called with the
// Monitor's lock held, so they may call back into the Monitor.
type Config struct {
	// MyID is this sentinel's 40-character id (hellos containing it are
	// ignored; connections are named sentinel-<first 8>-cmd|pubsub).
	MyID string
	// HelloPayload returns the 8-field hello this sentinel publishes about
	// master `name`; localIP is the local IP of the connection it is sent on
	// (used when no announce-ip is set). ok=false: skip.
	HelloPayload func(name string, localIP string) (payload string, ok bool)
	// OnEvent receives +slave, +sentinel, +sdown/-sdown, +reboot,
	// ±role-change, +sentinel-address-switch, +sentinel-address-update,
	// +sentinel-invalid-addr and the debug -cmd/-pubsub-link-reconnection.
	OnEvent func(Event)
	// OnHello receives every valid hello (parseHello's checks, a known
	// master name, the master of the link it came on, not our own myid),
	// after sentinel discovery.
	OnHello func(Hello)
	// OnTopologyChange is called when a replica or sentinel was added,
	// removed or moved (the node rewrites its config).
	OnTopologyChange func(master string)
	// OnInfo, if set, is called after every INFO reply was applied, so the
	// failover logic can react to role changes without polling.
	OnInfo func(Ref)
	// OnPeerVerdict, if set, is called with the master's name when a
	// peer's is-master-down-by-addr answer about it changed its "down"
	// verdict, so that ODOWN is decided on the answer, not on a later tick.
	OnPeerVerdict func(master string)
	// Timing is read on every tick (SENTINEL DEBUG changes it at run time).
	Timing func() Timing
	// CurrentEpoch is sent in is-master-down-by-addr requests.
	CurrentEpoch func() uint64
	// Tilt, if set and true, suspends the acting half (SDOWN evaluation and
	// is-master-down-by-addr requests) as redis-sentinel does in TILT.
	Tilt func() bool
	// SentinelUser, SentinelPass authenticate links to other sentinels. The
	// node passes requirepass as SentinelPass when sentinel-pass is unset.
	SentinelUser, SentinelPass string
	// ResolveHostnames accepts hostnames (resolved when connecting);
	// AnnounceHostnames sends hostnames in is-master-down-by-addr.
	ResolveHostnames, AnnounceHostnames bool
	// TLS, if set, is the client configuration of every link (to Redis
	// nodes and to other sentinels): redis-sentinel's tls-replication.
	TLS *tls.Config
	// NewTicker, if set, makes the timer's ticker (nil: time.NewTicker), so
	// the node can put it on the beat its other loops tick on, and an idle
	// process wakes once for all of them.
	NewTicker func(d time.Duration) (c <-chan time.Time, stop func())
	Logger    *slog.Logger // may be nil
}

// Monitor is one sentinel's health checker of monitored masters, their
// replicas and the other sentinels watching them: the link and timer logic
// of redis-sentinel (sentinelHandleRedisInstance minus failover).
type Monitor struct {
	cfg Config
	// resolveHostnames and announceHostnames start from Config and follow
	// SENTINEL CONFIG SET (SetHostnames).
	resolveHostnames, announceHostnames atomic.Bool
	log                                 *slog.Logger
	notes                               *CallbackQueue
	kick                                chan struct{}
	wg                                  sync.WaitGroup // connection goroutines
	// dials admits the connections' dials (dialgate.go).
	dials *dialGate
	// poll is the event loop reading the links while Run runs (nil
	// where there is none: a goroutine per connection reads).
	poll *poller

	mu      sync.Mutex
	masters map[string]*instance
	// sorted is the masters, sorted by name (nil: to be rebuilt). Every
	// tick walks them in this order, without a lookup by name for each
	// (0.7 % of a follower's CPU at 500 masters, perf).
	sorted []*instance
	tilt   tiltState
	// scratch is the timer's copy of one master's replicas and sentinels.
	scratch []*instance
	// nearDown: the instances the last pass found SDOWN, close to their
	// SDOWN deadline or with a PING due before the next pass, looked at
	// again between passes (tickNearDown).
	nearDown []*instance
	// batching: the timer holds mu and queues its commands on polled
	// connections without writing them; batch lists those connections,
	// written once the run lets go of mu (flushBatch). So a master's
	// PING, hello and INFO queued in one run share one write, and the
	// node answers them in one: at 1000 masters the writes were most of
	// this process' CPU (issue 12). Both are used by the Run goroutine
	// only (batching is only true while it holds mu); batching is
	// guarded by mu.
	batching bool
	batch    []*conn
	// helloKeys and helloPayloads are publishHellos' scratch maps, kept
	// emptied between runs (Run goroutine only): made anew each run they
	// were a tenth of a follower's allocations at 500 masters.
	helloKeys     map[helloKey]bool
	helloPayloads map[helloKey]string
	// ownHelloFrom: the "ip,port" our hellos announced (a few: one per
	// local address and announce setting); dupIDWarned: when a hello
	// with our id from elsewhere was last logged (checkOwnID). Guarded by
	// mu.
	ownHelloFrom map[string]struct{}
	dupIDWarned  time.Time
	// declined: the links whose flavor is flavorOther (noteFlavorLocked,
	// the only writer besides closeConn's reset). Guarded by mu.
	declined map[*link]struct{}
	// sdownMasters: the names of the masters SDOWN here (setSDown, the
	// only writer of a master's sdown, and Unwatch). The node asks for
	// them every 100 ms (SDownMasters); a walk over every master to find
	// the few that are down was 1 % of a follower's CPU at 500 masters.
	// Guarded by mu.
	sdownMasters map[string]struct{}
	// infoKeys: the INFO field names the kept INFO replies are encoded
	// with (infotext.go). Guarded by mu.
	infoKeys infoKeys
	// members: the run ids of the other members of this sentinel's Raft
	// group (SetGroupMembers). Guarded by mu.
	members map[string]struct{}
	// pinged: the links whose SDOWN clock the timer's run started
	// (stampPings). Guarded by mu.
	pinged []*link
	// runIDs interns sentinel run ids (internRunID).
	runIDs       map[string]string
	sentinelUser string
	sentinelPass string
	closed       bool
	running      bool
	runCancel    context.CancelFunc
	runDone      chan struct{}
}

// New returns a Monitor; nothing runs until Run.
func New(cfg Config) *Monitor {
	m := &Monitor{
		cfg:          cfg,
		log:          cfg.Logger,
		notes:        NewCallbackQueue(),
		kick:         make(chan struct{}, 1),
		dials:        newDialGate(),
		masters:      map[string]*instance{},
		sentinelUser: cfg.SentinelUser,
		sentinelPass: cfg.SentinelPass,
	}
	m.resolveHostnames.Store(cfg.ResolveHostnames)
	m.announceHostnames.Store(cfg.AnnounceHostnames)
	if m.log != nil {
		m.log = m.log.With("component", "monitor")
	}
	return m
}

// Run runs the timers until ctx ends or Close is called, then closes every
// connection and waits for its goroutines. Callbacks are delivered while
// Run runs.
func (m *Monitor) Run(ctx context.Context) {
	m.mu.Lock()
	if m.closed || m.running {
		m.mu.Unlock()
		return
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	m.running, m.runCancel, m.runDone = true, cancel, done
	m.poll = newPoller(m)
	m.mu.Unlock()
	defer close(done)
	defer cancel()

	stopNotes := make(chan struct{})
	notesDone := make(chan struct{})
	go func() {
		defer close(notesDone)
		m.notes.Run(stopNotes)
		m.notes.Drain() // what was queued before the stop
	}()

	tc, stopTicker := m.newTicker(tickInterval)
	defer stopTicker()
	// look fires at an SDOWN deadline that comes before the next tick, so
	// a node is found down when its down-after runs out, not up to a tick
	// later (SDownDeadline).
	look := time.NewTimer(tickInterval)
	look.Stop()
	defer look.Stop()
	lookAt := func(at time.Time) {
		if d := time.Until(at); !at.IsZero() && d < tickInterval {
			look.Reset(max(d, 0))
		} else {
			look.Stop()
		}
	}
	lookAt(m.tick())
	lastPass := time.Now()
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-look.C:
			lookAt(m.tickNearDown())
			continue
		case <-tc:
			// Ticker ticks that come late are dropped, so the pass is
			// paced by the time since the last one, not by counting.
			if time.Since(lastPass) < passInterval-tickInterval/2 {
				lookAt(m.tickNearDown())
				continue
			}
		case <-m.kick:
		}
		lookAt(m.tick())
		lastPass = time.Now()
	}

	m.mu.Lock()
	for _, ri := range m.masters {
		m.closeLinks(ri)
		for _, r := range ri.replicas {
			m.closeLinks(r)
		}
		for _, s := range ri.sentinels {
			m.closeLinks(s)
		}
	}
	m.running = false
	poll := m.poll
	m.poll = nil
	m.mu.Unlock()
	m.wg.Wait()
	if poll != nil {
		// Every conn it served was released by closeLinks above.
		poll.close()
	}
	close(stopNotes)
	<-notesDone
}

// newTicker makes the timer's ticker (Config.NewTicker).
func (m *Monitor) newTicker(d time.Duration) (<-chan time.Time, func()) {
	if m.cfg.NewTicker != nil {
		return m.cfg.NewTicker(d)
	}
	t := time.NewTicker(d)
	return t.C, t.Stop
}

// Close stops Run, closes every connection and waits for all goroutines.
// It must not be called from a callback.
func (m *Monitor) Close() {
	m.mu.Lock()
	m.closed = true
	running, cancel, done := m.running, m.runCancel, m.runDone
	m.mu.Unlock()
	if running {
		cancel()
		<-done
	}
	m.wg.Wait()
}

// Names returns the watched master names, sorted.
func (m *Monitor) Names() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	sorted := m.sortedMastersLocked()
	names := make([]string, len(sorted))
	for i, ri := range sorted {
		names[i] = ri.name
	}
	return names
}

// sortedMastersLocked returns the cached masters sorted by name; callers
// must not modify the slice.
func (m *Monitor) sortedMastersLocked() []*instance {
	if m.sorted == nil {
		m.sorted = make([]*instance, 0, len(m.masters))
		for _, ri := range m.masters {
			m.sorted = append(m.sorted, ri)
		}
		slices.SortFunc(m.sorted, func(a, b *instance) int { return strings.Compare(a.name, b.name) })
	}
	return m.sorted
}

// Status returns a deep copy of the live view of a master, its replicas and
// its sentinels (in discovery order). It never blocks on the network.
func (m *Monitor) Status(name string) (MasterStatus, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.statusLocked(name)
}

// GroupStatus is Status without the sentinels (Sentinels nil): the master
// and its replicas, for a caller that looks at replication only. The
// failover engine's leader asks it for every master ten times a second,
// where copying the sentinels' records too was most of the leader's
// allocations (issue 12).
func (m *Monitor) GroupStatus(name string) (MasterStatus, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.statusOfLocked(name, false)
}

// View is Status without copying the replicas' and sentinels' records,
// only counting them: SENTINEL MASTERS renders every master for each call
// (redis_exporter's scrape, the Bitnami chart's probes), and those copies
// were a third of its cost (issue 12).
func (m *Monitor) View(name string) (MasterView, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ri := m.masters[name]
	if ri == nil {
		return MasterView{}, false
	}
	return MasterView{Master: ri.status(&m.infoKeys), Replicas: len(ri.replicas), Sentinels: len(ri.sentinels)}, true
}

// AppendReplicas appends the status of each of name's replicas to dst, as
// Status lists them, and reports whether name is watched; AppendSentinels
// the same for its sentinels. SENTINEL REPLICAS and SENTINELS show only
// those, and a caller that reuses dst copies them without allocating:
// the copies were nearly all of what SENTINEL REPLICAS allocated.
func (m *Monitor) AppendReplicas(dst []InstanceStatus, name string) ([]InstanceStatus, bool) {
	return m.appendStatuses(dst, name, KindReplica)
}

// AppendSentinels is AppendReplicas for name's sentinels.
func (m *Monitor) AppendSentinels(dst []InstanceStatus, name string) ([]InstanceStatus, bool) {
	return m.appendStatuses(dst, name, KindSentinel)
}

func (m *Monitor) appendStatuses(dst []InstanceStatus, name string, kind Kind) ([]InstanceStatus, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ri := m.masters[name]
	if ri == nil {
		return dst, false
	}
	of := ri.replicas
	if kind == KindSentinel {
		of = ri.sentinels
	}
	for _, r := range of {
		dst = append(dst, r.status(&m.infoKeys))
	}
	return dst, true
}

// statusLocked is Status with m.mu held.
func (m *Monitor) statusLocked(name string) (MasterStatus, bool) {
	return m.statusOfLocked(name, true)
}

// statusOfLocked copies a master's view, with its sentinels or not.
// Caller holds m.mu.
func (m *Monitor) statusOfLocked(name string, sentinels bool) (MasterStatus, bool) {
	ri := m.masters[name]
	if ri == nil {
		return MasterStatus{}, false
	}
	st := MasterStatus{Master: ri.status(&m.infoKeys)}
	if len(ri.replicas) > 0 {
		st.Replicas = make([]InstanceStatus, 0, len(ri.replicas))
	}
	for _, r := range ri.replicas {
		st.Replicas = append(st.Replicas, r.status(&m.infoKeys))
	}
	if !sentinels {
		return st, true
	}
	if len(ri.sentinels) > 0 {
		st.Sentinels = make([]InstanceStatus, 0, len(ri.sentinels))
	}
	for _, s := range ri.sentinels {
		st.Sentinels = append(st.Sentinels, s.status(&m.infoKeys))
	}
	return st, true
}

// ForceHello makes hellos about this master go out ASAP to the master, its
// replicas and its sentinels (sentinelForceHelloUpdateForMaster), in the
// timer run it wakes. A data node's hello waits for a PING to share its
// write until it is late by half a ping period and a pass (alongPing), so
// its clock moves back by that much more: moved back by the publish period
// alone, it went 0.5-0.6 s later instead of redis' next timer run.
func (m *Monitor) ForceHello(name string) {
	t := m.timing()
	back := t.PublishPeriod + time.Millisecond
	m.mu.Lock()
	ri := m.masters[name]
	if ri != nil {
		for _, d := range append([]*instance{ri}, ri.replicas...) {
			d.lastPubTime = d.lastPubTime.Add(-back - d.pingPeriod(t)/2 - passInterval)
		}
		for _, s := range ri.sentinels {
			s.lastPubTime = s.lastPubTime.Add(-back)
		}
	}
	m.mu.Unlock()
	m.poke()
}

// SetSentinelAuth changes the credentials for links to other sentinels and
// drops those links so they reconnect with them (sentinelDropConnections).
func (m *Monitor) SetSentinelAuth(user, pass string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sentinelUser, m.sentinelPass = user, pass
	for _, ri := range m.masters {
		for _, s := range ri.sentinels {
			m.closeLinks(s)
		}
	}
}

// poke runs a tick soon.
func (m *Monitor) poke() {
	select {
	case m.kick <- struct{}{}:
	default:
	}
}

// timing returns the current periods with zero fields defaulted. It calls
// the Timing callback; the periods are plain values, so the node's
// implementation must not call into the Monitor.
func (m *Monitor) timing() Timing {
	d := DefaultTiming()
	if m.cfg.Timing == nil {
		return d
	}
	t := m.cfg.Timing()
	if t.PingPeriod <= 0 {
		t.PingPeriod = d.PingPeriod
	}
	if t.InfoPeriod <= 0 {
		t.InfoPeriod = d.InfoPeriod
	}
	if t.AskPeriod <= 0 {
		t.AskPeriod = d.AskPeriod
	}
	if t.PublishPeriod <= 0 {
		t.PublishPeriod = d.PublishPeriod
	}
	if t.MinLinkReconnectPeriod <= 0 {
		t.MinLinkReconnectPeriod = d.MinLinkReconnectPeriod
	}
	if t.TiltTrigger <= 0 {
		t.TiltTrigger = d.TiltTrigger
	}
	if t.TiltPeriod <= 0 {
		t.TiltPeriod = d.TiltPeriod
	}
	return t
}

// SetHostnames applies SENTINEL CONFIG SET resolve-hostnames /
// announce-hostnames at run time; addresses already known keep their form.
func (m *Monitor) SetHostnames(resolve, announce bool) {
	m.resolveHostnames.Store(resolve)
	m.announceHostnames.Store(announce)
}
