// Package group forms the sentinels' Raft group, joins it, and keeps its
// membership honest. docs/DESIGN.md ("The Raft group") states the
// algorithm and its safety argument; this package is that text in code.
//
// The decisions are pure functions of what a sentinel sees, tested with
// tables and driven by two simulations:
//
//   - Decide (decide.go): what a sentinel without Raft state does this
//     round: wait, propose a bootstrap configuration, bootstrap the chosen
//     one, join through a leader, or open Raft and wait to be counted.
//   - the acceptor and the proposer's value rule (paxos.go): single-decree
//     Paxos over the bootstrap configuration, so that every sentinel that
//     bootstraps uses the same one.
//   - RejoinTarget, PlanJoin and PlanRemoval (plan.go): members that lost
//     their place, a sentinel returning with a new id or address, and the
//     removal of members gone on every channel, never below a majority of
//     the expected size.
//   - Expected (expect.go): the expected size of the set, from the
//     operator or derived from the configuration.
//
// Group (group.go) runs them: one round per tick, status and Paxos RPCs
// through a Transport (peer RPC in production, direct calls in the
// simulation), the Raft store through a narrow Store interface
// (quorum.RaftStore).
package group
