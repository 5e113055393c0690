// Command chaos runs issue 9's chaos campaign (bench/chaos) against
// gosentinel and redis-sentinel, one after the other, with the same
// seeded schedule of faults: every data node, sentinel and the client in
// its own network namespace (internal/netlab; needs root, ip and
// iptables). It prints a line per fault and, at the end, per invariant
// the number of faults that broke it for each sentinel side by side, the
// faults run, the time taken and the seed that reproduces the run. It
// exits 1 if gosentinel broke any invariant (redis-sentinel's counts are
// the comparison, not a failure), 2 on a usage or setup error.
//
//	go build -o bin/chaos ./bench/chaos/cmd
//	bin/chaos -faults 200 -markdown chaos.md
//	bin/chaos -faults 20 -sentinel gosentinel -seed 42
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/x0tta6bl4/gosentinel/bench/chaos"
	"github.com/x0tta6bl4/gosentinel/bench/harness"
	"github.com/x0tta6bl4/gosentinel/internal/netlab"
	"github.com/x0tta6bl4/gosentinel/internal/redistest"
)

type config struct {
	faults          int
	seed            uint64
	cover           bool
	downAfter       time.Duration
	failoverTimeout time.Duration
	sentinel        string
	gosentinel      string
	redisSentinel   string
	fence           bool
	markdown        string
	logs            string
}

// system is one sentinel the campaign runs against.
type system struct {
	name string
	bin  string
	raft bool
}

func parseFlags(args []string) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet("chaos", flag.ContinueOnError)
	fs.IntVar(&c.faults, "faults", 200, "faults per sentinel")
	fs.Uint64Var(&c.seed, "seed", 0, "schedule seed (0: one from the clock, printed)")
	fs.BoolVar(&c.cover, "cover", true, "the first faults are one of each kind")
	fs.DurationVar(&c.downAfter, "down-after", time.Second, "down-after-milliseconds of the master")
	fs.DurationVar(&c.failoverTimeout, "failover-timeout", 10*time.Second, "failover-timeout of the master")
	fs.StringVar(&c.sentinel, "sentinel", "both", "both, gosentinel or redis-sentinel")
	fs.StringVar(&c.gosentinel, "gosentinel", "bin/gosentinel", "gosentinel binary")
	fs.StringVar(&c.redisSentinel, "redis-sentinel", redistest.ReferenceSentinelBin, "redis-sentinel binary (default: $REFERENCE_SENTINEL or Debian's)")
	fs.BoolVar(&c.fence, "fence", true, "run gosentinel with GOSENTINEL_FENCE=on")
	fs.StringVar(&c.markdown, "markdown", "", "also write the summary table to this file (markdown)")
	fs.StringVar(&c.logs, "logs", "", "after a fault that broke an invariant, keep every sentinel's log in this directory (default: a new temp directory)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if c.faults < 1 {
		return nil, errors.New("-faults must be at least 1")
	}
	switch c.sentinel {
	case "both", "gosentinel", "redis-sentinel":
	default:
		return nil, fmt.Errorf("-sentinel %q: want both, gosentinel or redis-sentinel", c.sentinel)
	}
	if c.seed == 0 {
		c.seed = uint64(time.Now().UnixNano())
	}
	if err := harness.AbsPaths(&c.gosentinel, &c.redisSentinel); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *config) systems() []system {
	var out []system
	for _, s := range []system{{"gosentinel", c.gosentinel, true}, {"redis-sentinel", c.redisSentinel, false}} {
		if c.sentinel == "both" || c.sentinel == s.name {
			out = append(out, s)
		}
	}
	return out
}

// logDir is where violating faults' logs go: -logs, else a temp directory
// named after the seed.
func (c *config) logDir() string {
	if c.logs != "" {
		return c.logs
	}
	return filepath.Join(os.TempDir(), fmt.Sprintf("gosentinel-chaos-%d-%d", c.seed, os.Getpid()))
}

// outcome is one system's campaign.
type outcome struct {
	system system
	report chaos.Report
	err    error
}

func main() {
	testing.Init() // a campaign is a testing.Benchmark body (see harness.Isolated)
	c, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if err := netlab.Available(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	faults := chaos.Schedule(chaos.ScheduleOptions{Seed: c.seed, Faults: c.faults, DownAfter: c.downAfter, Cover: c.cover})
	fmt.Printf("chaos: %d faults, seed %d, down-after %v, failover-timeout %v\n", c.faults, c.seed, c.downAfter, c.failoverTimeout)
	var outs []outcome
	for _, s := range c.systems() {
		o := outcome{system: s}
		err := harness.Isolated(func(tb testing.TB) {
			o.report, o.err = chaos.Run(tb, chaos.Options{
				Bin: s.bin, Raft: s.raft, Fence: c.fence, Faults: faults,
				DownAfter: c.downAfter, FailoverTimeout: c.failoverTimeout,
				LogDir: filepath.Join(c.logDir(), s.name),
				OnFault: func(r chaos.Record, vs []chaos.Violation) {
					fmt.Printf("%s %s\n", s.name, chaos.Line(r, vs))
				},
				Logf: func(format string, args ...any) {
					fmt.Fprintf(os.Stderr, "%s: %s\n", s.name, fmt.Sprintf(format, args...))
				},
			})
		})
		if o.err == nil {
			o.err = err
		}
		if o.err != nil {
			fmt.Fprintf(os.Stderr, "%s: campaign stopped: %s\n", s.name, firstLines(o.err.Error(), 5))
		}
		outs = append(outs, o)
	}
	fmt.Println()
	table(os.Stdout, c, outs, false)
	if c.markdown != "" {
		f, err := os.Create(c.markdown)
		if err == nil {
			table(f, c, outs, true)
			err = f.Close()
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
	}
	for _, o := range outs {
		if o.system.raft && (o.err != nil || o.report.Total() > 0 || len(o.report.Records) < c.faults) {
			os.Exit(1)
		}
	}
}

// table writes the summary: per invariant, the faults that broke it, for
// each system side by side; then per fault kind the faults with any
// violation; then the faults run, the time taken and the seed.
func table(w io.Writer, c *config, outs []outcome, markdown bool) {
	head := []string{"invariant (faults that broke it)"}
	for _, o := range outs {
		head = append(head, o.system.name)
	}
	rows := [][]string{}
	for inv := range chaos.NumInvariants {
		row := []string{inv.Description()}
		for _, o := range outs {
			row = append(row, fmt.Sprint(o.report.Count(inv)))
		}
		rows = append(rows, row)
	}
	count := func(name string, f func(outcome) string) {
		row := []string{name}
		for _, o := range outs {
			row = append(row, f(o))
		}
		rows = append(rows, row)
	}
	count("any invariant", func(o outcome) string { return fmt.Sprint(o.report.Total()) })
	for k := range chaos.NumKinds {
		count("  of them "+k.String(), func(o outcome) string {
			n, of := 0, 0
			for i, r := range o.report.Records {
				if r.Fault.Kind == k {
					of++
					if len(o.report.Violations[i]) > 0 {
						n++
					}
				}
			}
			return fmt.Sprintf("%d of %d", n, of)
		})
	}
	count("leader faults with no failover in progress seen", func(o outcome) string { return fmt.Sprint(o.report.LeaderMissed()) })
	count("fresh deployments after a fault that did not settle", func(o outcome) string { return fmt.Sprint(o.report.Rebuilt) })
	count("faults run", func(o outcome) string {
		s := fmt.Sprint(len(o.report.Records))
		if o.err != nil {
			s += " (stopped: " + firstLines(o.err.Error(), 1) + ")"
		}
		return s
	})
	count("time", func(o outcome) string { return o.report.Took.Round(time.Second).String() })
	fence := "off"
	if c.fence {
		fence = "on"
	}
	footer := fmt.Sprintf("seed %d (reproduce: chaos -faults %d -seed %d -down-after %v -failover-timeout %v -cover=%v), gosentinel fencing %s",
		c.seed, c.faults, c.seed, c.downAfter, c.failoverTimeout, c.cover, fence)
	if markdown {
		fmt.Fprintf(w, "| %s |\n", strings.Join(head, " | "))
		fmt.Fprintf(w, "|%s\n", strings.Repeat("---|", len(head)))
		for _, r := range rows {
			r[0] = strings.Replace(r[0], "  of them ", "&nbsp;&nbsp;of them ", 1)
			fmt.Fprintf(w, "| %s |\n", strings.Join(r, " | "))
		}
		fmt.Fprintf(w, "\n%s\n", footer)
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(head, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	tw.Flush()
	fmt.Fprintln(w, footer)
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, " / ")
}
