package quorum

import (
	"errors"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// ErrIsolated is what Raft's dials get while the store is isolated.
var ErrIsolated = errors.New("this server is cut off from its group's Raft (isolated)")

// Isolate cuts this server off from its group's Raft (on) or connects it
// again (off). Isolated, its Raft network refuses every connection in and
// out and closes those open: no entry can be committed with its
// acknowledgement, it grants no vote and wins no election, while its log,
// state and configuration stay as they are (a sitting leader keeps
// IsLeader until its lease ends, committing nothing). The node isolates a member
// that must vote by redis-sentinel's protocol although its group has no
// leader to record that (docs/DESIGN.md, "A member its group cannot
// follow"). A store on an injected Transport cannot be isolated.
func (s *RaftStore) Isolate(on bool) error {
	if s.cfg.Transport != nil {
		return errors.New("an injected raft transport cannot be isolated")
	}
	s.gate.set(on)
	return nil
}

// Isolated reports whether Isolate(true) is in force: no connection is
// admitted and none opened before is left.
func (s *RaftStore) Isolated() bool { return s.gate.isSealed() }

// gate is the switch Isolate turns: the stream layer asks it for every
// connection, and it keeps those open so that closing can end them.
type gate struct {
	mu     sync.Mutex
	closed bool // refusing connections
	// sealed: closed, and every connection open before has been closed
	// too (Isolated): only then may the node act as cut off.
	sealed bool
	conns  map[*gatedConn]struct{}
}

func (g *gate) isClosed() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.closed
}

func (g *gate) isSealed() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.sealed
}

// set closes or opens the gate; closing ends every connection open, and
// reports the gate sealed only once they are closed.
func (g *gate) set(closed bool) {
	g.mu.Lock()
	g.closed = closed
	if !closed {
		g.sealed = false
		g.mu.Unlock()
		return
	}
	var open []*gatedConn
	for c := range g.conns {
		open = append(open, c)
	}
	g.conns = nil
	g.mu.Unlock()
	for _, c := range open {
		c.Conn.Close()
	}
	g.mu.Lock()
	g.sealed = g.closed
	g.mu.Unlock()
}

// admit tracks c and returns it wrapped, or closes it and returns nil when
// the gate is closed.
func (g *gate) admit(c net.Conn) *gatedConn {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		c.Close()
		return nil
	}
	gc := &gatedConn{Conn: c, g: g}
	if g.conns == nil {
		g.conns = map[*gatedConn]struct{}{}
	}
	g.conns[gc] = struct{}{}
	return gc
}

func (g *gate) forget(c *gatedConn) {
	g.mu.Lock()
	delete(g.conns, c)
	g.mu.Unlock()
}

// gatedConn is a Raft connection the gate can end.
type gatedConn struct {
	net.Conn
	g    *gate
	once sync.Once
}

func (c *gatedConn) Close() error {
	c.once.Do(func() { c.g.forget(c) })
	return c.Conn.Close()
}

// gatedLayer is the stream layer Raft runs on, behind the gate.
type gatedLayer struct {
	*streamLayer
	g *gate
}

func (l *gatedLayer) Dial(address raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	if l.g.isClosed() {
		return nil, ErrIsolated
	}
	c, err := l.streamLayer.Dial(address, timeout)
	if err != nil {
		return nil, err
	}
	if gc := l.g.admit(c); gc != nil {
		return gc, nil
	}
	return nil, ErrIsolated
}

// Accept returns the next connection the gate admits; those it refuses
// are closed at once.
func (l *gatedLayer) Accept() (net.Conn, error) {
	for {
		c, err := l.streamLayer.Accept()
		if err != nil {
			return nil, err
		}
		if gc := l.g.admit(c); gc != nil {
			return gc, nil
		}
	}
}

// FailoverAfterLog reports whether this server's state, with the entries
// of its log past what its FSM applied played on a copy of it, records a
// failover in progress: a follower acknowledges an entry when it appends it
// and applies it only once it learns the commit, so a failover the group
// committed with its acknowledgement may be in its log and not yet in its
// state; and a restarted server applies nothing past its snapshot until a
// leader tells it the commit, so a failover its log begins and ends is
// not one in progress. The node isolates a member only when this is false.
// An entry it cannot read or decode counts as a failover. The answer is
// kept while the applied and the last index and the state stay as they are.
func (s *RaftStore) FailoverAfterLog() bool {
	s.mu.RLock()
	logs := s.logs
	s.mu.RUnlock()
	// The cache's key: an apply or a restore moves the applied index or
	// the revision.
	applied, rev := s.AppliedIndex(), s.fsm.Revision()
	// The last entry's index and term name the log (Raft's log matching):
	// a new leader may replace the tail by entries that never reach the
	// FSM (its no-op), at the same index.
	var last, lastTerm uint64
	if logs != nil {
		var err error
		if last, err = logs.LastIndex(); err != nil {
			return true
		}
		if last > 0 {
			var l raft.Log
			if err := logs.GetLog(last, &l); err != nil {
				return true
			}
			lastTerm = l.Term
		}
	}
	s.tailMu.Lock()
	defer s.tailMu.Unlock()
	if s.tail.valid && s.tail.applied == applied && s.tail.last == last && s.tail.lastTerm == lastTerm && s.tail.rev == rev {
		return s.tail.failover
	}
	// The state and the index of its last entry as one step: the log is
	// played from the entry after it, none twice (OpProtocol's enter is
	// not idempotent) and none missed.
	state, from := s.fsm.StateAt()
	failover := func() bool {
		if last <= from {
			return stateFailover(state)
		}
		copyFSM := NewFSM(nil)
		copyFSM.Replace(state)
		for i := from + 1; i <= last; i++ {
			var l raft.Log
			if err := logs.GetLog(i, &l); err != nil {
				return true
			}
			if l.Type != raft.LogCommand {
				continue
			}
			c, err := Decode(l.Data)
			if err != nil || !c.Op.known() {
				return true // a newer version's op: this FSM would stop at it
			}
			_ = copyFSM.Apply(c) // refused entries change nothing, as on every member
		}
		return copyFSM.FailoverInProgress()
	}()
	s.tail = tailAnswer{valid: true, applied: applied, last: last, lastTerm: lastTerm, rev: rev, failover: failover}
	return failover
}

// tailAnswer is FailoverAfterLog's last answer and the indexes and the
// state's revision it held for.
type tailAnswer struct {
	valid                        bool
	applied, last, lastTerm, rev uint64
	failover                     bool
}

// stateFailover reports whether st records a failover in progress.
func stateFailover(st *State) bool {
	for _, m := range st.Masters {
		if m.Failover != nil {
			return true
		}
	}
	return false
}
