package quorum

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/raft"
)

// translate maps raft's errors to ours at the package boundary, keeping
// raft's in the chain for the log.
func translate(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, raft.ErrLeadershipLost):
		return ErrLeadershipLost
	case errors.Is(err, raft.ErrNotLeader),
		errors.Is(err, raft.ErrLeadershipTransferInProgress):
		// A transfer in progress refuses new entries: the caller finds the
		// new leader, as for a follower.
		return fmt.Errorf("%w: %w", ErrNotLeader, err)
	case errors.Is(err, raft.ErrRaftShutdown):
		return fmt.Errorf("%w: %w", ErrClosed, err)
	}
	return err
}

// Propose appends c to the log on the leader and waits until it is applied
// here, returning the FSM's result for it (ErrDuplicateMaster, ...). On a
// follower it returns ErrNotLeader at once: the caller forwards the command
// to Leader(). If ctx ends first, Propose returns ctx's error and the
// command may still apply.
func (s *RaftStore) Propose(ctx context.Context, c *Command) error {
	_, err := s.ProposeIndexed(ctx, c)
	return err
}

// ProposeIndexed is Propose that also returns the log index the command
// was committed at, also when the FSM refused it (the verdict is then the
// error and the index is non-zero): a follower that forwarded the command
// waits until it has applied that index, so its next read sees the result.
func (s *RaftStore) ProposeIndexed(ctx context.Context, c *Command) (uint64, error) {
	r, err := s.get()
	if err != nil {
		return 0, err
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if !c.Op.known() {
		return 0, fmt.Errorf("%w: op %d", ErrUnknownOp, c.Op)
	}
	data, err := c.Encode()
	if err != nil {
		return 0, err
	}
	timeout := defaultOpTimeout
	if d, ok := ctx.Deadline(); ok {
		timeout = time.Until(d)
	}
	f := r.Apply(data, timeout)
	done := make(chan error, 1)
	go func() { done <- f.Error() }() // raft always answers: commit, loss or shutdown
	select {
	case err := <-done:
		if err != nil {
			return 0, fmt.Errorf("failed to commit command %d: %w", c.Op, translate(err))
		}
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	if err, ok := f.Response().(error); ok {
		return f.Index(), err
	}
	return f.Index(), nil
}

// IsLeader reports whether this server is the Raft leader now.
func (s *RaftStore) IsLeader() bool {
	r, err := s.get()
	return err == nil && r.State() == raft.Leader
}

// Leader returns the current leader's id and advertised address as this
// server knows it; empty when there is none (or the store is not open).
func (s *RaftStore) Leader() (id, addr string) {
	r, err := s.get()
	if err != nil {
		return "", ""
	}
	a, i := r.LeaderWithID()
	return string(i), string(a)
}

// Barrier waits until every entry committed before it is applied to the
// FSM here; the leader loop calls it before acting on the state. Leader
// only.
func (s *RaftStore) Barrier(timeout time.Duration) error {
	r, err := s.get()
	if err != nil {
		return err
	}
	if err := r.Barrier(timeout).Error(); err != nil {
		return fmt.Errorf("raft barrier: %w", translate(err))
	}
	return nil
}

// VerifyLeader confirms with a round trip to a majority that this server
// still leads (raft's VerifyLeader): IsLeader only reports what this server
// believes, which a leader cut off from its majority keeps believing until
// its lease runs out. The failover engine asks it before a side effect that
// a deposed leader must never send (SLAVEOF NO ONE). It fails with
// ErrNotLeader on a server that does not lead, and with ctx's error when the
// majority does not answer within ctx.
func (s *RaftStore) VerifyLeader(ctx context.Context) error {
	r, err := s.get()
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	f := r.VerifyLeader()
	done := make(chan error, 1)
	go func() { done <- f.Error() }() // raft always answers: quorum, step-down or shutdown
	select {
	case err := <-done:
		switch {
		case err == nil:
			return nil
		case errors.Is(err, raft.ErrLeadershipLost):
			// Stepped down during the round trip: nothing was proposed, so
			// this is plain "not the leader", not an unknown outcome.
			return fmt.Errorf("raft leadership not verified: %w: %w", ErrNotLeader, err)
		}
		return fmt.Errorf("raft leadership not verified: %w", translate(err))
	case <-ctx.Done():
		return fmt.Errorf("raft leadership not verified: %w", ctx.Err())
	}
}

// AddVoter adds (or re-addresses) a voting member. Leader only.
func (s *RaftStore) AddVoter(id, addr string) error {
	r, err := s.get()
	if err != nil {
		return err
	}
	if err := r.AddVoter(raft.ServerID(id), raft.ServerAddress(addr), 0, defaultOpTimeout).Error(); err != nil {
		return fmt.Errorf("failed to add raft voter %s at %s: %w", id, addr, translate(err))
	}
	return nil
}

// RemoveServer removes a member. Leader only.
func (s *RaftStore) RemoveServer(id string) error {
	r, err := s.get()
	if err != nil {
		return err
	}
	if err := r.RemoveServer(raft.ServerID(id), 0, defaultOpTimeout).Error(); err != nil {
		return fmt.Errorf("failed to remove raft server %s: %w", id, translate(err))
	}
	return nil
}

// Servers returns the latest membership this server knows (committed or
// not yet), in configuration order.
func (s *RaftStore) Servers() ([]Server, error) {
	r, err := s.get()
	if err != nil {
		return nil, err
	}
	f := r.GetConfiguration()
	if err := f.Error(); err != nil {
		return nil, fmt.Errorf("failed to read raft configuration: %w", translate(err))
	}
	var out []Server
	for _, srv := range f.Configuration().Servers {
		out = append(out, Server{ID: string(srv.ID), Addr: string(srv.Address)})
	}
	return out, nil
}

// LeaderChanges delivers every leadership transition of this server in
// order: true when it becomes leader, false when it stops. Nothing is ever
// dropped and Raft never waits for the reader. The channel is not closed by
// Close; stop reading with your own context.
func (s *RaftStore) LeaderChanges() <-chan bool { return s.leaderCh }

// LogStoreError is the error of the last append to the Raft log, nil if
// it succeeded (or nothing was appended yet): while it is set this
// server's state may be behind the group's however fresh LastContact is
// (logWatch).
func (s *RaftStore) LogStoreError() error {
	s.mu.RLock()
	w := s.logWatch
	s.mu.RUnlock()
	if w == nil {
		return nil
	}
	return w.lastError()
}

// LastContact is when this server last heard from a leader: now on the
// leader itself, zero if never. Feed it to IsStale.
func (s *RaftStore) LastContact() time.Time {
	r, err := s.get()
	if err != nil {
		return time.Time{}
	}
	if r.State() == raft.Leader {
		return time.Now()
	}
	return r.LastContact()
}

// TransferLeadership hands leadership to the most up-to-date follower and
// waits for the transfer (on SIGTERM, so a failover never waits for an
// election). Leader only.
func (s *RaftStore) TransferLeadership() error {
	r, err := s.get()
	if err != nil {
		return err
	}
	if err := r.LeadershipTransfer().Error(); err != nil {
		return fmt.Errorf("failed to transfer raft leadership: %w", translate(err))
	}
	return nil
}

// TransferLeadershipTo hands leadership to the voter with the given id and
// waits until it took it (or the transfer failed: raft gives up after an
// election timeout). Leader only; a transfer to this server itself is a
// no-op. SENTINEL FAILOVER uses it so that the sentinel asked leads the
// failover, as in redis-sentinel.
func (s *RaftStore) TransferLeadershipTo(id string) error {
	r, err := s.get()
	if err != nil {
		return err
	}
	f := r.GetConfiguration()
	if err := f.Error(); err != nil {
		return fmt.Errorf("failed to read raft configuration: %w", translate(err))
	}
	for _, srv := range f.Configuration().Servers {
		if string(srv.ID) != id {
			continue
		}
		if srv.Suffrage != raft.Voter {
			return fmt.Errorf("failed to transfer raft leadership to %s: not a voter", id)
		}
		if _, leader := r.LeaderWithID(); leader == srv.ID {
			return nil
		}
		if err := r.LeadershipTransferToServer(srv.ID, srv.Address).Error(); err != nil {
			return fmt.Errorf("failed to transfer raft leadership to %s: %w", id, translate(err))
		}
		return nil
	}
	return fmt.Errorf("failed to transfer raft leadership to %s: not a member", id)
}

// Stats returns raft's statistics (state, term, last_log_index,
// applied_index, last_contact, ...), for INFO and metrics.
func (s *RaftStore) Stats() map[string]string {
	r, err := s.get()
	if err != nil {
		return map[string]string{"state": "Closed"}
	}
	return r.Stats()
}

// Recovering reports whether the FSM is still replaying commands that were
// in the log when Open was called. An ApplyFunc checks it to stay silent
// about history (no +switch-master for a switch that happened last week);
// it turns false once the last such command has been applied, or once a
// new leader replaced that entry (it was an uncommitted tail, which would
// otherwise keep a restarted ex-leader "recovering", silent about new
// switches, until the log grew past it).
func (s *RaftStore) Recovering() bool {
	if s.replayDone.Load() || s.adapter.applied.Load() >= s.replayTo.Load() {
		return false
	}
	s.mu.RLock()
	logs := s.logs
	s.mu.RUnlock()
	if logs == nil {
		return true // still opening
	}
	var l raft.Log
	if err := logs.GetLog(s.replayTo.Load(), &l); err != nil || l.Term != s.replayTerm {
		s.replayDone.Store(true)
		return false
	}
	return true
}

// Snapshot makes Raft take a snapshot now (it also does so by itself every
// SnapshotThreshold entries).
func (s *RaftStore) Snapshot() error {
	r, err := s.get()
	if err != nil {
		return err
	}
	if err := r.Snapshot().Error(); err != nil {
		return fmt.Errorf("failed to take raft snapshot: %w", translate(err))
	}
	return nil
}

// Term is this server's current Raft term (0 when not open).
func (s *RaftStore) Term() uint64 {
	r, err := s.get()
	if err != nil {
		return 0
	}
	return r.CurrentTerm()
}

// CommitIndex is the highest log index this server knows to be committed.
func (s *RaftStore) CommitIndex() uint64 {
	r, err := s.get()
	if err != nil {
		return 0
	}
	return r.CommitIndex()
}

// FollowerContact reports, on the leader, when it last reached follower id
// if its heartbeats to it are failing now; ok is false when they succeed
// (or this server does not lead).
func (s *RaftStore) FollowerContact(id string) (last time.Time, failing bool) {
	return s.heartbeats.lastContact(id)
}
