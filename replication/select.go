// Package replication owns failovers: choosing the replica to promote,
// and (run on the Raft leader only) the failover state machine that
// promotes it and repoints the others.
package replication

import (
	"sort"
	"strings"
	"time"

	"github.com/x0tta6bl4/gosentinel/monitor"
)

// SelectParams are the clock and periods replica selection depends on.
type SelectParams struct {
	Now        time.Time
	PingPeriod time.Duration
	InfoPeriod time.Duration
	DownAfter  time.Duration
	// MaxLag, if > 0, excludes replicas whose offset is further than MaxLag
	// bytes behind the best candidate (gosentinel's optional lag cap).
	MaxLag int64
}

// Candidates returns the replicas eligible for promotion, best first, with
// redis-sentinel's rules (sentinelSelectSlave, compareSlavesForPromotion):
// not SDOWN, connected, a valid PING reply within 5 ping periods, priority
// not 0, INFO fresh enough (5 ping periods while the master is SDOWN, else
// 3 info periods), master link not down for longer than the master has been
// down plus 10×down-after. Order: lower priority, then larger replication
// offset, then smaller run id (case-insensitive; unknown last).
func Candidates(ms *monitor.MasterStatus, p SelectParams) []monitor.InstanceStatus {
	maxMasterDown := 10 * p.DownAfter
	infoValidity := 3 * p.InfoPeriod
	if ms.Master.SDown {
		if !ms.Master.SDownSince.IsZero() {
			maxMasterDown += p.Now.Sub(ms.Master.SDownSince)
		}
		infoValidity = 5 * p.PingPeriod
	}
	var out []monitor.InstanceStatus
	for _, r := range ms.Replicas {
		switch {
		case r.SDown, r.Disconnected:
			continue
		case p.Now.Sub(r.LastOKPingReply) > 5*p.PingPeriod:
			continue
		case r.SlavePriority == 0:
			continue
		case r.InfoRefresh.IsZero() || p.Now.Sub(r.InfoRefresh) > infoValidity:
			continue
		case r.MasterLinkDownTime > maxMasterDown:
			continue
		}
		out = append(out, r)
	}
	sort.SliceStable(out, func(i, j int) bool { return better(&out[i], &out[j]) })
	if p.MaxLag > 0 && len(out) > 0 {
		best := out[0].SlaveReplOffset
		kept := out[:0]
		for _, r := range out {
			if best-r.SlaveReplOffset <= p.MaxLag {
				kept = append(kept, r)
			}
		}
		out = kept
	}
	return out
}

// better is compareSlavesForPromotion(a, b) < 0.
func better(a, b *monitor.InstanceStatus) bool {
	if a.SlavePriority != b.SlavePriority {
		return a.SlavePriority < b.SlavePriority
	}
	if a.SlaveReplOffset != b.SlaveReplOffset {
		return a.SlaveReplOffset > b.SlaveReplOffset
	}
	switch {
	case a.RunID == "" && b.RunID == "":
		return false
	case a.RunID == "":
		return false
	case b.RunID == "":
		return true
	}
	return strings.ToLower(a.RunID) < strings.ToLower(b.RunID)
}

// Select returns the best candidate, if any.
func Select(ms *monitor.MasterStatus, p SelectParams) (monitor.InstanceStatus, bool) {
	c := Candidates(ms, p)
	if len(c) == 0 {
		return monitor.InstanceStatus{}, false
	}
	return c[0], true
}
