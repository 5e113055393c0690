// Package cmdrate measures the command surface's throughput side by side
// with redis-sentinel (issue 12): one redis-server master with two
// replicas, then in rounds one redis-sentinel and one gosentinel
// monitoring it, each loaded in turn by redis-benchmark (50 clients by
// default) with SENTINEL GET-MASTER-ADDR-BY-NAME, SENTINEL MASTERS,
// SENTINEL REPLICAS (what clients ask to find a replica) and PING at
// pipeline 1 and 16.
// The report is the median requests per second of each sentinel over the
// rounds, and their ratio; then the median CPU time each sentinel spent per
// request (its /proc utime+stime over the run), which does not depend on
// how the two cores were shared with redis-benchmark.
package cmdrate

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/bench/harness"
	"github.com/x0tta6bl4/gosentinel/internal/redistest"
)

// MasterName is the name every sentinel monitors the master under.
const MasterName = "mymaster"

// Replicas is how many replicas the master has: a set's usual shape (the
// Bitnami chart's three nodes), so SENTINEL MASTERS and REPLICAS show what
// they show in production.
const Replicas = 2

// Workload is one redis-benchmark invocation: a command at a pipeline depth.
type Workload struct {
	Name     string   // short label for the report, e.g. "GET-MASTER-ADDR-BY-NAME"
	Args     []string // the command, e.g. SENTINEL GET-MASTER-ADDR-BY-NAME mymaster
	Pipeline int
}

// DefaultWorkloads are the two measurements first, then SENTINEL
// MASTERS, SENTINEL REPLICAS and PING at the same depths.
func DefaultWorkloads() []Workload {
	var out []Workload
	for _, cmd := range []struct {
		name string
		args []string
	}{
		{"GET-MASTER-ADDR-BY-NAME", []string{"SENTINEL", "GET-MASTER-ADDR-BY-NAME", MasterName}},
		{"MASTERS", []string{"SENTINEL", "MASTERS"}},
		{"REPLICAS", []string{"SENTINEL", "REPLICAS", MasterName}},
		{"PING", []string{"PING"}},
	} {
		for _, p := range []int{1, 16} {
			out = append(out, Workload{Name: cmd.name, Args: cmd.args, Pipeline: p})
		}
	}
	return out
}

// Requests is how many requests a run of w sends: n times its pipeline
// depth, so that a pipelined run lasts about as long as a run at depth 1
// (at 16, 200,000 requests took a quarter of a second against four at
// depth 1, and a run that short moved by 10 % from one to the next).
func (w Workload) Requests(n int) int { return n * max(w.Pipeline, 1) }

// Sentinel is one kind of sentinel under test.
type Sentinel struct {
	Name string // "redis-sentinel" or "gosentinel"
	Bin  string
}

// Options configure a measurement.
type Options struct {
	Sentinels []Sentinel
	Workloads []Workload
	// Rounds is how many times each sentinel is started and measured;
	// within a round the sentinels take turns on each workload, so a
	// change in the machine's load hits both.
	Rounds int
	// Clients is redis-benchmark's -c, Requests its -n at pipeline 1
	// (Workload.Requests).
	Clients  int
	Requests int
	// Benchmark is the redis-benchmark executable.
	Benchmark string
	// Progress, if set, receives one line per measured run.
	Progress io.Writer
}

// Results holds, per sentinel (index of Options.Sentinels) and workload
// (index of Options.Workloads), a figure of every round.
type Results [][][]float64

// Measured is what Run measured: requests per second, and the sentinel's
// CPU time per request in microseconds.
type Measured struct {
	Rates, CPUMicros Results
}

// Run starts the master and measures every sentinel in every round. In a
// round every sentinel is started, then each workload is run against each
// sentinel in turn, so that the runs compared are seconds apart (on a
// shared machine, the load of others moves both alike). The processes
// belong to tb: its cleanups stop them by pid.
func Run(tb testing.TB, o Options) (Measured, error) {
	if o.Rounds < 1 || o.Clients < 1 || o.Requests < 1 {
		return Measured{}, errors.New("cmdrate: rounds, clients and requests must be at least 1")
	}
	master := redistest.StartRedis(tb, redistest.RedisOptions{})
	for range Replicas {
		redistest.StartRedis(tb, redistest.RedisOptions{ReplicaOf: master.Port()})
	}
	res := Measured{Rates: make(Results, len(o.Sentinels)), CPUMicros: make(Results, len(o.Sentinels))}
	for i := range o.Sentinels {
		res.Rates[i] = make([][]float64, len(o.Workloads))
		res.CPUMicros[i] = make([][]float64, len(o.Workloads))
	}
	for round := range o.Rounds {
		if err := runRound(tb, o, master.Port(), round, res); err != nil {
			return Measured{}, err
		}
	}
	return res, nil
}

// runRound starts every sentinel, runs every workload against each, and
// stops them.
func runRound(tb testing.TB, o Options, masterPort, round int, res Measured) error {
	sentinels := make([]*redistest.Sentinel, len(o.Sentinels))
	for i, s := range o.Sentinels {
		sn, err := startSentinel(tb, s, masterPort)
		if err != nil {
			return fmt.Errorf("%s, round %d: %w", s.Name, round+1, err)
		}
		defer func() { _ = sn.Stop(redistest.StopTimeout) }()
		sentinels[i] = sn
	}
	for j, w := range o.Workloads {
		for i, s := range o.Sentinels {
			sn := sentinels[i]
			cpu0, err := harness.ProcessCPU(sn.Pid())
			if err != nil {
				return fmt.Errorf("%s, round %d: %w", s.Name, round+1, err)
			}
			rate, err := runBenchmark(o, sn.Port(), w)
			if err != nil {
				return fmt.Errorf("%s, round %d, %s P%d: %w", s.Name, round+1, w.Name, w.Pipeline, err)
			}
			cpu1, err := harness.ProcessCPU(sn.Pid())
			if err != nil {
				return fmt.Errorf("%s, round %d: %w", s.Name, round+1, err)
			}
			micros := float64((cpu1 - cpu0).Microseconds()) / float64(w.Requests(o.Requests))
			res.Rates[i][j] = append(res.Rates[i][j], rate)
			res.CPUMicros[i][j] = append(res.CPUMicros[i][j], micros)
			if o.Progress != nil {
				fmt.Fprintf(o.Progress, "round %d %s %s P%d: %.0f req/s, %.3f µs of CPU a request\n",
					round+1, s.Name, w.Name, w.Pipeline, rate, micros)
			}
		}
	}
	return nil
}

// startSentinel starts one sentinel monitoring the master and waits until
// it answers the master's address and lists its replicas.
func startSentinel(tb testing.TB, s Sentinel, masterPort int) (*redistest.Sentinel, error) {
	sn, err := redistest.StartSentinelErr(tb, redistest.SentinelOptions{
		Bin: s.Bin, MasterPort: masterPort, MasterName: MasterName, Quorum: 1,
	})
	if err != nil {
		return nil, fmt.Errorf("start: %w", err)
	}
	want := strconv.Itoa(masterPort)
	err = redistest.PollErr(30*time.Second, 50*time.Millisecond, func() error {
		r, err := sn.Do("SENTINEL", "GET-MASTER-ADDR-BY-NAME", MasterName)
		if err != nil {
			return err
		}
		if got, err := r.Strings(); err != nil || len(got) != 2 || got[1] != want {
			return fmt.Errorf("GET-MASTER-ADDR-BY-NAME: %s, want port %s", r, want)
		}
		r, err = sn.Do("SENTINEL", "REPLICAS", MasterName)
		if err != nil {
			return err
		}
		if maps, err := r.StringMaps(); err != nil || len(maps) != Replicas {
			return fmt.Errorf("SENTINEL REPLICAS: %s, want %d replicas", r, Replicas)
		}
		return nil
	})
	if err != nil {
		_ = sn.Stop(redistest.StopTimeout)
		return nil, err
	}
	return sn, nil
}

// BenchmarkArgs is redis-benchmark's command line for one workload, n
// being the requests at pipeline 1 (Workload.Requests).
func BenchmarkArgs(port, clients, n int, w Workload) []string {
	args := []string{"-h", "127.0.0.1", "-p", strconv.Itoa(port), "-c", strconv.Itoa(clients),
		"-n", strconv.Itoa(w.Requests(n)), "-P", strconv.Itoa(w.Pipeline), "-q"}
	return append(args, w.Args...)
}

func runBenchmark(o Options, port int, w Workload) (float64, error) {
	cmd := exec.Command(o.Benchmark, BenchmarkArgs(port, o.Clients, o.Requests, w)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return 0, fmt.Errorf("%s: %w: %s", o.Benchmark, err, strings.TrimSpace(stderr.String()))
	}
	if strings.Contains(stderr.String(), "Error from server") {
		// An error reply counts as a request: a rate made of errors
		// measures nothing.
		return 0, fmt.Errorf("error replies: %s", firstLine(stderr.String()))
	}
	return ParseRate(string(out))
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// ParseRate reads the throughput from redis-benchmark -q's output, e.g.
// "SENTINEL GET-MASTER-ADDR-BY-NAME mymaster: 49019.61 requests per
// second, p50=0.511 msec" (after progress lines ended by CR).
func ParseRate(out string) (float64, error) {
	const marker = " requests per second"
	i := strings.LastIndex(out, marker)
	if i < 0 {
		return 0, fmt.Errorf("no %q in redis-benchmark's output %q", strings.TrimSpace(marker), out)
	}
	head := out[:i]
	j := strings.LastIndexAny(head, " \t\r\n")
	rate, err := strconv.ParseFloat(head[j+1:], 64)
	if err != nil || rate <= 0 {
		return 0, fmt.Errorf("bad rate %q in redis-benchmark's output", head[j+1:])
	}
	return rate, nil
}

// Report writes the markdown tables: one row per workload, the median
// requests per second of each sentinel and, with two sentinels, the ratio
// of the second to the first (gosentinel / redis-sentinel); then the same
// for the CPU time per request (where a lower ratio is better).
func Report(out io.Writer, o Options, res Measured) {
	report(out, o, res.Rates, "req/s", "%.0f")
	if res.CPUMicros != nil {
		fmt.Fprintln(out)
		report(out, o, res.CPUMicros, "CPU µs/request", "%.3f")
	}
}

func report(out io.Writer, o Options, res Results, unit, format string) {
	header := "| command | pipeline |"
	rule := "|---|---:|"
	for _, s := range o.Sentinels {
		header += " " + s.Name + " " + unit + " |"
		rule += "---:|"
	}
	if len(o.Sentinels) == 2 {
		header += " ratio |"
		rule += "---:|"
	}
	fmt.Fprintln(out, header)
	fmt.Fprintln(out, rule)
	for j, w := range o.Workloads {
		line := fmt.Sprintf("| %s | %d |", w.Name, w.Pipeline)
		var meds []float64
		for i := range o.Sentinels {
			m, ok := harness.Median(res[i][j])
			meds = append(meds, m)
			if ok {
				line += " " + fmt.Sprintf(format, m) + " |"
			} else {
				line += " - |"
			}
		}
		if len(meds) == 2 {
			if meds[0] > 0 && meds[1] > 0 {
				line += fmt.Sprintf(" %.2f x |", meds[1]/meds[0])
			} else {
				line += " - |"
			}
		}
		fmt.Fprintln(out, line)
	}
}
