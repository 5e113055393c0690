package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/bench/harness"
	"github.com/x0tta6bl4/gosentinel/internal/redistest"
)

// Deadlines of one run; a run that misses one fails (and is reported).
const (
	switchDeadline = 30 * time.Second
	warmAcks       = 200 // acknowledged writes before the fault
	afterAcks      = 300 // acknowledged writes after the switch before stopping
)

// sentinelKind is one of the two sentinels compared.
type sentinelKind struct {
	name string
	bin  string
	raft bool
}

// killResult is one SIGKILL run.
type killResult struct {
	// firstAck: SIGKILL to the first write acknowledged after it, minus
	// down-after.
	firstAck time.Duration
	// announced: SIGKILL to every sentinel answering the new master, minus
	// down-after.
	announced time.Duration
	// spurious: another failover followed within the watch time; second
	// describes it.
	spurious bool
	second   string
}

// manualResult is one SENTINEL FAILOVER run.
type manualResult struct {
	gap  time.Duration // longest time without an acknowledged write
	lost int           // acknowledged writes missing on the new master
	acks int
}

// deploymentOptions are the options of every settled run of kind k: Start
// waits until gosentinel's Raft group is formed.
func (c *config) deploymentOptions(k sentinelKind) harness.Options {
	return harness.Options{Bin: k.bin, Raft: k.raft, Settle: c.settle, DownAfter: c.downAfter, FailoverTimeout: c.failoverTimeout}
}

// freshOptions are the options of every fresh run of kind k: Start returns
// once the sentinels discovered each other, as a user would see it.
func (c *config) freshOptions(k sentinelKind) harness.Options {
	o := c.deploymentOptions(k)
	o.DiscoveryOnly = true
	return o
}

// startLoad starts the deployment and a writer that has warmed up.
func (c *config) startLoad(tb testing.TB, o harness.Options, prefix string) (*harness.Deployment, *harness.Writer) {
	d := harness.Start(tb, o)
	w := harness.StartWriter(harness.WriterOptions{SentinelAddrs: d.SentinelAddrs(), Prefix: prefix, Interval: c.interval})
	tb.Cleanup(func() { w.Stop() })
	if _, err := w.WaitAcksAfter(time.Time{}, warmAcks, switchDeadline); err != nil {
		tb.Fatal(err)
	}
	return d, w
}

// killRun SIGKILLs the master under load, times the clients' recovery and
// then watches for a second failover.
func (c *config) killRun(tb testing.TB, k sentinelKind) killResult {
	d, w := c.startLoad(tb, c.deploymentOptions(k), "kill")
	r, _ := c.killAndTime(tb, d, w)
	return r
}

// killAndTime SIGKILLs the master of d, times the recovery of w's writes
// and watches for a second failover (see killRun). It also returns the
// ports of the old and the new master.
func (c *config) killAndTime(tb testing.TB, d *harness.Deployment, w *harness.Writer) (killResult, [2]int) {
	old := d.Topology.Master
	if err := old.Kill(); err != nil {
		tb.Fatal(err)
	}
	killed := time.Now() // reaped: any later ack is the new master's
	newMaster, err := d.WaitSwitched(old.Port(), switchDeadline)
	if err != nil {
		tb.Fatal(err)
	}
	announced := time.Since(killed)
	first, err := w.WaitAcksAfter(killed, 1, switchDeadline)
	if err != nil {
		tb.Fatal(err)
	}
	r := killResult{firstAck: first.Sub(killed) - c.downAfter, announced: announced - c.downAfter}
	r.second = secondFailover(d, newMaster, c.watch)
	r.spurious = r.second != ""
	return r, [2]int{old.Port(), newMaster}
}

// secondFailover watches the sentinels' logs for watch and describes the
// first +switch-master away from master, or returns "".
func secondFailover(d *harness.Deployment, master int, watch time.Duration) string {
	away := fmt.Sprintf(" 127.0.0.1 %d 127.0.0.1 ", master)
	found := ""
	_ = redistest.PollErr(watch, 50*time.Millisecond, func() error {
		for _, s := range d.Sentinels {
			for _, line := range harness.Events(s.Log(), "+switch-master") {
				if strings.Contains(line, away) {
					found = s.Name() + ": " + line
					return nil
				}
			}
		}
		return redistest.ErrNotYet
	})
	return found
}

// otherSwitch describes the first +switch-master any sentinel of d logged
// that is not from old to newMaster, or returns "". A fresh gosentinel
// deployment is not checked for one Raft group before the fault, so two
// groups could each promote a different replica; the loser's sentinels
// then switch again to the agreed master, which secondFailover (only
// switches away from that master) does not see.
func otherSwitch(d *harness.Deployment, old, newMaster int) string {
	want := fmt.Sprintf(" 127.0.0.1 %d 127.0.0.1 %d", old, newMaster)
	for _, s := range d.Sentinels {
		for _, line := range harness.Events(s.Log(), "+switch-master") {
			if !strings.HasSuffix(line, want) {
				return s.Name() + ": " + line
			}
		}
	}
	return ""
}

// manualRun sends SENTINEL FAILOVER under load and measures the longest
// write gap and the acknowledged writes the new master does not have.
func (c *config) manualRun(tb testing.TB, k sentinelKind) manualResult {
	d, w := c.startLoad(tb, c.deploymentOptions(k), "manual")
	old := d.Topology.Master
	start := time.Now()
	// redis-sentinel takes it on any sentinel; gosentinel only on its Raft
	// leader for now, so the others are tried in turn.
	if _, err := d.ManualFailover([]int{0, 1, 2}, k.raft); err != nil {
		tb.Fatal(err)
	}
	return switchLoss(tb, d, w, old.Port(), start)
}

// switchLoss waits for the sentinels of d to switch away from master old
// after a SENTINEL FAILOVER sent at start, lets w write afterAcks more
// times, stops it and measures the longest write gap since start and the
// acknowledged writes the new master does not have.
func switchLoss(tb testing.TB, d *harness.Deployment, w *harness.Writer, old int, start time.Time) manualResult {
	newMaster, err := d.WaitSwitched(old, switchDeadline)
	if err != nil {
		tb.Fatal(err)
	}
	switched := time.Now()
	if _, err := w.WaitAcksAfter(switched, afterAcks, switchDeadline); err != nil {
		tb.Fatal(err)
	}
	res := w.Stop()
	lost, err := harness.Lost(redistest.Addr(newMaster), res)
	if err != nil {
		tb.Fatal(err)
	}
	end := res.Acks[len(res.Acks)-1].At
	return manualResult{gap: res.LongestGap(start, end), lost: len(lost), acks: len(res.Acks)}
}

// freshState is a fresh deployment at the moment of its fault.
type freshState struct {
	// after is the fault's time since Deployment.Discovered.
	after time.Duration
	// active counts the sentinels that had logged GroupActiveLine
	// (gosentinel only; see raft).
	active, sentinels int
	raft              bool
}

func (s freshState) String() string {
	out := fmt.Sprintf("at discovery+%v", ms(s.after))
	if s.raft {
		out += fmt.Sprintf(", Raft group active on %d of %d sentinels", s.active, s.sentinels)
	}
	return out
}

// startFresh starts a fresh deployment under load and returns at
// -fresh-delay after its discovery, with the deployment's state then.
func (c *config) startFresh(tb testing.TB, k sentinelKind, prefix string) (*harness.Deployment, *harness.Writer, freshState) {
	d, w := c.startLoad(tb, c.freshOptions(k), prefix)
	at := d.Discovered.Add(c.freshDelay)
	// The writer's warm-up (warmAcks writes) runs after discovery; a
	// deployment measured later than asked would be a different metric.
	if time.Now().After(at) {
		tb.Fatalf("the writer warmed up %v after discovery, later than -fresh-delay %v", ms(time.Since(d.Discovered)), c.freshDelay)
	}
	// A schedule, not a synchronisation: the fault is due at that instant.
	time.Sleep(time.Until(at))
	return d, w, freshState{after: time.Since(d.Discovered), active: harness.GroupActive(d.Sentinels), sentinels: len(d.Sentinels), raft: k.raft}
}

// freshKillResult is one fresh SIGKILL run.
type freshKillResult struct {
	killResult
	state freshState
}

// freshKillRun is killRun on a fresh deployment, -fresh-delay after
// discovery. Exactly one failover must happen: a second one is reported.
func (c *config) freshKillRun(tb testing.TB, k sentinelKind) freshKillResult {
	d, w, st := c.startFresh(tb, k, "fresh-kill")
	kr, ports := c.killAndTime(tb, d, w)
	// killAndTime watched for a switch away from the new master; any
	// other switch than the first one, logged by then, is a second
	// failover too.
	if kr.second == "" {
		kr.second = otherSwitch(d, ports[0], ports[1])
		kr.spurious = kr.second != ""
	}
	return freshKillResult{killResult: kr, state: st}
}

// freshManualResult is one fresh SENTINEL FAILOVER run.
type freshManualResult struct {
	manualResult
	state freshState
	// refused is the error reply to SENTINEL FAILOVER, "" if it was +OK.
	refused string
}

// freshManualRun sends SENTINEL FAILOVER once, to sentinel 0, on a fresh
// deployment -fresh-delay after discovery. A refusal is a result; an
// accepted failover is measured like manualRun.
func (c *config) freshManualRun(tb testing.TB, k sentinelKind) freshManualResult {
	d, w, st := c.startFresh(tb, k, "fresh-manual")
	old := d.Topology.Master
	start := time.Now()
	s := d.Sentinels[0]
	reply, err := s.Do("SENTINEL", "FAILOVER", harness.MasterName)
	if err != nil {
		tb.Fatalf("SENTINEL FAILOVER to %s: %v", s.Name(), err)
	}
	r := freshManualResult{state: st}
	if reply.Kind == redistest.KindError {
		r.refused = reply.Str
		return r
	}
	if reply.Kind != redistest.KindStatus || reply.Str != "OK" {
		tb.Fatalf("SENTINEL FAILOVER to %s: unexpected reply %s", s.Name(), reply)
	}
	r.manualResult = switchLoss(tb, d, w, old.Port(), start)
	return r
}
