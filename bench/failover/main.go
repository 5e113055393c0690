// Command failover compares failovers under gosentinel and redis-sentinel,
// side by side on the same machine: for each sentinel, a redis-server
// master with two replicas watched by three sentinels, and a go-redis v9
// FailoverClient writing every 2 ms.
//
// It measures, over -runs fresh deployments per sentinel and metric:
//
//   - SIGKILL of the master to the first acknowledged write, minus
//     down-after (and, for reference, to every sentinel answering the new
//     master);
//   - SENTINEL FAILOVER on a healthy master: the longest gap between
//     acknowledged writes, and the acknowledged writes the new master does
//     not have (lost);
//   - second, needless failovers within -watch of a SIGKILL failover, over
//     the SIGKILL runs plus -spurious-runs more;
//
// all on a settled deployment: every sentinel discovered the others and,
// for gosentinel, every sentinel logged that its Raft group is active.
// A user sees a fresh deployment instead, which looks ready as soon as
// every sentinel reports the replicas and the other sentinels, while
// gosentinel's Raft group may not exist yet. Unless -fresh=false, it also
// measures, over -runs fresh deployments per sentinel and metric, with the
// fault -fresh-delay after that discovery:
//
//   - SIGKILL of the master to the first acknowledged write, minus
//     down-after, and the runs with more than one failover within -watch;
//   - SENTINEL FAILOVER sent once to the first sentinel: how many of the
//     runs it refused (a result, not a failure of the run) and, for the
//     accepted ones, the longest write gap and the lost writes as above.
//
// It prints the medians, the ratio redis-sentinel/gosentinel, and the
// command that reproduces them. It is a measurement, not a test: nothing
// fails on a slow result; a run that breaks (a deadline missed, a
// deployment that does not form) is reported and left out.
//
//	go build -o bin/bench-failover ./bench/failover
//	bin/bench-failover -runs 5 -gosentinel bin/gosentinel
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/bench/harness"
	"github.com/x0tta6bl4/gosentinel/internal/redistest"
)

// config is the command line.
type config struct {
	runs            int
	spuriousRuns    int
	gosentinel      string
	redisSentinel   string
	downAfter       time.Duration
	failoverTimeout time.Duration
	settle          time.Duration
	interval        time.Duration
	watch           time.Duration
	fresh           bool
	freshDelay      time.Duration
	only            string
	verbose         bool
}

func parseFlags(args []string) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet("bench-failover", flag.ContinueOnError)
	fs.IntVar(&c.runs, "runs", 5, "fresh deployments per sentinel for each metric")
	fs.IntVar(&c.spuriousRuns, "spurious-runs", 0, "extra SIGKILL runs per sentinel, watched for a second failover")
	fs.StringVar(&c.gosentinel, "gosentinel", "bin/gosentinel", "gosentinel binary")
	fs.StringVar(&c.redisSentinel, "redis-sentinel", redistest.ReferenceSentinelBin, "redis-sentinel binary (default: $REFERENCE_SENTINEL or Debian's)")
	fs.DurationVar(&c.downAfter, "down-after", time.Second, "down-after-milliseconds of the master")
	fs.DurationVar(&c.failoverTimeout, "failover-timeout", 10*time.Second, "failover-timeout of the master")
	fs.DurationVar(&c.settle, "settle", 0, "GOSENTINEL_SETTLE_MS for gosentinel (0: its default)")
	fs.DurationVar(&c.interval, "interval", 2*time.Millisecond, "pause between the client's writes")
	fs.DurationVar(&c.watch, "watch", 10*time.Second, "how long to watch for a second failover after a SIGKILL failover")
	fs.BoolVar(&c.fresh, "fresh", true, "also measure fresh deployments (-fresh=false skips them)")
	fs.DurationVar(&c.freshDelay, "fresh-delay", 3*time.Second, "time from a fresh deployment's discovery to its fault (longer than the writer's warm-up, about 0.5 s)")
	fs.StringVar(&c.only, "only", "", "run one sentinel only: redis-sentinel or gosentinel")
	fs.BoolVar(&c.verbose, "v", false, "print every run")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if c.runs < 1 {
		return nil, fmt.Errorf("-runs must be at least 1")
	}
	if c.freshDelay < 0 {
		return nil, fmt.Errorf("-fresh-delay must not be negative")
	}
	if err := harness.AbsPaths(&c.gosentinel, &c.redisSentinel); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *config) kinds() []sentinelKind {
	all := []sentinelKind{
		{name: "redis-sentinel", bin: c.redisSentinel},
		{name: "gosentinel", bin: c.gosentinel, raft: true},
	}
	if c.only == "" {
		return all
	}
	var out []sentinelKind
	for _, k := range all {
		if k.name == c.only {
			out = append(out, k)
		}
	}
	return out
}

func main() {
	// The runs are testing.Benchmark bodies (see harness.Isolated): the testing
	// package's flags must exist for its B to log and fail.
	testing.Init()
	c, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	kinds := c.kinds()
	if len(kinds) == 0 {
		fmt.Fprintf(os.Stderr, "-only %q: want redis-sentinel or gosentinel\n", c.only)
		os.Exit(2)
	}
	for _, k := range kinds {
		if _, err := os.Stat(k.bin); err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", k.name, err)
			os.Exit(2)
		}
	}
	results := make([]*kindResults, len(kinds))
	for i, k := range kinds {
		results[i] = c.measure(k)
	}
	printReport(os.Stdout, c, results)
	for _, r := range results {
		if len(r.failures) > 0 {
			os.Exit(1)
		}
	}
}

// measure runs every run of every metric for one sentinel.
func (c *config) measure(k sentinelKind) *kindResults {
	r := &kindResults{kind: k}
	for i := range c.runs + c.spuriousRuns {
		var kr killResult
		err := harness.Isolated(func(tb testing.TB) { kr = c.killRun(tb, k) })
		c.progress(k, "sigkill", i, err, func() string {
			return fmt.Sprintf("first ack %v after down-after, announced %v, second failover %v",
				ms(kr.firstAck), ms(kr.announced), kr.spurious)
		})
		if err != nil {
			r.failures = append(r.failures, fmt.Sprintf("sigkill run %d: %v", i+1, err))
			continue
		}
		r.watched++
		if kr.spurious {
			r.spurious++
		}
		if i < c.runs {
			r.firstAck = append(r.firstAck, kr.firstAck)
			r.announced = append(r.announced, kr.announced)
		}
	}
	for i := range c.runs {
		var mr manualResult
		err := harness.Isolated(func(tb testing.TB) { mr = c.manualRun(tb, k) })
		c.progress(k, "failover", i, err, func() string {
			return fmt.Sprintf("longest write gap %v, %d of %d acknowledged writes lost", ms(mr.gap), mr.lost, mr.acks)
		})
		if err != nil {
			r.failures = append(r.failures, fmt.Sprintf("failover run %d: %v", i+1, err))
			continue
		}
		r.gap = append(r.gap, mr.gap)
		r.lost = append(r.lost, float64(mr.lost))
	}
	if c.fresh {
		c.measureFresh(k, r)
	}
	return r
}

// measureFresh runs the fresh-deployment runs of one sentinel into r.
func (c *config) measureFresh(k sentinelKind, r *kindResults) {
	for i := range c.runs {
		var fr freshKillResult
		err := harness.Isolated(func(tb testing.TB) { fr = c.freshKillRun(tb, k) })
		c.progress(k, "fresh sigkill", i, err, func() string {
			out := fmt.Sprintf("%v: first ack %v after down-after, announced %v", fr.state, ms(fr.firstAck), ms(fr.announced))
			if fr.spurious {
				return out + ", second failover: " + fr.second
			}
			return out + ", one failover"
		})
		if err != nil {
			r.failures = append(r.failures, fmt.Sprintf("fresh sigkill run %d: %v", i+1, err))
			continue
		}
		r.freshFirstAck = append(r.freshFirstAck, fr.firstAck)
		r.freshWatched++
		if fr.spurious {
			r.freshSpurious++
		}
	}
	for i := range c.runs {
		var fr freshManualResult
		err := harness.Isolated(func(tb testing.TB) { fr = c.freshManualRun(tb, k) })
		c.progress(k, "fresh failover", i, err, func() string {
			if fr.refused != "" {
				return fmt.Sprintf("%v: refused: %s", fr.state, fr.refused)
			}
			return fmt.Sprintf("%v: longest write gap %v, %d of %d acknowledged writes lost", fr.state, ms(fr.gap), fr.lost, fr.acks)
		})
		if err != nil {
			r.failures = append(r.failures, fmt.Sprintf("fresh failover run %d: %v", i+1, err))
			continue
		}
		r.freshAsked++
		if fr.refused != "" {
			if r.freshRefused == 0 {
				r.freshRefusal = fr.refused
			}
			r.freshRefused++
			continue
		}
		r.freshGap = append(r.freshGap, fr.gap)
		r.freshLost = append(r.freshLost, float64(fr.lost))
	}
}

// progress reports one run on stderr (always for failures, with -v for
// the others).
func (c *config) progress(k sentinelKind, metric string, i int, err error, ok func() string) {
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s %s run %d FAILED: %s\n", k.name, metric, i+1, firstLines(err.Error(), 3))
		return
	}
	if c.verbose {
		fmt.Fprintf(os.Stderr, "%s %s run %d: %s\n", k.name, metric, i+1, ok())
	}
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines = append(lines[:n], "...")
	}
	return strings.Join(lines, "\n")
}

func ms(d time.Duration) string { return fmt.Sprintf("%d ms", d.Milliseconds()) }
