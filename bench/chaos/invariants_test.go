package chaos

import (
	"slices"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/bench/partition"
)

func TestCheck(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	round := func(ms int, accepted ...bool) partition.ProbeSample {
		return partition.ProbeSample{At: t0.Add(time.Duration(ms) * time.Millisecond), Accepted: accepted}
	}
	oneWriter := []partition.ProbeSample{round(0, true, false, false), round(100, false, false, false), round(200, false, true, false)}
	// good is a KillMaster that failed over within its deadline and settled.
	good := Record{Fault: Fault{Kind: KillMaster}, Deadline: 21 * time.Second, OldMaster: "m", FinalMaster: "r1",
		FailoverAfter: 3 * time.Second, Probe: oneWriter, Wait1Checked: 100, Settled: true}
	// quiet is a CutReplica that changed nothing.
	quiet := Record{Fault: Fault{Kind: CutReplica}, Deadline: 21 * time.Second, OldMaster: "m", FinalMaster: "m",
		FailoverAfter: -1, Probe: oneWriter, Settled: true}
	with := func(r Record, f func(*Record)) Record { f(&r); return r }
	for _, tc := range []struct {
		name string
		r    Record
		want []Invariant
	}{
		{"failover in time", good, nil},
		{"no failover where none may happen", quiet, nil},
		{"two nodes accepted a write in one round", with(good, func(r *Record) {
			r.Probe = append(slices.Clone(oneWriter), round(300, true, true, false))
		}), []Invariant{SingleWriter}},
		{"no node accepting is not two writers", with(good, func(r *Record) {
			r.Probe = []partition.ProbeSample{round(0, false, false, false)}
		}), nil},
		{"a WAIT 1 write lost", with(good, func(r *Record) { r.Wait1Lost = 1 }), []Invariant{NoWait1Loss}},
		{"plain writes lost are no violation", with(good, func(r *Record) { r.PlainChecked, r.PlainLost = 10, 5 }), nil},
		{"no failover though the master was killed", with(good, func(r *Record) { r.FailoverAfter, r.FinalMaster = -1, "m" }),
			[]Invariant{FailoverWithMajority}},
		{"failover after the deadline", with(good, func(r *Record) { r.FailoverAfter = 22 * time.Second }),
			[]Invariant{FailoverWithMajority}},
		{"a leader fault must fail over too", with(good, func(r *Record) { r.Fault.Kind, r.FailoverAfter = StopLeader, -1 }),
			[]Invariant{FailoverWithMajority}},
		{"failover when a replica was cut", with(quiet, func(r *Record) { r.FinalMaster = "r2" }),
			[]Invariant{NoFailoverWithoutMajority}},
		{"failover and back when a sentinel was cut", with(quiet, func(r *Record) { r.Fault.Kind, r.Switches = CutSentinel, 2 }),
			[]Invariant{NoFailoverWithoutMajority}},
		{"majority agreed on another master during light loss", with(quiet, func(r *Record) {
			r.Fault, r.FailoverAfter = Fault{Kind: Loss, Loss: 0.05}, 4*time.Second
		}), []Invariant{NoFailoverWithoutMajority}},
		{"heavy loss may fail over", with(quiet, func(r *Record) {
			r.Fault, r.FailoverAfter, r.FinalMaster, r.Switches = Fault{Kind: Loss, Loss: 0.3}, 4*time.Second, "r1", 3
		}), nil},
		{"heavy loss need not fail over", with(quiet, func(r *Record) { r.Fault = Fault{Kind: Loss, Loss: 0.3} }), nil},
		{"did not settle", with(quiet, func(r *Record) { r.Settled, r.FinalMaster, r.SettleErr = false, "", "sentinels disagree" }),
			[]Invariant{Settles}},
		{"could not inject", with(quiet, func(r *Record) { r.InjectErr = "iptables failed" }), []Invariant{Settles}},
		{"everything broken at once", with(good, func(r *Record) {
			r.Probe = []partition.ProbeSample{round(0, true, true, true)}
			r.Wait1Lost, r.FailoverAfter, r.Settled, r.FinalMaster = 3, -1, false, ""
		}), []Invariant{SingleWriter, NoWait1Loss, FailoverWithMajority, Settles}},
	} {
		var got []Invariant
		for _, v := range Check(tc.r) {
			got = append(got, v.Invariant)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: Check = %v, want %v", tc.name, Check(tc.r), tc.want)
		}
	}
}

func TestTwoWriterRounds(t *testing.T) {
	s := func(accepted ...bool) partition.ProbeSample { return partition.ProbeSample{Accepted: accepted} }
	for _, tc := range []struct {
		samples []partition.ProbeSample
		want    int
	}{
		{nil, 0},
		{[]partition.ProbeSample{s(true, false, false), s(false, true, false)}, 0},
		{[]partition.ProbeSample{s(true, true, false), s(false, true, false), s(true, true, true)}, 2},
	} {
		if got := TwoWriterRounds(tc.samples); got != tc.want {
			t.Errorf("TwoWriterRounds(%v) = %d, want %d", tc.samples, got, tc.want)
		}
	}
}
