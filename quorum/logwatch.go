package quorum

import (
	"sync/atomic"

	"github.com/hashicorp/raft"
)

// logWatch is the Raft log store with the outcome of its last write kept.
// A member whose disk is full fails every append, yet the leader's
// heartbeats, which carry no entries and write nothing, still reach it:
// Raft's last contact stays fresh while the member's state falls behind
// the group's, and it went on answering the master address of before the
// group's last failover (a disk-full follower answered the old master for
// as long as its disk stayed full). The node stops vouching while the
// last append failed (RaftStore.LogStoreError); the leader's next append
// after the disk has room again clears it and catches the member up, as
// does a snapshot the leader installs instead (raftFSM.Restore).
type logWatch struct {
	raft.LogStore
	failed atomic.Pointer[error] // the last append's error; nil once one succeeded
}

func (w *logWatch) StoreLog(l *raft.Log) error { return w.note(w.LogStore.StoreLog(l)) }

func (w *logWatch) StoreLogs(logs []*raft.Log) error { return w.note(w.LogStore.StoreLogs(logs)) }

// IsMonotonic forwards raft.MonotonicLogStore, which Raft asks of the
// store it is given.
func (w *logWatch) IsMonotonic() bool {
	m, ok := w.LogStore.(raft.MonotonicLogStore)
	return ok && m.IsMonotonic()
}

func (w *logWatch) note(err error) error {
	if err != nil {
		w.failed.Store(&err)
	} else if w.failed.Load() != nil {
		w.failed.Store(nil)
	}
	return err
}

// clear forgets the last append's error: the state caught up otherwise
// (a snapshot restored).
func (w *logWatch) clear() { w.failed.Store(nil) }

// lastError is the last append's error, or nil if it succeeded.
func (w *logWatch) lastError() error {
	if p := w.failed.Load(); p != nil {
		return *p
	}
	return nil
}
