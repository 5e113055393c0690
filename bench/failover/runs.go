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
	// spurious: another failover followed within the watch time.
	spurious bool
}

// manualResult is one SENTINEL FAILOVER run.
type manualResult struct {
	gap  time.Duration // longest time without an acknowledged write
	lost int           // acknowledged writes missing on the new master
	acks int
}

// deploymentOptions are the options of every run of kind k.
func (c *config) deploymentOptions(k sentinelKind) harness.Options {
	return harness.Options{Bin: k.bin, Raft: k.raft, Settle: c.settle, DownAfter: c.downAfter, FailoverTimeout: c.failoverTimeout}
}

// startLoad starts the deployment and a writer that has warmed up.
func (c *config) startLoad(tb testing.TB, k sentinelKind, prefix string) (*harness.Deployment, *harness.Writer) {
	d := harness.Start(tb, c.deploymentOptions(k))
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
	d, w := c.startLoad(tb, k, "kill")
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
	r.spurious = secondFailover(d, newMaster, c.watch) != ""
	return r
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

// manualRun sends SENTINEL FAILOVER under load and measures the longest
// write gap and the acknowledged writes the new master does not have.
func (c *config) manualRun(tb testing.TB, k sentinelKind) manualResult {
	d, w := c.startLoad(tb, k, "manual")
	old := d.Topology.Master
	start := time.Now()
	// redis-sentinel takes it on any sentinel; gosentinel only on its Raft
	// leader for now, so the others are tried in turn.
	if _, err := d.ManualFailover([]int{0, 1, 2}, k.raft); err != nil {
		tb.Fatal(err)
	}
	newMaster, err := d.WaitSwitched(old.Port(), switchDeadline)
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
