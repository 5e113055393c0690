package chaos

import (
	"fmt"
	"strings"
	"time"

	"github.com/x0tta6bl4/gosentinel/bench/partition"
)

// Record is what the campaign recorded about one fault: the input of the
// invariant checks.
type Record struct {
	// Index counts faults from 1.
	Index int
	Fault Fault
	// Start is when the fault was injected (to find it in the logs).
	Start time.Time
	// Deadline is the fault's failover deadline (Fault.Deadline).
	Deadline time.Duration
	// OldMaster is the data node (host name) every sentinel agreed on
	// before the fault; FinalMaster the one they agree on after it
	// settled ("" if it did not).
	OldMaster, FinalMaster string
	// FailoverAfter is the time from the fault's start to a majority of the
	// sentinels agreeing on a master other than OldMaster, -1 if that did
	// not happen while the fault lasted.
	FailoverAfter time.Duration
	// Switches counts the +switch-master lines the sentinels logged from
	// the fault's start until it settled.
	Switches int
	// Probe is the probe's rounds from the fault's start until it settled.
	Probe []partition.ProbeSample
	// Wait1Checked of the WAIT 1 writer's acknowledged writes were read
	// from the final master, Wait1Lost of them were missing; Plain* the
	// same for the plain writer (reported, not an invariant: a plain
	// write acknowledged by a cut-off master is lost by design).
	Wait1Checked, Wait1Lost int
	PlainChecked, PlainLost int
	// Settled says the deployment settled after the fault, within
	// SettleTook; SettleErr is why not.
	Settled    bool
	SettleTook time.Duration
	SettleErr  string
	// LeaderMissed says a leader fault found no failover in progress to
	// interrupt (it ended before the campaign saw it, or never began):
	// the fault then was a KillMaster.
	LeaderMissed bool
	// Leader names the sentinel a leader fault killed or stopped.
	Leader string
	// InjectErr is why the fault could not be injected or undone.
	InjectErr string
}

// Invariant is one of the checks.
type Invariant int

const (
	SingleWriter Invariant = iota
	NoWait1Loss
	FailoverWithMajority
	NoFailoverWithoutMajority
	Settles
	NumInvariants
)

// Description says what the invariant requires, for reports.
func (i Invariant) Description() string {
	return [NumInvariants]string{
		"at most one master accepted writes at any time",
		"no write acknowledged with WAIT 1 lost",
		"a failover completes whenever a majority and a replica can talk",
		"no failover without a majority",
		"the deployment settles after the fault",
	}[i]
}

func (i Invariant) String() string {
	return [NumInvariants]string{"single-writer", "no-wait1-loss", "failover-with-majority", "no-failover-without-majority", "settles"}[i]
}

// Violation is one invariant a fault broke, with what was seen.
type Violation struct {
	Invariant Invariant
	Detail    string
}

func (v Violation) String() string { return v.Invariant.String() + ": " + v.Detail }

// checks holds each invariant's check, by invariant: a check returns
// what it saw and whether that breaks the invariant.
var checks = [NumInvariants]func(Record) (string, bool){
	SingleWriter:              checkSingleWriter,
	NoWait1Loss:               checkWait1,
	FailoverWithMajority:      checkFailover,
	NoFailoverWithoutMajority: checkNoFailover,
	Settles:                   checkSettled,
}

// Check returns the invariants r breaks.
func Check(r Record) []Violation {
	var out []Violation
	for i, c := range checks {
		if detail, broken := c(r); broken {
			out = append(out, Violation{Invariant: Invariant(i), Detail: detail})
		}
	}
	return out
}

// TwoWriterRounds counts the probe rounds in which two or more data nodes
// accepted a write.
func TwoWriterRounds(samples []partition.ProbeSample) int {
	n := 0
	for _, s := range samples {
		accepted := 0
		for _, ok := range s.Accepted {
			if ok {
				accepted++
			}
		}
		if accepted >= 2 {
			n++
		}
	}
	return n
}

func checkSingleWriter(r Record) (string, bool) {
	n := TwoWriterRounds(r.Probe)
	return fmt.Sprintf("%d probe rounds (%v) with two data nodes accepting writes", n, partition.TwoMasters(r.Probe)), n > 0
}

func checkWait1(r Record) (string, bool) {
	return fmt.Sprintf("%d of %d checked WAIT 1 writes missing on the final master %s", r.Wait1Lost, r.Wait1Checked, r.FinalMaster), r.Wait1Lost > 0
}

func checkFailover(r Record) (string, bool) {
	if r.Fault.Expect() != ExpectFailover {
		return "", false
	}
	if r.FailoverAfter < 0 {
		return fmt.Sprintf("no new master agreed by a majority within %v (master %s)", r.Deadline, r.OldMaster), true
	}
	if r.FailoverAfter > r.Deadline {
		return fmt.Sprintf("new master agreed after %v, over the %v deadline", r.FailoverAfter.Round(time.Millisecond), r.Deadline), true
	}
	return "", false
}

func checkNoFailover(r Record) (string, bool) {
	if r.Fault.Expect() != ExpectNoFailover {
		return "", false
	}
	changed := r.FailoverAfter >= 0 || r.Switches > 0 || (r.Settled && r.FinalMaster != r.OldMaster)
	return fmt.Sprintf("master %s changed (to %q; +switch-master logged %d times) though it stayed with a majority", r.OldMaster, r.FinalMaster, r.Switches), changed
}

func checkSettled(r Record) (string, bool) {
	if r.InjectErr != "" {
		return "fault not injected or undone: " + r.InjectErr, true
	}
	return "did not settle: " + r.SettleErr, !r.Settled
}

// Line renders one fault's record and violations on one line.
func Line(r Record, vs []Violation) string {
	var b strings.Builder
	fmt.Fprintf(&b, "#%d %s %s: master %s", r.Index, r.Start.Format("15:04:05.000"), r.Fault, r.OldMaster)
	if r.Leader != "" {
		fmt.Fprintf(&b, ", leader %s faulted", r.Leader)
	}
	if r.LeaderMissed {
		b.WriteString(", no failover in progress seen (leader not faulted)")
	}
	if r.FailoverAfter >= 0 {
		fmt.Fprintf(&b, ", new master after %v", r.FailoverAfter.Round(10*time.Millisecond))
	}
	if r.Settled {
		fmt.Fprintf(&b, ", settled on %s in %v", r.FinalMaster, r.SettleTook.Round(10*time.Millisecond))
	}
	fmt.Fprintf(&b, ", two-writer rounds %d, WAIT 1 lost %d/%d, plain lost %d/%d",
		TwoWriterRounds(r.Probe), r.Wait1Lost, r.Wait1Checked, r.PlainLost, r.PlainChecked)
	if len(vs) == 0 {
		b.WriteString(": ok")
		return b.String()
	}
	b.WriteString(": VIOLATED")
	for _, v := range vs {
		b.WriteString("; " + v.String())
	}
	return b.String()
}
