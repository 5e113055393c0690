// Package replication owns failovers: choosing the replica to promote, and
// (on the Raft leader only) the engine that promotes it, switches the
// replicated master address and repoints the other replicas.
//
// The engine never acts before the decision is in the log: a failover starts
// with OpFailoverBegin (the FSM assigns its epoch), the promotion is recorded
// with OpFailoverPromoted once the replica itself confirmed role:master, and
// the new address is committed with OpSwitchMaster. Every side effect on a
// Redis node is idempotent and fenced by re-reading the recorded failover
// epoch just before it, so a leader that lost its term stops, and the next
// leader resumes (or aborts) the half-done failover from the log. There can
// never be two promoted replicas for one master: a failover is only
// abortable before its promotion is recorded, and only one failover per
// master can be recorded at a time.
//
// What it keeps from redis-sentinel: the replica ranking (priority, offset,
// run id), the SLAVEOF transaction, parallel-syncs, failover-timeout and
// slave-reconf-timeout, the pacing of attempts (2×failover-timeout) and every
// event name and payload. What it changes: offsets are read fresh from every
// candidate at decision time (with an optional lag cap; one answering
// role:master ranks with the offset last read from it as a replica, as in
// redis-sentinel); the promotion is
// confirmed by asking the replica, not by waiting for the next INFO; the
// switch is committed right after the promotion, so clients are told at once;
// a returning old master is demoted as soon as it answers; SENTINEL FAILOVER
// on a reachable master pauses writes and waits for the replica to catch up
// (zero loss); and down reports about the old master never count against
// the new one.
//
// Event order differs from redis-sentinel in one place, on purpose: the
// switch is committed (and +switch-master published by every sentinel)
// right after +promoted-slave / +failover-state-reconf-slaves, before the
// +slave-reconf-* events, so clients move before the other replicas are
// repointed; +failover-end still closes the sequence.
//
// Leadership: Run is the leader loop. It starts every term with a barrier
// (Barrier, or a no-op command), so it acts on a caught-up log; a proposal
// that fails for any reason other than the FSM's verdict ends the term at
// once (every goroutine stops before its next side effect), and the engine
// resumes from the log after a pause while its context lives.
package replication
