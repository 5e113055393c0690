package test

import (
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/bench/harness"
	"github.com/x0tta6bl4/gosentinel/internal/redistest"
)

// The mixed-set roll of issue 11: pod i is data node i and sentinel i; a
// pod's sentinel is replaced by gosentinel (or back) on the config file the
// previous process rewrote, on the same port, and at every stage the set
// must fail over exactly once per fault.

// sentinelKind is which binary a pod's sentinel runs.
type sentinelKind string

const (
	kindRedis sentinelKind = "redis-sentinel"
	kindGo    sentinelKind = "gosentinel"
)

const (
	// rollFailoverTimeout is every sentinel's failover-timeout. Short,
	// because redis-sentinel does not start an automatic failover within
	// 2 x failover-timeout of the last one it started or voted for, and
	// the stages follow each other within seconds: at 5 s that back-off
	// adds at most 10 s to a fault's switch.
	rollFailoverTimeout = 5 * time.Second
	// rollSwitchDeadline: from a fault to every running sentinel naming
	// the same new master (down-after, the back-off above, election,
	// promotion, on a loaded 2-core machine).
	rollSwitchDeadline = 40 * time.Second
	// rollAgreeBound is the acceptance bound: every sentinel names the new
	// master within this time of the first +switch-master.
	rollAgreeBound = 2 * time.Second
	// rollGroupDeadline: from the end of the 0+3 stage's faults to one
	// Raft group holding the three gosentinels.
	rollGroupDeadline = 60 * time.Second
	// rollSamplePeriod is the ROLE sampling period used to count
	// promotions.
	rollSamplePeriod = 20 * time.Millisecond
)

// rollMode is GOSENTINEL_ROLL: "short" (the default, in make test: the
// kill fault at 3+0, 2+1 and rollback-1+2, through 1+2 and 0+3 without
// faults, and back to one group at again-0+3) or "full" (make roll: every
// stage, both faults).
func rollMode(t *testing.T) string {
	switch m := os.Getenv("GOSENTINEL_ROLL"); m {
	case "full":
		return "full"
	case "", "short":
		return "short"
	default:
		t.Fatalf("GOSENTINEL_ROLL=%q: want full or short", m)
		return ""
	}
}

// rollStage is one step of the roll: before its checks, pod's sentinel
// becomes to (pod < 0: no change).
type rollStage struct {
	name string
	pod  int
	to   sentinelKind
	// via is the kind of sentinel SENTINEL FAILOVER is sent to.
	via sentinelKind
	// group: the stage ends with one Raft group of all three.
	group bool
	// protocol: before the faults, every gosentinel reports this
	// raft_failover_protocol in INFO raft ("" : not checked).
	protocol string
	// short: the stage runs in short mode, with the kill fault if kill.
	short, kill bool
}

// rollStages is the helm roll (ordinals 2, 1, 0), the rollback of pods 2
// and 1 (helm's order again) beside the group the roll formed, and the
// roll forward once more to one group.
func rollStages(mode string) []rollStage {
	all := []rollStage{
		{name: "3+0", pod: -1, via: kindRedis, short: true, kill: true},
		{name: "2+1", pod: 2, to: kindGo, via: kindGo, short: true, kill: true},
		{name: "1+2", pod: 1, to: kindGo, via: kindGo, short: true},
		{name: "0+3", pod: 0, to: kindGo, via: kindGo, group: true, short: true},
		{name: "rollback-1+2", pod: 2, to: kindRedis, via: kindGo, protocol: "sentinel", short: true, kill: true},
		{name: "rollback-2+1", pod: 1, to: kindRedis, via: kindGo, protocol: "sentinel"},
		{name: "again-1+2", pod: 1, to: kindGo, via: kindGo},
		{name: "again-0+3", pod: 2, to: kindGo, via: kindGo, group: true, protocol: "raft", short: true},
	}
	if mode == "full" {
		return all
	}
	var short []rollStage
	for _, st := range all {
		if st.short {
			short = append(short, st)
		}
	}
	return short
}

// rollFigure is what one fault measured.
type rollFigure struct {
	stage, fault string
	from, to     int
	// firstSwitch: from the fault to the first +switch-master any
	// sentinel published; agreed: to every running sentinel naming the
	// new master; resumed: to the client's first acknowledged write
	// after the fault; settled: to a settled set (old master back and a
	// replica, every sentinel agreeing, no failover in progress).
	firstSwitch, agreed, resumed, settled time.Duration
	// lost: acknowledged writes this fault lost (missing on the new
	// master, not counted by an earlier fault). A SIGKILL may lose
	// asynchronously replicated writes, and so does redis-sentinel's
	// SENTINEL FAILOVER (no write pause); one sent to a gosentinel may
	// not.
	lost int
}

// rollSet is the deployment being rolled and what the test recorded.
type rollSet struct {
	// t owns every process: stage subtests start sentinels that must
	// outlive them.
	t     *testing.T
	d     *harness.Deployment
	kinds []sentinelKind
	goBin string
	watch *switchWatch
	w     *harness.Writer
	// counted are the acknowledged writes an earlier fault lost (reported
	// in its figure); every other one must be on the master after every
	// fault but a kill or a SENTINEL FAILOVER run by redis-sentinel.
	counted map[string]bool
	// epoch is the config epoch every sentinel agreed on last.
	epoch   int
	figures []rollFigure
}

// rollDownAfter is the sets' down-after: 2 s, not the 1 s of the other
// failover tests. redis-sentinel marks a new master SDOWN when no PONG came
// within down-after of the switch that reset its link, and counts the
// other sentinels' "down" answers of the last 5 s, given about the master
// just failed over, toward ODOWN: on this loaded 2-core machine a
// redis-sentinel restarted 3 s earlier did so 1.015 s after a switch (the
// new master answered it 65 ms later, and the other sentinels saw it up
// throughout) and failed the new master over at once, a second failover
// with no gosentinel involved (TestRollMixedSet at 3+0 and at
// rollback-2+1, 2 of 6 full runs).
const rollDownAfter = 2 * time.Second

// startRoll starts a master, two replicas, three redis-sentinels
// (quorum 2, down-after rollDownAfter, failover-timeout rollFailoverTimeout), the
// +switch-master subscriptions and a FailoverClient writer.
func startRoll(t *testing.T) *rollSet {
	t.Helper()
	goBin := candidateBin(t)
	// Inherited by every gosentinel started later.
	t.Setenv("GOSENTINEL_SETTLE_MS", strconv.FormatInt(failoverSettle.Milliseconds(), 10))
	d := harness.Start(t, harness.Options{
		Bin: redistest.ReferenceSentinelBin, DownAfter: rollDownAfter, FailoverTimeout: rollFailoverTimeout,
	})
	r := &rollSet{t: t, d: d, goBin: goBin, watch: newSwitchWatch(t), counted: map[string]bool{}}
	for i, s := range d.Sentinels {
		r.kinds = append(r.kinds, kindRedis)
		if err := r.watch.subscribe(i, s); err != nil {
			t.Fatal(err)
		}
	}
	r.w = startWriter(t, d, "roll", 0)
	r.settle(t, d.Topology.Master.Port(), false)
	t.Logf("set ready: data nodes %v, sentinels %v (pod i = node i + sentinel i)", ports(d.Nodes), d.SentinelAddrs())
	return r
}

// bin returns the executable of kind.
func (r *rollSet) bin(kind sentinelKind) string {
	if kind == kindGo {
		return r.goBin
	}
	return redistest.ReferenceSentinelBin
}

// describe renders the pods' sentinel kinds, e.g. "[redis-sentinel
// redis-sentinel gosentinel]".
func (r *rollSet) describe() string {
	return fmt.Sprint(r.kinds)
}

// podOf returns the pod whose data node listens on port.
func (r *rollSet) podOf(t *testing.T, port int) int {
	t.Helper()
	i := slices.IndexFunc(r.d.Nodes, func(n *redistest.Redis) bool { return n.Port() == port })
	if i < 0 {
		t.Fatalf("no data node on port %d", port)
	}
	return i
}

// replace stops pod's sentinel with SIGTERM and starts a sentinel of kind
// on the config file it rewrote, on the same port, then checks that it kept
// its id and that the set settles without a failover.
func (r *rollSet) replace(t *testing.T, pod int, kind sentinelKind) {
	t.Helper()
	old := r.d.Sentinels[pod]
	id, err := old.MyID()
	if err != nil {
		t.Fatal(err)
	}
	master, err := r.d.AgreedMasterPort()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := old.Stop(redistest.StopTimeout); err != nil {
		t.Fatalf("stop %s of pod %d: %v", r.kinds[pod], pod, err)
	}
	s := r.startSentinel(t, pod, kind)
	if got, err := s.MyID(); err != nil || got != id {
		t.Fatalf("pod %d: %s on the rewritten file answers SENTINEL MYID %q (%v), want %s's %q", pod, kind, got, err, r.kinds[pod], id)
	}
	r.kinds[pod] = kind
	r.settle(t, master, false)
	if sw := r.watch.since(start); len(sw) > 0 {
		t.Fatalf("replacing pod %d's sentinel caused a switch: %v", pod, sw)
	}
	t.Logf("pod %d: %s replaced by %s on %s (myid %s kept) in %v; sentinels now %s", pod, old.Name(), kind, s.ConfigPath,
		id[:8], time.Since(start).Round(time.Millisecond), r.describe())
}

// startSentinel starts a sentinel of kind for pod on the config file, port
// and working directory of its previous process.
func (r *rollSet) startSentinel(t *testing.T, pod int, kind sentinelKind) *redistest.Sentinel {
	t.Helper()
	old := r.d.Sentinels[pod]
	bin := r.bin(kind)
	p, err := redistest.NewProcess(r.t, redistest.ProcessSpec{
		Name: fmt.Sprintf("%s-%d", kind, old.Port()), Bin: bin, Args: []string{old.ConfigPath},
		Dir: old.Dir(), Port: old.Port(),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(); err != nil {
		t.Fatalf("pod %d: start %s on %s: %v", pod, kind, old.ConfigPath, err)
	}
	opts := old.Opts
	opts.Bin = bin
	s := &redistest.Sentinel{Process: p, Opts: opts, ConfigPath: old.ConfigPath}
	r.d.Sentinels[pod] = s
	if err := r.watch.subscribe(pod, s); err != nil {
		t.Fatal(err)
	}
	return s
}

// killMaster is the kill fault: SIGKILL of the master's redis-server (and
// of its pod's sentinel if withSentinel), exactly one failover, the client
// writing again, then the killed processes restarted (the node with its
// original arguments: the sentinels must demote or repoint it) and the set
// settled.
func (r *rollSet) killMaster(t *testing.T, stage string, withSentinel bool) {
	t.Helper()
	old, err := r.d.AgreedMasterPort()
	if err != nil {
		t.Fatal(err)
	}
	pod := r.podOf(t, old)
	node := r.d.Nodes[pod]
	fault := "kill"
	if withSentinel {
		fault = "kill-pod"
	}
	logs := r.tailLogs()
	sampler := harness.StartRoleSampler(r.d.Nodes, rollSamplePeriod)
	defer sampler.Stop()
	if err := node.Kill(); err != nil {
		t.Fatal(err)
	}
	if withSentinel {
		if err := r.d.Sentinels[pod].Kill(); err != nil {
			t.Fatal(err)
		}
	}
	at := time.Now() // reaped: any later ack is the new master's
	r.recoverFromKill(t, rollFigure{stage: stage, fault: fault, from: old}, at, pod, withSentinel, logs, sampler)
}

// recoverFromKill checks the failover that the fault f (the master's node
// killed at at, with its pod's sentinel when withSentinel) caused: exactly
// one switch every sentinel agrees on, the client writing again, one
// promoted replica; then brings the pod back as a StatefulSet does and
// requires the set to settle without a second failover, records f and
// returns the new master.
func (r *rollSet) recoverFromKill(t *testing.T, f rollFigure, at time.Time, pod int, withSentinel bool,
	logs []*logTail, sampler *harness.RoleSampler) int {
	t.Helper()
	old, node := f.from, r.d.Nodes[pod]
	restarted := -1
	if withSentinel {
		restarted = pod
	}
	f.to, f.firstSwitch, f.agreed = r.waitOneSwitch(t, old, at)
	first, err := r.w.WaitAcksAfter(at, 20, resumeDeadline)
	if err != nil {
		t.Fatalf("%s %s: the client does not write again: %v", f.stage, f.fault, err)
	}
	f.resumed = first.Sub(at)
	requireOnePromotion(t, sampler.Stop(), old, f.to, true)

	if withSentinel {
		// The pod comes back: its sentinel (the same kind, on the file it
		// last wrote) and its data node.
		s := r.d.Sentinels[pod]
		if err := s.Start(); err != nil {
			t.Fatalf("restart pod %d's %s: %v", pod, r.kinds[pod], err)
		}
		if err := r.watch.subscribe(pod, s); err != nil {
			t.Fatal(err)
		}
		// The node comes back only once its sentinel names the new master,
		// as the chart's redis container asks the sentinels before it
		// starts: a sentinel still naming the old master while the old
		// node answers again, empty, would send the client there.
		redistest.Poll(t, settleDeadline, 20*time.Millisecond, func() error {
			if p, err := harness.MasterPort(s); err != nil || p != f.to {
				return fmt.Errorf("restarted pod %d's %s names master %d (%v), want %d", pod, r.kinds[pod], p, err, f.to)
			}
			return nil
		})
	}
	if err := node.Start(); err != nil {
		t.Fatalf("restart the killed master %d: %v", old, err)
	}
	r.settle(t, f.to, true)
	f.settled = time.Since(at)
	requireOneLeader(t, r, logs)
	r.requireOneSwitchEach(t, at, old, f.to, restarted)
	f.lost = r.lost(t, f.to)
	r.record(t, f)
	return f.to
}

// manualFailover sends SENTINEL FAILOVER to a sentinel of kind via (the
// master's pod's own, as the chart's preStop does, if it is of that kind)
// and checks exactly one failover, the client writing again and, when a
// gosentinel ran it, no acknowledged write lost.
func (r *rollSet) manualFailover(t *testing.T, stage string, via sentinelKind) {
	t.Helper()
	old, err := r.d.AgreedMasterPort()
	if err != nil {
		t.Fatal(err)
	}
	target := r.podOf(t, old)
	if r.kinds[target] != via {
		target = slices.Index(r.kinds, via)
	}
	if target < 0 {
		t.Fatalf("no %s to send SENTINEL FAILOVER to: %s", via, r.describe())
	}
	s := r.d.Sentinels[target]
	logs := r.tailLogs()
	sampler := harness.StartRoleSampler(r.d.Nodes, rollSamplePeriod)
	defer sampler.Stop()
	at := time.Now()
	reply, err := s.Do("SENTINEL", "FAILOVER", harness.MasterName)
	if err != nil {
		t.Fatal(err)
	}
	if reply.Kind != redistest.KindStatus || reply.Str != "OK" {
		t.Fatalf("%s: SENTINEL FAILOVER on pod %d's %s (%s) answered %s", stage, target, via, s.Name(), reply)
	}
	f := rollFigure{stage: stage, fault: "failover@" + strconv.Itoa(target), from: old}
	f.to, f.firstSwitch, f.agreed = r.waitOneSwitch(t, old, at)
	first, err := r.w.WaitAcksAfter(at, 20, resumeDeadline)
	if err != nil {
		t.Fatalf("%s SENTINEL FAILOVER: the client does not write again: %v", stage, err)
	}
	f.resumed = first.Sub(at)
	requireOnePromotion(t, sampler.Stop(), old, f.to, false)
	r.settle(t, f.to, true)
	f.settled = time.Since(at)
	requireOneLeader(t, r, logs)
	r.requireOneSwitchEach(t, at, old, f.to, -1)
	f.lost = r.lost(t, f.to)
	r.record(t, f)
	if f.lost > 0 && via == kindGo {
		t.Fatalf("%s: SENTINEL FAILOVER run by a gosentinel lost %d acknowledged writes", stage, f.lost)
	}
}

// waitOneSwitch waits until every running sentinel names the same master
// other than old, and checks that this happened within rollAgreeBound of
// the first +switch-master published after at. It returns the new master,
// and the times from at to the first +switch-master and to agreement.
func (r *rollSet) waitOneSwitch(t *testing.T, old int, at time.Time) (int, time.Duration, time.Duration) {
	t.Helper()
	newMaster, err := r.d.WaitSwitched(old, rollSwitchDeadline)
	if err != nil {
		t.Fatalf("no failover of %d (sentinels %s): %v; +switch-master published since: %v", old, r.describe(), err, r.watch.since(at))
	}
	agreed := time.Now()
	var first time.Time
	// The subscriptions may deliver the first message a little after a
	// poll saw every sentinel agree.
	err = redistest.PollErr(rollAgreeBound, 5*time.Millisecond, func() error {
		sw := r.watch.since(at)
		if len(sw) == 0 {
			return fmt.Errorf("every sentinel names %d but none published +switch-master", newMaster)
		}
		first = sw[0].at
		for _, e := range sw {
			if e.at.Before(first) {
				first = e.at
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if lag := agreed.Sub(first); lag > rollAgreeBound {
		t.Fatalf("every sentinel named %d only %v after the first +switch-master (bound %v): %v", newMaster,
			lag.Round(time.Millisecond), rollAgreeBound, r.watch.since(at))
	}
	return newMaster, first.Sub(at), agreed.Sub(at)
}

// requireOneSwitchEach checks the +switch-master messages published since
// at: every sentinel exactly one, from old to newMaster, except the one of
// pod restarted (down during the switch), which may learn it without
// announcing it: at most one, the same.
func (r *rollSet) requireOneSwitchEach(t *testing.T, at time.Time, old, newMaster, restarted int) {
	t.Helper()
	want := fmt.Sprintf("%s 127.0.0.1 %d 127.0.0.1 %d", harness.MasterName, old, newMaster)
	per := make([][]string, len(r.d.Sentinels))
	for _, e := range r.watch.since(at) {
		per[e.pod] = append(per[e.pod], e.msg)
	}
	var errs []string
	for pod, msgs := range per {
		wrong := slices.ContainsFunc(msgs, func(m string) bool { return m != want })
		switch {
		case wrong:
			errs = append(errs, fmt.Sprintf("pod %d (%s) published %q, want only %q", pod, r.kinds[pod], msgs, want))
		case pod == restarted && len(msgs) > 1:
			errs = append(errs, fmt.Sprintf("pod %d (%s, restarted) published %d +switch-master: %q", pod, r.kinds[pod], len(msgs), msgs))
		case pod != restarted && len(msgs) != 1:
			errs = append(errs, fmt.Sprintf("pod %d (%s) published %d +switch-master, want 1: %q", pod, r.kinds[pod], len(msgs), msgs))
		}
	}
	if len(errs) > 0 {
		t.Fatalf("not exactly one switch %d -> %d:\n%s", old, newMaster, strings.Join(errs, "\n"))
	}
}

// tailLogs starts reading every pod's sentinel log from its current end
// (a sentinel restarted later appends to the same file).
func (r *rollSet) tailLogs() []*logTail {
	out := make([]*logTail, len(r.d.Sentinels))
	for i, s := range r.d.Sentinels {
		out[i] = newLogTail(s.LogPath())
	}
	return out
}

// requireOneLeader checks that exactly one sentinel ran a failover since
// logs started: one +elected-leader in all. Both kinds log it once per
// failover they run (redis-sentinel also for SENTINEL FAILOVER, which
// needs no election), and a second failover that promotes the replica the
// first one promoted changes neither the master nor the ROLE samples: only
// this count sees it.
func requireOneLeader(t *testing.T, r *rollSet, logs []*logTail) {
	t.Helper()
	var runs []string
	for pod, l := range logs {
		for _, line := range harness.Events(l.next(), "+elected-leader") {
			runs = append(runs, fmt.Sprintf("pod %d (%s): %s", pod, r.kinds[pod], line))
		}
	}
	if len(runs) != 1 {
		t.Fatalf("%d failovers run (+elected-leader logged), want exactly 1:\n%s", len(runs), strings.Join(runs, "\n"))
	}
}

// requireOnePromotion checks ROLE samples of one fault: apart from old,
// exactly one node was ever a master, newMaster; after a kill (old is
// dead) never two masters at once.
func requireOnePromotion(t *testing.T, samples []harness.RoleSample, old, newMaster int, killed bool) {
	t.Helper()
	if len(samples) == 0 {
		t.Fatal("no ROLE samples")
	}
	promoted := map[int]bool{}
	for _, s := range samples {
		m := harness.Masters(s.Roles)
		if killed && len(m) > 1 {
			t.Fatalf("two masters at %s: %v", s.At.Format("15:04:05.000"), s.Roles)
		}
		for _, p := range m {
			if p != old {
				promoted[p] = true
			}
		}
	}
	if len(promoted) != 1 || !promoted[newMaster] {
		t.Fatalf("promoted %v (ROLE every %v), want exactly %d", slices.Sorted(maps.Keys(promoted)), rollSamplePeriod, newMaster)
	}
}

// settle polls until the set is quiet around master: every data node and
// sentinel running, master the only master and every other node its
// linked replica, every sentinel naming it with flags exactly "master" (no
// failover in progress, no SDOWN or ODOWN), listing the two replicas
// healthy and the two other sentinels, and all on one config epoch: a new
// one (above the last) if newEpoch, else the same.
func (r *rollSet) settle(t *testing.T, master int, newEpoch bool) {
	t.Helper()
	var epoch int
	redistest.Poll(t, settleDeadline, 50*time.Millisecond, func() error {
		for _, n := range r.d.Nodes {
			if !n.Running() {
				return redistest.Abort(fmt.Errorf("data node %d is not running", n.Port()))
			}
		}
		if err := checkRoles(r.d, master, true); err != nil {
			return err
		}
		if err := checkSentinelViews(r.d, master); err != nil {
			return err
		}
		var replicas []int
		for _, n := range r.d.Nodes {
			if n.Port() != master {
				replicas = append(replicas, n.Port())
			}
		}
		epochs := map[int]bool{}
		for i, s := range r.d.Sentinels {
			if !s.Running() {
				return redistest.Abort(fmt.Errorf("pod %d's %s is not running", i, r.kinds[i]))
			}
			var others []int
			for _, o := range r.d.Sentinels {
				if o != s {
					others = append(others, o.Port())
				}
			}
			if err := s.CheckDiscovered(harness.MasterName, replicas, others); err != nil {
				return fmt.Errorf("pod %d (%s): %w", i, r.kinds[i], err)
			}
			e, err := harness.ConfigEpoch(s)
			if err != nil {
				return err
			}
			epochs[e] = true
			epoch = e
		}
		if len(epochs) != 1 {
			return fmt.Errorf("the sentinels report config epochs %v", slices.Sorted(maps.Keys(epochs)))
		}
		return nil
	})
	switch {
	case newEpoch && epoch <= r.epoch:
		t.Fatalf("after a failover the sentinels agree on config epoch %d, not above the previous %d", epoch, r.epoch)
	case !newEpoch && epoch != r.epoch:
		t.Fatalf("config epoch moved from %d to %d without a failover", r.epoch, epoch)
	}
	r.epoch = epoch
}

// lost reads every write acknowledged so far back from master and returns
// how many are missing that no earlier fault already lost; it counts them
// as lost from now on.
func (r *rollSet) lost(t *testing.T, master int) int {
	t.Helper()
	res := r.w.Result()
	lost, err := harness.Lost(redistest.Addr(master), res)
	if err != nil {
		t.Fatal(err)
	}
	var fresh []string
	for _, k := range lost {
		if !r.counted[k] {
			r.counted[k] = true
			fresh = append(fresh, k)
		}
	}
	if len(fresh) > 0 {
		t.Logf("%d of %d acknowledged writes newly missing on %d: %s ... %s", len(fresh), len(res.Acks), master,
			fresh[0], fresh[len(fresh)-1])
	}
	return len(fresh)
}

func (r *rollSet) record(t *testing.T, f rollFigure) {
	t.Helper()
	r.figures = append(r.figures, f)
	t.Logf("%s %s %d -> %d: first +switch-master %v, all agree %v, writes again %v, settled %v, lost %d (sentinels %s)",
		f.stage, f.fault, f.from, f.to, f.firstSwitch.Round(time.Millisecond), f.agreed.Round(time.Millisecond),
		f.resumed.Round(time.Millisecond), f.settled.Round(time.Millisecond), f.lost, r.describe())
}

// report logs the figures of every fault as a table.
func (r *rollSet) report(t *testing.T) {
	var b strings.Builder
	b.WriteString("| stage | fault | first +switch-master | all agree | writes again | settled | lost |\n|---|---|---|---|---|---|---|\n")
	for _, f := range r.figures {
		fmt.Fprintf(&b, "| %s | %s | %v | %v | %v | %v | %d |\n", f.stage, f.fault, f.firstSwitch.Round(time.Millisecond),
			f.agreed.Round(time.Millisecond), f.resumed.Round(time.Millisecond), f.settled.Round(time.Millisecond), f.lost)
	}
	t.Logf("figures (times from the fault):\n%s", b.String())
}

// requireOneGroup polls until every gosentinel's INFO raft shows one active
// group whose voters are exactly the three sentinels' ids, with one
// leader every member names.
// requireProtocol waits until every gosentinel reports protocol as its
// raft_failover_protocol in INFO raft.
func (r *rollSet) requireProtocol(t *testing.T, protocol string) {
	t.Helper()
	start := time.Now()
	redistest.Poll(t, rollGroupDeadline, 100*time.Millisecond, func() error {
		for i, s := range r.d.Sentinels {
			if r.kinds[i] != kindGo {
				continue
			}
			info, err := raftInfo(s)
			if err != nil {
				return err
			}
			if got := info["raft_failover_protocol"]; got != protocol {
				return fmt.Errorf("pod %d: raft_failover_protocol=%s raft_foreign_sentinels=%s", i, got, info["raft_foreign_sentinels"])
			}
		}
		return nil
	})
	t.Logf("every gosentinel decides failovers by %s's protocol %v after the stage began", protocol, time.Since(start).Round(time.Millisecond))
}

// requirePauseRefused: while the set's failovers follow redis-sentinel's
// protocol, SENTINEL MAINTENANCE ON is refused by every gosentinel, and
// pauses nothing. It used to answer OK and pause the sentinel's own copy
// of the state, which the group's state replaced when the set was all
// gosentinels again: the pause was lost without a word.
func (r *rollSet) requirePauseRefused(t *testing.T) {
	t.Helper()
	const want = "NOQUORUM This Sentinel fails over by redis-sentinel's protocol"
	for i, s := range r.d.Sentinels {
		if r.kinds[i] != kindGo {
			continue
		}
		rep, err := s.Do("SENTINEL", "MAINTENANCE", "ON")
		if err != nil {
			t.Fatal(err)
		}
		if rep.Kind != redistest.KindError || !strings.HasPrefix(rep.Str, want) {
			t.Fatalf("pod %d: SENTINEL MAINTENANCE ON in a mixed set answered %s, want %s...", i, rep, want)
		}
		info, err := raftInfo(s)
		if err != nil {
			t.Fatal(err)
		}
		if info["failovers_paused"] != "0" {
			t.Fatalf("pod %d: a refused SENTINEL MAINTENANCE ON left failovers_paused:%s", i, info["failovers_paused"])
		}
	}
}

func (r *rollSet) requireOneGroup(t *testing.T) {
	t.Helper()
	var want []string
	for _, s := range r.d.Sentinels {
		id, err := s.MyID()
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, id)
	}
	slices.Sort(want)
	start := time.Now()
	redistest.Poll(t, rollGroupDeadline, 100*time.Millisecond, func() error {
		leaders, leaderIDs := 0, map[string]bool{}
		for i, s := range r.d.Sentinels {
			if r.kinds[i] != kindGo {
				return redistest.Abort(fmt.Errorf("pod %d runs %s", i, r.kinds[i]))
			}
			info, err := raftInfo(s)
			if err != nil {
				return err
			}
			if info["raft_active"] != "1" {
				return fmt.Errorf("pod %d: raft_active=%s raft_phase=%s raft_formation=%q", i, info["raft_active"], info["raft_phase"], info["raft_formation"])
			}
			var got []string
			for _, v := range voters(info) {
				got = append(got, v.id)
			}
			slices.Sort(got)
			if !slices.Equal(got, want) {
				return fmt.Errorf("pod %d: voters %v, want the three sentinels %v", i, got, want)
			}
			if info["raft_state"] == "leader" {
				leaders++
			}
			leaderIDs[info["raft_leader_id"]] = true
		}
		if leaders != 1 || len(leaderIDs) != 1 {
			return fmt.Errorf("%d sentinels lead, leader ids named %v", leaders, leaderIDs)
		}
		return nil
	})
	t.Logf("one Raft group of the three gosentinels (voters %v), %v after the stage's faults", want, time.Since(start).Round(time.Millisecond))
}

// switchEvent is one +switch-master message a sentinel published.
type switchEvent struct {
	pod int
	at  time.Time
	msg string // "<name> <old-ip> <old-port> <new-ip> <new-port>"
}

func (e switchEvent) String() string {
	return fmt.Sprintf("pod%d@%s:%q", e.pod, e.at.Format("15:04:05.000"), e.msg)
}

// switchWatch subscribes to +switch-master on sentinels and records every
// message with its arrival time.
type switchWatch struct {
	wg     sync.WaitGroup
	mu     sync.Mutex
	conns  []*redistest.Conn
	events []switchEvent
}

// newSwitchWatch returns a watch whose connections are closed (and
// readers waited for) in t's cleanup.
func newSwitchWatch(t *testing.T) *switchWatch {
	w := &switchWatch{}
	t.Cleanup(w.close)
	return w
}

// subscribe subscribes to s's +switch-master, confirmed before it
// returns; the reader ends when s exits (a restarted sentinel is
// subscribed again).
func (w *switchWatch) subscribe(pod int, s *redistest.Sentinel) error {
	c, err := s.DialErr()
	if err != nil {
		return fmt.Errorf("subscribe to %s: %w", s.Name(), err)
	}
	r, err := c.Do("SUBSCRIBE", "+switch-master")
	if err == nil && (len(r.Elems) != 3 || r.Elems[0].Text() != "subscribe") {
		err = fmt.Errorf("SUBSCRIBE answered %s", r)
	}
	if err != nil {
		c.Close()
		return fmt.Errorf("subscribe to %s: %w", s.Name(), err)
	}
	// Messages come whenever they come: reads end only when the
	// connection does.
	c.Timeout = 24 * time.Hour
	w.mu.Lock()
	w.conns = append(w.conns, c)
	w.mu.Unlock()
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		for {
			m, err := c.Read()
			if err != nil {
				return
			}
			at := time.Now()
			if len(m.Elems) == 3 && m.Elems[0].Text() == "message" {
				w.mu.Lock()
				w.events = append(w.events, switchEvent{pod: pod, at: at, msg: m.Elems[2].Text()})
				w.mu.Unlock()
			}
		}
	}()
	return nil
}

// since returns the messages that arrived after t, in arrival order.
func (w *switchWatch) since(t time.Time) []switchEvent {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []switchEvent
	for _, e := range w.events {
		if e.at.After(t) {
			out = append(out, e)
		}
	}
	return out
}

func (w *switchWatch) close() {
	w.mu.Lock()
	for _, c := range w.conns {
		c.Close()
	}
	w.mu.Unlock()
	w.wg.Wait()
}
