package replication

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/internal/clock"
	"github.com/x0tta6bl4/gosentinel/monitor"
	"github.com/x0tta6bl4/gosentinel/quorum"
)

// Fakes for the engine's collaborators: a scripted Redis, a proposer over a
// real quorum.FSM, a settable view and an event recorder, all on the
// harness's fake clock. The engine runs the production intervals; tests
// move the clock (advance, until, waitEvent) only while the engine is idle
// on it, so what it does at a given fake time does not depend on how fast
// the machine is.

const myID = "0123456789012345678901234567890123456789"

// fakeStart is where every harness's fake clock starts (and what the live
// views built before a harness take as now).
var fakeStart = time.Date(2025, time.January, 1, 12, 0, 0, 0, time.UTC)

func addr(port int) monitor.Addr { return monitor.Addr{Host: "127.0.0.1", Port: port} }

// call is one side effect the engine caused on a fake node.
type call struct {
	op     string // SLAVEOF, PAUSE, UNPAUSE
	addr   monitor.Addr
	master *monitor.Addr // SLAVEOF target; nil = NO ONE
	at     time.Time
}

func (c call) String() string {
	switch {
	case c.op != "SLAVEOF":
		return fmt.Sprintf("%s %d", c.op, c.addr.Port)
	case c.master == nil:
		return fmt.Sprintf("SLAVEOF %d NO ONE", c.addr.Port)
	default:
		return fmt.Sprintf("SLAVEOF %d %d", c.addr.Port, c.master.Port)
	}
}

// fakeNode is a Redis node's replication state.
type fakeNode struct {
	role       string
	masterHost string
	masterPort int
	linkUp     bool
	offset     int64 // slave_repl_offset, or master_repl_offset for a master
	priority   int
	down       bool // every call fails
	// failReads: that many of the next Replication reads fail.
	failReads int
	// refuseNoOne: SLAVEOF NO ONE fails (an error reply); noOneRefused
	// counts them.
	refuseNoOne  bool
	noOneRefused int
	// ignoreNoOne: SLAVEOF NO ONE is accepted but the role never changes.
	ignoreNoOne bool
	// ignoreSlaveOf: SLAVEOF host port is accepted but nothing changes.
	ignoreSlaveOf bool
	// refuseSlaveOf: SLAVEOF host port fails (an error reply), nothing changes.
	refuseSlaveOf bool
	// linkAfter: Replication polls after SLAVEOF <master> before the link is up.
	linkAfter int
	polls     int
	// pausedUntil is when the node's CLIENT PAUSE WRITE ends (zero: not
	// paused). Redis keeps the later of two ends.
	pausedUntil time.Time
	// refuseSlaveOfUntil: SLAVEOF host port fails until then, as with
	// refuseSlaveOf.
	refuseSlaveOfUntil time.Time
	// fence is the node's min-replicas-to-write/max-lag.
	fence FenceConfig
	// linkBusy: a read of the fence that may wait for a later tick
	// (onLinkOrLater) finds the monitor's link busy; fenceReads records
	// how each read of the fence was allowed to reach the node.
	linkBusy   bool
	fenceReads []linkUse
	// onPoll runs (under the fake's lock) at every Replication of this node.
	onPoll func(f *fakeRedis, n *fakeNode)
}

func replicaNode(master monitor.Addr, offset int64) *fakeNode {
	return &fakeNode{role: "slave", masterHost: master.Host, masterPort: master.Port, offset: offset, priority: 100}
}

type fakeRedis struct {
	mu    sync.Mutex
	now   func() time.Time // stamps calls
	nodes map[monitor.Addr]*fakeNode
	calls []call
	// onSlaveOf runs (under the lock) before a SLAVEOF is applied.
	onSlaveOf func(f *fakeRedis, a monitor.Addr, master *monitor.Addr)
	// fenceCalls records every SetFence as "<port> <to-write> <max-lag>"
	// (kept apart from calls, which list failover side effects).
	fenceCalls []string
	// splitBrain records every moment two reachable nodes accepted writes
	// at once (role:master and not paused), with the calls up to then;
	// splitBrainAt holds when each was seen.
	splitBrain   []string
	splitBrainAt []time.Time
	// fenceWait, if set, runs (without the lock) before each Fence read
	// answers; fenceReading and maxFenceReading count the reads in it.
	fenceWait                     func(ctx context.Context)
	fenceReading, maxFenceReading int
}

// pausedAt tells whether the node's writes are paused at now.
func (n *fakeNode) pausedAt(now time.Time) bool { return now.Before(n.pausedUntil) }

// checkWritersLocked records a split brain if more than one reachable
// node accepts writes now. Every call of the fake checks before it acts
// too, so a pause that lapsed between two calls is caught at the next
// one. Caller holds f.mu.
func (f *fakeRedis) checkWritersLocked() {
	var writers []string
	now := f.now()
	for a, n := range f.nodes {
		if !n.down && n.role == "master" && !n.pausedAt(now) {
			writers = append(writers, a.String())
		}
	}
	if len(writers) > 1 {
		var calls []string
		for _, c := range f.calls {
			calls = append(calls, c.String())
		}
		f.splitBrain = append(f.splitBrain, fmt.Sprintf("writable masters %v after %q", writers, calls))
		f.splitBrainAt = append(f.splitBrainAt, now)
	}
}

func (f *fakeRedis) splitBrains() []string { return f.splitBrainsBefore(time.Time{}) }

// splitBrainsBefore is splitBrains seen before end (every one if zero).
func (f *fakeRedis) splitBrainsBefore(end time.Time) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for i, sb := range f.splitBrain {
		if end.IsZero() || f.splitBrainAt[i].Before(end) {
			out = append(out, sb)
		}
	}
	return out
}

func newFakeRedis(nodes map[monitor.Addr]*fakeNode, now func() time.Time) *fakeRedis {
	return &fakeRedis{nodes: nodes, now: now}
}

var errDown = errors.New("connection refused")

func (f *fakeRedis) node(a monitor.Addr) (*fakeNode, error) {
	n := f.nodes[a]
	if n == nil || n.down {
		return nil, fmt.Errorf("dial %s: %w", a, errDown)
	}
	return n, nil
}

func (f *fakeRedis) SlaveOf(ctx context.Context, t Target, master *monitor.Addr) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.checkWritersLocked()
	n, err := f.node(t.Addr)
	if err != nil {
		return err
	}
	if master != nil && (n.refuseSlaveOf || f.now().Before(n.refuseSlaveOfUntil)) {
		return errors.New("ERR simulated SLAVEOF failure")
	}
	if master == nil && n.refuseNoOne {
		n.noOneRefused++
		return errors.New("NOPERM simulated SLAVEOF NO ONE refusal")
	}
	defer f.checkWritersLocked()
	var m *monitor.Addr
	if master != nil {
		c := *master
		m = &c
	}
	f.calls = append(f.calls, call{op: "SLAVEOF", addr: t.Addr, master: m, at: f.now()})
	if f.onSlaveOf != nil {
		f.onSlaveOf(f, t.Addr, m)
	}
	switch {
	case master == nil && !n.ignoreNoOne:
		n.role, n.masterHost, n.masterPort, n.linkUp = "master", "", 0, false
	case master != nil && !n.ignoreSlaveOf:
		n.role, n.masterHost, n.masterPort = "slave", master.Host, master.Port
		n.linkUp, n.polls = n.linkAfter == 0, 0
	}
	return nil
}

func (f *fakeRedis) Replication(ctx context.Context, t Target) (Replication, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.checkWritersLocked()
	n, err := f.node(t.Addr)
	if err != nil {
		return Replication{}, err
	}
	if n.onPoll != nil {
		n.onPoll(f, n)
	}
	if n.failReads > 0 {
		n.failReads--
		return Replication{}, fmt.Errorf("read %s: %w", t.Addr, context.DeadlineExceeded)
	}
	if n.role == "slave" && !n.linkUp {
		n.polls++
		if n.polls > n.linkAfter && n.linkAfter > 0 {
			n.linkUp = true
		}
	}
	r := Replication{Role: n.role, SlavePriority: n.priority}
	if n.role == "slave" {
		r.MasterHost, r.MasterPort, r.MasterLinkUp, r.SlaveReplOffset = n.masterHost, n.masterPort, n.linkUp, n.offset
		r.MasterReplOffset = n.offset
	} else {
		r.MasterReplOffset = n.offset
	}
	return r, nil
}

func (f *fakeRedis) PauseWrites(ctx context.Context, t Target, d time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	n, err := f.node(t.Addr)
	if err != nil {
		return err
	}
	f.checkWritersLocked()
	f.calls = append(f.calls, call{op: "PAUSE", addr: t.Addr, at: f.now()})
	if end := f.now().Add(d); end.After(n.pausedUntil) {
		n.pausedUntil = end
	}
	return nil
}

func (f *fakeRedis) Unpause(ctx context.Context, t Target) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	n, err := f.node(t.Addr)
	if err != nil {
		return err
	}
	f.checkWritersLocked()
	f.calls = append(f.calls, call{op: "UNPAUSE", addr: t.Addr, at: f.now()})
	n.pausedUntil = time.Time{}
	f.checkWritersLocked()
	return nil
}

func (f *fakeRedis) Fence(ctx context.Context, t Target) (FenceConfig, error) {
	f.mu.Lock()
	if wait := f.fenceWait; wait != nil {
		f.fenceReading++
		f.maxFenceReading = max(f.maxFenceReading, f.fenceReading)
		f.mu.Unlock()
		wait(ctx)
		f.mu.Lock()
		f.fenceReading--
	}
	defer f.mu.Unlock()
	n, err := f.node(t.Addr)
	if err != nil {
		return FenceConfig{}, err
	}
	n.fenceReads = append(n.fenceReads, linkUseOf(ctx))
	if n.linkBusy && linkUseOf(ctx) == linkOrErrBusy {
		return FenceConfig{}, fmt.Errorf("%w (1 ahead)", monitor.ErrLinkBusy)
	}
	return n.fence, nil
}

func (f *fakeRedis) SetFence(ctx context.Context, t Target, c FenceConfig) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	n, err := f.node(t.Addr)
	if err != nil {
		return err
	}
	f.fenceCalls = append(f.fenceCalls, fmt.Sprintf("%d %d %d", t.Addr.Port, c.ToWrite, c.MaxLag))
	n.fence = c
	return nil
}

func (f *fakeRedis) fenceCallList() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.fenceCalls...)
}

// set changes a node under the lock.
func (f *fakeRedis) set(a monitor.Addr, fn func(n *fakeNode)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f.nodes[a])
}

func (f *fakeRedis) callList() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]string, len(f.calls))
	for i, c := range f.calls {
		out[i] = c.String()
	}
	return out
}

func (f *fakeRedis) callsOf(op string, a monitor.Addr) []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []call
	for _, c := range f.calls {
		if c.op == op && c.addr == a {
			out = append(out, c)
		}
	}
	return out
}

// fakeView serves the replicated state from a real FSM and a settable live
// view. Instances that are neither SDOWN nor disconnected look freshly
// pinged and INFOed at every read. On a switch it rebuilds the view as the
// monitor does (old replicas minus the promoted one, plus the old master).
type fakeView struct {
	fsm    *quorum.FSM
	now    func() time.Time
	mu     sync.Mutex
	status map[string]*monitor.MasterStatus
	odown  map[string]bool
	tilt   bool
	// masterCopies counts Master calls (each a deep copy).
	masterCopies atomic.Int64
}

func (v *fakeView) Master(name string) (*quorum.Master, bool) {
	v.masterCopies.Add(1)
	return v.fsm.Master(name)
}
func (v *fakeView) Names() []string                  { return v.fsm.State().Names() }
func (v *fakeView) Revision() Revision               { return Revision{State: v.fsm.Revision()} }
func (v *fakeView) FailoversPaused(name string) bool { return v.fsm.FailoversPaused(name) }

func (v *fakeView) Tilted() bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.tilt
}

func (v *fakeView) Status(name string) (monitor.MasterStatus, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	ms := v.status[name]
	if ms == nil {
		return monitor.MasterStatus{}, false
	}
	c := *ms
	c.Replicas = append([]monitor.InstanceStatus(nil), ms.Replicas...)
	now := v.now()
	for i := range c.Replicas {
		r := &c.Replicas[i]
		if !r.SDown && !r.Disconnected {
			r.LastOKPingReply, r.InfoRefresh = now, now
		}
	}
	return c, true
}

func (v *fakeView) GroupStatus(name string) (monitor.MasterStatus, bool) {
	ms, ok := v.Status(name)
	ms.Sentinels = nil
	return ms, ok
}

func (v *fakeView) ObjectivelyDown(name string) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.odown[name]
}

func (v *fakeView) update(name string, fn func(ms *monitor.MasterStatus)) {
	v.mu.Lock()
	defer v.mu.Unlock()
	fn(v.status[name])
}

func (v *fakeView) setODown(name string, down bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.odown[name] = down
}

func (v *fakeView) onSwitch(c *quorum.Command) {
	v.mu.Lock()
	defer v.mu.Unlock()
	ms := v.status[c.Name]
	if ms == nil {
		return
	}
	newAddr, oldAddr := monitor.Addr(c.Addr), monitor.Addr(c.From)
	var reps []monitor.InstanceStatus
	for _, r := range ms.Replicas {
		if r.Ref.Addr == newAddr {
			continue
		}
		r.Ref.MasterAddr = newAddr
		reps = append(reps, r)
	}
	old := ms.Master
	old.Ref = *replicaRef(c.Name, newAddr, oldAddr)
	old.Disconnected = old.SDown
	reps = append(reps, old)
	ms.Master = monitor.InstanceStatus{Ref: *masterRef(c.Name, newAddr), RoleReported: "master", InfoRefresh: v.now()}
	ms.Replicas = reps
	v.odown[c.Name] = false
}

// replicaStatus is a healthy replica of master as the monitor shows it.
func replicaStatus(master, a monitor.Addr, offset int64, runid string) monitor.InstanceStatus {
	return monitor.InstanceStatus{
		Ref: *replicaRef("mymaster", master, a), RunID: runid,
		RoleReported: "slave", MasterHost: master.Host, MasterPort: master.Port, MasterLinkUp: true,
		SlavePriority: 100, SlaveReplOffset: offset, ReplicaAnnounced: true,
	}
}

// errFakeNotLeader is what the fake proposer returns once it "lost" the
// leadership.
var errFakeNotLeader = errors.New("node is not the leader")

type fakeProposer struct {
	local    *quorum.Local
	fail     atomic.Bool
	failures atomic.Int64
	// failVerify fails VerifyLeader only (commits still succeed: a leader
	// whose lease lapsed while its log is not yet told).
	failVerify atomic.Bool
	mu         sync.Mutex
	ops        []quorum.Op
}

func (p *fakeProposer) Propose(ctx context.Context, c *quorum.Command) error {
	if p.fail.Load() {
		p.failures.Add(1)
		return errFakeNotLeader
	}
	p.mu.Lock()
	p.ops = append(p.ops, c.Op)
	p.mu.Unlock()
	return p.local.Propose(ctx, c)
}

// VerifyLeader fails like Propose once leadership is "lost".
func (p *fakeProposer) VerifyLeader(ctx context.Context) error {
	if p.fail.Load() || p.failVerify.Load() {
		p.failures.Add(1)
		return errFakeNotLeader
	}
	return nil
}

// recorder keeps every event as "<type> <payload>", with the time seen:
// now's (the harness's fake clock), or the wall clock's if now is nil (the
// system tests).
type recorder struct {
	now    func() time.Time
	mu     sync.Mutex
	events []string
	times  []time.Time
}

func (r *recorder) add(s string) {
	at := time.Now()
	if r.now != nil {
		at = r.now()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, s)
	r.times = append(r.times, at)
}

func (r *recorder) emit(level monitor.Level, typ string, ref *monitor.Ref, text string) {
	_, msg := FormatEvent(ref, text)
	r.add(typ + " " + msg)
}

func (r *recorder) list() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.events...)
}

// count returns how many events start with prefix.
func (r *recorder) count(prefix string) int {
	n := 0
	for _, e := range r.list() {
		if strings.HasPrefix(e, prefix) {
			n++
		}
	}
	return n
}

// at returns the time of the n-th (0-based) event starting with prefix.
func (r *recorder) at(prefix string, n int) time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, e := range r.events {
		if strings.HasPrefix(e, prefix) {
			if n == 0 {
				return r.times[i]
			}
			n--
		}
	}
	return time.Time{}
}

// harness is one engine over the fakes.
type harness struct {
	t      *testing.T
	clock  *clock.Fake
	fsm    *quorum.FSM
	prop   *fakeProposer
	view   *fakeView
	redis  *fakeRedis
	rec    *recorder
	eng    *Engine
	cancel context.CancelFunc
	done   chan struct{}
}

// newHarness monitors master (named mymaster) with the given live view and
// fake nodes. The engine is built but not running.
func newHarness(t *testing.T, m quorum.Master, ms monitor.MasterStatus, nodes map[monitor.Addr]*fakeNode) *harness {
	t.Helper()
	h := &harness{t: t, clock: clock.NewFake(fakeStart)}
	h.rec = &recorder{now: h.clock.Now}
	h.redis = newFakeRedis(nodes, h.clock.Now)
	h.view = &fakeView{now: h.clock.Now, status: map[string]*monitor.MasterStatus{m.Name: &ms}, odown: map[string]bool{}}
	h.fsm = quorum.NewFSM(func(c *quorum.Command, err error) {
		if err == nil && c.Op == quorum.OpSwitchMaster {
			h.rec.add(fmt.Sprintf("+switch-master %s %s %d %s %d", c.Name, c.From.Host, c.From.Port, c.Addr.Host, c.Addr.Port))
			h.view.onSwitch(c)
		}
	})
	h.view.fsm = h.fsm
	h.prop = &fakeProposer{local: quorum.NewLocal(h.fsm)}
	if err := h.fsm.Apply(&quorum.Command{Op: quorum.OpMonitor, Master: &m, At: 1}); err != nil {
		t.Fatal(err)
	}
	h.eng = New(Config{
		MyID: myID, Proposer: h.prop, View: h.view, Redis: h.redis, Emit: h.rec.emit,
		Timing: func() Timing {
			return Timing{PingPeriod: time.Second, InfoPeriod: 10 * time.Second,
				SlaveReconfTimeout: 2 * time.Second, ElectionTimeout: time.Second}
		},
		Clock: h.clock,
	})
	t.Cleanup(h.stop)
	return h
}

func (h *harness) start() {
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel, h.done = cancel, make(chan struct{})
	go func() {
		defer close(h.done)
		h.eng.Run(ctx)
	}()
	// Idle means Run's first term did its first tick (or already ended:
	// a deposed leader's tests lose it at once).
	h.settle()
}

func (h *harness) stop() {
	if h.cancel == nil {
		return
	}
	h.cancel()
	<-h.done
	h.cancel = nil
}

// now is the fake time.
func (h *harness) now() time.Time { return h.clock.Now() }

// idle tells whether the running engine is blocked on the fake clock: Run
// and every goroutine of the term wait on a timer (each wait of the engine
// is exactly one), and no term is winding down (a term whose context ended
// wakes goroutines without the clock). Waiters is read first: a goroutine
// blocked then stays blocked until the clock moves, while running counts
// every goroutine started or ended by then.
func (h *harness) idle() bool {
	if h.cancel == nil {
		return true
	}
	armed := h.clock.Waiters()
	running := int(h.eng.running.Load())
	h.eng.mu.Lock()
	ending := h.eng.term != nil && h.eng.term.ctx.Err() != nil
	h.eng.mu.Unlock()
	return armed == running+1 && !ending
}

// settleTimeout bounds, in real time, the engine's work between two waits
// on the clock (microseconds over the fakes; generous for -race on a
// loaded machine).
const settleTimeout = 10 * time.Second

// settle waits until the engine is idle. It polls with a deadline: a
// goroutine's exit does not touch the clock, so there is no signal to wait
// for; BlockUntil wakes it early when a goroutine arms a timer.
func (h *harness) settle() {
	h.t.Helper()
	deadline := time.Now().Add(settleTimeout)
	for !h.idle() {
		if time.Now().After(deadline) {
			h.t.Fatalf("engine not idle on the fake clock after %v: %d timers armed, %d goroutines running",
				settleTimeout, h.clock.Waiters(), h.eng.running.Load())
		}
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Microsecond)
		h.clock.BlockUntil(ctx, h.clock.Waiters()+1)
		cancel()
	}
}

// step moves the fake clock to the next armed deadline, or to limit if
// that comes first, and waits for the engine to be idle again.
func (h *harness) step(limit time.Time) {
	h.t.Helper()
	next, ok := h.clock.Next()
	if !ok || next.After(limit) {
		next = limit
	}
	h.clock.Advance(next.Sub(h.now()))
	h.settle()
}

// advance lets d of fake time pass, one deadline at a time (for things
// that must NOT happen within d).
func (h *harness) advance(d time.Duration) {
	h.t.Helper()
	h.settle()
	end := h.now().Add(d)
	for h.now().Before(end) {
		h.step(end)
	}
}

// advanceUntil moves the fake clock until cond holds, for at most budget
// of fake time; false if it did not hold by then.
func (h *harness) advanceUntil(budget time.Duration, cond func() bool) bool {
	h.t.Helper()
	h.settle()
	end := h.now().Add(budget)
	for !cond() {
		if !h.now().Before(end) {
			return false
		}
		h.step(end)
	}
	return true
}

// until is advanceUntil that fails the test, naming what it waited for.
func (h *harness) until(budget time.Duration, what string, cond func() bool) {
	h.t.Helper()
	if !h.advanceUntil(budget, cond) {
		h.t.Fatalf("no %s within %v of fake time", what, budget)
	}
}

// waitEvent moves the fake clock until n events start with prefix, for at
// most budget of fake time.
func (h *harness) waitEvent(prefix string, n int, budget time.Duration) {
	h.t.Helper()
	if !h.advanceUntil(budget, func() bool { return h.rec.count(prefix) >= n }) {
		h.t.Fatalf("no %d× %q within %v of fake time (events: %q)", n, prefix, budget, h.rec.list())
	}
}

// master returns the replicated master.
func (h *harness) master() *quorum.Master {
	m, ok := h.fsm.Master("mymaster")
	if !ok {
		h.t.Fatal("mymaster missing")
	}
	return m
}

// downMaster is the live view of mymaster at a, SDOWN for a second at
// fakeStart.
func downMaster(a monitor.Addr) monitor.InstanceStatus {
	return monitor.InstanceStatus{Ref: *masterRef("mymaster", a), SDown: true, SDownSince: fakeStart.Add(-time.Second),
		Disconnected: true, RoleReported: "master"}
}

// healthyMaster is the live view of mymaster at a, just INFOed and pinged
// at fakeStart.
func healthyMaster(a monitor.Addr) monitor.InstanceStatus {
	return monitor.InstanceStatus{Ref: *masterRef("mymaster", a), RoleReported: "master", InfoRefresh: fakeStart,
		LastOKPingReply: fakeStart}
}

func equalLists(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func diffLists(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !equalLists(got, want) {
		t.Fatalf("%s:\ngot:\n  %s\nwant:\n  %s", what, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}
