package node

// redis-sentinel's leader election, for a sentinel that decides failovers
// by that protocol (a mixed set, not a group member: mixed.go). It is
// sentinelStartFailover and sentinelGetLeader: a new epoch, our own vote,
// the others' votes asked through is-master-down-by-addr with our run id
// (monitor.SetElection), elected by a majority of the sentinels that is
// also at least the quorum, within min(election-timeout, failover-timeout).

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/x0tta6bl4/gosentinel/internal/beat"
	"github.com/x0tta6bl4/gosentinel/monitor"
	"github.com/x0tta6bl4/gosentinel/quorum"
	"github.com/x0tta6bl4/gosentinel/replication"
)

// errNotElected: the election's time ran out without a winner that is us.
var errNotElected = errors.New("not elected")

// electionPoll is how often the votes are counted while an election runs
// (the monitor's tick, at which replies are recorded).
const electionPoll = 50 * time.Millisecond

// electionDesync bounds the random wait before an election starts. Two
// sentinels that see a master ODOWN in the same tick would otherwise start
// their elections in the same epoch within a millisecond, each vote for
// itself, and both lose, then wait out 2×failover-timeout (the roll test
// measured a 12 s failover from two gosentinels doing that).
// redis-sentinel breaks that symmetry with a random tick rate (hz 10-19).
// The first to start asks the other, which grants its vote and so holds
// its own failover off.
const electionDesync = 150 * time.Millisecond

// errVotedForOther: while this sentinel waited to start its election, it
// voted for another sentinel's election of the master.
var errVotedForOther = errors.New("voted for another sentinel's election meanwhile")

// errNotVoting: the local engine asked for an election as this sentinel
// stopped deciding by redis-sentinel's protocol.
var errNotVoting = errors.New("this sentinel no longer decides failovers by redis-sentinel's protocol")

// heldOffByVote reports whether a vote given at votedAt for another
// sentinel's election still holds this sentinel's own failover off at
// now: for 2×failover-timeout, as in redis-sentinel.
func heldOffByVote(votedAt, now time.Time, failoverTimeout time.Duration) bool {
	return !votedAt.IsZero() && now.Sub(votedAt) < 2*failoverTimeout
}

// electionWinner is sentinelGetLeader's count: votes maps each voter to the
// run id it voted for in this epoch (our own vote included). The most
// voted run id wins if it has at least a majority of voters and at least
// quorum votes; ties go to the lexicographically greater run id, as in
// redis (the last of equal counts in its dictionary walk is arbitrary; any
// fixed rule will do, since a winner needs a majority).
func electionWinner(votes map[string]string, voters, quorum int) string {
	counts := map[string]int{}
	for _, leader := range votes {
		if leader != "" && leader != "*" {
			counts[strings.ToLower(leader)]++
		}
	}
	winner, best := "", 0
	for id, n := range counts {
		if n > best || (n == best && id > winner) {
			winner, best = id, n
		}
	}
	if winner == "" || best < voters/2+1 || best < quorum {
		return ""
	}
	return winner
}

// elect is replication.Config.Elect: outside a mixed set, or as a member,
// the Raft commit decides (0, nil); otherwise it runs redis-sentinel's
// election for m and returns the epoch it won.
func (n *Node) elect(ctx context.Context, m *quorum.Master) (uint64, error) {
	if !n.localVoteMode() {
		if n.cl != nil && !n.cl.isActive() {
			// The local engine, still running as this sentinel stops
			// voting (quiet, or a restarted member whose Raft is
			// connected): no Raft commit decides for it.
			return 0, errNotVoting
		}
		return 0, nil
	}
	n.electing.Add(1)
	defer n.electing.Add(-1)
	wait := time.NewTimer(rand.N(electionDesync))
	select {
	case <-ctx.Done():
		wait.Stop()
		return 0, ctx.Err()
	case <-wait.C:
	}
	if heldOffByVote(n.votedAt(m.Name), time.Now(), replication.FailoverTimeout(m)) {
		return 0, errVotedForOther
	}
	epoch := n.sm().CurrentEpoch() + 1
	if err := n.propose(ctx, &quorum.Command{Op: quorum.OpObserveEpoch, Epoch: epoch, At: nowMs()}); err != nil {
		return 0, fmt.Errorf("failed to start epoch %d: %w", epoch, err)
	}
	ep := strconv.FormatUint(epoch, 10)
	n.emitMsg(monitor.LevelWarning, "+new-epoch", m.Name, ep)
	n.emit(monitor.LevelWarning, "+try-failover", n.masterRef(m), "")
	if !n.voteFor(m.Name, n.myid, epoch) {
		return 0, fmt.Errorf("no vote for itself in epoch %d: already voted, or the vote could not be saved", epoch)
	}

	n.mon.SetElection(m.Name, epoch)
	defer n.mon.SetElection(m.Name, 0)
	limit := min(n.timing.dur("ELECTION-TIMEOUT"), replication.FailoverTimeout(m))
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	tick := beat.NewTicker(electionPoll)
	defer tick.Stop()
	for {
		if winner := n.countVotes(m, epoch); winner == strings.ToLower(n.myid) {
			return epoch, nil
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-deadline.C:
			n.emit(monitor.LevelWarning, "-failover-abort-not-elected", n.masterRef(m), "")
			return 0, errNotElected
		case <-tick.C:
		}
	}
}

// countVotes counts the votes of epoch for m: the sentinels' replies and
// our own.
func (n *Node) countVotes(m *quorum.Master, epoch uint64) string {
	ms, ok := n.mon.Status(m.Name)
	if !ok {
		return ""
	}
	votes := map[string]string{}
	for _, s := range ms.Sentinels {
		if s.VotedLeaderEpoch == epoch && s.VotedLeader != "" {
			votes[s.RunID] = s.VotedLeader
		}
	}
	n.mu.Lock()
	if l := n.local[m.Name]; l != nil && l.leaderEpoch == epoch {
		votes[n.myid] = l.leader
	}
	n.mu.Unlock()
	return electionWinner(votes, len(ms.Sentinels)+1, m.Quorum)
}

// voteFor is sentinelVoteLeader for our own election: it records the vote
// (on disk before anyone is asked) unless this sentinel voted in epoch
// already.
func (n *Node) voteFor(name, runid string, epoch uint64) bool {
	n.mu.Lock()
	l := n.local[name]
	if l == nil {
		l = &masterLocal{}
		n.local[name] = l
	}
	if l.leaderEpoch >= epoch {
		n.mu.Unlock()
		return false
	}
	prevLeader, prevEpoch := l.leader, l.leaderEpoch
	l.leader, l.leaderEpoch = runid, epoch
	n.mu.Unlock()
	if !n.saveVote(name, runid, epoch) {
		n.unvote(name, runid, epoch, prevLeader, prevEpoch)
		return false
	}
	return true
}

// unvote takes back a vote that could not be saved (saveVote), unless
// another has replaced it meanwhile.
func (n *Node) unvote(name, runid string, epoch uint64, prevLeader string, prevEpoch uint64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if l := n.local[name]; l != nil && l.leader == runid && l.leaderEpoch == epoch {
		l.leader, l.leaderEpoch = prevLeader, prevEpoch
	}
}

// saveVote writes a vote just recorded to disk and announces it
// (+vote-for-leader), as sentinelVoteLeader: whether asked by a peer or
// cast for our own election. It reports whether the vote may be given: a
// vote not on disk is not. redis-sentinel gives it anyway, but refuses to
// start with a config file it cannot write; gosentinel serves with one
// (docs/DESIGN.md), and a vote given and lost with a restart let it vote
// again in the same epoch, for another sentinel: two leaders in one epoch
// of a mixed set. The caller takes the vote back (unvote): a later ask in
// the epoch tries again, so this process gives at most one vote in it, and
// only one that is on disk.
func (n *Node) saveVote(name, leader string, epoch uint64) bool {
	if n.cl != nil {
		if err := n.cl.noteVote(time.Now()); err != nil {
			n.log.Warn("failed to record a vote while cut off from the group's Raft: the vote is not given",
				"master", name, "leader", leader, "epoch", epoch, "error", err)
			return false
		}
	}
	if err := n.flushConfig(); err != nil {
		n.log.Warn("WARNING: Sentinel was not able to save the new configuration on disk!!!: "+err.Error()+": the vote is not given",
			"master", name, "leader", leader, "epoch", epoch)
		return false
	}
	n.emitMsg(monitor.LevelWarning, "+vote-for-leader", name, leader+" "+strconv.FormatUint(epoch, 10))
	return true
}

// votedAt is replication.Config.VotedAt: when this sentinel last voted for
// another sentinel's election of the master.
func (n *Node) votedAt(name string) time.Time {
	n.mu.Lock()
	defer n.mu.Unlock()
	if l := n.local[name]; l != nil {
		return l.failoverStart
	}
	return time.Time{}
}
