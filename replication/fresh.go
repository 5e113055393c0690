package replication

import (
	"context"
	"sync"
	"time"

	"github.com/x0tta6bl4/gosentinel/monitor"
	"github.com/x0tta6bl4/gosentinel/quorum"
)

// readResult is one node's INFO replication, or why it could not be read.
type readResult struct {
	rep Replication
	err error
}

// readAll reads INFO replication from every node in parallel, bounded by
// ctx; results are in the order of addrs.
func (e *Engine) readAll(ctx context.Context, m *quorum.Master, addrs []monitor.Addr) []readResult {
	out := make([]readResult, len(addrs))
	var wg sync.WaitGroup
	for i, a := range addrs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rep, err := e.cfg.Redis.Replication(ctx, target(m, a))
			out[i] = readResult{rep, err}
		}()
	}
	wg.Wait()
	return out
}

// pick chooses the replica to promote: the monitor's view rules out what
// only it can judge (SDOWN, broken links, no valid PING reply lately), then
// every remaining replica is asked for its offset, priority and link state
// now, and they are ranked with those fresh values. A replica that does not
// answer within freshReadTimeout is no candidate.
func (e *Engine) pick(ctx context.Context, m *quorum.Master, ms *monitor.MasterStatus) (monitor.InstanceStatus, bool) {
	c := e.freshCandidates(ctx, m, ms)
	if len(c) == 0 {
		return monitor.InstanceStatus{}, false
	}
	return c[0], true
}

func (e *Engine) freshCandidates(ctx context.Context, m *quorum.Master, ms *monitor.MasterStatus) []monitor.InstanceStatus {
	tm := e.timing()
	p := SelectParams{
		Now:        e.now(),
		PingPeriod: tm.PingPeriod,
		InfoPeriod: tm.InfoPeriod,
		DownAfter:  downAfter(m),
		MaxLag:     e.cfg.MaxLag,
	}
	pre := reachable(ms, p)
	if len(pre) == 0 {
		return nil
	}
	addrs := make([]monitor.Addr, len(pre))
	for i, r := range pre {
		addrs[i] = r.Ref.Addr
	}
	rctx, cancel := context.WithTimeout(ctx, freshReadTimeout)
	defer cancel()
	reads := e.readAll(rctx, m, addrs)
	limit := maxMasterLinkDown(ms, p)
	var out []monitor.InstanceStatus
	for i, r := range pre {
		rd := reads[i]
		if rd.err != nil {
			e.log.Debug("candidate did not answer", "master", m.Name, "replica", r.Ref.Addr.String(), "err", rd.err)
			continue
		}
		r.SlavePriority = rd.rep.SlavePriority
		// A node answering role:master keeps the offset the monitor last
		// read from it as a replica (0 for an old master, listed among the
		// replicas since the switch), as redis-sentinel reads
		// slave_repl_offset only from a replica's INFO: its
		// master_repl_offset counts its own history, and ranked by it, an
		// old master back with its writes was promoted over a real replica
		// and the current master's writes were lost.
		r.MasterLinkDownTime = 0
		if rd.rep.Role == "slave" {
			r.SlaveReplOffset = rd.rep.SlaveReplOffset
			r.MasterLinkDownTime = rd.rep.MasterLinkDownTime
		}
		if r.SlavePriority == 0 || r.MasterLinkDownTime > limit {
			continue
		}
		out = append(out, r)
	}
	return Rank(out, p.MaxLag)
}

// downAfter is the master's down-after-milliseconds.
func downAfter(m *quorum.Master) time.Duration {
	return time.Duration(m.DownAfterMs) * time.Millisecond
}
