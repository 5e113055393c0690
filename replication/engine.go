package replication

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/x0tta6bl4/gosentinel/internal/clock"
	"github.com/x0tta6bl4/gosentinel/monitor"
	"github.com/x0tta6bl4/gosentinel/quorum"
)

// Polling and pacing. The engine asks Redis nodes directly instead of
// waiting for the monitor's periodic INFO. The intervals are read and
// waited on the engine's clock (Config.Clock); the timeouts (callTimeout,
// freshReadTimeout, and the commit bounds) are context deadlines on the
// wall clock instead: they bound I/O to Redis nodes and Raft round trips,
// which take real time whatever clock the engine runs on.
const (
	// tickInterval is how often the leader loop looks for work.
	tickInterval = 100 * time.Millisecond
	// pollInterval paces the polls of a running failover (promotion,
	// catch-up, reconfiguration).
	pollInterval = 50 * time.Millisecond
	// callTimeout bounds one command to one Redis node.
	callTimeout = time.Second
	// freshReadTimeout bounds the parallel offset reads at decision time:
	// a candidate that cannot answer that fast is not a candidate.
	freshReadTimeout = 500 * time.Millisecond
	// recheckInterval paces the search for a candidate while a master is
	// ODOWN with none, and the resumption of a recorded failover.
	recheckInterval = time.Second
	// fixInterval paces convert-to-slave / fix-slave-config per instance.
	fixInterval = time.Second
	// resendPromotion is when SLAVEOF NO ONE is sent again if the replica
	// still does not report role:master.
	resendPromotion = time.Second
	// maxSwitchoverPause caps CLIENT PAUSE on the old master during
	// SENTINEL FAILOVER (the pause also ends by itself if we die).
	maxSwitchoverPause = 10 * time.Second
	// maxCatchUp caps the wait for the replica to reach the paused
	// master's offset.
	maxCatchUp = 5 * time.Second
	// termRetryDelay is the pause after leadership was in doubt before the
	// engine resumes from the log.
	termRetryDelay = time.Second
)

// Engine runs failovers. Run it on the Raft leader only; Failover starts a
// manual one.
type Engine struct {
	cfg   Config
	log   *slog.Logger
	clock clock.Clock // cfg.Clock, or the real clock
	// running counts the goroutines of terms (spawnLocked) still running.
	// Every wait of the engine is one timer on its clock, so a test on a
	// fake clock knows the engine idle when every one of them, and Run,
	// has a timer armed: only then does it move time.
	running atomic.Int64
	kick    chan struct{}
	runMu   sync.Mutex // one Run at a time

	// The tick's list of masters (buildTickList), valid while the view's
	// revision is tickRev. Only the tick's goroutine uses them.
	tickRev   Revision
	tickBuilt bool
	tickList  []tickEntry
	tickKnown map[string]bool // forget's set of names
	forgotAt  time.Time       // forget's last run

	mu     sync.Mutex
	term   *term                      // nil while not leading
	active map[string]*activity       // masters with a failover being decided or driven
	paces  map[string]*pacing         // per master
	fixes  map[monitor.Addr]time.Time // per instance address: last convert/fix attempt
	// probes: per instance address, the last direct probe of an instance
	// the monitor cannot see (paced apart from fixes: demote.go).
	probes map[monitor.Addr]time.Time
	// probing marks instances with a direct probe in flight.
	probing map[monitor.Addr]bool
	// fences is what this engine last read of each node's fence, by
	// address; fenceChecks when it last checked one, fencing the checks in
	// flight (fence_engine.go).
	fences      map[monitor.Addr]FenceConfig
	fenceChecks map[monitor.Addr]time.Time
	fencing     map[monitor.Addr]bool
	// settledFences: per master address, what the engine saw when a read
	// of its fence last left nothing to do (fence_engine.go).
	settledFences map[monitor.Addr]fenceSeen
}

// activity is a failover being decided or driven; its state is
// redis-sentinel's failover-state name.
type activity struct {
	state string
}

// pacing is what the leader remembers per master between attempts.
type pacing struct {
	lastStart    time.Time // last committed failover start (2×failover-timeout gate)
	delayLogged  time.Time // lastStart value the "Next failover delay" line was logged for
	lastNoGood   time.Time // last -failover-abort-no-good-slave
	lastCheck    time.Time // last candidate search while ODOWN
	lastResume   time.Time // last resumption of a recorded failover
	addr         quorum.Addr
	addrKnown    bool
	lastSwitchAt time.Time // when the address last changed (second-failover guard)
	pauseLogged  bool      // "failovers are paused" logged in this pause period
	lastBackoff  time.Time // last 'backoff' told to the Observer
}

// term is one uninterrupted period of leadership as the engine sees it.
// Leadership in doubt cancels it; every goroutine of the term stops.
type term struct {
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	lost   atomic.Bool
}

// New returns an engine; nothing runs until Run.
func New(cfg Config) *Engine {
	e := &Engine{
		cfg:           cfg,
		log:           cfg.Logger,
		clock:         clock.OrReal(cfg.Clock),
		active:        map[string]*activity{},
		paces:         map[string]*pacing{},
		fixes:         map[monitor.Addr]time.Time{},
		probes:        map[monitor.Addr]time.Time{},
		probing:       map[monitor.Addr]bool{},
		fences:        map[monitor.Addr]FenceConfig{},
		fenceChecks:   map[monitor.Addr]time.Time{},
		settledFences: map[monitor.Addr]fenceSeen{},
		fencing:       map[monitor.Addr]bool{},
		kick:          make(chan struct{}, 1),
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	e.log = e.log.With("component", "failover")
	return e
}

// Run is the leader loop: it resumes every failover recorded in the log,
// starts failovers of ODOWN masters, and demotes instances that claim to be
// masters they are not. It returns when ctx ends (leadership lost). When a
// proposal fails for a reason other than the FSM's verdict, the current
// term's work stops at once and resumes from the log a second later.
func (e *Engine) Run(ctx context.Context) {
	// A Run called again right after leadership came back waits for the
	// previous one to have stopped every goroutine of its term.
	e.runMu.Lock()
	defer e.runMu.Unlock()
	for {
		e.runTerm(ctx)
		if ctx.Err() != nil {
			return
		}
		if !e.wait(ctx, termRetryDelay) {
			return
		}
	}
}

func (e *Engine) runTerm(parent context.Context) {
	ctx, cancel := context.WithCancel(parent)
	t := &term{ctx: ctx, cancel: cancel}
	e.mu.Lock()
	e.term = t
	// Fences read in an earlier term may be stale: another leader may have
	// set or cleared them since, and a known unfenced master is promoted
	// away from without the fence wait (PromotionAllowedAt). A term trusts
	// only its own reads; an unknown fence waits.
	clear(e.fences)
	clear(e.fenceChecks)
	e.mu.Unlock()

	if !e.barrier(t) {
		cancel()
	}
	for ctx.Err() == nil {
		e.tick(t)
		// A timer per wait rather than a ticker: the next tick comes
		// tickInterval after this one ended, and while the loop works it
		// has no timer armed, which is how a test on a fake clock tells it
		// busy (Engine.running).
		tk := e.clock.NewTimer(tickInterval)
		select {
		case <-ctx.Done():
		case <-tk.C():
		case <-e.kick:
		}
		tk.Stop()
	}
	// No goroutine may join the term once it is no longer current, so the
	// Wait below cannot race with an Add.
	e.mu.Lock()
	e.term = nil
	e.mu.Unlock()
	cancel()
	t.wg.Wait()
}

// barrier makes sure the state we read includes everything committed
// before this term and that we can still commit. false ends the term.
func (e *Engine) barrier(t *term) bool {
	ctx, cancel := context.WithTimeout(t.ctx, e.timing().ElectionTimeout)
	defer cancel()
	var err error
	if b, ok := e.cfg.Proposer.(Barrier); ok {
		err = b.Barrier(ctx)
	} else {
		// Epochs only grow: observing epoch 0 changes nothing.
		err = e.cfg.Proposer.Propose(ctx, &quorum.Command{Op: quorum.OpObserveEpoch, At: e.now().UnixMilli()})
	}
	if err != nil {
		t.lose(e.log, err)
		return false
	}
	return true
}

// Leading reports whether a leader term runs: Failover may be called.
func (e *Engine) Leading() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.term != nil
}

// Kick makes the leader loop look for work now instead of at its next
// tick (100 ms). The node calls it when a master turns ODOWN, so a failover
// starts without waiting.
func (e *Engine) Kick() {
	select {
	case e.kick <- struct{}{}:
	default:
	}
}

// lose ends the term: leadership is in doubt.
func (t *term) lose(log *slog.Logger, err error) {
	if t.lost.CompareAndSwap(false, true) {
		log.Warn("stopping failover work: leadership in doubt", "err", err)
	}
	t.cancel()
}

// spawn runs f as part of term t if t is still current. Caller holds e.mu.
func (e *Engine) spawnLocked(t *term, f func()) bool {
	if e.term != t || t.ctx.Err() != nil {
		return false
	}
	t.wg.Add(1)
	e.running.Add(1)
	go func() {
		defer t.wg.Done()
		defer e.running.Add(-1)
		f()
	}()
	return true
}

// State returns the failover-state of a master whose failover this engine
// is deciding or driving ("select_slave", "send_slaveof_noone",
// "wait_promotion", "reconf_slaves"), for SENTINEL MASTER's flags and
// failover-state field.
func (e *Engine) State(name string) (string, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	a := e.active[name]
	if a == nil {
		return "", false
	}
	return a.state, true
}

// Busy reports whether the engine is deciding or driving a failover of
// any master (from the claim of an attempt, before its election, to its
// end).
func (e *Engine) Busy() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.active) > 0
}

// claim marks a master as having a failover in the works; false if it
// already has one. Caller holds e.mu.
func (e *Engine) claimLocked(name, state string) bool {
	if e.active[name] != nil {
		return false
	}
	e.active[name] = &activity{state: state}
	return true
}

func (e *Engine) release(name string) {
	e.mu.Lock()
	delete(e.active, name)
	e.mu.Unlock()
}

func (e *Engine) setState(name, state string) {
	e.mu.Lock()
	if a := e.active[name]; a != nil {
		a.state = state
	}
	e.mu.Unlock()
}

func (e *Engine) isActive(name string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.active[name] != nil
}

// paceLocked returns the pacing record of a master. Caller holds e.mu.
func (e *Engine) paceLocked(name string) *pacing {
	p := e.paces[name]
	if p == nil {
		p = &pacing{}
		e.paces[name] = p
	}
	return p
}

func (e *Engine) now() time.Time { return e.clock.Now() }

func (e *Engine) timing() Timing {
	d := DefaultTiming()
	if e.cfg.Timing == nil {
		return d
	}
	t := e.cfg.Timing()
	if t.PingPeriod <= 0 {
		t.PingPeriod = d.PingPeriod
	}
	if t.InfoPeriod <= 0 {
		t.InfoPeriod = d.InfoPeriod
	}
	if t.SlaveReconfTimeout <= 0 {
		t.SlaveReconfTimeout = d.SlaveReconfTimeout
	}
	if t.ElectionTimeout <= 0 {
		t.ElectionTimeout = d.ElectionTimeout
	}
	return t
}

// FailoverTimeout is the master's failover-timeout (180 s if unset).
func FailoverTimeout(m *quorum.Master) time.Duration {
	if m.FailoverTimeoutMs <= 0 {
		return 180 * time.Second
	}
	return time.Duration(m.FailoverTimeoutMs) * time.Millisecond
}

// propose commits c within term t. An error that is not the FSM's verdict
// on the command means leadership is in doubt: the term ends.
func (e *Engine) propose(ctx context.Context, t *term, c *quorum.Command) error {
	c.At = e.now().UnixMilli()
	err := e.cfg.Proposer.Propose(ctx, c)
	if err != nil && !quorum.IsVerdict(err) {
		t.lose(e.log, err)
	}
	return err
}

// verifyLeader asks the proposer, if it can tell, whether we still lead:
// a quorum round trip, asked once before each side effect that only a
// leader may send and that could leave two writable masters (SLAVEOF NO
// ONE, releasing a switchover's pause, demoting an instance that claims to
// be the master), never per poll. A term that ended never verifies.
func (e *Engine) verifyLeader(t *term) bool {
	if t.ctx.Err() != nil {
		return false
	}
	v, ok := e.cfg.Proposer.(LeaderVerifier)
	if !ok {
		return true
	}
	ctx, cancel := context.WithTimeout(t.ctx, callTimeout)
	defer cancel()
	if err := v.VerifyLeader(ctx); err != nil {
		t.lose(e.log, err)
		return false
	}
	return true
}

// wait sleeps for d on the engine's clock or until ctx (the term) ends;
// false if it ended.
func (e *Engine) wait(ctx context.Context, d time.Duration) bool {
	t := e.clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C():
		return true
	}
}

// target builds the controller's view of a node of master m's group.
func target(m *quorum.Master, a monitor.Addr) Target {
	return Target{Addr: a, AuthUser: m.AuthUser, AuthPass: m.AuthPass, Rename: m.RenameMap()}
}
