package partition

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/bench/harness"
	"github.com/x0tta6bl4/gosentinel/internal/netlab"
	"github.com/x0tta6bl4/gosentinel/internal/redistest"
)

// Writes is what one writer saw in a run.
type Writes struct {
	// Rate is the writer's acknowledged writes per second in the second
	// before the cut.
	Rate float64
	// Acked counts every acknowledged write, Lost those the final master
	// does not hold.
	Acked, Lost int
	// FirstSecond counts the writes acknowledged in the first second after
	// the cut (the loss issue 9's fencing accepts at most).
	FirstSecond int
	// ByNode counts acknowledged writes per data node (by host name):
	// before the cut, during it, and after the heal.
	Before, During, After map[string]int
}

// Result is one run's measurements. A duration is -1 when the event did
// not happen within the run.
type Result struct {
	// Announced: from the cut to both majority-side sentinels reporting a
	// master other than the old one.
	Announced time.Duration
	// StoppedVouching: from the cut to the cut-off sentinel answering
	// GET-MASTER-ADDR-BY-NAME with null.
	StoppedVouching time.Duration
	// TwoMasters: how long the probe saw two or more data nodes accept a
	// write in the same round (rounds every ProbePeriod, each counted for
	// the time to the next round).
	TwoMasters time.Duration
	// Demoted: from the heal to the old master answering ROLE as a
	// replica.
	Demoted time.Duration
	// FinalMaster is the data node (host name) every sentinel agrees on at
	// the end.
	FinalMaster string
	// LeaderCutOff says, for gosentinel, whether the Raft leader at the
	// cut was the cut-off sentinel (its failover then waits for a new
	// election on the majority side); always false for redis-sentinel.
	LeaderCutOff bool
	// Plain is the FailoverClient writing plain SETs, Wait1 the one that
	// counts a SET only when WAIT 1 confirmed it.
	Plain, Wait1 Writes
}

// ProbePeriod is how often the probe tries a write on every data node.
const ProbePeriod = 100 * time.Millisecond

// Run starts a deployment (Start), writes through two FailoverClients in
// the client's namespace, cuts {master, first sentinel, client} from the
// rest for o.Cut, heals, and measures. It returns an error (and tb stays
// unfailed) when the scenario could not run to its end: a deployment that
// does not form, a demotion or agreement that never comes.
func Run(tb testing.TB, o Options) (Result, error) {
	tb.Helper()
	o = o.withDefaults()
	res := Result{Announced: -1, StoppedVouching: -1, Demoted: -1}
	d, err := Start(tb, o)
	if err != nil {
		return res, fmt.Errorf("start: %w", err)
	}
	var addrs []string
	for _, s := range d.Sentinels {
		addrs = append(addrs, s.Addr())
	}
	wo := harness.WriterOptions{SentinelAddrs: addrs, Interval: o.Interval, Dialer: d.Client.DialContext}
	wo.Prefix = "plain"
	plain := harness.StartWriter(wo)
	defer plain.Stop()
	wo.Prefix, wo.WaitReplicas = "wait1", 1
	wait1 := harness.StartWriter(wo)
	defer wait1.Stop()
	// Both writers warmed up: a second of acks is the rate before the cut.
	warm := time.Now()
	for _, w := range []*harness.Writer{plain, wait1} {
		if _, err := w.WaitAcksAfter(warm, 1, 30*time.Second); err != nil {
			return res, fmt.Errorf("writer before the cut: %w", err)
		}
	}
	if _, err := plain.WaitAcksAfter(time.Now().Add(time.Second), 1, 30*time.Second); err != nil {
		return res, fmt.Errorf("writer before the cut: %w", err)
	}

	if o.Raft {
		hd := &harness.Deployment{Sentinels: d.Sentinels}
		leader, err := hd.WaitRaftLeader(o.ReadyTimeout)
		if err != nil {
			return res, err
		}
		res.LeaderCutOff = leader == 0
	}
	probe := StartProbe(d.Nodes, ProbePeriod)
	defer probe.Stop()
	minority := []*netlab.Host{d.NodeHosts[0], d.SentinelHosts[0], d.Client}
	majority := append(append([]*netlab.Host(nil), d.NodeHosts[1:]...), d.SentinelHosts[1:]...)
	cutAt := time.Now()
	if err := d.Lab.Cut(minority, majority); err != nil {
		return res, err
	}
	o.Logf("cut {%s} from {%s} (rules in place after %v; Raft leader cut off: %v)", names(minority), names(majority), time.Since(cutAt), res.LeaderCutOff)
	oldMaster := d.Nodes[0].Addr()
	lone, others := d.Sentinels[0], d.Sentinels[1:]
	// Until the cut ends: when the majority announces a new master, and
	// when the lone sentinel stops vouching for the old one.
	_ = redistest.PollErr(o.Cut, 20*time.Millisecond, func() error {
		if res.Announced < 0 {
			if a, err := AgreedMaster(others); err == nil && a != oldMaster {
				res.Announced = time.Since(cutAt)
				o.Logf("majority announced %s after %v", a, res.Announced)
			}
		}
		if res.StoppedVouching < 0 {
			if a, err := MasterAddr(lone); err == nil && a == "" {
				res.StoppedVouching = time.Since(cutAt)
				o.Logf("%s answers null after %v", lone.Name(), res.StoppedVouching)
			}
		}
		if res.Announced < 0 || res.StoppedVouching < 0 {
			return errors.New("waiting")
		}
		return nil
	})
	// The cut lasts o.Cut: this is the scenario's length, not a wait for
	// an event (the poll above ends early only if a query hangs).
	time.Sleep(time.Until(cutAt.Add(o.Cut)))
	// The heal counts from the moment the last rule is gone.
	healStart := time.Now()
	if err := d.Lab.Heal(); err != nil {
		return res, err
	}
	healAt := time.Now()
	o.Logf("healed after %v (rules removed in %v)", healAt.Sub(cutAt), healAt.Sub(healStart))

	err = redistest.PollErr(o.SettleTimeout, 10*time.Millisecond, func() error {
		if res.Announced < 0 {
			if a, err := AgreedMaster(others); err == nil && a != oldMaster {
				res.Announced = time.Since(cutAt)
			}
		}
		if res.Demoted < 0 && nodeRole(d.Nodes[0]) == "slave" {
			res.Demoted = time.Since(healAt)
			o.Logf("old master demoted %v after the heal", res.Demoted)
		}
		if res.Announced < 0 || res.Demoted < 0 {
			return errors.New("no new master announced or old master not demoted yet")
		}
		return nil
	})
	if err != nil {
		return res, fmt.Errorf("after the heal: %w", err)
	}
	var final string
	err = redistest.PollErr(o.SettleTimeout, 50*time.Millisecond, func() error {
		a, err := AgreedMaster(d.Sentinels)
		if err != nil {
			return err
		}
		final = a
		return nil
	})
	if err != nil {
		return res, fmt.Errorf("after the heal, sentinels never agreed: %w", err)
	}
	finalNode := d.NodeByAddr(final)
	if finalNode < 0 {
		return res, fmt.Errorf("final master %s is not a data node", final)
	}
	res.FinalMaster = d.NodeHosts[finalNode].Name
	// Both writers acknowledged a write on the final master after the heal.
	for _, w := range []*harness.Writer{plain, wait1} {
		if _, err := w.WaitAcksAfter(time.Now(), 1, o.SettleTimeout); err != nil {
			return res, fmt.Errorf("writer after the heal: %w", err)
		}
	}
	samples := probe.Stop()
	res.TwoMasters = TwoMasters(samples)
	for _, wr := range []struct {
		w   *harness.Writer
		out *Writes
	}{{plain, &res.Plain}, {wait1, &res.Wait1}} {
		r := wr.w.Stop()
		lost, err := harness.Lost(final, r)
		if err != nil {
			return res, err
		}
		*wr.out = d.writes(r, len(lost), cutAt, healAt)
	}
	return res, nil
}

// NodeByAddr returns the index of the data node at addr, or -1.
func (d *Deployment) NodeByAddr(addr string) int {
	for i, n := range d.Nodes {
		if n.Addr() == addr {
			return i
		}
	}
	return -1
}

// writes summarises a writer's record around the cut.
func (d *Deployment) writes(r harness.Result, lost int, cutAt, healAt time.Time) Writes {
	w := Writes{Acked: len(r.Acks), Lost: lost,
		Before: map[string]int{}, During: map[string]int{}, After: map[string]int{}}
	rateFrom := cutAt.Add(-time.Second)
	for i, a := range r.Acks {
		node := "?"
		if n := d.NodeByAddr(r.AckAddrs[i]); n >= 0 {
			node = d.NodeHosts[n].Name
		}
		switch {
		case a.At.Before(cutAt):
			w.Before[node]++
			if !a.At.Before(rateFrom) {
				w.Rate++
			}
		case a.At.Before(healAt):
			w.During[node]++
			if a.At.Before(cutAt.Add(time.Second)) {
				w.FirstSecond++
			}
		default:
			w.After[node]++
		}
	}
	return w
}
