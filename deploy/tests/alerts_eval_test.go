package tests

import (
	"context"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	promqlengine "github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/prometheus/prometheus/tsdb/chunks"
	"github.com/prometheus/prometheus/util/annotations"
)

// evalStep is how often the series are scraped and the alerts evaluated in
// these tests (Prometheus' default evaluation interval is 1 m; 15 s is
// stricter for a `for:` clause, never looser).
const evalStep = 15 * time.Second

// sample is one float sample of a test series.
type sample struct {
	t int64
	f float64
}

func (s sample) T() int64                      { return s.t }
func (s sample) ST() int64                     { return 0 }
func (s sample) F() float64                    { return s.f }
func (s sample) H() *histogram.Histogram       { return nil }
func (s sample) FH() *histogram.FloatHistogram { return nil }
func (s sample) Type() chunkenc.ValueType      { return chunkenc.ValFloat }
func (s sample) Copy() chunks.Sample           { return s }

// loadSeries turns lines of `metric{labels} v1 v2 ...` into series scraped
// every evalStep from time 0. A value may be written as promqltest writes
// it: "a+bxn" (a, then n steps of +b), "axn" (a, then n times more), and
// "_" or "_xn" for no sample (at n+1 steps), and "stale" for the
// staleness marker Prometheus writes when a target disappears.
func loadSeries(t *testing.T, text string) []storage.Series {
	t.Helper()
	var out []storage.Series
	for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
		metric, values, ok := strings.Cut(strings.TrimSpace(line), "} ")
		if !ok {
			t.Fatalf("series line %q", line)
		}
		lset, err := promql.ParseMetric(metric + "}")
		if err != nil {
			t.Fatal(err)
		}
		var vs []float64
		var gaps []bool // no sample at this step
		for _, w := range strings.Fields(values) {
			if w == "stale" { // the marker Prometheus writes when a target or series goes
				vs, gaps = append(vs, math.Float64frombits(value.StaleNaN)), append(gaps, false)
				continue
			}
			base, rest, expand := strings.Cut(w, "x")
			if base == "_" { // "_" and "_xn": no sample (for n+1 steps)
				n, err := 0, error(nil)
				if expand {
					n, err = strconv.Atoi(rest)
				}
				if err != nil {
					t.Fatalf("value %q in %q", w, line)
				}
				for i := 0; i <= n; i++ {
					vs, gaps = append(vs, 0), append(gaps, true)
				}
				continue
			}
			step := "0"
			if b, s, ok := strings.Cut(base, "+"); ok {
				base, step = b, s
			}
			a, err1 := strconv.ParseFloat(base, 64)
			d, err2 := strconv.ParseFloat(step, 64)
			n, err3 := 0, error(nil)
			if expand {
				n, err3 = strconv.Atoi(rest)
			}
			if err1 != nil || err2 != nil || err3 != nil {
				t.Fatalf("value %q in %q", w, line)
			}
			for i := 0; i <= n; i++ {
				vs, gaps = append(vs, a+float64(i)*d), append(gaps, false)
			}
		}
		var ss []chunks.Sample
		for i, v := range vs {
			if !gaps[i] {
				ss = append(ss, sample{t: int64(i) * evalStep.Milliseconds(), f: v})
			}
		}
		out = append(out, storage.NewListSeries(lset, ss))
	}
	return out
}

// queryable serves series to the PromQL engine.
func queryable(series []storage.Series) storage.Queryable {
	slices.SortFunc(series, func(a, b storage.Series) int { return labels.Compare(a.Labels(), b.Labels()) })
	return storage.QueryableFunc(func(int64, int64) (storage.Querier, error) {
		return &storage.MockQuerier{SelectMockFunction: func(_ bool, _ *storage.SelectHints, ms ...*labels.Matcher) storage.SeriesSet {
			set := &seriesSet{i: -1}
			for _, s := range series {
				if matchAll(ms, s.Labels()) {
					set.series = append(set.series, s)
				}
			}
			return set
		}}, nil
	})
}

// seriesSet is a storage.SeriesSet over a sorted slice.
type seriesSet struct {
	series []storage.Series
	i      int
}

func (s *seriesSet) Next() bool                        { s.i++; return s.i < len(s.series) }
func (s *seriesSet) At() storage.Series                { return s.series[s.i] }
func (s *seriesSet) Err() error                        { return nil }
func (s *seriesSet) Warnings() annotations.Annotations { return nil }

func matchAll(ms []*labels.Matcher, l labels.Labels) bool {
	for _, m := range ms {
		if !m.Matches(l.Get(m.Name)) {
			return false
		}
	}
	return true
}

// firing evaluates the alert called name from prometheusrule.yaml every
// evalStep from 0 to end over the series of load, with its `for:` as
// Prometheus' rule manager applies it (an alert fires once its expression
// has returned it at every evaluation for that long), and returns the
// sorted label sets it fired with and when it first fired (-1: never).
func firing(t *testing.T, name, load string, end time.Duration) (fired []string, first time.Duration) {
	t.Helper()
	var expr string
	var hold time.Duration
	var extra map[string]string
	for _, g := range loadRule(t).Spec.Groups {
		for _, r := range g.Rules {
			if r.Alert != name {
				continue
			}
			expr, extra = r.Expr.String(), r.Labels
			if r.For != nil {
				d, err := model.ParseDuration(string(*r.For))
				if err != nil {
					t.Fatal(err)
				}
				hold = time.Duration(d)
			}
		}
	}
	if expr == "" {
		t.Fatalf("no alert %s in prometheusrule.yaml", name)
	}
	engine := promqlengine.NewEngine(promqlengine.EngineOpts{MaxSamples: 1e6, Timeout: time.Minute, LookbackDelta: 5 * time.Minute})
	q := queryable(loadSeries(t, load))
	first = -1
	active := map[string]time.Duration{}
	seen := map[string]bool{}
	for at := time.Duration(0); at <= end; at += evalStep {
		qry, err := engine.NewInstantQuery(context.Background(), q, nil, expr, time.Unix(0, 0).Add(at))
		if err != nil {
			t.Fatal(err)
		}
		vec, err := qry.Exec(context.Background()).Vector()
		qry.Close()
		if err != nil {
			t.Fatalf("%s at %v: %v", name, at, err)
		}
		now := map[string]time.Duration{}
		for _, s := range vec {
			// As Prometheus' alerting rule: the metric name is dropped.
			b := labels.NewBuilder(s.Metric).Del(labels.MetricName).Set(labels.AlertName, name)
			for k, v := range extra {
				b.Set(k, v)
			}
			key := b.Labels().String()
			since, ok := active[key]
			if !ok {
				since = at
			}
			now[key] = since
			if at-since >= hold {
				if first < 0 {
					first = at
				}
				if !seen[key] {
					seen[key] = true
					fired = append(fired, key)
				}
			}
		}
		active = now
	}
	slices.Sort(fired)
	return fired, first
}

// TestAlertsFireWhenTheyShould evaluates the alerts that aggregate over
// the sentinels on recorded scenarios: what an ordinary failover, one
// sentinel's broken link or a rolling restart look like must not page, and
// a failover that stays stuck must.
func TestAlertsFireWhenTheyShould(t *testing.T) {
	const notStarted = "gosentinel_failovers_not_started_total"
	series := func(pod, reason, values string) string {
		return `  ` + notStarted + `{namespace="ns", pod="` + pod + `", master_name="mymaster", reason="` + reason + `"} ` + values + "\n"
	}
	// duration is a failover duration histogram's _count and its le="30"
	// bucket (the buckets below are alike; the alert reads only these).
	duration := func(pod, outcome, count, le30 string) string {
		l := `namespace="ns", pod="` + pod + `", outcome="` + outcome + `"`
		return `  gosentinel_failover_duration_seconds_count{` + l + `} ` + count + "\n" +
			`  gosentinel_failover_duration_seconds_bucket{` + l + `, le="30"} ` + le30 + "\n" +
			`  gosentinel_failover_duration_seconds_bucket{` + l + `, le="+Inf"} ` + count + "\n"
	}
	// group is three gosentinels reporting the same leader, voters and
	// foreign sentinels.
	group := func(leader, voters, foreign string) string {
		var b strings.Builder
		for _, pod := range []string{"redis-node-0", "redis-node-1", "redis-node-2"} {
			l := `{namespace="ns", pod="` + pod + `"} `
			b.WriteString(`  gosentinel_raft_leader` + l + leader + "\n")
			b.WriteString(`  gosentinel_raft_voters` + l + voters + "\n")
			b.WriteString(`  gosentinel_foreign_sentinels` + l + foreign + "\n")
		}
		return b.String()
	}
	// up is the up series of the three pods' targets in job (the
	// headless Service's name), as prometheus-operator labels them.
	up := func(job string, values ...string) string {
		var b strings.Builder
		for i, v := range values {
			pod := "redis-node-" + strconv.Itoa(i)
			b.WriteString(`  up{job="` + job + `", service="` + job + `", endpoint="http-metrics", container="sentinel", namespace="ns", pod="` +
				pod + `", instance="` + pod + `:9355"} ` + v + "\n")
		}
		return b.String()
	}
	// mixedRoll: pod 2 runs gosentinel from the start, pod 1 from 30
	// minutes on, pod 0 never (the roll stalls at 1+2): what each
	// gosentinel exports in a mixed set (docs/MIGRATION.md, section 1).
	var mixedRoll string
	for _, s := range []struct{ pod, leader, voters, foreign string }{
		{"redis-node-2", "0x480", "0x480", "2x120 1x360"},
		{"redis-node-1", "_x119 0x360", "_x119 0x360", "_x119 1x360"},
	} {
		l := `{namespace="ns", pod="` + s.pod + `"} `
		mixedRoll += `  gosentinel_raft_leader` + l + s.leader + "\n" +
			`  gosentinel_raft_voters` + l + s.voters + "\n" +
			`  gosentinel_foreign_sentinels` + l + s.foreign + "\n"
	}
	for _, tc := range []struct {
		name, alert, load string
		end               time.Duration
		want              []string // label sets that fire; nil for none
		within            time.Duration
	}{
		{
			// Two sentinels see the master down about a second before
			// the quorum agrees, then the failover starts: a few counts.
			name: "ordinary failover", alert: "GosentinelFailoverNotStarted", end: 10 * time.Minute,
			load: series("s-0", "no_quorum", "0 0 2 2x40") + series("s-1", "no_quorum", "0 0 1 1x40"),
		},
		{
			// One sentinel's own link to a healthy master is cut: it
			// alone counts no_quorum, every second, for ten minutes.
			name: "one sentinel's link cut", alert: "GosentinelFailoverNotStarted", end: 10 * time.Minute,
			load: series("s-0", "no_quorum", "0+15x40") + series("s-1", "no_quorum", "0x40"),
		},
		{
			// A mixed set's failover run by a redis-sentinel: the
			// gosentinel that lost the vote counts not_elected once and
			// backoff until it learns the switch.
			name: "a mixed set's lost vote", alert: "GosentinelFailoverNotStarted", end: 10 * time.Minute,
			load: series("s-2", "not_elected", "0 1 1x40") + series("s-2", "backoff", "0 5 12 12x40"),
		},
		{
			// The master is down for every sentinel and no failover
			// starts: two count no_quorum every second.
			name: "no quorum, stuck", alert: "GosentinelFailoverNotStarted", end: 10 * time.Minute,
			load: series("s-0", "no_quorum", "0+15x40") + series("s-1", "no_quorum", "0+15x40"),
			want: []string{`{alertname="GosentinelFailoverNotStarted", master_name="mymaster", namespace="ns", reason="no_quorum", severity="critical"}`}, within: 4 * time.Minute,
		},
		{
			name: "no good replica, stuck", alert: "GosentinelFailoverNotStarted", end: 10 * time.Minute,
			load: series("s-1", "no_good_replica", "0+15x40"),
			want: []string{`{alertname="GosentinelFailoverNotStarted", master_name="mymaster", namespace="ns", reason="no_good_replica", severity="critical"}`}, within: 4 * time.Minute,
		},
		{
			// A rolling restart: three leadership hand-overs, each seen
			// by the two other sentinels.
			name: "rolling restart", alert: "GosentinelRaftLeaderFlapping", end: 20 * time.Minute,
			load: `  gosentinel_raft_leader_changes_total{namespace="ns", pod="s-0"} 0 0 1 1 1 1 2 2 2 2 3 3x70` + "\n" +
				`  gosentinel_raft_leader_changes_total{namespace="ns", pod="s-1"} 0 0 1 1 1 1 2 2 2 2 3 3x70` + "\n" +
				`  gosentinel_raft_leader_changes_total{namespace="ns", pod="s-2"} 0 0 1 1 1 1 2 2 2 2 3 3x70` + "\n",
		},
		{
			name: "flapping", alert: "GosentinelRaftLeaderFlapping", end: 20 * time.Minute,
			load: `  gosentinel_raft_leader_changes_total{namespace="ns", pod="s-0"} 0+1x80` + "\n" +
				`  gosentinel_raft_leader_changes_total{namespace="ns", pod="s-1"} 0+1x80` + "\n",
			want: []string{`{alertname="GosentinelRaftLeaderFlapping", namespace="ns", severity="warning"}`}, within: 3 * time.Minute,
		},
		{
			// A roll from redis-sentinel (stages 2+1 then 1+2): each
			// gosentinel hears a redis-sentinel and has no group. Not a
			// leaderless group: nothing fires for the whole roll.
			name: "mixed roll, leader", alert: "GosentinelRaftLeaderless", end: 2 * time.Hour,
			load: mixedRoll,
		},
		{
			name: "mixed roll, voters", alert: "GosentinelRaftVotersBelowSetSize", end: 2 * time.Hour,
			load: mixedRoll,
		},
		{
			// ... but a stalled roll is reported, after an hour.
			name: "mixed roll, stalled", alert: "GosentinelMixedSet", end: 2 * time.Hour,
			load: mixedRoll,
			want: []string{`{alertname="GosentinelMixedSet", namespace="ns", severity="warning"}`}, within: 65 * time.Minute,
		},
		{
			// A group of three that lost its leader (no redis-sentinel).
			name: "leaderless group", alert: "GosentinelRaftLeaderless", end: 5 * time.Minute,
			load: group("1 1 0x20", "3x21", "0x21"),
			want: []string{`{alertname="GosentinelRaftLeaderless", namespace="ns", severity="critical"}`}, within: time.Minute,
		},
		{
			name: "group of two", alert: "GosentinelRaftVotersBelowSetSize", end: 20 * time.Minute,
			load: group("1x80", "3 3 2x78", "0x80"),
			want: []string{`{alertname="GosentinelRaftVotersBelowSetSize", namespace="ns", severity="warning"}`}, within: 11 * time.Minute,
		},
		{
			// The group of the roll's end, formed: all quiet.
			name: "group of three", alert: "GosentinelRaftLeaderless", end: 20 * time.Minute,
			load: group("1x80", "3x80", "0x80"),
		},
		{
			// One gosentinel of a set of gosentinels stops answering.
			name: "one down", alert: "GosentinelDown", end: 5 * time.Minute,
			load: up("redis-headless", "1x20", "1 1 0x18", "1x20") + group("1x20", "3x20", "0x20"),
			want: []string{`{alertname="GosentinelDown", container="sentinel", endpoint="http-metrics", instance="redis-node-1:9355", job="redis-headless", namespace="ns", pod="redis-node-1", service="redis-headless", severity="warning"}`}, within: 2 * time.Minute,
		},
		{
			// The chart as release "cache": Service cache-redis-headless.
			name: "one down, chart release", alert: "GosentinelDown", end: 5 * time.Minute,
			load: up("cache-redis-headless", "1x20", "1 1 0x18", "1x20"),
			want: []string{`{alertname="GosentinelDown", container="sentinel", endpoint="http-metrics", instance="redis-node-1:9355", job="cache-redis-headless", namespace="ns", pod="redis-node-1", service="cache-redis-headless", severity="warning"}`}, within: 2 * time.Minute,
		},
		{
			name: "another headless Service", alert: "GosentinelDown", end: 5 * time.Minute,
			load: up("kafka-headless", "1x20", "0x20", "1x20"),
		},
		{
			// Stage 1+2: pod 0 still runs redis-sentinel, nothing on 9355.
			name: "mixed roll", alert: "GosentinelDown", end: 5 * time.Minute,
			load: up("redis-headless", "0x20", "1x20", "1x20") + mixedRoll,
		},
		{
			// Pod 1 is Pending: two targets.
			name: "one pod no endpoint", alert: "GosentinelMissing", end: 10 * time.Minute,
			load: up("redis-headless", "1x40", "1 1 stale _x37", "1x40"),
			want: []string{`{alertname="GosentinelMissing", namespace="ns", severity="warning"}`}, within: 6 * time.Minute,
		},
		{
			name: "no target at all", alert: "GosentinelMissing", end: 10 * time.Minute,
			load: up("redis-headless", "1 1 stale _x37", "1 1 stale _x37", "1 1 stale _x37"),
			want: []string{`{alertname="GosentinelMissing", severity="warning"}`}, within: 6 * time.Minute,
		},
		{
			// A pod replaced (a roll): its target is gone for a minute.
			name: "pod replaced", alert: "GosentinelMissing", end: 10 * time.Minute,
			load: up("redis-headless", "1x40", "1 1 stale _x2 1x34", "1x40"),
		},
		{
			// A pod that answers no scrape is GosentinelDown's, not this.
			name: "one pod down", alert: "GosentinelMissing", end: 10 * time.Minute,
			load: up("redis-headless", "1x40", "0x40", "1x40"),
		},
		{
			// The SLA: a failover under 30 s. One that took 12 s ends in
			// the le="30" bucket and does not page.
			name: "failover in 12 s", alert: "GosentinelFailoverSlow", end: 20 * time.Minute,
			load: duration("s-0", "success", "0 0 0 1 1x80", "0 0 0 1 1x80"),
		},
		{
			// One that took 40 s is counted, and not under le="30".
			name: "failover in 40 s", alert: "GosentinelFailoverSlow", end: 20 * time.Minute,
			load: duration("s-0", "success", "0 0 0 1 1x80", "0x83") + duration("s-1", "success", "0x83", "0x83"),
			want: []string{`{alertname="GosentinelFailoverSlow", namespace="ns", outcome="success", severity="warning"}`}, within: time.Minute,
		},
		{
			// Both sides of the expression hold for a dead master: one
			// alert, not two.
			name: "master down", alert: "RedisMasterDown", end: 5 * time.Minute,
			load: `  redis_sentinel_master_status{namespace="ns", pod="s-0", master_name="mymaster"} 1 1 0x20` + "\n" +
				`  redis_sentinel_master_status{namespace="ns", pod="s-1", master_name="mymaster"} 1 1 0x20` + "\n" +
				`  redis_up{namespace="ns", pod="s-0", master_name="mymaster", node="10.0.0.1:6379", role="master"} 1 1 0x20` + "\n",
			want: []string{`{alertname="RedisMasterDown", master_name="mymaster", namespace="ns", severity="critical"}`}, within: 2 * time.Minute,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, first := firing(t, tc.alert, tc.load, tc.end)
			if !slices.Equal(got, tc.want) {
				t.Fatalf("%s fired with\n  %s\nwant\n  %s", tc.alert, strings.Join(got, "\n  "), strings.Join(tc.want, "\n  "))
			}
			if tc.want != nil && first > tc.within {
				t.Errorf("%s first fired at %v, want within %v", tc.alert, first, tc.within)
			}
		})
	}
}
