package quorum

import (
	"fmt"
	"io"
	"sync/atomic"

	"github.com/hashicorp/raft"
)

// raftFSM is the thin raft.FSM over FSM: the three methods delegate, all
// op dispatch stays in FSM.apply (rqlite store/fsm.go).
type raftFSM struct {
	fsm *FSM
	// applied is the index of the last log entry this adapter applied (or
	// the snapshot index it was restored at), for RaftStore.Recovering.
	applied         atomic.Uint64
	onRestore       func(before *State)
	onConfiguration func(index uint64, voters []Server)
	// logs is the store's watched log (set before Raft starts): a restored
	// snapshot clears its error.
	logs *logWatch
	// opened is the index of the snapshot raft opened last (indexSnapshots):
	// raft opens the snapshot it restores right before Restore. A leader
	// also opens its own to send it, at an index it has applied, which
	// raises nothing.
	opened atomic.Uint64
}

// indexSnapshots is the snapshot store with the index of each snapshot
// opened noted for raftFSM.Restore, which raft gives only the data.
type indexSnapshots struct {
	raft.SnapshotStore
	fsm *raftFSM
}

func (s indexSnapshots) Open(id string) (*raft.SnapshotMeta, io.ReadCloser, error) {
	meta, rc, err := s.SnapshotStore.Open(id)
	if err == nil {
		s.fsm.opened.Store(meta.Index)
	}
	return meta, rc, err
}

// StoreConfiguration is raft's ConfigurationStore hook: called on every
// server for each committed configuration entry, in log order.
func (r *raftFSM) StoreConfiguration(index uint64, c raft.Configuration) {
	r.fsm.NoteIndex(index)
	r.raiseApplied(index)
	if r.onConfiguration == nil {
		return
	}
	var voters []Server
	for _, srv := range c.Servers {
		if srv.Suffrage == raft.Voter {
			voters = append(voters, Server{ID: string(srv.ID), Addr: string(srv.Address)})
		}
	}
	r.onConfiguration(index, voters)
}

// Apply applies one committed command and returns FSM.ApplyBytes' error as
// the future's response (nil on success).
func (r *raftFSM) Apply(l *raft.Log) any {
	err := r.fsm.ApplyBytesAt(l.Data, l.Index)
	r.raiseApplied(l.Index)
	if err != nil {
		return err
	}
	return nil
}

func (r *raftFSM) raiseApplied(index uint64) {
	for {
		cur := r.applied.Load()
		if index <= cur || r.applied.CompareAndSwap(cur, index) {
			return
		}
	}
}

// Snapshot captures a deep copy of the state; Persist does the IO later,
// concurrently with new Applies.
func (r *raftFSM) Snapshot() (raft.FSMSnapshot, error) {
	return &raftSnapshot{state: r.fsm.State()}, nil
}

// Restore replaces the state with a snapshot's (at start-up from the local
// snapshot store, or when the leader installs one on a lagging follower).
func (r *raftFSM) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	var before *State
	if r.onRestore != nil {
		before = r.fsm.State()
	}
	if err := r.fsm.RestoreAt(rc, r.opened.Load()); err != nil {
		return fmt.Errorf("failed to restore raft snapshot: %w", err)
	}
	// A member whose appends failed and that the leader then caught up
	// with a snapshot (it fell behind the leader's log) has the group's
	// state: nothing may be appended after it for a long while.
	if r.logs != nil {
		r.logs.clear()
	}
	r.raiseApplied(r.opened.Load())
	if r.onRestore != nil {
		r.onRestore(before)
	}
	return nil
}

// raftSnapshot writes a captured state in FSM.WriteSnapshot's format, so
// FSM.Restore reads it back.
type raftSnapshot struct {
	state *State
}

func (s *raftSnapshot) Persist(sink raft.SnapshotSink) error {
	if err := writeSnapshot(sink, s.state); err != nil {
		sink.Cancel()
		return fmt.Errorf("failed to persist raft snapshot: %w", err)
	}
	if err := sink.Close(); err != nil {
		return fmt.Errorf("failed to close raft snapshot: %w", err)
	}
	return nil
}

func (s *raftSnapshot) Release() {}
