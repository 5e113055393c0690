package replication

import (
	"context"
	"log/slog"
	"time"

	"github.com/x0tta6bl4/gosentinel/internal/clock"
	"github.com/x0tta6bl4/gosentinel/monitor"
	"github.com/x0tta6bl4/gosentinel/quorum"
)

// The engine's collaborators, declared here where they are consumed; the
// node implements them.

// Proposer commits commands to the replicated log. Propose returns Apply's
// result once the command is applied on this sentinel, or an error of its
// own (not the leader, leadership lost, timeout) when it could not commit:
// the engine then stops driving and starts over from the log.
type Proposer interface {
	Propose(ctx context.Context, c *quorum.Command) error
}

// LeaderVerifier is optionally implemented by a Proposer that can confirm,
// with a quorum round trip, that this sentinel still leads (raft's
// VerifyLeader; the node implements it). The engine calls it right before
// each side effect that a deposed leader could turn into two writable
// masters: SLAVEOF NO ONE, releasing a switchover's paused old master, and
// demoting an instance that claims to be the master. Side effects that
// follow a commit of the same phase (CLIENT PAUSE after the decision, the
// old master's demotion after the switch) or only turn nodes into replicas
// (repointing) are not verified again.
type LeaderVerifier interface {
	VerifyLeader(ctx context.Context) error
}

// Barrier is optionally implemented by a Proposer: it returns once every
// entry committed before it is applied here (raft's Barrier). A new term
// starts with it, so the engine never acts on a log it has not caught up
// with. Without it the engine commits a no-op command instead.
type Barrier interface {
	Barrier(ctx context.Context) error
}

// View is what the engine reads: the replicated state and this sentinel's
// live view of the data nodes.
type View interface {
	// Master returns a copy of the replicated master. The engine never
	// modifies it, and its tick keeps it as long as Revision holds.
	Master(name string) (*quorum.Master, bool)
	// Revision identifies the version of what Master returns: it changes
	// whenever any master's replicated record, or this sentinel's own
	// settings for it, may have changed.
	Revision() Revision
	// Names lists the replicated masters.
	Names() []string
	// Status returns this sentinel's live view of a master, its replicas
	// and its sentinels (after a switch the replicas include the old
	// master).
	Status(name string) (monitor.MasterStatus, bool)
	// GroupStatus is Status without the sentinels (Sentinels nil), for
	// the per-tick look at every master's replication group.
	GroupStatus(name string) (monitor.MasterStatus, bool)
	// ObjectivelyDown is the node's ODOWN verdict for the master.
	ObjectivelyDown(name string) bool
	// FailoversPaused tells whether automatic failovers of the master are
	// paused (SENTINEL MAINTENANCE): none is started, while a failover
	// already recorded, SENTINEL FAILOVER, demotions and replica
	// reconfiguration go on.
	FailoversPaused(name string) bool
	// Tilted tells whether this sentinel is in TILT (its timer ran late,
	// monitor/tilt.go): what it saw of the nodes may be stale, so the tick
	// starts no failover and fixes no replication group until it ends, as
	// redis-sentinel acts on nothing in TILT. A failover already recorded
	// goes on.
	Tilted() bool
}

// Revision is a version of the masters a View returns: the replicated
// state's (quorum.FSM.Revision) and this sentinel's settings'.
type Revision struct{ State, Settings uint64 }

// Emitter publishes one sentinel event. ref is the %@ instance; text
// follows it. Events that belong to a master but carry no %@ prefix
// (+new-epoch, +vote-for-leader) come with a ref whose Kind is empty and
// whose Master names the master: FormatEvent renders both forms. It may be
// called from several goroutines at once.
type Emitter func(level monitor.Level, typ string, ref *monitor.Ref, text string)

// Timing holds the process-wide periods the engine uses (SENTINEL DEBUG
// can change them at run time). failover-timeout, down-after and
// parallel-syncs are per master, from the replicated state.
type Timing struct {
	PingPeriod         time.Duration // 1000 ms
	InfoPeriod         time.Duration // 10000 ms
	SlaveReconfTimeout time.Duration // 10000 ms
	// ElectionTimeout bounds the commit of a failover decision (the
	// equivalent of redis-sentinel's election), capped by failover-timeout.
	ElectionTimeout time.Duration // 10000 ms
}

// DefaultTiming returns redis-sentinel 7.0's defaults; the PING and INFO
// periods are the monitor's (one definition).
func DefaultTiming() Timing {
	links := monitor.DefaultTiming()
	return Timing{
		PingPeriod:         links.PingPeriod,
		InfoPeriod:         links.InfoPeriod,
		SlaveReconfTimeout: 10 * time.Second,
		ElectionTimeout:    10 * time.Second,
	}
}

// Config wires an Engine to its node.
type Config struct {
	// MyID is this sentinel's id (+vote-for-leader, the Leader of the
	// failovers it decides).
	MyID     string
	Proposer Proposer
	View     View
	Redis    Redis
	Emit     Emitter
	// Timing is read whenever the periods are needed; nil means defaults.
	Timing func() Timing
	Logger *slog.Logger // may be nil
	// MaxLag, if > 0, excludes candidates more than MaxLag bytes behind the
	// most advanced one.
	MaxLag int64
	// Clock is the engine's time: every reading (pacing, deadlines,
	// command timestamps) and every wait (the tick, the polls of a
	// failover, the pause after a lost term) goes through it. Nil: the
	// real clock. Tests pass a clock.Fake. The timeouts of calls to Redis
	// nodes and of Raft commits stay on the wall clock (they bound I/O).
	Clock clock.Clock
	// AfterElected and AfterPromoted, if set, run right after
	// +elected-leader and +promoted-slave (SENTINEL SIMULATE-FAILURE's
	// crash-after-election / crash-after-promotion).
	AfterElected, AfterPromoted func(master string)
	// Observer, if set, is told of failovers not started, phases and
	// outcomes (metrics).
	Observer Observer
	// Fence turns on fencing (docs/DESIGN.md, "Fencing the cut-off
	// master"): the leader manages min-replicas-to-write/max-lag on the
	// masters and an automatic failover's promotion waits out the old
	// master's fence.
	Fence bool
	// IsMember tells whether a sentinel (by id) is a member of this
	// sentinel's Raft group: only a member runs the cut-off pause, which
	// can shorten an automatic promotion's wait (PromotionAllowedAt).
	// Nil: no member is counted on.
	IsMember func(id string) bool
	// Elect, if set, runs redis-sentinel's leader election for an
	// automatic failover of m (a set that holds a redis-sentinel,
	// docs/DESIGN.md "Mixed sets"): it returns the epoch this sentinel was
	// elected in, or an error when it was not elected; 0 and no error
	// means the Raft commit decides, as without Elect.
	Elect func(ctx context.Context, m *quorum.Master) (epoch uint64, err error)
	// Mixed, if set, tells whether the set holds a sentinel that is not a
	// gosentinel: its failovers are not in our state until its hellos
	// announce them, so instances are fixed only after redis-sentinel's
	// wait (mixedFixWait), never at first sight.
	Mixed func() bool
	// VotedAt, if set, is when this sentinel last voted for another
	// sentinel's election of the master (zero if never): like its own
	// start, the vote holds off its automatic failovers of the master for
	// 2×failover-timeout (sentinelVoteLeader's failover_start_time).
	VotedAt func(name string) time.Time
}
