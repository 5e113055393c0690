package metrics

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/replication"
)

func TestFamilyTable(t *testing.T) {
	seen := map[string]bool{}
	for _, f := range families() {
		if seen[f.name] {
			t.Errorf("family %s listed twice", f.name)
		}
		seen[f.name] = true
		if !strings.HasPrefix(f.name, "redis_") && !strings.HasPrefix(f.name, "gosentinel_") {
			t.Errorf("family %s: neither redis_ nor gosentinel_", f.name)
		}
		if f.help == "" {
			t.Errorf("family %s has no HELP", f.name)
		}
		if f.kind == counter && !strings.HasSuffix(f.name, "_total") {
			t.Errorf("counter %s does not end in _total", f.name)
		}
	}
	names := FamilyNames()
	for _, want := range []string{"redis_sentinel_master_ok_slaves", "gosentinel_failovers_total", "redis_up", "go_goroutines", "process_cpu_seconds_total"} {
		if !slices.Contains(names, want) {
			t.Errorf("FamilyNames lacks %s", want)
		}
	}
	for s, want := range map[string]bool{
		"gosentinel_failover_duration_seconds_bucket": true, "gosentinel_failover_phase_seconds_count": true,
		"gosentinel_failovers_total": true, "gosentinel_failovers_total_bucket": false, "redis_nope": false,
	} {
		if Exports(s) != want {
			t.Errorf("Exports(%s) = %v", s, !want)
		}
	}
}

func TestParseInfoMaster(t *testing.T) {
	m, ok := ParseInfoMaster("master0", "name=my,master,status=ok,address=10.0.0.1:6379,slaves=2,sentinels=3")
	if ok {
		t.Errorf("a comma in the name parsed: %+v", m)
	}
	m, ok = ParseInfoMaster("master12", "name=mymaster,status=odown,address=10.0.0.1:6379,slaves=2,sentinels=3")
	if !ok || m != (InfoMaster{"mymaster", "odown", "10.0.0.1:6379", 2, 3}) {
		t.Errorf("got %+v %v", m, ok)
	}
	for _, k := range []string{"masterx", "sentinel_masters", "master"} {
		if _, ok := ParseInfoMaster(k, "name=a,status=ok,address=h:1,slaves=0,sentinels=1"); ok {
			t.Errorf("key %s parsed", k)
		}
	}
	if _, ok := ParseInfoMaster("master0", "name=a,status=ok,address=h:1,slaves=x,sentinels=1"); ok {
		t.Error("slaves=x parsed")
	}
}

func TestReady(t *testing.T) {
	member := func(leader string, fresh bool) *Snapshot {
		return &Snapshot{Raft: &Raft{Phase: "member", LeaderID: leader, State: "follower"}, Fresh: fresh}
	}
	for _, tc := range []struct {
		name    string
		s       *Snapshot
		serving bool
		ready   bool
		reason  string
	}{
		{"raft off", &Snapshot{}, true, true, ""},
		{"raft off, not serving", &Snapshot{}, false, false, "command listener"},
		{"member with leader, fresh", member("abc", true), true, true, ""},
		// Readiness follows vouching: a member whose peers are provably
		// dead keeps answering GET-MASTER-ADDR-BY-NAME with no leader, as
		// redis-sentinel does when its peers crash, and stays ready.
		{"member without leader, vouching", member("", true), true, true, ""},
		{"member without leader, not vouching", member("", false), true, false, "no leader"},
		{"member, stale", member("abc", false), true, false, "not fresh"},
		{"member whose disk is full", &Snapshot{Raft: &Raft{Phase: "member", LeaderID: "abc", State: "follower",
			LogStoreError: "no space left on device"}}, true, false, "the Raft log cannot be written (no space left on device)"},
		{"forming", &Snapshot{Raft: &Raft{Phase: "forming"}, Fresh: true}, true, false, "phase forming"},
		{"paused but ready", &Snapshot{Raft: &Raft{Phase: "member", LeaderID: "a"}, Fresh: true, PausedAll: true,
			Masters: []Master{{Name: "m", Paused: true}}}, true, true, ""},
	} {
		r := Ready(tc.s, tc.serving)
		if r.Ready != tc.ready || !strings.Contains(r.Reason, tc.reason) {
			t.Errorf("%s: ready %v reason %q", tc.name, r.Ready, r.Reason)
		}
	}
	r := Ready(&Snapshot{Raft: &Raft{Phase: "member", LeaderID: "a"}, Fresh: true, PausedAll: true,
		Masters: []Master{{Name: "m", Paused: true}, {Name: "n"}}}, true)
	if !r.PausedAll || !slices.Equal(r.PausedMasters, []string{"m"}) {
		t.Errorf("paused facts: %+v", r)
	}
}

func roleSnapshot() *Snapshot {
	return &Snapshot{AnnounceIP: "", Masters: []Master{{
		Name: "mymaster",
		Nodes: []DataNode{
			{Addr: "10.0.0.1:6379", Host: "10.0.0.1", Master: true, Role: "master"},
			{Addr: "10.0.0.2:6379", Host: "10.0.0.2", Role: "slave", MasterLinkUp: true},
			{Addr: "10.0.0.3:6379", Host: "10.0.0.3", Role: "slave", MasterLinkUp: false},
			{Addr: "10.0.0.4:6379", Host: "10.0.0.4", Role: "slave", Down: true},
		},
	}}}
}

func TestCheckRole(t *testing.T) {
	none := func(string) bool { return false }
	for _, tc := range []struct {
		want   Role
		node   string
		master string
		status int
	}{
		{RolePrimary, "10.0.0.1:6379", "", 200},
		{RoleReplica, "10.0.0.1:6379", "", 503},
		{RoleReplica, "10.0.0.2:6379", "", 200},
		{RolePrimary, "10.0.0.2:6379", "mymaster", 503},
		{RoleReplica, "10.0.0.3:6379", "", 503}, // link down
		{RoleReplica, "10.0.0.4:6379", "", 503}, // s_down
		{RolePrimary, "10.0.0.4:6379", "", 503},
		{RolePrimary, "10.0.0.9:6379", "", 404},
		{RolePrimary, "10.0.0.1:6379", "other", 404},
	} {
		a := CheckRole(roleSnapshot(), tc.want, tc.node, tc.master, none)
		if a.Status != tc.status {
			t.Errorf("%s %s (master %q): %d %q, want %d", tc.want, tc.node, tc.master, a.Status, a.Reason, tc.status)
		}
	}
	// Down while it is the master's address: not a primary.
	s := roleSnapshot()
	s.Masters[0].Nodes[0].Down = true
	if a := CheckRole(s, RolePrimary, "10.0.0.1:6379", "", none); a.Status != http.StatusServiceUnavailable || a.Role != "down" {
		t.Errorf("down master: %+v", a)
	}
}

func TestColocated(t *testing.T) {
	local := func(hosts ...string) func(string) bool {
		return func(h string) bool { return slices.Contains(hosts, h) }
	}
	// announce-ip picks the node on that host.
	s := roleSnapshot()
	s.AnnounceIP = "10.0.0.2"
	if a := CheckRole(s, RoleReplica, "", "", local()); a.Status != 200 || a.Node != "10.0.0.2:6379" {
		t.Errorf("announce-ip: %+v", a)
	}
	// announce-ip matching nothing falls back to the interface addresses.
	s.AnnounceIP = "192.168.1.1"
	if a := CheckRole(s, RolePrimary, "", "", local("10.0.0.1")); a.Status != 200 || a.Node != "10.0.0.1:6379" {
		t.Errorf("fallback: %+v", a)
	}
	// A resolved IP counts too.
	s = roleSnapshot()
	s.Masters[0].Nodes[1].Host, s.Masters[0].Nodes[1].IP = "redis-1.redis-headless", "10.0.0.2"
	if a := CheckRole(s, RoleReplica, "", "", local("10.0.0.2")); a.Status != 200 {
		t.Errorf("resolved IP: %+v", a)
	}
	// None, or several: 404 with the reason.
	if a := CheckRole(roleSnapshot(), RolePrimary, "", "", local()); a.Status != 404 || !strings.Contains(a.Reason, "no known data node") {
		t.Errorf("none: %+v", a)
	}
	if a := CheckRole(roleSnapshot(), RolePrimary, "", "", local("10.0.0.1", "10.0.0.2")); a.Status != 404 || !strings.Contains(a.Reason, "several") {
		t.Errorf("several: %+v", a)
	}
}

type fakeSource struct{ s *Snapshot }

func (f fakeSource) Snapshot(Detail) *Snapshot { return f.s }

// The collector renders a snapshot into the table's families with their
// label names, and the engine's events into counters and histograms.
func TestCollector(t *testing.T) {
	s := &Snapshot{
		InfoSentinel: []string{"sentinel_masters:1", "sentinel_tilt:0", "sentinel_tilt_since_seconds:-1",
			"sentinel_running_scripts:0", "sentinel_scripts_queue_length:0", "sentinel_simulate_failure_flags:0",
			"master0:name=mymaster,status=ok,address=10.0.0.1:6379,slaves=2,sentinels=3"},
		Masters: []Master{{
			Name: "mymaster",
			Fields: map[string]string{"name": "mymaster", "ip": "10.0.0.1", "port": "6379", "quorum": "2",
				"failover-timeout": "10000", "parallel-syncs": "1", "down-after-milliseconds": "1000",
				"config-epoch": "3", "last-ok-ping-reply": "250"},
			CKQuorum: "OK 3 usable Sentinels. Quorum and failover authorization can be reached", CKQuorumOK: true,
			ReplicaFlags:  []string{"slave", "s_down,slave"},
			SentinelFlags: []string{"sentinel", "sentinel"},
			Nodes: []DataNode{{Addr: "10.0.0.1:6379", Master: true, Role: "master",
				Info: PlainInfo("# Server\r\nuptime_in_seconds:42\r\n# Memory\r\nused_memory:1024\r\n# Stats\r\ntotal_commands_processed:7\r\n# Replication\r\nrole:master\r\nconnected_slaves:2\r\nmaster_repl_offset:99\r\n")}},
			Links: []Link{{Node: "10.0.0.1:6379", Kind: "master", RTT: 2 * time.Millisecond}},
		}},
		Raft: &Raft{Phase: "member", State: "leader", Term: 4, CommitIndex: 10, AppliedIndex: 10, LeaderID: "x", Voters: 3,
			FailoverProtocol: "sentinel", Foreign: 1},
		Fresh: true,
	}
	m := New(fakeSource{s}, Build{Version: "7.0.15", RedisVersion: "7.0.15"})
	m.FailoverFinished("mymaster", replication.OutcomeSuccess, 2*time.Second)
	m.FailoverPhase("mymaster", replication.PhasePromote, time.Second)
	m.FailoverNotStarted("mymaster", replication.ReasonNoQuorum)
	got, labels := gather(t, m)
	// The fake INFO has only some of the per-node fields.
	absent := map[string]bool{fRedisMasterLinkUp.name: true}
	have := make([]bool, len(nodeInfoFields))
	scanInfo(string(s.Masters[0].Nodes[0].Info.AppendTo(nil)), make([]float64, len(nodeInfoFields)), have)
	for i, nf := range nodeInfoFields {
		if !have[i] {
			absent[nf.f.name] = true
		}
	}
	for _, f := range families() {
		if absent[f.name] {
			continue
		}
		if _, ok := labels[f.name]; !ok {
			t.Errorf("family %s not exported", f.name)
			continue
		}
		want := slices.Sorted(slices.Values(f.labels))
		if have := slices.Sorted(slices.Values(labels[f.name])); !slices.Equal(have, want) {
			t.Errorf("%s labels %v, want %v", f.name, have, want)
		}
	}
	for k, want := range map[string]float64{
		"redis_sentinel_masters{}": 1,
		"redis_sentinel_master_status{master_address=10.0.0.1:6379,master_name=mymaster,master_status=ok}":    1,
		"redis_sentinel_master_ok_slaves{master_address=10.0.0.1:6379,master_name=mymaster}":                  1,
		"redis_sentinel_master_ok_sentinels{master_address=10.0.0.1:6379,master_name=mymaster}":               3,
		"redis_sentinel_master_last_ok_ping_reply_seconds{master_address=10.0.0.1:6379,master_name=mymaster}": 0.25,
		"redis_sentinel_master_config_epoch{master_address=10.0.0.1:6379,master_name=mymaster}":               3,
		"redis_sentinel_sentinels{master_name=mymaster}":                                                      3,
		"redis_memory_used_bytes{master_name=mymaster,node=10.0.0.1:6379,role=master}":                        1024,
		"redis_commands_processed_total{master_name=mymaster,node=10.0.0.1:6379,role=master}":                 7,
		"redis_connected_slaves{master_name=mymaster,node=10.0.0.1:6379,role=master}":                         2,
		"redis_up{master_name=mymaster,node=10.0.0.1:6379,role=master}":                                       1,
		"gosentinel_link_latency_seconds{kind=master,master_name=mymaster,node=10.0.0.1:6379}":                0.002,
		"gosentinel_raft_state{state=leader}":                                                                 1,
		"gosentinel_raft_state{state=follower}":                                                               0,
		"gosentinel_group_phase{phase=member}":                                                                1,
		"gosentinel_raft_term{}":                                                                              4,
		"gosentinel_failover_protocol{protocol=sentinel}":                                                     1,
		"gosentinel_failover_protocol{protocol=raft}":                                                         0,
		"gosentinel_foreign_sentinels{}":                                                                      1,
		"gosentinel_failovers_total{master_name=mymaster,outcome=success}":                                    1,
		"gosentinel_failovers_total{master_name=mymaster,outcome=aborted}":                                    0,
		"gosentinel_failovers_not_started_total{master_name=mymaster,reason=no_quorum}":                       1,
		"gosentinel_failovers_not_started_total{master_name=mymaster,reason=paused}":                          0,
		"gosentinel_failover_duration_seconds{outcome=success}":                                               1,
		"gosentinel_failover_phase_seconds{phase=promote}":                                                    1,
		"gosentinel_build_info{redis_version=7.0.15,version=7.0.15}":                                          1,
	} {
		if v, ok := got[k]; !ok || v != want {
			t.Errorf("%s = %v (present %v), want %v", k, v, ok, want)
		}
	}

	// A master no longer in the state keeps the counts that happened; its
	// zero series go.
	s.Masters = nil
	got, _ = gather(t, m)
	if v, ok := got["gosentinel_failovers_total{master_name=mymaster,outcome=success}"]; !ok || v != 1 {
		t.Errorf("the count of a removed master: %v (present %v), want 1", v, ok)
	}
	if _, ok := got["gosentinel_failovers_total{master_name=mymaster,outcome=aborted}"]; ok {
		t.Error("a removed master's zero series is still rendered")
	}
}

// gather scrapes m: each series' value by family{label=value,...} (a
// histogram's by its sample count), and each family's label names.
func gather(t *testing.T, m *Metrics) (map[string]float64, map[string][]string) {
	t.Helper()
	mfs, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	labels := map[string][]string{}
	for _, mf := range mfs {
		for _, mt := range mf.GetMetric() {
			var key []string
			var names []string
			for _, lp := range mt.GetLabel() {
				key = append(key, lp.GetName()+"="+lp.GetValue())
				names = append(names, lp.GetName())
			}
			labels[mf.GetName()] = names
			v := mt.GetGauge().GetValue() + mt.GetCounter().GetValue() + float64(mt.GetHistogram().GetSampleCount())
			got[mf.GetName()+"{"+strings.Join(key, ",")+"}"] = v
		}
	}
	return got, labels
}
