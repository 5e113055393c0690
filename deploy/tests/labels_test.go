package tests

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/x0tta6bl4/gosentinel/internal/metrics"
)

// outLabels is the set of label names the series of e can carry, from the
// labels gosentinel exports per family and the target labels, followed
// through aggregations, vector matching and the functions that change
// labels. A name outside it in a grouping, a matching, an alert's
// $labels or a legend is a typo that matches or shows nothing.
func outLabels(e parser.Expr) map[string]bool {
	set := func(names ...string) map[string]bool {
		m := map[string]bool{}
		for _, n := range names {
			m[n] = true
		}
		return m
	}
	switch n := e.(type) {
	case *parser.VectorSelector:
		names, _ := metrics.Labels(n.Name)
		return set(append(names, targetLabels...)...)
	case *parser.MatrixSelector:
		return outLabels(n.VectorSelector)
	case *parser.SubqueryExpr:
		return outLabels(n.Expr)
	case *parser.ParenExpr:
		return outLabels(n.Expr)
	case *parser.UnaryExpr:
		return outLabels(n.Expr)
	case *parser.StepInvariantExpr:
		return outLabels(n.Expr)
	case *parser.NumberLiteral, *parser.StringLiteral:
		return set()
	case *parser.AggregateExpr:
		in := outLabels(n.Expr)
		switch {
		case n.Op == parser.TOPK || n.Op == parser.BOTTOMK || n.Op == parser.LIMITK || n.Op == parser.LIMIT_RATIO:
			return in
		case n.Without:
			for _, g := range n.Grouping {
				delete(in, g)
			}
			return in
		}
		out := set(n.Grouping...)
		if n.Op == parser.COUNT_VALUES {
			if s, ok := n.Param.(*parser.StringLiteral); ok {
				out[s.Val] = true
			}
		}
		return out
	case *parser.BinaryExpr:
		l, r := outLabels(n.LHS), outLabels(n.RHS)
		vm := n.VectorMatching
		switch {
		case n.LHS.Type() != parser.ValueTypeVector:
			return r
		case n.RHS.Type() != parser.ValueTypeVector:
			return l
		case n.Op == parser.LOR:
			maps.Copy(l, r)
			return l
		case n.Op == parser.LAND || n.Op == parser.LUNLESS:
			return l
		case vm != nil && vm.Card == parser.CardOneToOne && vm.On:
			return set(vm.MatchingLabels...)
		case vm != nil && vm.Card == parser.CardOneToOne:
			for _, m := range vm.MatchingLabels {
				delete(l, m)
			}
			return l
		case vm != nil && vm.Card == parser.CardManyToOne:
			for _, m := range vm.Include {
				l[m] = true
			}
			return l
		case vm != nil && vm.Card == parser.CardOneToMany:
			for _, m := range vm.Include {
				r[m] = true
			}
			return r
		}
		return l
	case *parser.Call:
		switch n.Func.Name {
		case "absent", "absent_over_time":
			out := set()
			parser.Inspect(n, func(x parser.Node, _ []parser.Node) error {
				if vs, ok := x.(*parser.VectorSelector); ok {
					for _, m := range vs.LabelMatchers {
						if m.Type == labels.MatchEqual && m.Name != labels.MetricName {
							out[m.Name] = true
						}
					}
				}
				return nil
			})
			return out
		case "histogram_quantile":
			out := outLabels(n.Args[1])
			delete(out, "le")
			return out
		case "label_replace", "label_join":
			out := outLabels(n.Args[0])
			if s, ok := n.Args[1].(*parser.StringLiteral); ok {
				out[s.Val] = true
			}
			return out
		case "vector", "time", "scalar", "pi":
			return set()
		}
		for _, a := range n.Args {
			if t := a.Type(); t == parser.ValueTypeVector || t == parser.ValueTypeMatrix {
				return outLabels(a)
			}
		}
		return set()
	}
	return set()
}

// checkLabelFlow checks every grouping (by, without) against the labels
// of what it aggregates, and every on/ignoring and group_left/right label
// against both sides it matches.
func checkLabelFlow(e parser.Expr) error {
	var errs []string
	missing := func(what string, names []string, have map[string]bool) {
		for _, n := range names {
			if !have[n] {
				errs = append(errs, fmt.Sprintf("%s names label %q, which is not among %v", what, n, sortedKeys(have)))
			}
		}
	}
	parser.Inspect(e, func(x parser.Node, _ []parser.Node) error {
		switch n := x.(type) {
		case *parser.AggregateExpr:
			missing(fmt.Sprintf("%s by/without", n.Op), n.Grouping, outLabels(n.Expr))
		case *parser.BinaryExpr:
			vm := n.VectorMatching
			if vm == nil || n.LHS.Type() != parser.ValueTypeVector || n.RHS.Type() != parser.ValueTypeVector {
				return nil
			}
			what := fmt.Sprintf("%s on/ignoring", n.Op)
			missing(what+" (left)", vm.MatchingLabels, outLabels(n.LHS))
			missing(what+" (right)", vm.MatchingLabels, outLabels(n.RHS))
			switch vm.Card {
			case parser.CardManyToOne:
				missing("group_left", vm.Include, outLabels(n.RHS))
			case parser.CardOneToMany:
				missing("group_right", vm.Include, outLabels(n.LHS))
			}
		}
		return nil
	})
	if errs != nil {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}

func sortedKeys(m map[string]bool) []string {
	out := slices.Collect(maps.Keys(m))
	sort.Strings(out)
	return out
}

// alertLabelRef and legendRef are the label references of an alert's
// templates ($labels.x) and of a dashboard legend ({{x}}).
var (
	alertLabelRef = regexp.MustCompile(`\$labels\.(\w+)`)
	legendRef     = regexp.MustCompile(`\{\{\s*(\w+)\s*\}\}`)
)

// checkRefs checks that every label text refers to (by re) is one the
// series of expr carry, or one of extra.
func checkRefs(expr, text string, re *regexp.Regexp, extra ...string) error {
	e, err := promql.ParseExpr(expr)
	if err != nil {
		return err
	}
	have := outLabels(e)
	for _, x := range extra {
		have[x] = true
	}
	for _, m := range re.FindAllStringSubmatch(text, -1) {
		if !have[m[1]] {
			return fmt.Errorf("%q refers to label %q; the expression's series have %v", text, m[1], sortedKeys(have))
		}
	}
	return nil
}

// TestLabelChecksCatchTypos: each of these typos passed the checks
// before (only selector matchers were checked); now each fails.
func TestLabelChecksCatchTypos(t *testing.T) {
	for _, expr := range []string{
		`max by (namespace, master) (redis_sentinel_master_status) == 0`,
		`max by (namespace) (gosentinel_raft_leader) == 0 unless on (namspace) max by (namespace) (gosentinel_foreign_sentinels) > 0`,
		`max by (namespace) (gosentinel_raft_leader) == 0 unless on (pod) max by (namespace) (gosentinel_foreign_sentinels) > 0`,
		`sum without (outcom) (gosentinel_failovers_total)`,
		`redis_up * on (namespace, pod) group_left (versio) gosentinel_build_info`,
	} {
		if _, err := metricNames(expr); err == nil {
			t.Errorf("no error for %s", expr)
		}
	}
	for _, c := range []struct{ expr, text string }{
		{`min by (namespace, master_name) (redis_sentinel_master_ok_sentinels) < 3`, `{{ $labels.master }} low`},
		{`max by (namespace) (gosentinel_raft_voters) < 3`, `{{ $labels.pod }} voters`},
	} {
		if err := checkRefs(c.expr, c.text, alertLabelRef); err == nil {
			t.Errorf("no error for %s in an annotation of %s", c.text, c.expr)
		}
	}
	if err := checkRefs(`sum by (master_name) (gosentinel_failovers_total)`, `{{master_name}} {{outcome}}`, legendRef); err == nil {
		t.Errorf("no error for a legend naming a label summed away")
	}
	// And what the files do is accepted.
	for _, c := range []struct{ expr, text string }{
		{`max by (namespace, master_name) (redis_sentinel_master_status) == 0 or on (namespace, master_name) max by (namespace, master_name, node) (redis_up{role="master"}) == 0`, `{{ with $labels.node }}{{ $labels.master_name }}`},
		{`histogram_quantile(0.99, sum by (le, outcome) (rate(gosentinel_failover_duration_seconds_bucket[5m])))`, `{{ $labels.outcome }}`},
	} {
		if err := checkRefs(c.expr, c.text, alertLabelRef); err != nil {
			t.Error(err)
		}
	}
}
