package replication

import (
	"context"
	"errors"
	"fmt"

	"github.com/x0tta6bl4/gosentinel/quorum"
)

// Failover is SENTINEL FAILOVER <name>: a failover decided by this sentinel
// alone (no ODOWN, no pacing). It fails with ErrInProgress if a failover of
// the master is recorded or running, with ErrNoGoodSlave if no replica can
// be promoted now (offsets read fresh), with quorum.ErrNoSuchMaster for an
// unknown name, and with ErrNotLeader when the engine is not running. It
// returns nil as soon as the decision is committed; the failover then runs
// in the engine. On a reachable master it is a zero-loss switchover (see
// switchover); on an unreachable one a forced promotion.
func (e *Engine) Failover(ctx context.Context, name string) error {
	e.mu.Lock()
	t := e.term
	if t == nil {
		e.mu.Unlock()
		return ErrNotLeader
	}
	m, ok := e.cfg.View.Master(name)
	if !ok {
		e.mu.Unlock()
		return quorum.ErrNoSuchMaster
	}
	if m.Failover != nil || !e.claimLocked(name, "select_slave") {
		e.mu.Unlock()
		return ErrInProgress
	}
	e.mu.Unlock()
	claimed := true
	defer func() {
		if claimed {
			e.release(name)
		}
	}()

	decideStart := e.now()
	ms, ok := e.cfg.View.Status(name)
	if !ok {
		return ErrNoGoodSlave
	}
	best, ok := e.pick(ctx, m, &ms)
	if !ok {
		return ErrNoGoodSlave
	}
	// The commit is bounded by the term, not by the client's request: a
	// client that goes away must not look like a lost leadership.
	d, err := e.begin(t, m, best.Ref.Addr, true, 0)
	if err != nil {
		if errors.Is(err, quorum.ErrFailoverInProgress) {
			return ErrInProgress
		}
		return fmt.Errorf("failed to commit the failover of %s: %w", name, err)
	}
	e.observer().FailoverPhase(name, PhaseDecide, e.now().Sub(decideStart))
	e.log.Warn("Executing user requested FAILOVER of '"+name+"'", "epoch", d.epoch, "replica", d.replica.String())
	e.mu.Lock()
	// If the term ended just now the decision stays in the log and the next
	// term resumes it.
	claimed = !e.spawnLocked(t, func() {
		defer e.release(name)
		d.run(true)
	})
	e.mu.Unlock()
	return nil
}
