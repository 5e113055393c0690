package node

import (
	"strconv"
	"strings"
	"time"

	"github.com/x0tta6bl4/gosentinel/monitor"
	"github.com/x0tta6bl4/gosentinel/quorum"
	"github.com/x0tta6bl4/gosentinel/sentinel"
)

// mapBuilder appends bulk-string fields in order.
type mapBuilder struct{ f sentinel.Fields }

func (b *mapBuilder) s(k, v string) { b.f = append(b.f, sentinel.Field{Key: k, Value: v}) }
func (b *mapBuilder) i(k string, v int64) {
	b.f = append(b.f, sentinel.Field{Key: k, Value: strconv.FormatInt(v, 10)})
}

// sinceMs is "ms since t", 0 for a zero time (sentinel.c prints 0 for
// "never" in info-refresh and last-ping-sent).
func sinceMs(now, t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return now.Sub(t).Milliseconds()
}

// flagsOf renders the flags field in sentinel.c's fixed order.
func flagsOf(st *monitor.InstanceStatus, odown bool, extra ...string) string {
	var f []string
	if st.SDown {
		f = append(f, "s_down")
	}
	if odown {
		f = append(f, "o_down")
	}
	switch st.Ref.Kind {
	case monitor.KindMaster:
		f = append(f, "master")
	case monitor.KindReplica:
		f = append(f, "slave")
	case monitor.KindSentinel:
		f = append(f, "sentinel")
	}
	if st.Disconnected {
		f = append(f, "disconnected")
	}
	if st.MasterDown {
		f = append(f, "master_down")
	}
	f = append(f, extra...)
	return strings.Join(f, ",")
}

// commonFields are the fields every instance map starts with
// (addReplySentinelRedisInstance), up to and including down-after.
func commonFields(b *mapBuilder, now time.Time, st *monitor.InstanceStatus, name, flags string, odownSince time.Time, announceHostnames bool) {
	b.s("name", name)
	b.s("ip", st.Ref.Addr.Host)
	if st.IP != "" && !announceHostnames {
		// resolve-hostnames without announce-hostnames shows the IP.
		b.f[len(b.f)-1].Value = st.IP
	}
	b.i("port", int64(st.Ref.Addr.Port))
	b.s("runid", st.RunID)
	b.s("flags", flags)
	b.i("link-pending-commands", int64(st.LinkPendingCommands))
	b.i("link-refcount", int64(st.LinkRefcount))
	b.i("last-ping-sent", sinceMs(now, st.PingPendingSince))
	b.i("last-ok-ping-reply", sinceMs(now, st.LastOKPingReply))
	b.i("last-ping-reply", sinceMs(now, st.LastPingReply))
	if st.SDown {
		b.i("s-down-time", sinceMs(now, st.SDownSince))
	}
	if !odownSince.IsZero() {
		b.i("o-down-time", sinceMs(now, odownSince))
	}
	b.i("down-after-milliseconds", st.DownAfter.Milliseconds())
}

func roleFields(b *mapBuilder, now time.Time, st *monitor.InstanceStatus, defRole string) {
	b.i("info-refresh", sinceMs(now, st.InfoRefresh))
	role := st.RoleReported
	if role == "" {
		role = defRole
	}
	b.s("role-reported", role)
	b.i("role-reported-time", sinceMs(now, st.RoleReportedTime))
}

// renderMaster builds SENTINEL MASTER's map.
func (n *Node) renderMaster(now time.Time, m *quorum.Master, ms *monitor.MasterStatus) sentinel.Fields {
	n.mu.Lock()
	var odownSince time.Time
	odown := false
	if l := n.local[m.Name]; l != nil && l.odown {
		odown, odownSince = true, l.odownSince
	}
	n.mu.Unlock()

	// Flags report what this sentinel observes, also when it is cut off
	// from the group (only GET-MASTER-ADDR-BY-NAME stops vouching): a
	// faked s_down would make the Bitnami chart's recovery loop send
	// SENTINEL FAILOVER, and the official suite expects a sentinel whose
	// peers all died to keep reporting a healthy master as "master".
	st := ms.Master
	// The replicated address wins over whatever the monitor last saw.
	st.Ref.Addr = monitor.Addr(m.Addr)
	if st.DownAfter == 0 {
		st.DownAfter = time.Duration(m.DownAfterMs) * time.Millisecond
	}
	var extra []string
	failoverState := ""
	if m.Failover != nil {
		extra = append(extra, "failover_in_progress")
		if m.Failover.Forced {
			extra = append(extra, "force_failover")
		}
		failoverState = "wait_start"
		if s, ok := n.eng.State(m.Name); ok && s != "" {
			failoverState = s
		}
	}
	b := &mapBuilder{}
	commonFields(b, now, &st, m.Name, flagsOf(&st, odown, extra...), odownSince, n.announceHostnames())
	if failoverState != "" {
		// failover-state sits right after link-refcount (sentinel.c).
		at := 7
		b.f = append(b.f[:at], append(sentinel.Fields{{Key: "failover-state", Value: failoverState}}, b.f[at:]...)...)
	}
	roleFields(b, now, &st, "master")
	b.i("config-epoch", int64(m.ConfigEpoch))
	b.i("num-slaves", int64(len(ms.Replicas)))
	b.i("num-other-sentinels", int64(len(ms.Sentinels)))
	b.i("quorum", int64(m.Quorum))
	b.i("failover-timeout", m.FailoverTimeoutMs)
	b.i("parallel-syncs", int64(m.ParallelSyncs))
	if m.NotificationScript != "" {
		b.s("notification-script", m.NotificationScript)
	}
	if m.ClientReconfigScript != "" {
		b.s("client-reconfig-script", m.ClientReconfigScript)
	}
	return b.f
}

// renderReplica builds one SENTINEL REPLICAS map.
func renderReplica(now time.Time, st *monitor.InstanceStatus, announceHostnames bool) sentinel.Fields {
	b := &mapBuilder{}
	commonFields(b, now, st, st.Ref.Addr.String(), flagsOf(st, false), time.Time{}, announceHostnames)
	roleFields(b, now, st, "slave")
	b.i("master-link-down-time", st.MasterLinkDownTime.Milliseconds())
	if st.MasterLinkUp {
		b.s("master-link-status", "ok")
	} else {
		b.s("master-link-status", "err")
	}
	host := st.MasterHost
	if host == "" {
		host = "?"
	}
	b.s("master-host", host)
	b.i("master-port", int64(st.MasterPort))
	b.i("slave-priority", int64(st.SlavePriority))
	b.i("slave-repl-offset", st.SlaveReplOffset)
	if st.ReplicaAnnounced {
		b.s("replica-announced", "1")
	} else {
		b.s("replica-announced", "0")
	}
	return b.f
}

// renderSentinel builds one SENTINEL SENTINELS map.
func renderSentinel(now time.Time, st *monitor.InstanceStatus, announceHostnames bool) sentinel.Fields {
	b := &mapBuilder{}
	commonFields(b, now, st, st.RunID, flagsOf(st, false), time.Time{}, announceHostnames)
	b.i("last-hello-message", sinceMs(now, st.LastHello))
	leader := st.VotedLeader
	if leader == "" {
		leader = "?"
	}
	b.s("voted-leader", leader)
	b.i("voted-leader-epoch", int64(st.VotedLeaderEpoch))
	return b.f
}

func (n *Node) announceHostnames() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.globals.announceHostnames
}
