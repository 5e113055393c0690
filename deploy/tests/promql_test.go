package tests

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/x0tta6bl4/gosentinel/internal/metrics"
	"sigs.k8s.io/yaml"
)

// promql is Prometheus' own PromQL parser with its default functions.
var promql = parser.NewParser(parser.Options{})

// synthetic are series Prometheus itself writes for every target.
var synthetic = []string{"up"}

// targetLabels are the labels Prometheus (and prometheus-operator's
// relabelling) attach to every series of a scraped target.
var targetLabels = []string{"__name__", "job", "instance", "namespace", "pod", "service", "endpoint", "container"}

// metricNames parses expr and returns every metric name it selects. A
// selector without a name (only {__name__=~...} or none) is an error: every
// query must say which family it reads. So is a matcher on a label the
// family does not have (a typo there silently matches nothing), and a
// by/without, on/ignoring or group_left/right label the series there do
// not carry (checkLabelFlow).
func metricNames(expr string) ([]string, error) {
	e, err := promql.ParseExpr(expr)
	if err != nil {
		return nil, err
	}
	var names []string
	var inspectErr error
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		vs, ok := n.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		if vs.Name == "" {
			inspectErr = fmt.Errorf("selector %s names no metric", vs)
			return nil
		}
		names = append(names, vs.Name)
		labels, ok := metrics.Labels(vs.Name)
		if !ok {
			return nil // reported by checkExported
		}
		for _, m := range vs.LabelMatchers {
			if !slices.Contains(labels, m.Name) && !slices.Contains(targetLabels, m.Name) {
				inspectErr = fmt.Errorf("selector %s matches label %q, which %s does not have (it has %v)", vs, m.Name, vs.Name, labels)
			}
		}
		return nil
	})
	if inspectErr == nil {
		inspectErr = checkLabelFlow(e)
	}
	return names, inspectErr
}

// checkExported fails for every metric name in expr that gosentinel does
// not export (histogram series are checked against their family).
func checkExported(t *testing.T, where, expr string) {
	t.Helper()
	names, err := metricNames(expr)
	if err != nil {
		t.Errorf("%s: %v\n%s", where, err, expr)
		return
	}
	if len(names) == 0 {
		t.Errorf("%s: selects no metric: %s", where, expr)
	}
	for _, n := range names {
		if !metrics.Exports(n) && !slices.Contains(synthetic, n) {
			t.Errorf("%s: %s is not exported by gosentinel (internal/metrics)", where, n)
		}
	}
}

func loadRule(t *testing.T) *monitoringv1.PrometheusRule {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(deployDir(t), "monitoring", "prometheusrule.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var rule monitoringv1.PrometheusRule
	if err := yaml.UnmarshalStrict(b, &rule); err != nil {
		t.Fatalf("prometheusrule.yaml does not decode strictly into PrometheusRule: %v", err)
	}
	return &rule
}

// TestAlertRules parses every alert with Prometheus' rule loader (rulefmt:
// the expression, durations, label names and annotation templates are
// validated as Prometheus validates a rule file) and checks each metric
// they read is exported.
func TestAlertRules(t *testing.T) {
	rule := loadRule(t)
	groups, err := yaml.Marshal(map[string]any{"groups": rule.Spec.Groups})
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if _, errs := rulefmt.Parse(groups, false, model.UTF8Validation, promql, logger); len(errs) > 0 {
		for _, err := range errs {
			t.Errorf("rule file: %v", err)
		}
	}
	want := []string{ // the alerts issue 8 asks for
		"GosentinelNoQuorum", "RedisMasterDown", "GosentinelFailoverHappened",
		"GosentinelFailoverNotStarted", "GosentinelRaftLeaderless", "GosentinelFailoversPaused",
	}
	var alerts []string
	for _, g := range rule.Spec.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				t.Errorf("group %s: a recording rule %q; this file holds alerts only", g.Name, r.Record)
				continue
			}
			alerts = append(alerts, r.Alert)
			if sev := r.Labels["severity"]; !slices.Contains([]string{"info", "warning", "critical"}, sev) {
				t.Errorf("%s: severity %q, want info, warning or critical", r.Alert, sev)
			}
			if r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
				t.Errorf("%s: want a summary and a description", r.Alert)
			}
			checkExported(t, r.Alert, r.Expr.String())
			// $labels in the templates: the alert's labels are the
			// expression's plus the rule's own.
			for _, text := range slices.Concat(slices.Collect(maps.Values(r.Annotations)), slices.Collect(maps.Values(r.Labels))) {
				if err := checkRefs(r.Expr.String(), text, alertLabelRef, slices.Collect(maps.Keys(r.Labels))...); err != nil {
					t.Errorf("%s: %v", r.Alert, err)
				}
			}
		}
	}
	for _, a := range want {
		if !slices.Contains(alerts, a) {
			t.Errorf("missing alert %s", a)
		}
	}
}

// grafanaDashboard is the part of Grafana's dashboard JSON model that
// gosentinel-dashboard.json uses. Decoding is strict: a misspelt field is
// an error, not a setting Grafana silently ignores.
type grafanaDashboard struct {
	Title        string                    `json:"title"`
	UID          string                    `json:"uid"`
	Description  string                    `json:"description"`
	Tags         []string                  `json:"tags"`
	Editable     bool                      `json:"editable"`
	GraphTooltip int                       `json:"graphTooltip"`
	Refresh      string                    `json:"refresh"`
	Schema       int                       `json:"schemaVersion"`
	Version      int                       `json:"version"`
	Timezone     string                    `json:"timezone"`
	Time         struct{ From, To string } `json:"time"`
	Templating   struct {
		List []grafanaVariable `json:"list"`
	} `json:"templating"`
	Annotations struct {
		List []grafanaAnnotation `json:"list"`
	} `json:"annotations"`
	Panels []grafanaPanel `json:"panels"`
}

type grafanaDatasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type grafanaVariable struct {
	Name       string             `json:"name"`
	Label      string             `json:"label"`
	Type       string             `json:"type"`
	Datasource *grafanaDatasource `json:"datasource"`
	Query      json.RawMessage    `json:"query"`
	Definition string             `json:"definition"`
	Current    map[string]any     `json:"current"`
	Hide       int                `json:"hide"`
	Refresh    int                `json:"refresh"`
	Sort       int                `json:"sort"`
	IncludeAll bool               `json:"includeAll"`
	Multi      bool               `json:"multi"`
	AllValue   string             `json:"allValue"`
}

type grafanaAnnotation struct {
	Name        string             `json:"name"`
	Enable      bool               `json:"enable"`
	IconColor   string             `json:"iconColor"`
	Datasource  *grafanaDatasource `json:"datasource"`
	Expr        string             `json:"expr"`
	TitleFormat string             `json:"titleFormat"`
	TextFormat  string             `json:"textFormat"`
}

type grafanaPanel struct {
	ID          int                      `json:"id"`
	Type        string                   `json:"type"`
	Title       string                   `json:"title"`
	Description string                   `json:"description"`
	Datasource  *grafanaDatasource       `json:"datasource"`
	GridPos     struct{ H, W, X, Y int } `json:"gridPos"`
	Collapsed   bool                     `json:"collapsed"`
	Panels      []grafanaPanel           `json:"panels"`
	Targets     []struct {
		RefID        string             `json:"refId"`
		Datasource   *grafanaDatasource `json:"datasource"`
		Expr         string             `json:"expr"`
		LegendFormat string             `json:"legendFormat"`
		Instant      bool               `json:"instant"`
		Range        *bool              `json:"range"`
		Format       string             `json:"format"`
	} `json:"targets"`
	FieldConfig *struct {
		Defaults struct {
			Unit       string           `json:"unit"`
			Min        *float64         `json:"min"`
			Max        *float64         `json:"max"`
			Mappings   []map[string]any `json:"mappings"`
			Thresholds map[string]any   `json:"thresholds"`
		} `json:"defaults"`
		Overrides []map[string]any `json:"overrides"`
	} `json:"fieldConfig"`
	Options map[string]any `json:"options"`
}

// grafanaIntervals are Grafana's built-in interval variables, replaced by
// a duration before parsing (Grafana does the same before sending).
var grafanaIntervals = regexp.MustCompile(`\$\{?__(rate_interval|interval|range)\}?`)

// grafanaVar matches a dashboard variable reference.
var grafanaVar = regexp.MustCompile(`\$\{?(\w+)\}?`)

// labelValues matches a variable query label_values(<selector>, <label>).
var labelValues = regexp.MustCompile(`^label_values\((.+),\s*(\w+)\)$`)

// TestDashboard decodes the dashboard strictly, checks its layout and
// variables, parses every query with the PromQL parser and checks each
// metric it reads is exported.
func TestDashboard(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(deployDir(t), "monitoring", "gosentinel-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var d grafanaDashboard
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("dashboard does not decode strictly: %v", err)
	}
	if d.UID == "" || d.Title == "" {
		t.Errorf("want a uid and a title")
	}
	vars := map[string]bool{}
	for _, v := range d.Templating.List {
		vars[v.Name] = true
		if v.Type != "query" {
			continue
		}
		var q struct {
			Query string `json:"query"`
			RefID string `json:"refId"`
		}
		if err := json.Unmarshal(v.Query, &q); err != nil {
			t.Errorf("variable %s: query: %v", v.Name, err)
			continue
		}
		m := labelValues.FindStringSubmatch(q.Query)
		if m == nil || q.Query != v.Definition {
			t.Errorf("variable %s: want label_values(<selector>, <label>) equal to its definition, got %q", v.Name, q.Query)
			continue
		}
		checkDashboardExpr(t, "variable "+v.Name, m[1], vars)
	}
	for _, a := range d.Annotations.List {
		checkDashboardExpr(t, "annotation "+a.Name, a.Expr, vars)
	}

	ids := map[int]bool{}
	var panels []grafanaPanel
	for _, p := range d.Panels {
		panels = append(panels, p)
		panels = append(panels, p.Panels...)
	}
	type cell struct{ x, y int }
	used := map[cell]int{}
	for _, p := range panels {
		where := fmt.Sprintf("panel %d %q", p.ID, p.Title)
		if ids[p.ID] || p.ID == 0 {
			t.Errorf("%s: id missing or not unique", where)
		}
		ids[p.ID] = true
		g := p.GridPos
		if g.W <= 0 || g.H <= 0 || g.X < 0 || g.X+g.W > 24 || g.Y < 0 {
			t.Errorf("%s: gridPos %+v outside Grafana's 24 columns", where, g)
		}
		for x := g.X; x < g.X+g.W; x++ {
			for y := g.Y; y < g.Y+g.H; y++ {
				if other, ok := used[cell{x, y}]; ok {
					t.Errorf("%s overlaps panel %d at (%d,%d)", where, other, x, y)
				}
				used[cell{x, y}] = p.ID
			}
		}
		if p.Type == "row" {
			continue
		}
		if p.Title == "" || p.Description == "" {
			t.Errorf("%s: want a title and a description", where)
		}
		if p.Datasource == nil || p.Datasource.UID != "${datasource}" {
			t.Errorf("%s: datasource %+v, want the ${datasource} variable", where, p.Datasource)
		}
		if len(p.Targets) == 0 {
			t.Errorf("%s: no query", where)
		}
		refs := map[string]bool{}
		for _, q := range p.Targets {
			if refs[q.RefID] || q.RefID == "" {
				t.Errorf("%s: refId %q missing or repeated", where, q.RefID)
			}
			refs[q.RefID] = true
			checkDashboardExpr(t, where+" "+q.RefID, q.Expr, vars)
			if err := checkRefs(grafanaIntervals.ReplaceAllString(q.Expr, "5m"), q.LegendFormat, legendRef); err != nil {
				t.Errorf("%s %s: legend: %v", where, q.RefID, err)
			}
		}
	}

	// The panels issue 8 and the deploy task ask for, by what they query.
	all := string(b)
	for _, family := range []string{
		"redis_sentinel_master_status", "redis_sentinel_master_ok_sentinels", "redis_sentinel_master_ok_slaves",
		"gosentinel_failovers_total", "gosentinel_failover_phase_seconds_bucket", "gosentinel_failovers_not_started_total",
		"gosentinel_raft_state", "gosentinel_raft_term", "gosentinel_raft_leader_changes_total", "gosentinel_raft_voters",
		"gosentinel_link_latency_seconds", "gosentinel_failovers_paused", "redis_up", "redis_memory_used_bytes",
		"redis_commands_processed_total",
	} {
		if !strings.Contains(all, family) {
			t.Errorf("no panel queries %s", family)
		}
	}
}

// checkDashboardExpr replaces Grafana's interval variables, checks every
// other variable is defined and sits inside a label matcher's string, then
// parses and checks the expression.
func checkDashboardExpr(t *testing.T, where, expr string, vars map[string]bool) {
	t.Helper()
	expr = grafanaIntervals.ReplaceAllString(expr, "5m")
	for _, m := range grafanaVar.FindAllStringSubmatch(expr, -1) {
		if !vars[m[1]] {
			t.Errorf("%s: variable $%s is not defined", where, m[1])
		}
	}
	checkExported(t, where, expr)
}

// TestReadmeNamesEveryAlert: deploy/README.md lists the alerts by name; one
// added to the rule and not to the list (GosentinelMixedSet was) is one an
// operator reading it does not know to expect.
func TestReadmeNamesEveryAlert(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join(deployDir(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range loadRule(t).Spec.Groups {
		for _, r := range g.Rules {
			if r.Alert != "" && !strings.Contains(string(readme), "`"+r.Alert+"`") {
				t.Errorf("deploy/README.md does not name the alert %s", r.Alert)
			}
		}
	}
}
