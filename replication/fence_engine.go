package replication

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/x0tta6bl4/gosentinel/monitor"
	"github.com/x0tta6bl4/gosentinel/quorum"
)

// replicaFenceEvery paces the fence checks of replicas (only ours is
// removed from them, which is never urgent), in fixInterval units.
const replicaFenceEvery = 10

// maintainFence applies FenceTarget to the healthy master m at maddr (at
// most once per fixInterval) and ReplicaFenceTarget to its healthy replicas
// (ten times less often), in the background. Called by checkGroup, so only
// while the master is healthy here and no failover of it runs.
func (e *Engine) maintainFence(t *term, m *quorum.Master, ms *monitor.MasterStatus, maddr monitor.Addr, now time.Time) {
	if !e.cfg.Fence {
		return
	}
	healthy := healthyReplicas(ms, maddr)
	seen := fenceSeen{healthy: healthy, runID: ms.Master.RunID}
	// Whether a read is due is asked before the reader is made: the tick
	// visits every master ten times a second and reads a fence every
	// second at most, and the readers (closures) were the largest share
	// of the leader's allocations at 1000 masters.
	e.mu.Lock()
	last, settled := e.settledFences[maddr]
	every := masterFenceEvery(fixInterval, seen, last, settled)
	due := e.fenceDueLocked(maddr, every, now)
	e.mu.Unlock()
	if due {
		e.checkFence(t, m, maddr, every, func(ctx context.Context, cur FenceConfig) {
			if e.applyMasterFence(t, ctx, m, maddr, cur, healthy) {
				e.mu.Lock()
				e.settledFences[maddr] = seen
				e.mu.Unlock()
			}
		})
	}
	for i := range ms.Replicas {
		r := &ms.Replicas[i]
		if r.Ref.Addr == maddr || r.SDown || r.Disconnected || r.RoleReported != "slave" {
			continue
		}
		a := r.Ref.Addr
		if !e.fenceDue(a, replicaFenceEvery*fixInterval, now) {
			continue
		}
		e.checkFence(t, m, a, replicaFenceEvery*fixInterval, func(ctx context.Context, cur FenceConfig) {
			if ReplicaFenceTarget(cur) != FenceClear {
				return
			}
			// Asked now, not the monitor's INFO (up to an INFO period
			// old): a node another leader just promoted and fenced must
			// keep its fence.
			if rep, err := e.cfg.Redis.Replication(ctx, target(m, a)); err != nil || rep.Role != "slave" {
				return
			}
			e.clearFence(ctx, m, a, cur, "replica")
		})
	}
}

// fenceSeen is what decides a master's fence besides the fence itself: its
// healthy replicas, and its run id (a restarted master has the fence of
// its config file again).
type fenceSeen struct {
	healthy int
	runID   string
}

// masterFenceEvery paces the reads of a healthy master's fence. Read every
// fixEvery while something that decides it changed since the last read
// that left nothing to do (or none did); otherwise ten times less often,
// like replicas' (cause 2 of issue 12: two CONFIG GETs per master every
// second from the leader, 2000 a second at 1000 masters, although a
// master's replicas and run id, the inputs of FenceTarget besides the
// fence, change rarely).
func masterFenceEvery(fixEvery time.Duration, now, last fenceSeen, settled bool) time.Duration {
	if settled && now == last {
		return replicaFenceEvery * fixEvery
	}
	return fixEvery
}

// fenceDue reports whether the fence of the node at a is due for a read
// (checkFence decides again).
func (e *Engine) fenceDue(a monitor.Addr, every time.Duration, now time.Time) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.fenceDueLocked(a, every, now)
}

func (e *Engine) fenceDueLocked(a monitor.Addr, every time.Duration, now time.Time) bool {
	last, checked := e.fenceChecks[a]
	return !(checked && now.Sub(last) < every) && !e.fencing[a]
}

// maxFenceReads bounds the fence reads in flight. A new leader finds every
// fence due at once: at 1000 masters it started a thousand goroutines in
// one tick (whose records the runtime keeps for the life of the process)
// and sent two thousand CONFIG GETs. A read on an idle link takes a round
// trip, so the rest follow within a few ticks; a read not started stays
// due, and an unknown fence is taken as ours by PromotionAllowedAt, the
// side that waits longer.
const maxFenceReads = 64

// checkFence reads the fence of the node at a, if due and fewer than
// maxFenceReads are in flight, and hands it to act, in a goroutine of the
// term.
func (e *Engine) checkFence(t *term, m *quorum.Master, a monitor.Addr, every time.Duration,
	act func(ctx context.Context, cur FenceConfig)) {
	key := a
	now := e.now()
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.fenceDueLocked(key, every, now) || len(e.fencing) >= maxFenceReads {
		return
	}
	last, checked := e.fenceChecks[key]
	// The read rides on the monitor's link to the node (UseLink). A busy
	// link (a PING or hello awaiting its reply) puts the read off to a
	// later tick, up to a period past due, rather than opening a
	// connection for it: the one-call connections were 6 new connections
	// a second to a fleet of 500 masters. Later than that, or for a first
	// read, it is made on a connection of its own.
	later := checked && now.Sub(last) < 2*every
	e.fenceChecks[key] = now
	e.fencing[key] = true
	if !e.spawnLocked(t, func() {
		defer func() {
			e.mu.Lock()
			delete(e.fencing, key)
			e.mu.Unlock()
		}()
		ctx := onLink(t.ctx)
		if later {
			ctx = onLinkOrLater(t.ctx)
		}
		ctx, cancel := context.WithTimeout(ctx, callTimeout)
		defer cancel()
		cur, err := e.cfg.Redis.Fence(ctx, target(m, a))
		if later && errors.Is(err, monitor.ErrLinkBusy) {
			e.mu.Lock()
			if e.fenceChecks[key].Equal(now) {
				e.fenceChecks[key] = last // due again at the next tick
			}
			e.mu.Unlock()
			return
		}
		if err != nil {
			e.log.Debug("failed to read the fence", "master", m.Name, "addr", key.String(), "err", err)
			return
		}
		e.noteFence(a, cur)
		act(ctx, cur)
	}) {
		delete(e.fencing, key)
	}
}

func (e *Engine) noteFence(a monitor.Addr, c FenceConfig) {
	e.mu.Lock()
	e.fences[a] = c
	e.mu.Unlock()
}

// knownFence returns what this engine last read of the fence at a.
func (e *Engine) knownFence(a monitor.Addr) (FenceConfig, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	c, ok := e.fences[a]
	return c, ok
}

// applyMasterFence sets or clears the master's fence as FenceTarget says,
// if the master is still the same and no failover of it started during
// the read. Clearing needs a verified leader: a deposed leader lowering the
// fence of a master the majority is about to replace would reopen it.
// It reports whether the fence is as FenceTarget wants it now.
func (e *Engine) applyMasterFence(t *term, ctx context.Context, m *quorum.Master, maddr monitor.Addr, cur FenceConfig, healthy int) bool {
	action := FenceTarget(cur, healthy)
	if action == FenceKeep {
		return true
	}
	now, ok := e.cfg.View.Master(m.Name)
	if !ok || now.Failover != nil || now.Addr != m.Addr || e.isActive(m.Name) {
		return false
	}
	switch action {
	case FenceSet:
		if err := e.cfg.Redis.SetFence(ctx, target(now, maddr), ours); err != nil {
			e.log.Warn("failed to fence the master", "master", m.Name, "addr", maddr.String(), "err", err)
			return false
		}
		e.noteFence(maddr, ours)
		e.log.Info("master fenced: min-replicas-to-write 1, min-replicas-max-lag 1", "master", m.Name,
			"addr", maddr.String(), "healthy_replicas", healthy)
		return true
	case FenceClear:
		if !e.verifyLeader(t) {
			return false
		}
		return e.clearFence(ctx, now, maddr, cur, "master")
	}
	return false
}

// clearFence sets min-replicas-to-write 0 on the node at a; false if it
// failed.
func (e *Engine) clearFence(ctx context.Context, m *quorum.Master, a monitor.Addr, cur FenceConfig, role string) bool {
	cleared := FenceConfig{ToWrite: 0, MaxLag: cur.MaxLag}
	if err := e.cfg.Redis.SetFence(ctx, target(m, a), cleared); err != nil {
		e.log.Warn("failed to remove the fence", "master", m.Name, "addr", a.String(), "role", role, "err", err)
		return false
	}
	e.noteFence(a, cleared)
	e.log.Info("fence removed", "master", m.Name, "addr", a.String(), "role", role)
	return true
}

// slaveOf sends SLAVEOF to the node at t (NO ONE when master is nil) and,
// once a node has been made a replica, removes our fence from it: it
// ignores the fence while a replica, but would keep it if promoted later
// by anyone (an operator's SLAVEOF NO ONE, a failover), born with no
// replica and refusing every write. The SLAVEOF transaction's CONFIG
// REWRITE may have persisted the fence; the removal is persisted too.
func (e *Engine) slaveOf(ctx context.Context, m *quorum.Master, t Target, master *monitor.Addr) error {
	if err := e.cfg.Redis.SlaveOf(ctx, t, master); err != nil {
		return err
	}
	if master != nil && e.cfg.Fence {
		// Its own deadline: the caller's may be spent, and the removal is
		// harmless whoever leads.
		cctx, cancel := context.WithTimeout(context.Background(), callTimeout)
		defer cancel()
		if cur, err := e.cfg.Redis.Fence(cctx, t); err == nil && ReplicaFenceTarget(cur) == FenceClear {
			e.clearFence(cctx, m, t.Addr, cur, "demoted")
		}
	}
	return nil
}

// prepareCandidate runs right before the first SLAVEOF NO ONE of a
// failover: it removes our fence from the chosen replica (a new master born
// fenced refuses writes until a replica has synced) and, for an automatic
// failover, waits until the old master must have stopped accepting writes
// (PromotionAllowedAt). It returns how long it waited (the promotion's
// deadline moves by as much: a failover-timeout shorter than the wait must
// not abort every failover), and false if the failover stopped meanwhile
// (the term ended or it was superseded).
func (d *driver) prepareCandidate(m *quorum.Master) (time.Duration, bool) {
	e := d.e
	if !e.cfg.Fence {
		return 0, true
	}
	w := FenceWait{PingPeriod: e.timing().PingPeriod}
	ctx, cancel := d.call()
	rep, rerr := e.cfg.Redis.Replication(ctx, target(m, d.replica))
	cur, ferr := e.cfg.Redis.Fence(ctx, target(m, d.replica))
	if ferr == nil && ReplicaFenceTarget(cur) == FenceClear {
		e.clearFence(ctx, m, d.replica, cur, "candidate")
	}
	cancel()
	if d.forced || d.paused {
		// A switchover's old master is reachable and paused (or, forced,
		// promoted away from as redis-sentinel does), and so is an
		// automatic failover's that still answered: the pause, not the
		// fence, keeps it from writing.
		return 0, true
	}
	w.Config, w.Known = e.knownFence(d.from)
	if ms, ok := e.cfg.View.Status(d.name); ok && ms.Master.Ref.Addr == d.from {
		w.LastOKPingReply, w.PingPendingSince = ms.Master.LastOKPingReply, ms.Master.PingPendingSince
	}
	if rerr == nil && rep.follows(d.from) && rep.MasterLinkUp && rep.MasterLastIO >= 0 {
		w.ReplicaLinkUp, w.ReplicaLastIO = true, rep.MasterLastIO
	}
	w.Partners = e.cutOffPartners(d.t.ctx, d.name)
	w.Now = e.now()
	allowed := PromotionAllowedAt(w)
	if !allowed.After(w.Now) {
		return 0, true
	}
	e.log.Info("waiting until the old master's fence must hold before promoting", "master", d.name,
		"old_master", d.from.String(), "wait", allowed.Sub(w.Now).Round(time.Millisecond).String())
	for {
		if _, ok := d.fence(); !ok {
			return 0, false
		}
		now := e.now()
		if !now.Before(allowed) {
			return now.Sub(w.Now), true
		}
		if !e.wait(d.t.ctx, min(pollInterval, allowed.Sub(now))) {
			return 0, false
		}
	}
}

// partnerDial bounds the dial that tells a partner cut off (timeout) from
// dead (refused) or reachable.
const (
	partnerDial  = 200 * time.Millisecond
	partnerDials = 3
)

// cutOffPartners lists the other members this leader's monitor lost
// track of (a PING pending), with a dial to each: only a member whose dial
// times out may be on the other side of a cut, holding a cut-off pause.
func (e *Engine) cutOffPartners(ctx context.Context, name string) []CutOffPartner {
	ms, ok := e.cfg.View.Status(name)
	if !ok || e.cfg.IsMember == nil {
		return nil
	}
	var out []CutOffPartner
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range ms.Sentinels {
		s := ms.Sentinels[i]
		if s.RunID == "" || s.RunID == e.cfg.MyID || s.PingPendingSince.IsZero() || !e.cfg.IsMember(s.RunID) {
			continue
		}
		wg.Go(func() {
			p := CutOffPartner{LastOKPingReply: s.LastOKPingReply, PingPendingSince: s.PingPendingSince,
				TimedOut: dialTimesOut(ctx, s.Ref.Addr.String())}
			mu.Lock()
			out = append(out, p)
			mu.Unlock()
		})
	}
	wg.Wait()
	return out
}

// dialTimesOut dials addr partnerDials times at once: true only when every
// dial timed out (no answer at all, as behind a cut), not when one was
// refused or accepted. Several dials, because under random packet loss a
// single SYN is lost often enough to look like a cut.
func dialTimesOut(ctx context.Context, addr string) bool {
	dctx, cancel := context.WithTimeout(ctx, partnerDial)
	defer cancel()
	var timeouts atomic.Int32
	var wg sync.WaitGroup
	for range partnerDials {
		wg.Go(func() {
			var d net.Dialer
			conn, err := d.DialContext(dctx, "tcp", addr)
			if err == nil {
				conn.Close()
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded) {
				timeouts.Add(1)
			}
		})
	}
	wg.Wait()
	return timeouts.Load() == partnerDials
}
