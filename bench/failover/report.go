package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/x0tta6bl4/gosentinel/bench/harness"
)

// kindResults are the measurements of one sentinel.
type kindResults struct {
	kind      sentinelKind
	firstAck  []time.Duration
	announced []time.Duration
	gap       []time.Duration
	lost      []float64
	spurious  int // SIGKILL runs followed by a second failover
	watched   int // SIGKILL runs watched for one
	failures  []string

	// The fresh-deployment runs (see freshKillRun, freshManualRun).
	freshFirstAck []time.Duration
	freshSpurious int // fresh SIGKILL runs with more than one failover
	freshWatched  int // fresh SIGKILL runs watched for one
	freshGap      []time.Duration
	freshLost     []float64
	freshAsked    int    // fresh SENTINEL FAILOVER runs that got a reply
	freshRefused  int    // of which refused
	freshRefusal  string // the first refusal's error reply
}

// row is one metric across the sentinels: its values in ms (or counts)
// per sentinel and whether each exists.
type row struct {
	name   string
	values []float64
	ok     []bool
	runs   []string // the raw values, for the detail lines
}

func durRow(name string, rs []*kindResults, get func(*kindResults) []time.Duration) row {
	r := row{name: name}
	for _, k := range rs {
		m, ok := harness.Median(get(k))
		r.values = append(r.values, float64(m.Milliseconds()))
		r.ok = append(r.ok, ok)
		var raw []string
		for _, d := range get(k) {
			raw = append(raw, fmt.Sprint(d.Milliseconds()))
		}
		r.runs = append(r.runs, strings.Join(raw, " "))
	}
	return r
}

func countRow(name string, rs []*kindResults, get func(*kindResults) []float64) row {
	r := row{name: name}
	for _, k := range rs {
		m, ok := harness.Median(get(k))
		r.values = append(r.values, m)
		r.ok = append(r.ok, ok)
		var raw []string
		for _, v := range get(k) {
			raw = append(raw, fmt.Sprint(v))
		}
		r.runs = append(r.runs, strings.Join(raw, " "))
	}
	return r
}

// ratio is redis-sentinel / gosentinel when both were measured.
func ratio(rs []*kindResults, r row) string {
	ri, gi := -1, -1
	for i, k := range rs {
		switch k.kind.name {
		case "redis-sentinel":
			ri = i
		case "gosentinel":
			gi = i
		}
	}
	if ri < 0 || gi < 0 || !r.ok[ri] || !r.ok[gi] {
		return "-"
	}
	switch {
	case r.values[gi] == 0 && r.values[ri] == 0:
		return "1 (both 0)"
	case r.values[gi] <= 0:
		return "inf (gosentinel 0)"
	}
	return fmt.Sprintf("%.2f", r.values[ri]/r.values[gi])
}

// cells renders r's medians, "-" where there is none.
func (r row) cells() []string {
	out := make([]string, len(r.values))
	for i, v := range r.values {
		if r.ok[i] {
			out[i] = fmt.Sprintf("%g", v)
		} else {
			out[i] = "-"
		}
	}
	return out
}

// tableLine is one line of the report's table: a row of medians with its
// ratio, or counts that have none.
type tableLine struct {
	name  string
	cells []string
	ratio string
}

func medianLine(rs []*kindResults, r row) tableLine {
	return tableLine{name: r.name, cells: r.cells(), ratio: ratio(rs, r)}
}

// countLine renders one count per sentinel, without a ratio.
func countLine(name string, rs []*kindResults, cell func(*kindResults) string) tableLine {
	l := tableLine{name: name, ratio: "-"}
	for _, k := range rs {
		l.cells = append(l.cells, cell(k))
	}
	return l
}

// freshRows are the fresh-deployment rows of medians (none with
// -fresh=false): the SIGKILL one, then the two SENTINEL FAILOVER ones,
// which only the accepted runs feed.
func freshRows(c *config, rs []*kindResults) []row {
	if !c.fresh {
		return nil
	}
	at := "discovery+" + c.freshDelay.String()
	return []row{
		durRow("fresh, SIGKILL at "+at+" -> first acked write - down-after (ms)", rs, func(k *kindResults) []time.Duration { return k.freshFirstAck }),
		durRow("fresh, SENTINEL FAILOVER (accepted): longest gap between acked writes (ms)", rs, func(k *kindResults) []time.Duration { return k.freshGap }),
		countRow("fresh, SENTINEL FAILOVER (accepted): acked writes lost", rs, func(k *kindResults) []float64 { return k.freshLost }),
	}
}

func printReport(w io.Writer, c *config, rs []*kindResults) {
	fmt.Fprintf(w, "\nFailover benchmark: %d runs per sentinel and metric (+%d SIGKILL runs watched for a second failover), down-after %v, a go-redis v9 FailoverClient writing every %v\n",
		c.runs, c.spuriousRuns, c.downAfter, c.interval)
	if c.fresh {
		fmt.Fprintf(w, "fresh: the fault %v after every sentinel reported the replicas and the other sentinels, without waiting for gosentinel's Raft group\n", c.freshDelay)
	}
	fmt.Fprintln(w)
	rows := []row{
		durRow("SIGKILL -> first acked write - down-after (ms)", rs, func(k *kindResults) []time.Duration { return k.firstAck }),
		durRow("SIGKILL -> all sentinels answer new master - down-after (ms)", rs, func(k *kindResults) []time.Duration { return k.announced }),
		durRow("SENTINEL FAILOVER: longest gap between acked writes (ms)", rs, func(k *kindResults) []time.Duration { return k.gap }),
		countRow("SENTINEL FAILOVER: acked writes lost", rs, func(k *kindResults) []float64 { return k.lost }),
	}
	var lines []tableLine
	for _, r := range rows {
		lines = append(lines, medianLine(rs, r))
	}
	lines = append(lines, countLine("second failover within "+c.watch.String()+" (runs)", rs, func(k *kindResults) string {
		return fmt.Sprintf("%d/%d", k.spurious, k.watched)
	}))
	fresh := freshRows(c, rs)
	if c.fresh {
		lines = append(lines,
			medianLine(rs, fresh[0]),
			countLine("fresh, SIGKILL: more than one failover within "+c.watch.String()+" (runs)", rs, func(k *kindResults) string {
				return fmt.Sprintf("%d/%d", k.freshSpurious, k.freshWatched)
			}),
			countLine("fresh, SENTINEL FAILOVER at discovery+"+c.freshDelay.String()+" (runs)", rs, func(k *kindResults) string {
				return fmt.Sprintf("refused %d of %d", k.freshRefused, k.freshAsked)
			}),
			medianLine(rs, fresh[1]),
			medianLine(rs, fresh[2]),
		)
		rows = append(rows, fresh...)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	header := "metric (median)\t"
	for _, k := range rs {
		header += k.kind.name + "\t"
	}
	fmt.Fprintln(tw, header+"redis-sentinel/gosentinel\t")
	for _, l := range lines {
		fmt.Fprintln(tw, l.name+"\t"+strings.Join(l.cells, "\t")+"\t"+l.ratio+"\t")
	}
	tw.Flush()

	fmt.Fprintln(w, "\nA short SENTINEL FAILOVER gap with lost writes means the old master kept acknowledging writes")
	fmt.Fprintln(w, "that the promoted replica never got (redis-sentinel does not block them); gosentinel pauses them.")
	if c.fresh {
		fmt.Fprintln(w, "A refused fresh SENTINEL FAILOVER is a result, not a failed run: it adds no gap or loss figure.")
		if c.verbose {
			for _, k := range rs {
				if k.freshRefused > 0 {
					fmt.Fprintf(w, "  %s, first refusal: %s\n", k.kind.name, k.freshRefusal)
				}
			}
		}
	}
	fmt.Fprintln(w, "\nper run:")
	for _, r := range rows {
		for i, k := range rs {
			fmt.Fprintf(w, "  %s, %s: %s\n", r.name, k.kind.name, r.runs[i])
		}
	}
	for _, k := range rs {
		for _, f := range k.failures {
			fmt.Fprintf(w, "  %s FAILED %s\n", k.kind.name, firstLines(f, 3))
		}
	}
	args := strings.Join(os.Args[1:], " ")
	fmt.Fprintf(w, "\nreproduce (from the repository root): scripts/bench.sh %s\n", args)
	fmt.Fprintf(w, "  which is: go build -o bin/gosentinel ./cmd/gosentinel && go build -o bin/bench-failover ./bench/failover && bin/bench-failover %s\n", args)
}
