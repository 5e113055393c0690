package test

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/x0tta6bl4/gosentinel/bench/harness"
	"github.com/x0tta6bl4/gosentinel/internal/metrics"
	"github.com/x0tta6bl4/gosentinel/internal/redistest"
)

// metricsExtra makes each gosentinel open its metrics listener on a port
// the kernel picks; metricsAddr reads it from the log.
var metricsExtra = []string{"metrics-addr 127.0.0.1:0"}

// metricsListenLine is what node logs once the listener is open.
const metricsListenLine = "Metrics and health endpoints listening on "

// metricsDeadline bounds waiting for a scrape to show a settled view.
const metricsDeadline = 30 * time.Second

// metricsAddr returns the host:port of s's metrics listener.
func metricsAddr(t *testing.T, s *redistest.Sentinel) string {
	t.Helper()
	var addr string
	redistest.Poll(t, 10*time.Second, 20*time.Millisecond, func() error {
		line := harness.LineWith(s.Log(), metricsListenLine)
		if line == "" {
			return fmt.Errorf("%s has not logged %q", s.Name(), metricsListenLine)
		}
		addr = strings.TrimSpace(line[strings.Index(line, metricsListenLine)+len(metricsListenLine):])
		return nil
	})
	return addr
}

// promScrape GETs /metrics at addr and parses it with Prometheus' parser.
func promScrape(addr string) (map[string]*dto.MetricFamily, error) {
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get("http://" + addr + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return nil, fmt.Errorf("/metrics: %s: %s", resp.Status, b)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	return p.TextToMetricFamilies(resp.Body)
}

// series finds the one series of family name whose labels include want.
func series(fams map[string]*dto.MetricFamily, name string, want map[string]string) (float64, error) {
	mf, ok := fams[name]
	if !ok {
		return 0, fmt.Errorf("no family %s", name)
	}
	var found []float64
	for _, m := range mf.GetMetric() {
		labels := map[string]string{}
		for _, lp := range m.GetLabel() {
			labels[lp.GetName()] = lp.GetValue()
		}
		match := true
		for k, v := range want {
			if labels[k] != v {
				match = false
			}
		}
		if !match {
			continue
		}
		switch {
		case m.Gauge != nil:
			found = append(found, m.GetGauge().GetValue())
		case m.Counter != nil:
			found = append(found, m.GetCounter().GetValue())
		case m.Histogram != nil:
			found = append(found, float64(m.GetHistogram().GetSampleCount()))
		case m.Untyped != nil:
			found = append(found, m.GetUntyped().GetValue())
		}
	}
	if len(found) != 1 {
		return 0, fmt.Errorf("%d series of %s%v", len(found), name, want)
	}
	return found[0], nil
}

// expect is one expected value of a series.
type expect struct {
	name   string
	labels map[string]string
	value  float64
}

func checkExpects(fams map[string]*dto.MetricFamily, ws []expect) error {
	for _, w := range ws {
		v, err := series(fams, w.name, w.labels)
		if err != nil {
			return err
		}
		if v != w.value {
			return fmt.Errorf("%s%v = %v, want %v", w.name, w.labels, v, w.value)
		}
	}
	return nil
}

func atoiF(s string) float64 {
	v, _ := strconv.ParseFloat(s, 64)
	return v
}

// infoRaft reads INFO raft of s as a map.
func infoRaft(s *redistest.Sentinel) (map[string]string, error) {
	r, err := s.Do("INFO", "raft")
	if err != nil {
		return nil, err
	}
	return redistest.ParseInfo(r.Str), nil
}

// checkSentinelView checks a scrape of sentinel s against what s answers
// to SENTINEL MASTER / REPLICAS / SENTINELS and INFO raft, asked right
// after it: every family of the table exported, the values equal.
func checkSentinelView(fams map[string]*dto.MetricFamily, s *redistest.Sentinel, d *harness.Deployment) error {
	for _, name := range metrics.FamilyNames() {
		if _, ok := fams[name]; !ok {
			return fmt.Errorf("family %s not exported", name)
		}
	}
	name := harness.MasterName
	m, err := s.Master(name)
	if err != nil {
		return err
	}
	reps, err := s.Replicas(name)
	if err != nil {
		return err
	}
	sens, err := s.Sentinels(name)
	if err != nil {
		return err
	}
	addr := m["ip"] + ":" + m["port"]
	per := map[string]string{"master_name": name, "master_address": addr}
	ws := []expect{
		{"redis_sentinel_masters", nil, 1},
		{"redis_sentinel_tilt", nil, 0},
		{"redis_sentinel_master_status", map[string]string{"master_name": name, "master_address": addr, "master_status": "ok"}, 1},
		{"redis_sentinel_master_slaves", per, atoiF(m["num-slaves"])},
		{"redis_sentinel_master_sentinels", per, atoiF(m["num-other-sentinels"]) + 1},
		{"redis_sentinel_master_ok_slaves", per, float64(len(reps))},
		{"redis_sentinel_master_ok_sentinels", per, float64(len(sens) + 1)},
		{"redis_sentinel_sentinels", map[string]string{"master_name": name}, float64(len(sens) + 1)},
		{"redis_sentinel_master_setting_ckquorum", per, atoiF(m["quorum"])},
		{"redis_sentinel_master_setting_down_after_milliseconds", per, atoiF(m["down-after-milliseconds"])},
		{"redis_sentinel_master_setting_failover_timeout", per, atoiF(m["failover-timeout"])},
		{"redis_sentinel_master_setting_parallel_syncs", per, atoiF(m["parallel-syncs"])},
		{"redis_sentinel_master_config_epoch", per, atoiF(m["config-epoch"])},
		{"gosentinel_state_fresh", nil, 1},
		{"gosentinel_raft_leader", nil, 1},
		{"gosentinel_group_phase", map[string]string{"phase": "member"}, 1},
		{"gosentinel_failover_protocol", map[string]string{"protocol": "raft"}, 1},
		{"gosentinel_foreign_sentinels", nil, 0},
		{"gosentinel_failovers_paused_all", nil, 0},
		{"gosentinel_failovers_paused", map[string]string{"master_name": name}, 0},
		{"redis_up", map[string]string{"master_name": name, "node": addr, "role": "master"}, 1},
	}
	// Every data node: up, with the role it reports, its INFO counters.
	if len(reps) != len(d.Nodes)-1 || len(sens) != len(d.Sentinels)-1 {
		return fmt.Errorf("%s knows %d replicas and %d sentinels", s.Name(), len(reps), len(sens))
	}
	for _, r := range reps {
		node := r["ip"] + ":" + r["port"]
		ws = append(ws, expect{"redis_up", map[string]string{"master_name": name, "node": node, "role": "slave"}, 1})
	}
	if err := checkExpects(fams, ws); err != nil {
		return err
	}
	if v, err := series(fams, "redis_connected_slaves", map[string]string{"node": addr}); err != nil || v != float64(len(reps)) {
		return fmt.Errorf("redis_connected_slaves of the master = %v (%v), want %d", v, err, len(reps))
	}
	for _, f := range []string{"redis_memory_used_bytes", "redis_commands_processed_total", "redis_uptime_in_seconds"} {
		if v, err := series(fams, f, map[string]string{"node": addr}); err != nil || v <= 0 {
			return fmt.Errorf("%s of the master = %v (%v)", f, v, err)
		}
	}
	for _, sen := range sens {
		node := sen["ip"] + ":" + sen["port"]
		if v, err := series(fams, "gosentinel_link_latency_seconds", map[string]string{"node": node, "kind": "sentinel"}); err != nil || v <= 0 || v > 1 {
			return fmt.Errorf("link latency to %s = %v (%v)", node, v, err)
		}
	}
	// Raft: the same facts as INFO raft.
	ir, err := infoRaft(s)
	if err != nil {
		return err
	}
	for _, w := range []expect{
		{"gosentinel_raft_state", map[string]string{"state": ir["raft_state"]}, 1},
		{"gosentinel_raft_term", nil, atoiF(ir["raft_term"])},
		{"gosentinel_raft_voters", nil, atoiF(ir["raft_voters"])},
	} {
		if err := checkExpects(fams, []expect{w}); err != nil {
			return fmt.Errorf("against INFO raft: %w", err)
		}
	}
	commit, _ := series(fams, "gosentinel_raft_commit_index", nil)
	applied, _ := series(fams, "gosentinel_raft_applied_index", nil)
	if commit == 0 || applied == 0 || applied > atoiF(ir["raft_applied_index"]) {
		return fmt.Errorf("commit %v applied %v, INFO raft applied %s", commit, applied, ir["raft_applied_index"])
	}
	return nil
}

// waitSentinelView polls every sentinel's /metrics until checkSentinelView
// passes for each, and returns the last scrapes.
func waitSentinelView(t *testing.T, d *harness.Deployment, addrs []string) []map[string]*dto.MetricFamily {
	t.Helper()
	out := make([]map[string]*dto.MetricFamily, len(addrs))
	for i, s := range d.Sentinels {
		redistest.Poll(t, metricsDeadline, 200*time.Millisecond, func() error {
			fams, err := promScrape(addrs[i])
			if err != nil {
				return err
			}
			if err := checkSentinelView(fams, s, d); err != nil {
				return fmt.Errorf("%s: %w", s.Name(), err)
			}
			out[i] = fams
			return nil
		})
	}
	return out
}

// TestMetrics scrapes /metrics of a live three-sentinel set before and
// after a SENTINEL FAILOVER: every family of the table is exported, the
// values match SENTINEL MASTER / REPLICAS / SENTINELS and INFO raft of
// the same sentinel, the master address label moves to the new master,
// and the Raft leader that drove the failover counted it.
func TestMetrics(t *testing.T) {
	t.Parallel() // mostly waiting: see parallelTests in main_test.go
	d := startFailoverDeployment(t, harness.Options{Extra: metricsExtra})
	addrs := make([]string, len(d.Sentinels))
	for i, s := range d.Sentinels {
		addrs[i] = metricsAddr(t, s)
	}
	before := waitSentinelView(t, d, addrs)
	t.Logf("before the failover: every family exported, values match on %d sentinels", len(addrs))
	if builtCandidate() {
		// gosentinel's own version, as the build stamped it (the
		// dashboard's versions panel and MIGRATION.md read it).
		for i, fams := range before {
			if err := checkExpects(fams, []expect{{"gosentinel_build_info", map[string]string{"version": candidateVersion}, 1}}); err != nil {
				t.Errorf("%s: %v", d.Sentinels[i].Name(), err)
			}
		}
	}

	old := d.Nodes[0].Port()
	if _, err := d.ManualFailover([]int{0}, false); err != nil {
		t.Fatal(err)
	}
	newPort, err := d.WaitSwitched(old, switchDeadline)
	if err != nil {
		t.Fatal(err)
	}
	after := waitSentinelView(t, d, addrs)
	newAddr := "127.0.0.1:" + strconv.Itoa(newPort)
	for i, fams := range after {
		if err := checkExpects(fams, []expect{
			{"redis_sentinel_master_status", map[string]string{"master_address": newAddr}, 1},
			{"redis_sentinel_master_config_epoch", map[string]string{"master_address": newAddr}, 1},
		}); err != nil {
			t.Errorf("%s after the failover: %v", d.Sentinels[i].Name(), err)
		}
	}
	// The failover is counted when it ends (+failover-end, after the
	// replicas are repointed), which can be after every sentinel reports
	// the new master: poll until the leader counted it.
	redistest.Poll(t, metricsDeadline, 100*time.Millisecond, func() error {
		leaders, successes := 0, 0.0
		var leaderFams map[string]*dto.MetricFamily
		for i, a := range addrs {
			fams, err := promScrape(a)
			if err != nil {
				return err
			}
			ok, err := series(fams, "gosentinel_failovers_total", map[string]string{"master_name": harness.MasterName, "outcome": "success"})
			if err != nil {
				return fmt.Errorf("%s: %w", d.Sentinels[i].Name(), err)
			}
			successes += ok
			if lead, _ := series(fams, "gosentinel_raft_state", map[string]string{"state": "leader"}); lead == 1 {
				leaders++
				leaderFams = fams
			}
		}
		if leaders != 1 || successes != 1 {
			return fmt.Errorf("%d leaders, %v successful failovers counted in all, want 1 and 1", leaders, successes)
		}
		if ok, _ := series(leaderFams, "gosentinel_failovers_total", map[string]string{"master_name": harness.MasterName, "outcome": "success"}); ok != 1 {
			return fmt.Errorf("the leader counted %v successful failovers, want 1", ok)
		}
		for _, p := range []string{"decide", "catch_up", "promote", "reconfigure"} {
			if n, err := series(leaderFams, "gosentinel_failover_phase_seconds", map[string]string{"phase": p}); err != nil || n != 1 {
				return redistest.Abort(fmt.Errorf("leader's %s phase observations = %v (%v), want 1", p, n, err))
			}
		}
		if n, err := series(leaderFams, "gosentinel_failover_duration_seconds", map[string]string{"outcome": "success"}); err != nil || n != 1 {
			return redistest.Abort(fmt.Errorf("leader's failover durations = %v (%v), want 1", n, err))
		}
		return nil
	})
	t.Logf("after SENTINEL FAILOVER %d -> %d: master_address moved, the leader counted the failover", old, newPort)
}
