package quorum

// AppliedIndex is the index of the last log entry the FSM has applied.
func (s *RaftStore) AppliedIndex() uint64 { return s.adapter.applied.Load() }

// LastIndex is the index of the last entry in the local log (on the leader:
// everything it has accepted).
func (s *RaftStore) LastIndex() uint64 {
	r, err := s.get()
	if err != nil {
		return 0
	}
	return r.LastIndex()
}
