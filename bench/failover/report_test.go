package main

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/bench/harness"
)

func TestMedianDur(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	for _, tc := range []struct {
		in   []time.Duration
		want time.Duration
		ok   bool
	}{
		{ms(300, 100, 200), 200 * time.Millisecond, true},
		{ms(400, 100, 300, 200), 250 * time.Millisecond, true},
		{nil, 0, false},
	} {
		got, ok := harness.Median(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("Median(%v) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestRatio(t *testing.T) {
	rs := []*kindResults{{kind: sentinelKind{name: "redis-sentinel"}}, {kind: sentinelKind{name: "gosentinel"}}}
	for _, tc := range []struct {
		values []float64
		ok     []bool
		want   string
	}{
		{[]float64{1100, 200}, []bool{true, true}, "5.50"},
		{[]float64{700, 0}, []bool{true, true}, "inf (gosentinel 0)"},
		{[]float64{0, 0}, []bool{true, true}, "1 (both 0)"},
		{[]float64{700, 0}, []bool{true, false}, "-"},
	} {
		if got := ratio(rs, row{values: tc.values, ok: tc.ok}); got != tc.want {
			t.Errorf("ratio(%v, %v) = %q, want %q", tc.values, tc.ok, got, tc.want)
		}
	}
}

// tableCells returns the cells after the name of the report's table line
// for metric name, or nil if there is none. The tabwriter pads every cell
// with at least two spaces, and no cell has two spaces in a row.
func tableCells(report, name string) []string {
	for _, line := range strings.Split(report, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimLeft(line, " "), name+"  "); ok {
			return regexp.MustCompile(`\s{2,}`).Split(strings.TrimSpace(rest), -1)
		}
	}
	return nil
}

func TestReportFreshRows(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	rs := []*kindResults{
		{kind: sentinelKind{name: "redis-sentinel"}, firstAck: ms(900), announced: ms(950), gap: ms(30), lost: []float64{4},
			spurious: 0, watched: 1,
			freshFirstAck: ms(1000, 1200, 1100), freshWatched: 3,
			freshGap: ms(40, 60), freshLost: []float64{3, 5}, freshAsked: 3, freshRefused: 1, freshRefusal: "NOGOODSLAVE No suitable replica to promote"},
		{kind: sentinelKind{name: "gosentinel"}, firstAck: ms(300), announced: ms(350), gap: ms(200), lost: []float64{0},
			spurious: 0, watched: 1,
			freshFirstAck: ms(2000, 2400, 2200), freshSpurious: 1, freshWatched: 3,
			freshAsked: 3, freshRefused: 3, freshRefusal: "NOQUORUM The Sentinel group has no leader reachable from this Sentinel"},
	}
	c := &config{runs: 3, watch: 10 * time.Second, downAfter: time.Second, interval: 2 * time.Millisecond, fresh: true, freshDelay: 3 * time.Second, verbose: true}
	var b strings.Builder
	printReport(&b, c, rs)
	report := b.String()
	for _, tc := range []struct {
		name string
		want []string
	}{
		// The settled rows are unchanged.
		{"SIGKILL -> first acked write - down-after (ms)", []string{"900", "300", "3.00"}},
		{"second failover within 10s (runs)", []string{"0/1", "0/1", "-"}},
		{"fresh, SIGKILL at discovery+3s -> first acked write - down-after (ms)", []string{"1100", "2200", "0.50"}},
		{"fresh, SIGKILL: more than one failover within 10s (runs)", []string{"0/3", "1/3", "-"}},
		{"fresh, SENTINEL FAILOVER at discovery+3s (runs)", []string{"refused 1 of 3", "refused 3 of 3", "-"}},
		// Only the accepted runs count; gosentinel had none.
		{"fresh, SENTINEL FAILOVER (accepted): longest gap between acked writes (ms)", []string{"50", "-", "-"}},
		{"fresh, SENTINEL FAILOVER (accepted): acked writes lost", []string{"4", "-", "-"}},
	} {
		if got := tableCells(report, tc.name); !slices.Equal(got, tc.want) {
			t.Errorf("row %q = %q, want %q\n%s", tc.name, got, tc.want, report)
		}
	}
	for _, want := range []string{
		"gosentinel, first refusal: NOQUORUM The Sentinel group has no leader reachable from this Sentinel",
		"redis-sentinel, first refusal: NOGOODSLAVE",
		"fresh, SIGKILL at discovery+3s -> first acked write - down-after (ms), gosentinel: 2000 2400 2200",
	} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q:\n%s", want, report)
		}
	}

	// Without -v the refusals' text is left out; with -fresh=false, the
	// fresh rows.
	c.verbose = false
	b.Reset()
	printReport(&b, c, rs)
	if strings.Contains(b.String(), "first refusal") {
		t.Errorf("report without -v shows the refusal text:\n%s", b.String())
	}
	c.fresh = false
	b.Reset()
	printReport(&b, c, rs)
	// The reproduce line shows this test's own arguments.
	if before, _, _ := strings.Cut(b.String(), "\nreproduce"); strings.Contains(before, "fresh") {
		t.Errorf("report with -fresh=false mentions the fresh runs:\n%s", b.String())
	}
	if got := tableCells(b.String(), "SIGKILL -> first acked write - down-after (ms)"); !slices.Equal(got, []string{"900", "300", "3.00"}) {
		t.Errorf("SIGKILL row with -fresh=false = %q", got)
	}
}

func TestParseFreshFlags(t *testing.T) {
	c, err := parseFlags(nil)
	if err != nil {
		t.Fatal(err)
	}
	if !c.fresh || c.freshDelay != 3*time.Second {
		t.Errorf("defaults: fresh %v, fresh-delay %v; want true, 3s (make bench runs them)", c.fresh, c.freshDelay)
	}
	c, err = parseFlags([]string{"-fresh=false", "-fresh-delay", "1500ms"})
	if err != nil {
		t.Fatal(err)
	}
	if c.fresh || c.freshDelay != 1500*time.Millisecond {
		t.Errorf("-fresh=false -fresh-delay 1500ms: fresh %v, fresh-delay %v", c.fresh, c.freshDelay)
	}
	if _, err := parseFlags([]string{"-fresh-delay", "-1s"}); err == nil {
		t.Error("a negative -fresh-delay was accepted")
	}
}
