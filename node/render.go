package node

import (
	"time"

	"github.com/x0tta6bl4/gosentinel/monitor"
	"github.com/x0tta6bl4/gosentinel/quorum"
	"github.com/x0tta6bl4/gosentinel/sentinel"
)

// sinceMs is "ms since t", 0 for a zero time (sentinel.c prints 0 for
// "never" in info-refresh and last-ping-sent).
func sinceMs(now, t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return now.Sub(t).Milliseconds()
}

// flagsOf renders the flags field in sentinel.c's fixed order, in one
// allocation (a slice and a join were two a map; SENTINEL MASTERS renders
// every master).
func flagsOf(st *monitor.InstanceStatus, odown bool, extra ...string) string {
	var buf [128]byte
	b := buf[:0]
	if st.SDown {
		b = appendFlag(b, "s_down")
	}
	if odown {
		b = appendFlag(b, "o_down")
	}
	switch st.Ref.Kind {
	case monitor.KindMaster:
		b = appendFlag(b, "master")
	case monitor.KindReplica:
		b = appendFlag(b, "slave")
	case monitor.KindSentinel:
		b = appendFlag(b, "sentinel")
	}
	if st.Disconnected {
		b = appendFlag(b, "disconnected")
	}
	if st.MasterDown {
		b = appendFlag(b, "master_down")
	}
	for _, f := range extra {
		b = appendFlag(b, f)
	}
	return string(b)
}

// appendFlag appends one flag to a comma-separated list.
func appendFlag(b []byte, f string) []byte {
	if len(b) > 0 {
		b = append(b, ',')
	}
	return append(b, f...)
}

// commonFields are the fields every instance map starts with
// (addReplySentinelRedisInstance), up to and including down-after; a
// master's failover-state, if any, sits right after link-refcount.
func commonFields(w sentinel.MapWriter, now time.Time, st *monitor.InstanceStatus, name, flags, failoverState string, odownSince time.Time, announceHostnames bool) {
	w.Str("name", name)
	ip := st.Ref.Addr.Host
	if st.IP != "" && !announceHostnames {
		// resolve-hostnames without announce-hostnames shows the IP.
		ip = st.IP
	}
	w.Str("ip", ip)
	w.Int("port", int64(st.Ref.Addr.Port))
	w.Str("runid", st.RunID)
	w.Str("flags", flags)
	w.Int("link-pending-commands", int64(st.LinkPendingCommands))
	w.Int("link-refcount", int64(st.LinkRefcount))
	if failoverState != "" {
		w.Str("failover-state", failoverState)
	}
	w.Int("last-ping-sent", sinceMs(now, st.PingPendingSince))
	w.Int("last-ok-ping-reply", sinceMs(now, st.LastOKPingReply))
	w.Int("last-ping-reply", sinceMs(now, st.LastPingReply))
	if st.SDown {
		w.Int("s-down-time", sinceMs(now, st.SDownSince))
	}
	if !odownSince.IsZero() {
		w.Int("o-down-time", sinceMs(now, odownSince))
	}
	w.Int("down-after-milliseconds", st.DownAfter.Milliseconds())
}

func roleFields(w sentinel.MapWriter, now time.Time, st *monitor.InstanceStatus, defRole string) {
	w.Int("info-refresh", sinceMs(now, st.InfoRefresh))
	role := st.RoleReported
	switch {
	case role != "":
	case st.InfoRefresh.IsZero():
		role = defRole // redis starts role_reported at the instance's kind
	default:
		// An INFO without a role line: redis keeps role 0 and renders
		// anything but SRI_MASTER as "slave" (as the -role-change event
		// already said).
		role = "slave"
	}
	w.Str("role-reported", role)
	w.Int("role-reported-time", sinceMs(now, st.RoleReportedTime))
}

// renderMaster writes SENTINEL MASTER's map.
func (n *Node) renderMaster(w sentinel.MapWriter, now time.Time, m *quorum.Master, v *monitor.MasterView) {
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
	st := v.Master
	// The replicated address wins over whatever the monitor last saw.
	st.Ref.Addr = monitor.Addr(m.Addr)
	if st.IP == "" {
		// Not connected yet (or ever): the IP looked up ahead, as redis
		// shows the IP it resolved when it created the address
		// (resolve-hostnames without announce-hostnames).
		st.IP = n.hostIP(m.Name, st.Ref.Addr)
	}
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
	commonFields(w, now, &st, m.Name, flagsOf(&st, odown, extra...), failoverState, odownSince, n.announceHostnames())
	roleFields(w, now, &st, "master")
	w.Int("config-epoch", int64(m.ConfigEpoch))
	w.Int("num-slaves", int64(v.Replicas))
	w.Int("num-other-sentinels", int64(v.Sentinels))
	w.Int("quorum", int64(m.Quorum))
	w.Int("failover-timeout", m.FailoverTimeoutMs)
	w.Int("parallel-syncs", int64(m.ParallelSyncs))
	if m.NotificationScript != "" {
		w.Str("notification-script", m.NotificationScript)
	}
	if m.ClientReconfigScript != "" {
		w.Str("client-reconfig-script", m.ClientReconfigScript)
	}
	w.End()
}

// renderReplica writes one SENTINEL REPLICAS map; promoted: the replica
// a failover in progress chose (SRI_PROMOTED, from +selected-slave to the
// switch).
func renderReplica(w sentinel.MapWriter, now time.Time, st *monitor.InstanceStatus, announceHostnames, promoted bool) {
	flags := flagsOf(st, false)
	if promoted {
		flags = flagsOf(st, false, "promoted")
	}
	commonFields(w, now, st, st.Ref.Addr.String(), flags, "", time.Time{}, announceHostnames)
	roleFields(w, now, st, "slave")
	w.Int("master-link-down-time", st.MasterLinkDownTime.Milliseconds())
	if st.MasterLinkUp {
		w.Str("master-link-status", "ok")
	} else {
		w.Str("master-link-status", "err")
	}
	// "?" when the replica never reported one (the monitor's status
	// says so); a reported "" shows as "", as redis renders it.
	w.Str("master-host", st.MasterHost)
	w.Int("master-port", int64(st.MasterPort))
	w.Int("slave-priority", int64(st.SlavePriority))
	w.Int("slave-repl-offset", st.SlaveReplOffset)
	if st.ReplicaAnnounced {
		w.Str("replica-announced", "1")
	} else {
		w.Str("replica-announced", "0")
	}
	w.End()
}

// renderSentinel writes one SENTINEL SENTINELS map.
func renderSentinel(w sentinel.MapWriter, now time.Time, st *monitor.InstanceStatus, announceHostnames bool) {
	commonFields(w, now, st, st.RunID, flagsOf(st, false), "", time.Time{}, announceHostnames)
	w.Int("last-hello-message", sinceMs(now, st.LastHello))
	leader := st.VotedLeader
	if leader == "" {
		leader = "?"
	}
	w.Str("voted-leader", leader)
	w.Int("voted-leader-epoch", int64(st.VotedLeaderEpoch))
	w.End()
}

func (n *Node) announceHostnames() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.globals.announceHostnames
}
