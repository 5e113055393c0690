// Command bench-partition compares gosentinel and redis-sentinel in issue
// 9's partition scenario (bench/partition), side by side on this machine:
// each data node, each sentinel and the client in its own network
// namespace (internal/netlab; needs root, ip and iptables), {master, one
// sentinel, a go-redis FailoverClient writing plain SETs, and one writing
// SET + WAIT 1} cut by iptables DROP from {two sentinels, two replicas}
// for -cut, then healed. Each run is a fresh lab and deployment.
//
// It prints, per sentinel, the median over -runs of: the new master
// announced by the majority side after the cut; the cut-off sentinel's
// first null GET-MASTER-ADDR-BY-NAME; the time two data nodes accepted
// writes at once (a probe writes to every node every 100 ms); the
// acknowledged writes the final master does not have (plain and WAIT 1),
// with the writes acknowledged in the first second of the cut and the
// write rate before it; the old master's demotion after the heal; and the
// ratio redis-sentinel/gosentinel. A measurement, not a test: nothing
// fails on a slow result; a run that breaks is reported and left out.
//
//	go build -o bin/bench-partition ./bench/partition/cmd
//	bin/bench-partition -runs 5                          # down-after 1 s, cut 8 s
//	bin/bench-partition -runs 5 -down-after 5s -cut 15s
package main

import (
	"errors"
	"flag"
	"fmt"
	"github.com/x0tta6bl4/gosentinel/bench/harness"
	"io"
	"os"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/x0tta6bl4/gosentinel/bench/partition"
	"github.com/x0tta6bl4/gosentinel/internal/netlab"
	"github.com/x0tta6bl4/gosentinel/internal/redistest"
)

type config struct {
	runs          int
	gosentinel    string
	redisSentinel string
	downAfter     time.Duration
	cut           time.Duration
	interval      time.Duration
	only          string
	verbose       bool
}

type kind struct {
	name string
	bin  string
	raft bool
}

func parseFlags(args []string) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet("bench-partition", flag.ContinueOnError)
	fs.IntVar(&c.runs, "runs", 5, "fresh labs and deployments per sentinel")
	fs.StringVar(&c.gosentinel, "gosentinel", "bin/gosentinel", "gosentinel binary")
	fs.StringVar(&c.redisSentinel, "redis-sentinel", redistest.ReferenceSentinelBin, "redis-sentinel binary (default: $REFERENCE_SENTINEL or Debian's)")
	fs.DurationVar(&c.downAfter, "down-after", time.Second, "down-after-milliseconds of the master")
	fs.DurationVar(&c.cut, "cut", 8*time.Second, "how long the partition lasts")
	fs.DurationVar(&c.interval, "interval", 2*time.Millisecond, "pause between each writer's writes")
	fs.StringVar(&c.only, "only", "", "run one sentinel only: redis-sentinel or gosentinel")
	fs.BoolVar(&c.verbose, "v", false, "print every run")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if c.runs < 1 {
		return nil, errors.New("-runs must be at least 1")
	}
	if err := harness.AbsPaths(&c.gosentinel, &c.redisSentinel); err != nil {
		return nil, err
	}
	return c, nil
}

func main() {
	testing.Init() // the runs are testing.Benchmark bodies (see harness.Isolated)
	c, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if err := netlab.Available(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var kinds []kind
	for _, k := range []kind{{"redis-sentinel", c.redisSentinel, false}, {"gosentinel", c.gosentinel, true}} {
		if c.only == "" || c.only == k.name {
			kinds = append(kinds, k)
		}
	}
	if len(kinds) == 0 {
		fmt.Fprintf(os.Stderr, "-only %q: want redis-sentinel or gosentinel\n", c.only)
		os.Exit(2)
	}
	results := make([][]partition.Result, len(kinds))
	failed := false
	// Interleaved, so that a change in the machine's load hits both.
	for i := range c.runs {
		for j, k := range kinds {
			var r partition.Result
			var runErr error
			err := harness.Isolated(func(tb testing.TB) {
				r, runErr = partition.Run(tb, partition.Options{
					Bin: k.bin, Raft: k.raft, DownAfter: c.downAfter, Cut: c.cut, Interval: c.interval,
				})
			})
			if err == nil {
				err = runErr
			}
			if err != nil {
				failed = true
				fmt.Fprintf(os.Stderr, "%s run %d FAILED: %s\n", k.name, i+1, firstLines(err.Error(), 3))
				continue
			}
			results[j] = append(results[j], r)
			if c.verbose {
				fmt.Fprintf(os.Stderr, "%s run %d: %s\n", k.name, i+1, describe(r))
			}
		}
	}
	report(os.Stdout, c, kinds, results)
	if failed {
		os.Exit(1)
	}
}

func describe(r partition.Result) string {
	return fmt.Sprintf("leader cut off %v, announced %v, null %v, two masters %v, demoted %v after heal, final %s; plain %d/%d lost (%d in 1st s, %.0f/s), WAIT 1 %d/%d lost; plain acks before %v during %v after %v",
		r.LeaderCutOff, ms(r.Announced), ms(r.StoppedVouching), ms(r.TwoMasters), ms(r.Demoted), r.FinalMaster,
		r.Plain.Lost, r.Plain.Acked, r.Plain.FirstSecond, r.Plain.Rate, r.Wait1.Lost, r.Wait1.Acked,
		r.Plain.Before, r.Plain.During, r.Plain.After)
}

// metric is one row of the report: a value per run, or false when the
// event did not happen in that run.
type metric struct {
	name string
	unit string // "ms" or ""
	get  func(partition.Result) (float64, bool)
}

func dur(d time.Duration) (float64, bool) { return float64(d.Milliseconds()), d >= 0 }

var metrics = []metric{
	{"new master announced, after the cut", "ms", func(r partition.Result) (float64, bool) { return dur(r.Announced) }},
	{"  in the runs where gosentinel's Raft leader was cut off", "ms", func(r partition.Result) (float64, bool) {
		if !r.LeaderCutOff {
			return 0, false
		}
		return dur(r.Announced)
	}},
	{"cut-off sentinel answers null, after the cut", "ms", func(r partition.Result) (float64, bool) { return dur(r.StoppedVouching) }},
	{"two masters accepting writes at once", "ms", func(r partition.Result) (float64, bool) { return dur(r.TwoMasters) }},
	{"acknowledged plain writes lost", "", func(r partition.Result) (float64, bool) { return float64(r.Plain.Lost), true }},
	{"  plain writes acked in the cut's first second", "", func(r partition.Result) (float64, bool) { return float64(r.Plain.FirstSecond), true }},
	{"  plain write rate before the cut (/s)", "", func(r partition.Result) (float64, bool) { return r.Plain.Rate, true }},
	{"acknowledged WAIT 1 writes lost", "", func(r partition.Result) (float64, bool) { return float64(r.Wait1.Lost), true }},
	{"  WAIT 1 write rate before the cut (/s)", "", func(r partition.Result) (float64, bool) { return r.Wait1.Rate, true }},
	{"old master demoted, after the heal", "ms", func(r partition.Result) (float64, bool) { return dur(r.Demoted) }},
}

func report(out io.Writer, c *config, kinds []kind, results [][]partition.Result) {
	fmt.Fprintf(out, "partition {master, 1 sentinel, client} | {2 sentinels, 2 replicas}: down-after %v, cut %v, medians over %d runs\n",
		c.downAfter, c.cut, c.runs)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	header := "metric\t"
	for _, k := range kinds {
		header += k.name + "\t"
	}
	if len(kinds) == 2 {
		header += "ratio\t"
	}
	fmt.Fprintln(tw, header)
	for _, m := range metrics {
		line := m.name + "\t"
		var meds []float64
		allOK := true
		for j := range kinds {
			var vs []float64
			for _, r := range results[j] {
				if v, ok := m.get(r); ok {
					vs = append(vs, v)
				}
			}
			med, ok := harness.Median(vs)
			allOK = allOK && ok
			cell := "-"
			if ok {
				cell = fmt.Sprintf("%.0f", med)
				if m.unit != "" {
					cell += " " + m.unit
				}
			}
			if len(vs) < len(results[j]) {
				cell += fmt.Sprintf(" (%d/%d runs)", len(vs), len(results[j]))
			}
			line += cell + "\t"
			meds = append(meds, med)
		}
		if len(kinds) == 2 {
			if allOK && meds[1] != 0 {
				line += fmt.Sprintf("%.2f\t", meds[0]/meds[1])
			} else {
				line += "-\t"
			}
		}
		fmt.Fprintln(tw, line)
	}
	tw.Flush()
	fmt.Fprintf(out, "reproduce: go build -o bin/bench-partition ./bench/partition/cmd && bin/bench-partition -runs %d -down-after %v -cut %v\n",
		c.runs, c.downAfter, c.cut)
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines = append(lines[:n], "...")
	}
	return strings.Join(lines, "\n")
}

func ms(d time.Duration) string {
	if d < 0 {
		return "never"
	}
	return fmt.Sprintf("%d ms", d.Milliseconds())
}
