// Package fleet is issue 12's "many masters" measurement: three sentinels
// of one kind (redis-sentinel or gosentinel) watching every master of a
// fake fleet (internal/fakefleet), each sentinel knowing nothing of the
// others, so that they find each other through hellos. Run measures one
// deployment; the command under cmd/ runs it side by side at several
// sizes and prints the table; test/fleet_test.go asserts on it.
package fleet

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/bench/harness"
	"github.com/x0tta6bl4/gosentinel/internal/redistest"
)

// Options describe one measured deployment.
type Options struct {
	// Bin is the sentinel binary, Kind its name in reports.
	Bin  string
	Kind string
	// Ports are the fleet's masters, named m0, m1, ... in this order.
	Ports []int
	// FleetPid, if not 0, is the fleet's process, whose CPU is reported.
	FleetPid int
	// DownAfter is every master's down-after-milliseconds.
	DownAfter time.Duration
	// ConvergeDeadline bounds the wait for every sentinel to count three
	// sentinels for every master.
	ConvergeDeadline time.Duration
	// Steady is the window over which CPU and RSS are averaged. It starts
	// at convergence (or the deadline), but no sooner than SteadyAfter
	// after the sentinels started: a gosentinel converges within 3 s, and
	// a window opened then measured its warm-up (the leader's first fence
	// reads, a client per master dialled over the first 30 s) against a
	// redis-sentinel measured 50 s after its start.
	Steady      time.Duration
	SteadyAfter time.Duration
	// Dark is how many masters are made dark, one at a time, after the
	// steady window (the last ones of Ports).
	Dark int
	// Logf, if set, reports progress.
	Logf func(format string, args ...any)
	// KeepLogs, if set, is a directory the sentinels' logs are copied to
	// (<kind>-<masters>-<i>.log) at the end.
	KeepLogs string
	// PingPeriod, if not 0, is set on every sentinel right after its start
	// with SENTINEL DEBUG ping-period (both kinds have it; the default is
	// 1 s). Detection beyond down-after is at most about one ping period:
	// both start the SDOWN clock at the first unanswered PING.
	PingPeriod time.Duration
	// Scrape, if not 0, gives every gosentinel a metrics-addr and scrapes
	// its /metrics (gzip, as Prometheus asks) every Scrape from its start
	// to the end of the steady window, as a deployment with Prometheus
	// does, so that the window's CPU and RSS include the scrapes.
	// redis-sentinel has no /metrics (its exporter is a process of its
	// own) and is not scraped.
	Scrape time.Duration
}

// Result is what one deployment measured.
type Result struct {
	Kind    string
	Masters int
	// Converged says whether every sentinel counted 3 sentinels for every
	// master within ConvergeDeadline, after ConvergeTime; Fraction is the
	// share of (sentinel, master) pairs that did at the end of the wait.
	Converged    bool
	ConvergeTime time.Duration
	Fraction     float64
	// RSS per sentinel (mean over the sentinels): mean over the steady
	// window, and peak over the whole run, in bytes.
	RSSSteady, RSSPeak float64
	// AnonSteady is the anonymous part of RSSSteady (RssAnon): the heap,
	// stacks and allocator; the rest is the pages of the binary and its
	// libraries in use.
	AnonSteady float64
	// CPU per sentinel (mean over the sentinels) over the steady window,
	// in % of one core; FleetCPU the fleet's, 0 without FleetPid.
	CPU, FleetCPU float64
	// FleetRates are what the fleet received per second over the steady
	// window, by FAKEFLEET STATS counter ("accepted", "ping", ...).
	FleetRates map[string]float64
	// FalseSdownWarm and FalseSdownSteady count `+sdown master` lines for
	// masters that were answering, before the steady window and from its
	// start on; Tilt counts `+tilt` lines.
	FalseSdownWarm, FalseSdownSteady int
	Tilt                             int
	// Detection holds, per dark master and sentinel, the time from dark to
	// the sentinel's `+sdown master` line minus down-after; Missed counts
	// the sentinels that logged none within down-after + 30 s.
	Detection []time.Duration
	Missed    int
	// Scrapes counts the scrapes of /metrics (Options.Scrape), and
	// ScrapeErrors the failed ones; ScrapeMean is a scrape's mean duration.
	Scrapes, ScrapeErrors int
	ScrapeMean            time.Duration
	// Lateness holds, per dark master and sentinel, the time from the
	// sentinel's first PING the dark master received (where its SDOWN
	// clock starts) to its `+sdown master` line, minus down-after: the
	// part of Detection that is the sentinel's own, without where the
	// hang fell in its 1 s PING cycle.
	Lateness []time.Duration
	// Load is the machine's 1-minute load average at the end of the
	// steady window: the machine is shared, and a figure taken under a
	// load above its cores says less.
	Load float64
	// Errors are steps that failed (a sentinel that did not start, ...).
	Errors []string
}

// MasterName is the name master i of the fleet is monitored under.
func MasterName(i int) string { return "m" + strconv.Itoa(i) }

// MonitorLines are the config lines that make a sentinel watch every port.
func MonitorLines(ports []int, downAfter time.Duration) []string {
	out := make([]string, 0, 2*len(ports))
	for i, p := range ports {
		out = append(out, fmt.Sprintf("sentinel monitor %s 127.0.0.1 %d 2", MasterName(i), p),
			fmt.Sprintf("sentinel down-after-milliseconds %s %d", MasterName(i), downAfter.Milliseconds()))
	}
	return out
}

// Run starts three sentinels of o.Bin on o.Ports and measures them; the
// sentinels are stopped by tb's cleanups.
func Run(tb testing.TB, o Options) Result {
	logf := o.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	res := Result{Kind: o.Kind, Masters: len(o.Ports)}
	fail := func(format string, args ...any) Result {
		res.Errors = append(res.Errors, fmt.Sprintf(format, args...))
		return res
	}
	lines := MonitorLines(o.Ports, o.DownAfter)
	start := time.Now()
	// The three start together, as a fresh deployment's do (a compose
	// file, a StatefulSet with parallel pod management): one after the
	// other, each sentinel met a fleet the previous one had already
	// warmed, and the start-up storm three of them make together (which
	// once had gosentinel report hundreds of healthy masters down) went
	// unmeasured.
	ss := make([]*redistest.Sentinel, 3)
	errs := make([]error, 3)
	scraped := make([]string, 0, 3) // the metrics addresses to scrape
	if o.Scrape > 0 && o.Kind == "gosentinel" {
		for range ss {
			p, err := redistest.FreePort()
			if err != nil {
				return fail("metrics port: %v", err)
			}
			scraped = append(scraped, "127.0.0.1:"+strconv.Itoa(p))
		}
	}
	var wg sync.WaitGroup
	for i := range ss {
		extra := lines
		if len(scraped) > 0 {
			extra = append(slices.Clip(lines), "metrics-addr "+scraped[i])
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			ss[i], errs[i] = redistest.StartSentinelErr(tb, redistest.SentinelOptions{Bin: o.Bin, Extra: extra})
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return fail("start %s: %v", o.Kind, err)
	}
	var sc *scraper
	if len(scraped) > 0 {
		sc = startScraper(scraped, o.Scrape)
		defer sc.stop() // on an early return; the window's end stops it first
	}
	pids := make([]int, 0, 4)
	names := make([]string, len(ss)) // of the command connections, as CLIENT SETNAME sets them
	for i, s := range ss {
		pids = append(pids, s.Pid())
		// redis-sentinel may stall for seconds at start with many masters
		// (a config rewrite and fsync per master): ask until it answers.
		var id string
		err := redistest.PollErr(o.ConvergeDeadline, 200*time.Millisecond, func() error {
			var err error
			id, err = s.MyID()
			if err == nil && len(id) < 8 {
				err = fmt.Errorf("SENTINEL MYID answered %q", id)
			}
			return err
		})
		if err != nil {
			return fail("%s: SENTINEL MYID: %v", s.Name(), err)
		}
		names[i] = "sentinel-" + id[:8] + "-cmd"
		if o.PingPeriod > 0 {
			ms := strconv.FormatInt(o.PingPeriod.Milliseconds(), 10)
			r, err := s.Do("SENTINEL", "DEBUG", "ping-period", ms)
			if err == nil {
				err = r.Err()
			}
			if err != nil {
				return fail("%s: SENTINEL DEBUG ping-period %s: %v", s.Name(), ms, err)
			}
		}
	}
	if o.FleetPid != 0 {
		pids = append(pids, o.FleetPid)
	}
	smp := startSampler(pids, time.Second)
	defer smp.stop()
	logf("%s, %d masters: sentinels started in %v", o.Kind, len(o.Ports), time.Since(start).Round(time.Millisecond))

	conv := newConvergence(ss, len(o.Ports))
	err := redistest.PollErr(o.ConvergeDeadline, 500*time.Millisecond, conv.check)
	res.Fraction = conv.fraction
	res.Converged = err == nil
	res.ConvergeTime = time.Since(start)
	conv.close()
	logf("%s, %d masters: converged=%v after %v (%.1f %%)", o.Kind, len(o.Ports), res.Converged,
		res.ConvergeTime.Round(time.Millisecond), 100*res.Fraction)

	if wait := time.Until(start.Add(o.SteadyAfter)); wait > 0 {
		logf("%s, %d masters: steady window starts %v after the start", o.Kind, len(o.Ports), o.SteadyAfter)
		time.Sleep(wait) // the warm-up left out of the window, not a synchronisation
	}
	statsBefore, statsErr := fleetStats(o.Ports[0])
	steadyStart := time.Now()
	before := smp.snapshot()
	time.Sleep(o.Steady) // the measurement window itself, not a synchronisation
	after := smp.snapshot()
	steadyEnd := time.Now()
	if sc != nil {
		res.Scrapes, res.ScrapeErrors, res.ScrapeMean = sc.stop()
		if res.ScrapeErrors > 0 {
			res.Errors = append(res.Errors, fmt.Sprintf("%d of %d scrapes of /metrics failed", res.ScrapeErrors, res.Scrapes))
		}
	}
	statsAfter, err := fleetStats(o.Ports[0])
	if err == nil && statsErr == nil {
		res.FleetRates = map[string]float64{}
		for k, v := range statsAfter {
			res.FleetRates[k] = float64(v-statsBefore[k]) / steadyEnd.Sub(steadyStart).Seconds()
		}
	} else {
		res.Errors = append(res.Errors, fmt.Sprintf("FAKEFLEET STATS: %v %v", statsErr, err))
	}
	res.Load = loadAverage()
	window := steadyEnd.Sub(steadyStart)
	for i := range ss {
		res.CPU += 100 * float64(after[i].cpu-before[i].cpu) / float64(window) / float64(len(ss))
		rss, anon := smp.meanRSS(i, steadyStart, steadyEnd)
		res.RSSSteady += rss / float64(len(ss))
		res.AnonSteady += anon / float64(len(ss))
	}
	if o.FleetPid != 0 {
		res.FleetCPU = 100 * float64(after[3].cpu-before[3].cpu) / float64(window)
	}
	logf("%s, %d masters: steady CPU %.1f %%, RSS %.1f MB (fleet CPU %.1f %%)", o.Kind, len(o.Ports),
		res.CPU, res.RSSSteady/(1<<20), res.FleetCPU)

	darkSince := map[string]time.Time{}
	for k := range min(o.Dark, len(o.Ports)) {
		i := len(o.Ports) - 1 - k
		ds, late, missed, at, err := detect(ss, names, o.Ports[i], MasterName(i), o.DownAfter)
		darkSince[MasterName(i)] = at
		res.Detection = append(res.Detection, ds...)
		res.Lateness = append(res.Lateness, late...)
		res.Missed += missed
		if err != nil {
			res.Errors = append(res.Errors, err.Error())
			break
		}
		logf("%s, %d masters: %s dark, +sdown after down-after + %v, after the first unanswered PING + down-after + %v",
			o.Kind, len(o.Ports), MasterName(i), ds, late)
	}

	for i := range ss {
		res.RSSPeak += float64(smp.peakRSS(i)) / float64(len(ss))
	}
	for i, s := range ss {
		log := harness.RunLog(s.Process)
		if o.KeepLogs != "" {
			name := filepath.Join(o.KeepLogs, fmt.Sprintf("%s-%d-%d.log", filepath.Base(o.Kind), len(o.Ports), i))
			if err := os.WriteFile(name, []byte(log), 0o644); err != nil {
				res.Errors = append(res.Errors, fmt.Sprintf("keep log: %v", err))
			}
		}
		res.Tilt += len(harness.Events(log, "+tilt"))
		for _, line := range harness.Events(log, "+sdown") {
			e, err := ParseEvent(line)
			if err != nil || len(e.Args) < 2 || e.Args[0] != "master" {
				continue
			}
			if at, ok := darkSince[e.Args[1]]; ok && !e.At.Before(at.Truncate(time.Millisecond)) {
				continue // a master made dark, after it was
			}
			if e.At.Before(steadyStart.Truncate(time.Millisecond)) {
				res.FalseSdownWarm++
			} else {
				res.FalseSdownSteady++
			}
		}
	}
	return res
}

// convergence polls `INFO sentinel` of every sentinel.
type convergence struct {
	ss       []*redistest.Sentinel
	conns    []*redistest.Conn
	masters  int
	fraction float64
}

func newConvergence(ss []*redistest.Sentinel, masters int) *convergence {
	return &convergence{ss: ss, conns: make([]*redistest.Conn, len(ss)), masters: masters}
}

// check is a PollErr condition: nil once every sentinel counts 3
// sentinels for every master.
func (c *convergence) check() error {
	known := 0
	var firstErr error
	for i, s := range c.ss {
		if !s.Running() {
			return redistest.Abort(fmt.Errorf("%s exited", s.Name()))
		}
		if c.conns[i] == nil {
			conn, err := s.DialErr()
			if err != nil {
				firstErr = cmp(firstErr, err)
				continue
			}
			conn.Timeout = 10 * time.Second
			c.conns[i] = conn
		}
		r, err := c.conns[i].Do("INFO", "sentinel")
		if err != nil {
			c.conns[i].Close()
			c.conns[i] = nil
			firstErr = cmp(firstErr, err)
			continue
		}
		for _, n := range KnownSentinels(r.Str) {
			if n >= 3 {
				known++
			}
		}
	}
	c.fraction = float64(known) / float64(len(c.ss)*c.masters)
	if known == len(c.ss)*c.masters {
		return nil
	}
	if firstErr != nil {
		return firstErr
	}
	return fmt.Errorf("%d of %d (sentinel, master) pairs count 3 sentinels", known, len(c.ss)*c.masters)
}

func (c *convergence) close() {
	for _, conn := range c.conns {
		if conn != nil {
			conn.Close()
		}
	}
}

func cmp(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

// detect makes the master at port dark, waits for every sentinel's
// `+sdown master` line about it, makes it answer again and waits for
// every `-sdown`. It returns each sentinel's detection beyond down-after,
// its lateness (see Result.Lateness; clients are the sentinels' command
// connection names), the sentinels that logged none, and when the master
// went dark.
func detect(ss []*redistest.Sentinel, clients []string, port int, name string, downAfter time.Duration) (ds, late []time.Duration, missed int, at time.Time, err error) {
	ctl, err := redistest.Dial(redistest.Addr(port), 5*time.Second)
	if err != nil {
		return nil, nil, 0, time.Time{}, fmt.Errorf("control connection to %s: %w", name, err)
	}
	defer ctl.Close()
	at = time.Now()
	if _, err := ctl.DoOK("FAKEFLEET", "DARK"); err != nil {
		return nil, nil, 0, at, fmt.Errorf("%s: %w", name, err)
	}
	seen := make([]time.Time, len(ss))
	waitEvents(ss, "+sdown", name, at, seen, downAfter+30*time.Second)
	r, err := ctl.DoOK("FAKEFLEET", "PINGS")
	if err != nil {
		return nil, nil, 0, at, fmt.Errorf("%s: %w", name, err)
	}
	pings, err := r.Strings()
	if err != nil {
		return nil, nil, 0, at, fmt.Errorf("%s: FAKEFLEET PINGS: %w", name, err)
	}
	firstPing := map[string]time.Time{}
	for i := 0; i+1 < len(pings); i += 2 {
		us, _ := strconv.ParseInt(pings[i+1], 10, 64)
		firstPing[pings[i]] = time.UnixMicro(us)
	}
	for i, t := range seen {
		if t.IsZero() {
			missed++
			continue
		}
		ds = append(ds, t.Sub(at)-downAfter)
		if p, ok := firstPing[clients[i]]; ok {
			late = append(late, t.Sub(p)-downAfter)
		}
	}
	if _, err := ctl.DoOK("FAKEFLEET", "LIGHT"); err != nil {
		return ds, late, missed, at, fmt.Errorf("%s: %w", name, err)
	}
	back := make([]time.Time, len(ss))
	if !waitEvents(ss, "-sdown", name, at, back, 30*time.Second) {
		return ds, late, missed, at, fmt.Errorf("%s: not every sentinel logged -sdown within 30 s of FAKEFLEET LIGHT", name)
	}
	return ds, late, missed, at, nil
}

// waitEvents polls the sentinels' logs until each logged typ about master
// name at or after since, filling seen; false if one did not by timeout.
func waitEvents(ss []*redistest.Sentinel, typ, name string, since time.Time, seen []time.Time, timeout time.Duration) bool {
	err := redistest.PollErr(timeout, 20*time.Millisecond, func() error {
		pending := 0
		for i, s := range ss {
			if !seen[i].IsZero() {
				continue
			}
			for _, line := range harness.Events(harness.RunLog(s.Process), typ) {
				e, err := ParseEvent(line)
				if err == nil && e.MasterEvent(name) && !e.At.Before(since.Truncate(time.Millisecond)) {
					seen[i] = e.At
					break
				}
			}
			if seen[i].IsZero() {
				pending++
			}
		}
		if pending > 0 {
			return fmt.Errorf("%d sentinels have not logged %s master %s", pending, typ, name)
		}
		return nil
	})
	return err == nil
}

// sample is one reading of a process.
type sample struct {
	at  time.Time
	cpu time.Duration
	// rss is the resident size; anon its anonymous part (heap, stacks,
	// allocator), the rest being pages of files mapped (the binary and
	// its libraries), shared and reclaimable.
	rss, anon int64
}

// sampler reads /proc for a few processes every period.
type sampler struct {
	pids []int
	mu   sync.Mutex
	rows [][]sample // per pid
	quit chan struct{}
	done chan struct{}
}

func startSampler(pids []int, period time.Duration) *sampler {
	s := &sampler{pids: pids, rows: make([][]sample, len(pids)), quit: make(chan struct{}), done: make(chan struct{})}
	s.snapshot()
	go func() {
		defer close(s.done)
		t := time.NewTicker(period)
		defer t.Stop()
		for {
			select {
			case <-s.quit:
				return
			case <-t.C:
				s.snapshot()
			}
		}
	}()
	return s
}

func (s *sampler) stop() {
	close(s.quit)
	<-s.done
}

// snapshot reads every process now, records and returns the readings (a
// process gone reads as zeros).
func (s *sampler) snapshot() []sample {
	now := time.Now()
	out := make([]sample, len(s.pids))
	for i, pid := range s.pids {
		out[i].at = now
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
			out[i].cpu, _ = harness.ParseStatCPU(string(b))
		}
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid)); err == nil {
			out[i].rss, _ = harness.ParseStatusKB(string(b), "VmRSS")
			out[i].anon, _ = harness.ParseStatusKB(string(b), "RssAnon")
		}
	}
	s.mu.Lock()
	for i := range out {
		s.rows[i] = append(s.rows[i], out[i])
	}
	s.mu.Unlock()
	return out
}

func (s *sampler) meanRSS(i int, from, to time.Time) (rss, anon float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, x := range s.rows[i] {
		if !x.at.Before(from) && !x.at.After(to) {
			rss += float64(x.rss)
			anon += float64(x.anon)
			n++
		}
	}
	if n == 0 {
		return 0, 0
	}
	return rss / float64(n), anon / float64(n)
}

func (s *sampler) peakRSS(i int) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var peak int64
	for _, x := range s.rows[i] {
		peak = max(peak, x.rss)
	}
	return peak
}

// fleetStats reads FAKEFLEET STATS on the master at port.
func fleetStats(port int) (map[string]int64, error) {
	c, err := redistest.Dial(redistest.Addr(port), 5*time.Second)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	r, err := c.DoOK("FAKEFLEET", "STATS")
	if err != nil {
		return nil, err
	}
	return ParseStats(r.Str)
}

// loadAverage is the 1-minute load average (0 if unreadable).
func loadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}

// Summary returns min, median and max of ds (zeros if empty).
func Summary(ds []time.Duration) (lo, med, hi time.Duration) {
	if len(ds) == 0 {
		return 0, 0, 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		med = s[len(s)/2]
	} else {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return s[0], med, s[len(s)-1]
}
