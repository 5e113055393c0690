package node

import (
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/monitor"
	"github.com/x0tta6bl4/gosentinel/sentinel"
)

// TestRoleReported: role-reported is the instance's kind until its first
// INFO, then what the INFO said; an INFO without a role line renders as
// "slave", as redis renders its role 0 (and as the -role-change event
// said), where a master showed "master".
func TestRoleReported(t *testing.T) {
	now := time.Now()
	for _, tc := range []struct {
		name string
		st   monitor.InstanceStatus
		def  string
		want string
	}{
		{"a master before its first INFO", monitor.InstanceStatus{}, "master", "master"},
		{"a replica before its first INFO", monitor.InstanceStatus{}, "slave", "slave"},
		{"a master that says so", monitor.InstanceStatus{InfoRefresh: now, RoleReported: "master"}, "master", "master"},
		{"a master reporting slave", monitor.InstanceStatus{InfoRefresh: now, RoleReported: "slave"}, "master", "slave"},
		{"a master whose INFO has no role line", monitor.InstanceStatus{InfoRefresh: now}, "master", "slave"},
	} {
		var l sentinel.FieldsList
		l.Len(1)
		roleFields(&l, now, &tc.st, tc.def)
		l.End()
		got := ""
		for _, f := range l.List[0] {
			if f.Key == "role-reported" {
				got = f.Value
			}
		}
		if got != tc.want {
			t.Errorf("%s: role-reported %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestMasterHostRendered: SENTINEL REPLICAS shows the master host the
// replica reported, "" included (redis prints "?" only while
// slave_master_host is NULL, which the monitor's status renders as "?").
// The renderer turned "" into "?" too.
func TestMasterHostRendered(t *testing.T) {
	for _, host := range []string{"", "?", "10.0.0.1"} {
		var l sentinel.FieldsList
		l.Len(1)
		renderReplica(&l, time.Now(), &monitor.InstanceStatus{MasterHost: host}, false, false)
		l.End()
		got := "(none)"
		for _, f := range l.List[0] {
			if f.Key == "master-host" {
				got = f.Value
			}
		}
		if got != host {
			t.Errorf("master-host %q rendered as %q", host, got)
		}
	}
}
