package node

// A member cut off from its group's Raft (docs/DESIGN.md, "A member its
// group cannot follow"): the isolation is kept on disk, so that a restart
// does not connect a member whose vote may still be leading a
// redis-sentinel's failover; and a member of a previous run that is not
// active yet cuts itself off before it votes in a mixed set, as an active
// one does (protocol.go).

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/x0tta6bl4/gosentinel/internal/atomicfile"
	"github.com/x0tta6bl4/gosentinel/quorum"
	"github.com/x0tta6bl4/gosentinel/replication"
)

// isolatedFile, in the Raft directory, says this member was cut off from
// its group's Raft when it stopped.
const isolatedFile = "isolated"

func (c *cluster) isolatedPath() string { return filepath.Join(c.dir, isolatedFile) }

// cutOffRaft records the isolation on disk, then isolates st: only then
// may this member vote.
func (c *cluster) cutOffRaft(st *quorum.RaftStore) error {
	if err := atomicfile.Write(c.isolatedPath(), []byte(time.Now().UTC().Format(time.RFC3339)+"\n")); err != nil {
		return fmt.Errorf("failed to record the isolation: %w", err)
	}
	if err := st.Isolate(true); err != nil {
		return err
	}
	c.mu.Lock()
	c.isolatedAt = time.Now()
	c.mu.Unlock()
	return nil
}

// reconnectRaft connects st again, then forgets the isolation on disk (a
// restart between the two finds it isolated: the safe side).
func (c *cluster) reconnectRaft(st *quorum.RaftStore) error {
	if err := st.Isolate(false); err != nil {
		return err
	}
	if err := os.Remove(c.isolatedPath()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		c.n.log.Warn("failed to forget the isolation from its group's Raft: a restart will cut this sentinel off again", "error", err)
	}
	return nil
}

// isolateAtOpen isolates st before it opens if this member was isolated
// when it stopped: it has forgotten when it last voted, so it connects
// again only twice the longest failover-timeout after its start
// (restartedHold), under followIsolation's conditions.
func (c *cluster) isolateAtOpen(st *quorum.RaftStore) error {
	if _, err := os.Stat(c.isolatedPath()); err != nil {
		return nil
	}
	if err := st.Isolate(true); err != nil {
		return err
	}
	c.mu.Lock()
	c.isolatedAt, c.isolatedAtStart = time.Now(), true
	c.mu.Unlock()
	c.n.log.Warn("This sentinel was cut off from its group's Raft when it stopped: it stays so until no sentinel that is not a gosentinel is heard and no vote it may have given can still be leading a failover")
	return nil
}

// restartedConnected reports whether this sentinel is a member of a
// previous run whose Raft is connected: its acknowledgements can count
// toward the group's commits, so while it is not active it votes for
// nobody (followIsolation cuts it off first in a mixed set).
func (c *cluster) restartedConnected() bool {
	st := c.getStore()
	return st != nil && c.wasRestarted() && !st.Isolated()
}

// followIsolation, before this member of a previous run is active (its
// Raft has not found its group's leader since the restart), cuts it off
// from Raft while the set is mixed, so that it can vote as a sentinel that
// is not a member, and connects it again under the conditions of going
// quiet: no foreign sentinel heard (isMixed), started and isolated
// foreignGone ago, no election, failover or recent vote of its own
// (localBusy), and, if it was isolated when it stopped, twice the longest
// failover-timeout since its start. An active member's isolation is
// protocol.go's.
func (c *cluster) followIsolation() {
	st := c.getStore()
	if st == nil || c.isActive() || c.memberMode() != modeNone || !c.wasRestarted() {
		return
	}
	select {
	case <-c.grp.Joined():
		return // activating: protocol.go's from now on
	default:
	}
	switch {
	case !st.Isolated() && c.isMixed():
		if err := c.cutOffRaft(st); err != nil {
			c.n.log.Warn("failed to cut this sentinel off from its group's Raft", "error", err)
			return
		}
		c.n.log.Warn("A sentinel that is not a gosentinel is in the set and this sentinel has not found its group's leader since it started: it cuts itself off from the group's Raft and votes as a sentinel that is not a member")
	case st.Isolated() && !c.isMixed():
		c.mu.Lock()
		since, atStart := c.isolatedAt, c.isolatedAtStart
		c.mu.Unlock()
		now := time.Now()
		if now.Sub(c.n.startedAt) < foreignGone || now.Sub(since) < foreignGone ||
			atStart && now.Sub(c.n.startedAt) < c.n.restartedHold() {
			return
		}
		c.n.voteMu.Lock()
		defer c.n.voteMu.Unlock()
		if c.n.localBusy() {
			return
		}
		if err := c.reconnectRaft(st); err != nil {
			c.n.log.Warn("failed to connect this sentinel to its group's Raft again", "error", err)
			return
		}
		c.mu.Lock()
		c.isolatedAtStart = false
		c.mu.Unlock()
		c.n.log.Warn("No sentinel that is not a gosentinel heard for a while: this sentinel connects to its group's Raft again")
	}
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
