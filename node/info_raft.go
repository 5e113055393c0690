package node

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/x0tta6bl4/gosentinel/internal/group"
)

// InfoSection answers INFO raft, a section of gosentinel's own: the group
// as this sentinel sees it. INFO shows it only when asked for by name.
func (n *Node) InfoSection(name string) (string, bool) {
	if name != "raft" {
		return "", false
	}
	var b strings.Builder
	line := func(k string, v any) { fmt.Fprintf(&b, "%s:%v\r\n", k, v) }
	b.WriteString("# Raft\r\n")
	if n.cl == nil {
		line("raft_enabled", 0)
		n.maintenanceInfo(line)
		return b.String(), true
	}
	c := n.cl
	info := c.grp.Info()
	line("raft_enabled", 1)
	line("raft_phase", info.Phase)
	line("raft_active", boolInt(c.isActive()))
	line("raft_expected_sentinels", info.Expect.Size)
	line("raft_expected_source", info.Expect.Source)
	line("raft_vouching", boolInt(n.vouches()))
	line("raft_failover_protocol", n.failoverProtocol())
	line("raft_foreign_sentinels", strings.Join(c.foreign(), ","))
	st := c.getStore()
	if st == nil {
		line("raft_state", "none")
	} else {
		stats := st.Stats()
		line("raft_state", strings.ToLower(stats["state"]))
		line("raft_isolated", boolInt(st.Isolated()))
		line("raft_term", st.Term())
		leaderID, leaderAddr := st.Leader()
		line("raft_leader_id", leaderID)
		line("raft_leader_addr", leaderAddr)
		lc := int64(-1)
		if t := st.LastContact(); !t.IsZero() {
			lc = time.Since(t).Milliseconds()
		}
		line("raft_last_contact_ms", lc)
		line("raft_commit_index", st.CommitIndex())
		line("raft_applied_index", st.AppliedIndex())
		line("raft_last_log_index", st.LastIndex())
		line("raft_last_snapshot_index", stats["last_snapshot_index"])
		// Why this member does not vouch while its disk is full.
		storeErr := ""
		if err := st.LogStoreError(); err != nil {
			storeErr = strings.Join(strings.Fields(err.Error()), " ")
		}
		line("raft_log_store_error", storeErr)
	}
	line("raft_voters", len(info.Voters))
	for i, v := range info.Voters {
		status := "ok"
		if st != nil && st.IsLeader() && v.ID != n.myid {
			if _, failing := st.FollowerContact(v.ID); failing {
				status = "unreachable"
			}
		}
		line("raft_voter"+strconv.Itoa(i), "id="+v.ID+",addr="+v.Addr+",status="+status)
	}
	line("raft_voter_changes", info.Changes)
	if info.Phase != group.PhaseMember {
		line("raft_formation", info.LastAdvice)
	}
	n.maintenanceInfo(line)
	return b.String(), true
}

// failoverProtocol names who decides this sentinel's failovers: "raft"
// (a member: the group's leader), "sentinel" (redis-sentinel's election:
// in a mixed set before joining a group, or a member while the group's
// failovers follow that protocol), "none" (waiting for a group, or a
// quiet member waiting for the group to decide again).
func (n *Node) failoverProtocol() string {
	switch {
	case n.cl == nil || n.cl.isActive():
		return "raft"
	case n.localVoteMode():
		return "sentinel"
	}
	return "none"
}
