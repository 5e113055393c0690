package node

import (
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/monitor"
	"github.com/x0tta6bl4/gosentinel/quorum"
	"github.com/x0tta6bl4/gosentinel/replication"
	"github.com/x0tta6bl4/gosentinel/sentinel"
)

// TestInstanceMapsFit: each kind of instance map, with every optional
// field present, fits the room sentinel.FieldsList makes for a map at once
// (a master's is the largest: a field added to it fails here until
// MaxInstanceFields counts it), and a master's failover-state sits where
// sentinel.c puts it.
func TestInstanceMapsFit(t *testing.T) {
	now := time.Now()
	down := monitor.InstanceStatus{SDown: true, SDownSince: now.Add(-time.Second)}
	n := &Node{
		local: map[string]*masterLocal{"m": {odown: true, odownSince: now.Add(-time.Second)}},
		eng:   &replication.Engine{},
	}
	m := &quorum.Master{Name: "m", Failover: &quorum.Failover{Forced: true}}
	m.NotificationScript, m.ClientReconfigScript = "/bin/notify", "/bin/reconfig"
	ms := down
	ms.Ref.Kind = monitor.KindMaster
	var l sentinel.FieldsList
	n.renderMaster(&l, now, m, &monitor.MasterView{Master: ms, Replicas: 2, Sentinels: 2})
	renderReplica(&l, now, &down, false, false)
	renderSentinel(&l, now, &down, false)
	if len(l.List) != 3 {
		t.Fatalf("%d maps, want 3", len(l.List))
	}
	for i, want := range []struct {
		kind   string
		fields int
	}{{"master", sentinel.MaxInstanceFields}, {"replica", 22}, {"sentinel", 15}} {
		f := l.List[i]
		if len(f) != want.fields || cap(f) != sentinel.MaxInstanceFields {
			t.Errorf("%s: %d fields with every optional one (capacity %d), want %d in room for %d",
				want.kind, len(f), cap(f), want.fields, sentinel.MaxInstanceFields)
		}
	}
	master := l.List[0]
	if master[6].Key != "link-refcount" || master[7].Key != "failover-state" || master[8].Key != "last-ping-sent" {
		t.Errorf("master map's 7th to 9th fields: %q, %q, %q", master[6].Key, master[7].Key, master[8].Key)
	}
	for k, want := range map[string]string{
		"num-slaves": "2", "num-other-sentinels": "2", "failover-state": "wait_start",
		"flags": "s_down,o_down,master,failover_in_progress,force_failover",
	} {
		if got, _ := master.Get(k); got != want {
			t.Errorf("master map's %s = %q, want %q", k, got, want)
		}
	}
}

// The replica a failover in progress chose shows `promoted` in SENTINEL
// REPLICAS, after s_down and master_down as sentinel.c orders the flags
// (from +selected-slave to the switch; the switch lists the replicas
// afresh under the new master).
func TestPromotedReplicaFlag(t *testing.T) {
	st := monitor.InstanceStatus{SDown: true, Disconnected: true}
	st.Ref.Kind = monitor.KindReplica
	for _, tc := range []struct {
		promoted bool
		want     string
	}{{false, "s_down,slave,disconnected"}, {true, "s_down,slave,disconnected,promoted"}} {
		var l sentinel.FieldsList
		renderReplica(&l, time.Now(), &st, false, tc.promoted)
		if got, _ := l.List[0].Get("flags"); got != tc.want {
			t.Errorf("promoted %v: flags %q, want %q", tc.promoted, got, tc.want)
		}
	}
}
