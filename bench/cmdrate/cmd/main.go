// Command bench-cmdrate compares the command surface's throughput of
// gosentinel and redis-sentinel side by side on this machine (issue 12):
// one redis-server master with two replicas, then -rounds rounds in which
// one redis-sentinel and one gosentinel, each monitoring that master, are
// started and take turns under redis-benchmark (-c clients, -n requests)
// with SENTINEL GET-MASTER-ADDR-BY-NAME, SENTINEL MASTERS, SENTINEL
// REPLICAS and PING at pipeline 1 and 16.
//
// It prints a markdown table of the median requests per second over the
// rounds and the ratio gosentinel/redis-sentinel, with the machine, the
// date, the commit and the command line. A measurement, not a test: it
// does not judge the ratio. Every process is stopped by pid.
//
//	go build -o bin/gosentinel ./cmd/gosentinel
//	go build -o bin/bench-cmdrate ./bench/cmdrate/cmd
//	bin/bench-cmdrate -rounds 3
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/bench/cmdrate"
	"github.com/x0tta6bl4/gosentinel/bench/harness"
	"github.com/x0tta6bl4/gosentinel/internal/redistest"
)

type config struct {
	rounds        int
	clients       int
	requests      int
	gosentinel    string
	redisSentinel string
	benchmark     string
	only          string
	issueOnly     bool
	verbose       bool
}

func parseFlags(args []string) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet("bench-cmdrate", flag.ContinueOnError)
	fs.IntVar(&c.rounds, "rounds", 3, "rounds; each starts and measures every sentinel once, alternating")
	fs.IntVar(&c.clients, "c", 50, "redis-benchmark's clients (-c)")
	fs.IntVar(&c.requests, "n", 200000, "redis-benchmark's requests per run at pipeline 1 (-n; a pipelined run sends n times its depth)")
	fs.StringVar(&c.gosentinel, "gosentinel", "bin/gosentinel", "gosentinel binary")
	fs.StringVar(&c.redisSentinel, "redis-sentinel", redistest.ReferenceSentinelBin, "redis-sentinel binary (default: $REFERENCE_SENTINEL or Debian's)")
	fs.StringVar(&c.benchmark, "redis-benchmark", "/usr/bin/redis-benchmark", "redis-benchmark binary (Debian package redis-tools)")
	fs.StringVar(&c.only, "only", "", "measure one sentinel only: redis-sentinel or gosentinel")
	fs.BoolVar(&c.issueOnly, "get-master-addr-only", false, "only SENTINEL GET-MASTER-ADDR-BY-NAME (the issue's measurement)")
	fs.BoolVar(&c.verbose, "v", false, "print every run")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if c.rounds < 1 {
		return nil, errors.New("-rounds must be at least 1")
	}
	if err := harness.AbsPaths(&c.gosentinel, &c.redisSentinel, &c.benchmark); err != nil {
		return nil, err
	}
	return c, nil
}

func main() {
	testing.Init() // the measurement is a testing.Benchmark body (see harness.Isolated)
	c, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	o := cmdrate.Options{
		Workloads: cmdrate.DefaultWorkloads(),
		Rounds:    c.rounds,
		Clients:   c.clients,
		Requests:  c.requests,
		Benchmark: c.benchmark,
	}
	if c.issueOnly {
		o.Workloads = o.Workloads[:2]
	}
	for _, s := range []cmdrate.Sentinel{{Name: "redis-sentinel", Bin: c.redisSentinel}, {Name: "gosentinel", Bin: c.gosentinel}} {
		if c.only == "" || c.only == s.Name {
			o.Sentinels = append(o.Sentinels, s)
		}
	}
	if len(o.Sentinels) == 0 {
		fmt.Fprintf(os.Stderr, "-only %q: want redis-sentinel or gosentinel\n", c.only)
		os.Exit(2)
	}
	if c.verbose {
		o.Progress = os.Stderr
	}
	var res cmdrate.Measured
	var runErr error
	err = harness.Isolated(func(tb testing.TB) { res, runErr = cmdrate.Run(tb, o) })
	if err == nil {
		err = runErr
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench-cmdrate:", err)
		os.Exit(1)
	}
	fmt.Printf("redis-benchmark -c %d -n %d times the pipeline depth -q, medians over %d rounds (ratio: gosentinel / redis-sentinel)\n\n",
		c.clients, c.requests, c.rounds)
	cmdrate.Report(os.Stdout, o, res)
	fmt.Println()
	fmt.Printf("- machine: %s\n", machine())
	fmt.Printf("- date: %s\n", time.Now().UTC().Format(time.RFC3339))
	fmt.Printf("- commit: %s\n", commit())
	fmt.Printf("- command: %s\n", strings.Join(os.Args, " "))
	for _, w := range o.Workloads[:2] {
		fmt.Printf("- redis-benchmark: %s\n", strings.Join(cmdrate.BenchmarkArgs(0, c.clients, c.requests, w), " "))
	}
}

// machine is the CPU model, its core count and the kernel.
func machine() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	kernel := "?"
	if out, err := exec.Command("uname", "-sr").Output(); err == nil {
		kernel = strings.TrimSpace(string(out))
	}
	return fmt.Sprintf("%s, %d cores, %s/%s, %s", model, runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, kernel)
}

// commit is the checked-out commit, marked when the tree has changes.
func commit() string {
	out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	id := strings.TrimSpace(string(out))
	if st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(st) > 0 {
		id += " (with uncommitted changes)"
	}
	return id
}
