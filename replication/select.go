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
	var out []monitor.InstanceStatus
	limit := maxMasterLinkDown(ms, p)
	for _, r := range reachable(ms, p) {
		switch {
		case r.SlavePriority == 0:
			continue
		case r.InfoRefresh.IsZero() || p.Now.Sub(r.InfoRefresh) > infoValidity(ms, p):
			continue
		case r.MasterLinkDownTime > limit:
			continue
		}
		out = append(out, r)
	}
	return Rank(out, p.MaxLag)
}

// reachable is the part of the candidate rules that only the monitor can
// judge: not SDOWN, links up, a valid PING reply within 5 ping periods.
func reachable(ms *monitor.MasterStatus, p SelectParams) []monitor.InstanceStatus {
	var out []monitor.InstanceStatus
	for _, r := range ms.Replicas {
		switch {
		case r.SDown, r.Disconnected:
			continue
		case p.Now.Sub(r.LastOKPingReply) > 5*p.PingPeriod:
			continue
		}
		out = append(out, r)
	}
	return out
}

// infoValidity is how old a replica's INFO may be for its data to count.
func infoValidity(ms *monitor.MasterStatus, p SelectParams) time.Duration {
	if ms.Master.SDown {
		return 5 * p.PingPeriod
	}
	return 3 * p.InfoPeriod
}

// maxMasterLinkDown is how long a candidate's master link may have been
// down: 10×down-after, plus the time the master has been SDOWN.
func maxMasterLinkDown(ms *monitor.MasterStatus, p SelectParams) time.Duration {
	d := 10 * p.DownAfter
	if ms.Master.SDown && !ms.Master.SDownSince.IsZero() {
		d += p.Now.Sub(ms.Master.SDownSince)
	}
	return d
}

// Rank sorts candidates best first (compareSlavesForPromotion) and, if
// maxLag > 0, drops those more than maxLag bytes behind the best one. It
// sorts in place and returns the kept prefix.
func Rank(cands []monitor.InstanceStatus, maxLag int64) []monitor.InstanceStatus {
	sort.SliceStable(cands, func(i, j int) bool { return better(&cands[i], &cands[j]) })
	if maxLag <= 0 || len(cands) == 0 {
		return cands
	}
	// The best by priority is not necessarily the most advanced one: the cap
	// is measured from the largest offset among the candidates.
	var top int64
	for _, r := range cands {
		top = max(top, r.SlaveReplOffset)
	}
	kept := cands[:0]
	for _, r := range cands {
		if top-r.SlaveReplOffset <= maxLag {
			kept = append(kept, r)
		}
	}
	return kept
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
