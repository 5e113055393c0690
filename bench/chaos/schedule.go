// Package chaos is issue 9's chaos campaign: a seeded random sequence of
// faults injected into the partition scenario's deployment
// (bench/partition: three data nodes and three sentinels, gosentinel or
// redis-sentinel, each in its own network namespace of internal/netlab,
// and a client host), with a client writing throughout (plain SETs, and
// SETs confirmed by WAIT 1) and a probe trying a write on every data node
// every 100 ms. After every fault the campaign heals, restarts or
// continues whatever the fault touched, waits until the deployment has
// settled (every sentinel agrees on one master, every other data node
// replicates from it with its link up), and checks the invariants of
// issue 9 over what it recorded:
//
//   - at most one master accepted writes at any time: in no probe round
//     did two data nodes accept a write;
//   - no write acknowledged with WAIT 1 is lost: after the fault settled,
//     the agreed master holds every such write;
//   - a failover completes whenever a majority of sentinels and one
//     replica can talk: after a fault that takes the master away from the
//     majority, a majority of the sentinels agrees on a new master within
//     a deadline;
//   - none happens without a majority: after a fault that leaves the
//     master with the majority (a sentinel, a replica or light packet loss),
//     the master has not changed;
//   - and the deployment settles after every fault.
//
// The schedule (Schedule) and the checks (Check) are pure functions with
// table tests; Run injects a schedule into a deployment. The campaign's
// faults are clock-free: signals, cuts and packet loss only.
package chaos

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// Kind is a kind of fault.
type Kind int

// The fault kinds of issue 9. Leader faults fault the master first (a
// SIGKILL), then, once a failover has begun, the sentinel that runs it:
// gosentinel's Raft leader, or the redis-sentinel that won the election.
const (
	KillMaster        Kind = iota // SIGKILL of the master
	StopMaster                    // SIGSTOP of the master, SIGCONT after the hold
	KillLeader                    // SIGKILL of the failover leader mid-failover
	StopLeader                    // SIGSTOP of the failover leader mid-failover
	KillReplica                   // SIGKILL of a replica
	StopReplica                   // SIGSTOP of a replica
	CutMasterSentinel             // {master, one sentinel, client} cut from the rest
	CutSentinel                   // one sentinel cut from every other host
	CutReplica                    // one replica cut from every other host
	Loss                          // random packet loss on every host
	RestartSentinels              // every sentinel restarted (SIGTERM, start)
	NumKinds
)

var kindNames = [NumKinds]string{
	"kill-master", "stop-master", "kill-leader", "stop-leader", "kill-replica", "stop-replica",
	"cut-master+sentinel", "cut-sentinel", "cut-replica", "loss", "restart-sentinels",
}

func (k Kind) String() string {
	if k < 0 || k >= NumKinds {
		return fmt.Sprintf("kind(%d)", int(k))
	}
	return kindNames[k]
}

// LossProbabilities are the drop probabilities a Loss fault picks from.
var LossProbabilities = []float64{0.02, 0.05, 0.1, 0.2, 0.3}

// NoFailoverLoss is the highest drop probability under which no failover
// may happen: at 10% a PING and its reply are both late by more than a
// down-after of 1 s only after several TCP retransmissions in a row.
// Above it, a failover is allowed (not required).
const NoFailoverLoss = 0.1

// Fault is one fault of a schedule.
type Fault struct {
	Kind Kind
	// Sentinel is the index (0-2) of the sentinel CutMasterSentinel and
	// CutSentinel cut off.
	Sentinel int
	// Replica picks the replica (0 or 1, in data node order among those
	// that are not the master at the time) of KillReplica, StopReplica
	// and CutReplica.
	Replica int
	// Loss is Loss's drop probability.
	Loss float64
	// Rolling says RestartSentinels restarts one sentinel after another
	// (each answering PING before the next stops); else all stop, then all
	// start.
	Rolling bool
	// Hold is how long the fault lasts at least; a fault that must cause a
	// failover lasts until the failover is agreed or its deadline passed.
	Hold time.Duration
}

func (f Fault) String() string {
	s := f.Kind.String()
	switch f.Kind {
	case CutMasterSentinel, CutSentinel:
		s += fmt.Sprintf(" s%d", f.Sentinel+1)
	case KillReplica, StopReplica, CutReplica:
		s += fmt.Sprintf(" replica#%d", f.Replica)
	case Loss:
		s += fmt.Sprintf(" %.0f%%", f.Loss*100)
	case RestartSentinels:
		if f.Rolling {
			s += " rolling"
		} else {
			s += " all-at-once"
		}
	}
	return s + fmt.Sprintf(" hold %.1fs", f.Hold.Seconds())
}

// Expect is what a fault must do to the master.
type Expect int

const (
	// ExpectNoFailover: the master stays with a majority of the
	// sentinels; it must not change.
	ExpectNoFailover Expect = iota
	// ExpectFailover: the master is gone from the majority, which still
	// has a replica; a new master must be agreed within the deadline.
	ExpectFailover
	// ExpectEither: heavy packet loss; a failover is allowed, not required.
	ExpectEither
)

func (e Expect) String() string {
	return [...]string{"no failover", "failover", "either"}[e]
}

// Expect says what f must do to the master.
func (f Fault) Expect() Expect {
	switch f.Kind {
	case KillMaster, StopMaster, KillLeader, StopLeader, CutMasterSentinel:
		return ExpectFailover
	case Loss:
		if f.Loss > NoFailoverLoss {
			return ExpectEither
		}
	}
	return ExpectNoFailover
}

// Deadline is how long after the fault's start a failover it requires may
// take: down-after, the failover timeout and 10 s of slack; a leader
// fault adds one more failover timeout, since the killed leader's
// failover is retried only after it expired (redis-sentinel waits twice
// the timeout between two attempts).
func (f Fault) Deadline(downAfter, failoverTimeout time.Duration) time.Duration {
	d := downAfter + failoverTimeout + 10*time.Second
	if f.Kind == KillLeader || f.Kind == StopLeader {
		d += failoverTimeout
	}
	return d
}

// ScheduleOptions describe a schedule.
type ScheduleOptions struct {
	Seed   uint64
	Faults int
	// DownAfter scales the holds (default 1 s).
	DownAfter time.Duration
	// Cover makes the first NumKinds faults one of each kind (in a seeded
	// order), so a short schedule covers every kind.
	Cover bool
}

// Schedule returns o.Faults faults drawn from o.Seed: the same seed gives
// the same schedule. Each fault holds for twice the down-after plus 0-2 s
// (in steps of 100 ms): long enough that a failover that should not
// happen would start.
func Schedule(o ScheduleOptions) []Fault {
	if o.DownAfter == 0 {
		o.DownAfter = time.Second
	}
	rng := rand.New(rand.NewPCG(o.Seed, o.Seed^0x9e3779b97f4a7c15))
	var cover []Kind
	if o.Cover {
		for _, i := range rng.Perm(int(NumKinds)) {
			cover = append(cover, Kind(i))
		}
	}
	out := make([]Fault, 0, o.Faults)
	for i := range o.Faults {
		f := Fault{Kind: Kind(rng.IntN(int(NumKinds)))}
		if i < len(cover) {
			f.Kind = cover[i]
		}
		// Every parameter is drawn for every fault, so a fault's
		// parameters do not depend on the kinds before it.
		f.Sentinel = rng.IntN(3)
		f.Replica = rng.IntN(2)
		f.Loss = LossProbabilities[rng.IntN(len(LossProbabilities))]
		f.Rolling = rng.IntN(2) == 0
		f.Hold = 2*o.DownAfter + time.Duration(rng.IntN(21))*100*time.Millisecond
		if f.Kind != CutMasterSentinel && f.Kind != CutSentinel {
			f.Sentinel = 0
		}
		if f.Kind != KillReplica && f.Kind != StopReplica && f.Kind != CutReplica {
			f.Replica = 0
		}
		if f.Kind != Loss {
			f.Loss = 0
		}
		if f.Kind != RestartSentinels {
			f.Rolling = false
		}
		out = append(out, f)
	}
	return out
}
