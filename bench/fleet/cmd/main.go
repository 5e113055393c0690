// Command fleet runs issue 12's "many masters" benchmark side by side:
// for each size, a fake fleet of that many Redis 7.0.15 masters without
// replicas (tools/fakefleet, its own process), watched by three
// redis-sentinels and then, on a fresh fleet, by three gosentinels (the
// order alternates between sizes), every sentinel configured with every
// master and none of the others, down-after 5 s. It prints the markdown
// table of issue 12 with a ratio column, the machine, the date, the
// commit and the command. A measurement, not a test: nothing fails on a
// slow result.
//
//	go build -o bin/fakefleet ./tools/fakefleet
//	go build -o bin/bench-fleet ./bench/fleet/cmd
//	bin/bench-fleet -sizes 100,500,1000
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/bench/fleet"
	"github.com/x0tta6bl4/gosentinel/bench/harness"
	"github.com/x0tta6bl4/gosentinel/internal/redistest"
)

type config struct {
	sizes            []int
	gosentinel       string
	redisSentinel    string
	fakefleet        string
	downAfter        time.Duration
	convergeDeadline time.Duration
	steady           time.Duration
	steadyAfter      time.Duration
	dark             int
	only             string
	keepLogs         string
	pingPeriod       time.Duration
	scrape           time.Duration
}

func parseFlags(args []string) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet("bench-fleet", flag.ContinueOnError)
	sizes := fs.String("sizes", "100,500,1000", "comma-separated fleet sizes (masters)")
	fs.StringVar(&c.gosentinel, "gosentinel", "bin/gosentinel", "gosentinel binary")
	fs.StringVar(&c.redisSentinel, "redis-sentinel", redistest.ReferenceSentinelBin, "redis-sentinel binary (default: $REFERENCE_SENTINEL or Debian's)")
	fs.StringVar(&c.fakefleet, "fakefleet", "bin/fakefleet", "fakefleet binary (go build -o bin/fakefleet ./tools/fakefleet)")
	fs.DurationVar(&c.downAfter, "down-after", 5*time.Second, "down-after-milliseconds of every master")
	fs.DurationVar(&c.convergeDeadline, "converge-deadline", 180*time.Second, "how long to wait for every sentinel to know the others for every master")
	fs.DurationVar(&c.steady, "steady", 30*time.Second, "window after convergence over which CPU and RSS are averaged")
	fs.DurationVar(&c.steadyAfter, "steady-after", 60*time.Second, "the steady window starts no sooner than this after the sentinels start")
	fs.IntVar(&c.dark, "dark", 3, "masters made dark one at a time to time detection")
	fs.StringVar(&c.only, "only", "", "run one sentinel only: redis-sentinel or gosentinel")
	fs.StringVar(&c.keepLogs, "keep-logs", "", "copy every sentinel's log into this directory")
	fs.DurationVar(&c.pingPeriod, "ping-period", 0, "if set, SENTINEL DEBUG ping-period on every sentinel of both kinds (default: theirs, 1s)")
	fs.DurationVar(&c.scrape, "scrape", 0, "if set, scrape every gosentinel's /metrics this often, as Prometheus would (redis-sentinel has no /metrics)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	for _, s := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("-sizes: bad size %q", s)
		}
		c.sizes = append(c.sizes, n)
	}
	if c.only != "" && c.only != "redis-sentinel" && c.only != "gosentinel" {
		return nil, fmt.Errorf("-only %q: want redis-sentinel or gosentinel", c.only)
	}
	if c.keepLogs != "" {
		if err := os.MkdirAll(c.keepLogs, 0o755); err != nil {
			return nil, err
		}
	}
	if err := harness.AbsPaths(&c.gosentinel, &c.redisSentinel, &c.fakefleet); err != nil {
		return nil, err
	}
	return c, nil
}

func main() {
	// The runs are testing.Benchmark bodies (harness.Isolated): the testing
	// package's flags must exist for its B to log and fail.
	testing.Init()
	c, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var pairs []fleet.Pair
	for i, n := range c.sizes {
		p := fleet.Pair{Masters: n}
		kinds := []string{"redis-sentinel", "gosentinel"}
		if i%2 == 1 {
			kinds[0], kinds[1] = kinds[1], kinds[0]
		}
		for _, k := range kinds {
			if c.only != "" && k != c.only {
				continue
			}
			r := c.measure(k, n)
			if k == "gosentinel" {
				p.Go = r
			} else {
				p.Redis = r
			}
		}
		pairs = append(pairs, p)
	}
	printHeader(os.Stdout, c)
	fleet.WriteTable(os.Stdout, pairs)
	for _, p := range pairs {
		if p.Go != nil && p.Go.Scrapes > 0 {
			fmt.Printf("%d masters: %d scrapes of gosentinel's /metrics, %d failed, %v each on average.\n",
				p.Masters, p.Go.Scrapes, p.Go.ScrapeErrors, p.Go.ScrapeMean.Round(time.Millisecond))
		}
	}
}

// measure runs one deployment of kind on a fresh fleet of n masters.
func (c *config) measure(kind string, n int) *fleet.Result {
	bin := c.gosentinel
	if kind == "redis-sentinel" {
		bin = c.redisSentinel
	}
	var res fleet.Result
	err := harness.Isolated(func(tb testing.TB) {
		ports, pid, err := startFleet(tb, c.fakefleet, n)
		if err != nil {
			tb.Fatal(err)
		}
		res = fleet.Run(tb, fleet.Options{
			Bin: bin, Kind: kind, Ports: ports, FleetPid: pid, DownAfter: c.downAfter,
			ConvergeDeadline: c.convergeDeadline, Steady: c.steady, SteadyAfter: c.steadyAfter, Dark: c.dark,
			Logf:     func(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) },
			KeepLogs: c.keepLogs, PingPeriod: c.pingPeriod, Scrape: c.scrape,
		})
	})
	if err != nil {
		res.Kind, res.Masters = kind, n
		res.Errors = append(res.Errors, err.Error())
	}
	for _, e := range res.Errors {
		fmt.Fprintf(os.Stderr, "%s, %d masters: %s\n", kind, n, e)
	}
	return &res
}

// startFleet starts the fake fleet on n free ports, with new ports if one
// was taken meanwhile, and returns the ports and the fleet's pid.
func startFleet(tb testing.TB, bin string, n int) ([]int, int, error) {
	var lastErr error
	for range 3 {
		ports := make([]int, n)
		list := make([]string, n)
		for i := range ports {
			p, err := redistest.FreePort()
			if err != nil {
				return nil, 0, err
			}
			ports[i], list[i] = p, strconv.Itoa(p)
		}
		p, err := redistest.StartProcess(tb, redistest.ProcessSpec{
			Name: "fakefleet", Bin: bin, Args: []string{"-ports", strings.Join(list, ",")}, Port: ports[0],
		})
		if err == nil {
			return ports, p.Pid(), nil
		}
		lastErr = err
		if p != nil {
			p.Stop(redistest.StopTimeout)
		}
	}
	return nil, 0, fmt.Errorf("start fakefleet: %w", lastErr)
}

func printHeader(w *os.File, c *config) {
	model := "unknown"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	commit := "unknown"
	if out, err := exec.Command("git", "describe", "--always", "--dirty").Output(); err == nil {
		commit = strings.TrimSpace(string(out))
	}
	fmt.Fprintf(w, "\nMany masters (issue 12): 3 sentinels started together, a fake fleet of Redis 7.0.15 masters without replicas, down-after %v.\n", c.downAfter)
	fmt.Fprintf(w, "Steady window: %v, from convergence but no sooner than %v after the start.\n", c.steady, c.steadyAfter)
	if c.pingPeriod > 0 {
		fmt.Fprintf(w, "Ping period: %v on every sentinel (SENTINEL DEBUG ping-period; the default is 1s).\n", c.pingPeriod)
	}
	if c.scrape > 0 {
		fmt.Fprintf(w, "Every gosentinel's /metrics scraped every %v (gzip) from its start; redis-sentinel has none (its exporter is a process of its own).\n", c.scrape)
	}
	fmt.Fprintf(w, "Machine: %d cores (nproc), %s. Date: %s. Commit: %s.\n", runtime.NumCPU(), model,
		time.Now().UTC().Format("2006-01-02 15:04 MST"), commit)
	fmt.Fprintf(w, "Command: %s\n\n", strings.Join(os.Args, " "))
}
