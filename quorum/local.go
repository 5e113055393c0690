package quorum

import (
	"context"
	"sync"
)

// Local applies proposals directly to its FSM, in the order they arrive. It
// is the single-sentinel store: the Raft store offers the same Propose/FSM
// surface with the log in between.
type Local struct {
	mu  sync.Mutex // serialises proposals, like a log would
	fsm *FSM
}

// NewLocal returns a store applying to fsm.
func NewLocal(fsm *FSM) *Local { return &Local{fsm: fsm} }

// Propose applies c and returns Apply's result.
func (l *Local) Propose(ctx context.Context, c *Command) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	// Round-trip through the codec so the local path exercises exactly what
	// a replicated log would carry.
	data, err := c.Encode()
	if err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.fsm.ApplyBytes(data)
}

// FSM returns the state machine.
func (l *Local) FSM() *FSM { return l.fsm }

// Barrier returns at once: a local store has applied everything it
// accepted (the Raft store waits for its log instead).
func (l *Local) Barrier(ctx context.Context) error { return ctx.Err() }

// VerifyLeader returns nil (unless ctx ended): a sentinel alone is always
// its own leader.
func (l *Local) VerifyLeader(ctx context.Context) error { return ctx.Err() }
