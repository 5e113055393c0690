package replication

import "time"

// Observer receives what the engine did and did not do, for metrics. Its
// methods are called from the engine's goroutines and must not block.
type Observer interface {
	// FailoverNotStarted is called when a failover of master would be due
	// (the master is down in this sentinel's view) but is not started, at
	// most once per recheck period (1 s) per master and reason.
	FailoverNotStarted(master string, reason NotStartedReason)
	// FailoverPhase is called when a phase of a failover this engine
	// drives ends, with how long the phase took.
	FailoverPhase(master string, phase Phase, d time.Duration)
	// FailoverFinished is called once per failover this engine drove to an
	// end, from the committed start to the end.
	FailoverFinished(master string, outcome Outcome, d time.Duration)
}

// NotStartedReason names why a failover that would be due is not started.
// The values are metric label values: keep them stable.
type NotStartedReason string

const (
	// ReasonNoQuorum: the master is SDOWN here but not ODOWN (too few
	// sentinels agree), or the group has no leader to decide.
	ReasonNoQuorum NotStartedReason = "no_quorum"
	// ReasonNoGoodReplica: no replica qualifies for promotion.
	ReasonNoGoodReplica NotStartedReason = "no_good_replica"
	// ReasonLagCap: replicas answer but every one is beyond the lag cap.
	ReasonLagCap NotStartedReason = "lag_cap"
	// ReasonPaused: failovers are paused (SENTINEL MAINTENANCE).
	ReasonPaused NotStartedReason = "paused"
	// ReasonBackoff: inside 2×failover-timeout of the previous start.
	ReasonBackoff NotStartedReason = "backoff"
	// ReasonNotElected: redis-sentinel's election (a mixed set) did not
	// elect this sentinel.
	ReasonNotElected NotStartedReason = "not_elected"
	// ReasonCommitFailed: the decision could not be committed.
	ReasonCommitFailed NotStartedReason = "commit_failed"
)

// Phase names a failover phase (metric label values).
type Phase string

const (
	// PhaseDecide: from ODOWN (or SENTINEL FAILOVER) to the committed
	// decision.
	PhaseDecide Phase = "decide"
	// PhaseCatchUp: a switchover's wait for the replica to reach the
	// paused master's offset.
	PhaseCatchUp Phase = "catch_up"
	// PhasePromote: from the decision to the replica reporting role:master.
	PhasePromote Phase = "promote"
	// PhaseReconfigure: from the promotion to the end (replicas repointed,
	// the switch committed).
	PhaseReconfigure Phase = "reconfigure"
)

// Outcome names how a failover ended (metric label values).
type Outcome string

const (
	OutcomeSuccess Outcome = "success"
	OutcomeAborted Outcome = "aborted"
	OutcomeTimeout Outcome = "timeout"
)

// nopObserver is used when Config.Observer is nil.
type nopObserver struct{}

func (nopObserver) FailoverNotStarted(string, NotStartedReason)     {}
func (nopObserver) FailoverPhase(string, Phase, time.Duration)      {}
func (nopObserver) FailoverFinished(string, Outcome, time.Duration) {}

// observer returns the configured Observer or a no-op one.
func (e *Engine) observer() Observer {
	if e.cfg.Observer != nil {
		return e.cfg.Observer
	}
	return nopObserver{}
}
