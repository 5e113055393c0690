package node

// A member cut off from its group's Raft (docs/DESIGN.md, "A member its
// group cannot follow"): the isolation is kept on disk, so that a restart
// does not connect a member whose vote may still be leading a
// redis-sentinel's failover; and a member of a previous run that is not
// active yet cuts itself off before it votes in a mixed set, as an active
// one does (protocol.go).

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/x0tta6bl4/gosentinel/internal/atomicfile"
	"github.com/x0tta6bl4/gosentinel/internal/beat"
	"github.com/x0tta6bl4/gosentinel/quorum"
	"github.com/x0tta6bl4/gosentinel/replication"
)

// isolatedFile, in the Raft directory, says this member was cut off from
// its group's Raft when it stopped; it holds the time of the last vote it
// gave while cut off, or of the cut (RFC 3339).
const isolatedFile = "isolated"

// writeIsolated records the isolation, with at as its time.
func (c *cluster) writeIsolated(at time.Time) error {
	if err := atomicfile.Write(c.isolatedPath(), []byte(at.UTC().Format(time.RFC3339Nano)+"\n")); err != nil {
		return fmt.Errorf("failed to record the isolation: %w", err)
	}
	return nil
}

// noteVote moves the isolation's time to a vote about to be given
// (saveVote), if this member is cut off: a restart holds its reconnection
// twice the failover-timeout from that vote. An error means the vote must
// not be given.
func (c *cluster) noteVote(at time.Time) error {
	c.mu.Lock()
	c.lastVoteAt = at
	c.mu.Unlock()
	if st := c.getStore(); st == nil || !st.Isolated() {
		return nil
	}
	return c.writeIsolated(at)
}

func (c *cluster) isolatedPath() string { return filepath.Join(c.dir, isolatedFile) }

// cutOffRaft records the isolation on disk, then isolates st: only then
// may this member vote.
func (c *cluster) cutOffRaft(st *quorum.RaftStore) error {
	if err := c.writeIsolated(time.Now()); err != nil {
		return err
	}
	if err := st.Isolate(true); err != nil {
		return err
	}
	c.mu.Lock()
	c.isolatedAt = time.Now()
	c.mu.Unlock()
	return nil
}

// cutOffRaftChecked cuts this member off (cutOffRaft) and then checks that
// neither its state nor its log past the state holds a failover the log
// decided: an entry is in the log before it is acknowledged, so once the
// gate is sealed nothing acknowledged can escape the check. If one does,
// it connects again and reports false: the copy it would vote on lacks a
// failover the group may be running.
func (c *cluster) cutOffRaftChecked(st *quorum.RaftStore) bool {
	c.isoMu.Lock()
	defer c.isoMu.Unlock()
	return c.cutOffRaftCheckedLocked(st)
}

func (c *cluster) cutOffRaftCheckedLocked(st *quorum.RaftStore) bool {
	if err := c.cutOffRaft(st); err != nil {
		if ok, held := c.cutWarn.Allow(); ok {
			c.n.log.Warn("failed to cut this sentinel off from its group's Raft", "error", err, "not_logged_since_the_last", held)
		}
		return false
	}
	if st.FailoverAfterLog() {
		if err := c.reconnectRaft(st); err != nil {
			c.n.log.Warn("failed to connect this sentinel to its group's Raft again", "error", err)
		}
		return false
	}
	return true
}

// reconnectRaft connects st again, then forgets the isolation on disk (a
// restart between the two finds it isolated: the safe side).
func (c *cluster) reconnectRaft(st *quorum.RaftStore) error {
	if err := st.Isolate(false); err != nil {
		return err
	}
	c.mu.Lock()
	c.isolatedAtStart = false
	c.mu.Unlock()
	if err := os.Remove(c.isolatedPath()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		c.n.log.Warn("failed to forget the isolation from its group's Raft: a restart will cut this sentinel off again", "error", err)
	}
	return nil
}

// isolateAtOpen isolates st before it opens if this member was isolated
// when it stopped: it connects again only twice the longest
// failover-timeout after the last vote it gave while cut off, which the
// file holds (restartHeld), under followIsolation's conditions. A previous
// run's state that opens only now (it did not at first: a lock, a full
// disk) opens cut off too if this sentinel may have voted meanwhile.
func (c *cluster) isolateAtOpen(st *quorum.RaftStore) error {
	voteAt := time.Now()
	if text, err := os.ReadFile(c.isolatedPath()); err == nil {
		if t, perr := time.Parse(time.RFC3339Nano, strings.TrimSpace(string(text))); perr == nil && t.Before(voteAt) {
			voteAt = t
		}
		// A vote given in this run before the state opened (the store
		// was not there to be cut off) holds the reconnection too.
		c.mu.Lock()
		last := c.lastVoteAt
		c.mu.Unlock()
		if last.After(voteAt) {
			voteAt = last
			if err := c.writeIsolated(voteAt); err != nil {
				return err
			}
		}
	} else {
		if !c.existing || !c.isMixed() && !c.n.localBusy() {
			return nil
		}
		if err := c.writeIsolated(voteAt); err != nil {
			return err
		}
	}
	if err := st.Isolate(true); err != nil {
		return err
	}
	c.mu.Lock()
	c.isolatedAt, c.isolatedAtStart, c.isolatedVoteAt = time.Now(), true, voteAt
	c.mu.Unlock()
	c.n.log.Warn("This sentinel was cut off from its group's Raft when it stopped: it stays so until no sentinel that is not a gosentinel is heard and no vote it may have given can still be leading a failover")
	return nil
}

// restartHeld reports whether this member, isolated when it started, is
// still within restartedHold of the last vote it gave while cut off before
// (or of its start, if one went unrecorded): that vote may be leading a
// failover (part of Node.localBusy).
func (c *cluster) restartHeld() bool {
	c.mu.Lock()
	atStart, voteAt := c.isolatedAtStart, c.isolatedVoteAt
	c.mu.Unlock()
	return atStart && time.Since(voteAt) < c.n.restartedHold()
}

// raftConnected reports whether this sentinel's Raft is connected and
// holds a log (a member of a previous run, even while its state opens, or
// one that joined and has not activated yet): its acknowledgements can
// count toward the group's commits, so while it is not active it votes for
// nobody (followIsolation cuts it off first in a mixed set).
func (c *cluster) raftConnected() bool {
	st := c.getStore()
	return st != nil && !st.Isolated() && (c.existing || st.LastIndex() > 0)
}

// followIsolation, before this member is active (a member of a previous
// run whose Raft has not found its group's leader since the restart, or
// one that joined and has not activated yet), cuts it off from Raft while
// the set is mixed, under cutOff's conditions (no leader known for
// isolateAfter, no failover the log decided in its log or its state), so
// that it can vote as a sentinel that is not a member; and connects it
// again under the conditions of going quiet (tryReconnect). From the
// moment the group says it joined, activate takes over (awaitConnected).
// isoMu orders the two; voteMu keeps votes out while the cut is checked.
func (c *cluster) followIsolation() {
	st := c.getStore()
	if st == nil || c.isActive() || c.memberMode() != modeNone {
		return
	}
	leaderID, _ := st.Leader()
	leaderless := c.leaderlessFor(leaderID != "")
	c.isoMu.Lock()
	defer c.isoMu.Unlock()
	select {
	case <-c.grp.Joined():
		return // activating: awaitConnected, then protocol.go's
	default:
	}
	switch isolated := st.Isolated(); {
	case !isolated && c.isMixed() && (c.existing || st.LastIndex() > 0):
		if leaderless < isolateAfter || st.FailoverAfterLog() {
			return
		}
		c.n.voteMu.Lock()
		ok := c.cutOffRaftCheckedLocked(st)
		c.n.voteMu.Unlock()
		if ok {
			c.n.log.Warn("A sentinel that is not a gosentinel is in the set and this sentinel has not found its group's leader since it started: it cuts itself off from the group's Raft and votes as a sentinel that is not a member",
				"after", isolateAfter.String())
		}
	case isolated:
		c.tryReconnectLocked(st)
	}
}

// tryReconnectLocked connects a member that is not active yet to its
// group's Raft again under the conditions of going quiet: no foreign
// sentinel heard (isMixed), started and cut off foreignGone ago, no
// election, failover or recent vote of its own, nor a restart's hold
// (localBusy, read under voteMu so that no vote checked before is missed).
// It reports whether Raft is connected. isoMu is held.
func (c *cluster) tryReconnectLocked(st *quorum.RaftStore) bool {
	if !st.Isolated() {
		return true
	}
	c.mu.Lock()
	since := c.isolatedAt
	c.mu.Unlock()
	now := time.Now()
	if c.isMixed() || now.Sub(c.n.startedAt) < foreignGone || now.Sub(since) < foreignGone {
		return false
	}
	c.n.voteMu.Lock()
	defer c.n.voteMu.Unlock()
	if c.n.localBusy() {
		return false
	}
	if err := c.reconnectRaft(st); err != nil {
		c.n.log.Warn("failed to connect this sentinel to its group's Raft again", "error", err)
		return false
	}
	c.n.log.Warn("No sentinel that is not a gosentinel heard for a while: this sentinel connects to its group's Raft again")
	return true
}

// awaitConnected holds activate while this member is cut off from Raft (it
// caught up with a leader as it cut itself off): it keeps voting as a
// sentinel that is not a member until tryReconnectLocked connects it, and
// only then becomes the group's.
func (c *cluster) awaitConnected(ctx context.Context) error {
	st := c.getStore()
	if st == nil {
		return nil
	}
	t := beat.NewTicker(mixedTick)
	defer t.Stop()
	for {
		c.isoMu.Lock()
		ok := c.tryReconnectLocked(st)
		c.isoMu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// leaderlessFor notes whether this member knows a Raft leader now (known)
// and returns for how long it has known none: the clock starts when it is
// first asked. followIsolation asks before the activation, runProtocol
// after it.
func (c *cluster) leaderlessFor(known bool) time.Duration {
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if known || c.leaderSeenAt.IsZero() {
		c.leaderSeenAt = now
	}
	return now.Sub(c.leaderSeenAt)
}

// restartedHold is twice the longest failover-timeout of the masters this
// sentinel knows: how long a vote it gave before a restart may still be
// leading a failover (redis-sentinel holds its own failovers off as long).
func (n *Node) restartedHold() time.Duration {
	var hold time.Duration
	st := n.localFSM.State()
	for _, name := range st.Names() {
		hold = max(hold, 2*replication.FailoverTimeout(st.Masters[name]))
	}
	return hold
}
