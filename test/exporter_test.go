package test

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/bench/harness"
	"github.com/x0tta6bl4/gosentinel/internal/metrics"
	"github.com/x0tta6bl4/gosentinel/internal/redistest"
)

// exporterSecret is the sentinels' requirepass in the exporter test (the
// chart's metrics container scrapes with a password, and as user default).
const exporterSecret = "exporter-sentinel-pw"

// exporterDeadline bounds waiting for a scrape to show a settled view
// (ok replicas after a switch, the exporter's HTTP port coming up).
const exporterDeadline = 30 * time.Second

// TestRedisExporter points redis_exporter (the Prometheus exporter the
// Bitnami chart ships, built by scripts/build-redis-exporter.sh) at
// gosentinels watching a master with two replicas, and checks every
// redis_sentinel_* family it exports: the values against the deployment,
// and the family names and label sets against the same exporter scraping
// redis-sentinel 7.0 watching an equivalent deployment (whose values pass
// the same checks, which proves the expectations). It then checks the
// values again after a SENTINEL FAILOVER on both.
func TestRedisExporter(t *testing.T) {
	bin := redisExporterBin(t)
	cand := startFailoverDeployment(t, harness.Options{Secret: exporterSecret, Extra: metricsExtra})
	ref := harness.Start(t, harness.Options{Bin: redistest.ReferenceSentinelBin, Secret: exporterSecret})
	candExp := startExporter(t, bin, cand.Sentinels[0].Addr(), exporterSecret)
	refExp := startExporter(t, bin, ref.Sentinels[0].Addr(), exporterSecret)

	// /metrics authenticates with AUTH <pw>; /scrape with a user in the
	// target sends AUTH default <pw>, as the chart's metrics container does
	// (REDIS_USER=default). Every sentinel must export the same view.
	candView := waitSentinelMetrics(t, candExp, "/metrics", cand, 0)
	refView := waitSentinelMetrics(t, refExp, "/metrics", ref, 0)
	for i, s := range cand.Sentinels[1:] {
		waitSentinelMetrics(t, candExp, "/scrape?target=redis://default@"+s.Addr(), cand, 0)
		t.Logf("gosentinel %d exports the same view through /scrape as user default", i+1)
	}
	compareFamilies(t, "before the failover", refView, candView)
	ownAddr := metricsAddr(t, cand.Sentinels[0])
	compareOwnMetrics(t, "before the failover", candExp, ownAddr)

	candMaster := cand.Nodes[0].Port()
	refMaster := ref.Nodes[0].Port()
	if _, err := cand.ManualFailover([]int{0}, false); err != nil {
		t.Fatal(err)
	}
	if _, err := ref.ManualFailover([]int{0}, false); err != nil {
		t.Fatal(err)
	}
	for _, d := range []*harness.Deployment{cand, ref} {
		old := d.Nodes[0].Port()
		if _, err := d.WaitSwitched(old, switchDeadline); err != nil {
			t.Fatal(err)
		}
	}
	candView = waitSentinelMetrics(t, candExp, "/metrics", cand, 1)
	refView = waitSentinelMetrics(t, refExp, "/metrics", ref, 1)
	compareFamilies(t, "after the failover", refView, candView)
	compareOwnMetrics(t, "after the failover", candExp, ownAddr)
	t.Logf("after SENTINEL FAILOVER: gosentinel %d -> %s, redis-sentinel %d -> %s",
		candMaster, masterAddress(candView), refMaster, masterAddress(refView))
}

// redisExporterBin returns REDIS_EXPORTER_BIN, or the binary that
// scripts/build-redis-exporter.sh builds (or finds in its cache). A build
// failure fails the test: the exporter is part of the client matrix.
func redisExporterBin(t *testing.T) string {
	t.Helper()
	if b := os.Getenv("REDIS_EXPORTER_BIN"); b != "" {
		if _, err := os.Stat(b); err != nil {
			t.Fatalf("REDIS_EXPORTER_BIN: %v", err)
		}
		return b
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	cmd := exec.CommandContext(t.Context(), "bash", "../scripts/build-redis-exporter.sh")
	cmd.Env = append(os.Environ(), "GO="+goBin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("scripts/build-redis-exporter.sh: %v\n%s%s", err, out, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	bin := lines[len(lines)-1]
	v, err := exec.Command(bin, "--version").CombinedOutput()
	if err != nil {
		t.Fatalf("%s --version: %v\n%s", bin, err, v)
	}
	t.Logf("redis_exporter %s (ready in %v): %s", bin, time.Since(start).Round(time.Millisecond), exporterVersion(string(v)))
	return bin
}

var reExporterVersion = regexp.MustCompile(`Redis Metrics Exporter (\S+)`)

func exporterVersion(out string) string {
	if m := reExporterVersion.FindStringSubmatch(out); m != nil {
		return m[1]
	}
	return strings.TrimSpace(out)
}

// exporter is a redis_exporter process scraping one sentinel.
type exporter struct {
	base string // http://127.0.0.1:<port>
	log  string
}

// startExporter starts bin against the sentinel at addr and waits until it
// serves HTTP. The environment is emptied but for PATH and HOME, so that
// no REDIS_* variable of the caller's changes the exporter's flags. It is
// killed by pid in t.Cleanup.
func startExporter(t *testing.T, bin, addr, password string) *exporter {
	t.Helper()
	var lastErr error
	for range 3 { // a kernel-picked port may be taken before the exporter binds it
		port, err := redistest.FreePort()
		if err != nil {
			t.Fatal(err)
		}
		e, err := runExporter(t, bin, addr, password, port)
		if err == nil {
			return e
		}
		lastErr = err
	}
	t.Fatal(lastErr)
	return nil
}

func runExporter(t *testing.T, bin, addr, password string, port int) (*exporter, error) {
	e := &exporter{
		base: fmt.Sprintf("http://127.0.0.1:%d", port),
		log:  filepath.Join(t.TempDir(), fmt.Sprintf("redis_exporter-%d.log", port)),
	}
	f, err := os.Create(e.log)
	if err != nil {
		return nil, fmt.Errorf("exporter log: %w", err)
	}
	cmd := exec.Command(bin,
		"--redis.addr=redis://"+addr,
		"--redis.password="+password,
		"--web.listen-address=127.0.0.1:"+strconv.Itoa(port),
		"--include-config-metrics",
		"--include-sentinel-peer-info",
		"--redis-only-metrics",
	)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	err = cmd.Start()
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill() // by pid; harmless once it exited
		<-done
		if t.Failed() {
			b, _ := os.ReadFile(e.log)
			t.Logf("---- log of redis_exporter on %s ----\n%s", e.base, b)
		}
	})
	err = redistest.PollErr(exporterDeadline, 20*time.Millisecond, func() error {
		select {
		case <-done:
			b, _ := os.ReadFile(e.log)
			return redistest.Abort(fmt.Errorf("redis_exporter exited: %s", b))
		default:
		}
		resp, err := http.Get(e.base + "/health")
		if err != nil {
			return err
		}
		resp.Body.Close()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return e, nil
}

// scrape GETs path (/metrics or /scrape?target=...) and parses it.
func (e *exporter) scrape(path string) (metricSet, error) {
	c := http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(e.base + path)
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("scrape %s: %s: %s", path, resp.Status, body)
	}
	return parseExposition(string(body))
}

// waitSentinelMetrics scrapes path until its redis_sentinel_* families
// describe d as it is now (see checkSentinelMetrics) and returns that
// scrape. epoch is the expected config-epoch (the number of failovers).
func waitSentinelMetrics(t *testing.T, e *exporter, path string, d *harness.Deployment, epoch int) metricSet {
	t.Helper()
	var got metricSet
	redistest.Poll(t, exporterDeadline, 200*time.Millisecond, func() error {
		m, err := e.scrape(path)
		if err != nil {
			return err
		}
		master, err := d.AgreedMasterPort()
		if err != nil {
			return err
		}
		// The exporter scrapes the sentinel named by path: /metrics is
		// always the first one.
		self := d.Sentinels[0]
		if i := strings.Index(path, "target="); i >= 0 {
			target := path[i+len("target="):]
			for _, s := range d.Sentinels {
				if strings.HasSuffix(target, "@"+s.Addr()) || target == s.Addr() {
					self = s
				}
			}
		}
		if err := checkSentinelMetrics(m, d, self, master, epoch); err != nil {
			return fmt.Errorf("%s of %s: %w", path, self.Name(), err)
		}
		got = m
		return nil
	})
	return got
}

// checkSentinelMetrics checks the exporter's view of the sentinel self of
// d: one master at master, ok, with every other data node as an ok
// replica, every other sentinel as an ok peer, the deployment's settings,
// config epoch epoch, no TILT, no scripts, no simulated failures.
func checkSentinelMetrics(m metricSet, d *harness.Deployment, self *redistest.Sentinel, master, epoch int) error {
	name := harness.MasterName
	addr := "127.0.0.1:" + strconv.Itoa(master)
	per := map[string]string{"master_name": name, "master_address": addr}
	o := d.Opts
	wants := []struct {
		family string
		labels map[string]string
		value  float64
	}{
		{"redis_up", nil, 1},
		{"redis_sentinel_masters", nil, 1},
		{"redis_sentinel_tilt", nil, 0},
		{"redis_sentinel_running_scripts", nil, 0},
		{"redis_sentinel_scripts_queue_length", nil, 0},
		{"redis_sentinel_simulate_failure_flags", nil, 0},
		{"redis_sentinel_master_status", map[string]string{"master_name": name, "master_address": addr, "master_status": "ok"}, 1},
		{"redis_sentinel_master_slaves", per, float64(len(d.Nodes) - 1)},
		{"redis_sentinel_master_sentinels", per, float64(len(d.Sentinels))},
		{"redis_sentinel_master_ok_slaves", per, float64(len(d.Nodes) - 1)},
		{"redis_sentinel_master_ok_sentinels", per, float64(len(d.Sentinels))},
		{"redis_sentinel_master_ckquorum_status", map[string]string{"master_name": name,
			"message": fmt.Sprintf("OK %d usable Sentinels. Quorum and failover authorization can be reached", len(d.Sentinels))}, 1},
		{"redis_sentinel_master_setting_ckquorum", per, float64(o.Quorum)},
		{"redis_sentinel_master_setting_down_after_milliseconds", per, float64(o.DownAfter.Milliseconds())},
		{"redis_sentinel_master_setting_failover_timeout", per, float64(o.FailoverTimeout.Milliseconds())},
		{"redis_sentinel_master_setting_parallel_syncs", per, 1},
		{"redis_sentinel_master_config_epoch", per, float64(epoch)},
	}
	for _, w := range wants {
		s, err := m.only(w.family)
		if err != nil {
			return err
		}
		if !maps.Equal(s.Labels, w.labels) && !(len(s.Labels) == 0 && len(w.labels) == 0) {
			return fmt.Errorf("%s has labels %v, want %v", w.family, s.Labels, w.labels)
		}
		if s.Value != w.value {
			return fmt.Errorf("%s%v = %v, want %v", w.family, s.Labels, s.Value, w.value)
		}
	}
	// The master answers PING every second (down-after 1 s): its last ok
	// reply is recent.
	ping, err := m.only("redis_sentinel_master_last_ok_ping_reply_seconds")
	if err != nil {
		return err
	}
	if !maps.Equal(ping.Labels, per) || ping.Value < 0 || ping.Value > 2 {
		return fmt.Errorf("redis_sentinel_master_last_ok_ping_reply_seconds%v = %v, want labels %v and 0..2 s", ping.Labels, ping.Value, per)
	}
	return checkPeerInfo(m, d, self, per)
}

// checkPeerInfo checks redis_sentinel_peer_info: one series per other
// sentinel, with its address, a 40-hex run id (which is also its name, as
// in SENTINEL SENTINELS) and flags "sentinel".
func checkPeerInfo(m metricSet, d *harness.Deployment, self *redistest.Sentinel, per map[string]string) error {
	peers := m.family("redis_sentinel_peer_info")
	var got, want []string
	for _, s := range d.Sentinels {
		if s != self {
			want = append(want, strconv.Itoa(s.Port()))
		}
	}
	for _, p := range peers {
		l := p.Labels
		if l["master_name"] != per["master_name"] || l["master_address"] != per["master_address"] ||
			l["ip"] != "127.0.0.1" || l["flags"] != "sentinel" || !reRunID.MatchString(l["runid"]) ||
			l["name"] != l["runid"] || p.Value != 1 {
			return fmt.Errorf("redis_sentinel_peer_info%v = %v", l, p.Value)
		}
		got = append(got, l["port"])
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		return fmt.Errorf("redis_sentinel_peer_info lists ports %v, want %v", got, want)
	}
	return nil
}

var reRunID = regexp.MustCompile(`^[0-9a-f]{40}$`)

// masterAddress is the master_address label of redis_sentinel_master_status.
func masterAddress(m metricSet) string {
	s, err := m.only("redis_sentinel_master_status")
	if err != nil {
		return "(" + err.Error() + ")"
	}
	return s.Labels["master_address"]
}

// compareFamilies checks that the candidate exports exactly the families
// of the reference (exporter self-metrics aside), each with the same label
// names; and for the redis_sentinel_* families also the same number of
// series with the same label values and values once addresses and run ids
// are masked (last_ok_ping_reply_seconds: label names only). INFO-derived
// counters (commands, bytes, CPU) differ by nature and are not compared.
func compareFamilies(t *testing.T, when string, ref, cand metricSet) {
	t.Helper()
	refFams, candFams := ref.familyNames(), cand.familyNames()
	for _, f := range refFams {
		if !slices.Contains(candFams, f) {
			t.Errorf("%s: gosentinel does not export %s (redis-sentinel does)", when, f)
		}
	}
	var sentinelFams []string
	for _, f := range candFams {
		if !slices.Contains(refFams, f) {
			t.Errorf("%s: gosentinel exports %s, redis-sentinel does not", when, f)
			continue
		}
		r, c := ref.family(f), cand.family(f)
		if rk, ck := labelNames(r), labelNames(c); !slices.Equal(rk, ck) {
			t.Errorf("%s: %s label names %v, redis-sentinel %v", when, f, ck, rk)
		}
		if !strings.HasPrefix(f, "redis_sentinel_") {
			continue
		}
		sentinelFams = append(sentinelFams, f)
		if f == "redis_sentinel_master_last_ok_ping_reply_seconds" {
			continue
		}
		if rs, cs := maskedSeries(ref, r), maskedSeries(cand, c); !slices.Equal(rs, cs) {
			t.Errorf("%s: %s differs from redis-sentinel's:\n gosentinel:     %v\n redis-sentinel: %v", when, f, cs, rs)
		}
	}
	t.Logf("%s: the %d families (%d redis_sentinel_*) and their label names match redis-sentinel's; sentinel families: %v",
		when, len(candFams), len(sentinelFams), sentinelFams)
}

// exporterOptInFamilies are the exporter's sentinel families that only
// its non-default flags produce (--include-sentinel-peer-info,
// --include-config-metrics): gosentinel's /metrics does not export them.
var exporterOptInFamilies = []string{"redis_sentinel_peer_info", "redis_sentinel_config_key_value", "redis_sentinel_config_value"}

// compareOwnMetrics checks that gosentinel's own /metrics (at ownAddr)
// exports exactly the redis_sentinel_* families redis_exporter exports for
// the same sentinel with its default flags (redis_sentinel_sentinels, ours
// alone, aside), with the same label names, series and values
// (last_ok_ping_reply_seconds: label names only). The two scrapes are
// taken one after the other, so it polls until they agree.
func compareOwnMetrics(t *testing.T, when string, e *exporter, ownAddr string) {
	t.Helper()
	own := metrics.ExporterFamilyNames()
	slices.Sort(own)
	redistest.Poll(t, exporterDeadline, 200*time.Millisecond, func() error {
		exp, err := e.scrape("/metrics")
		if err != nil {
			return err
		}
		c := http.Client{Timeout: 5 * time.Second}
		resp, err := c.Get("http://" + ownAddr + "/metrics")
		if err != nil {
			return err
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		ours, err := parseExposition(string(body))
		if err != nil {
			return err
		}
		var expFams []string
		for _, f := range exp.familyNames() {
			if strings.HasPrefix(f, "redis_sentinel_") && !slices.Contains(exporterOptInFamilies, f) {
				expFams = append(expFams, f)
			}
		}
		if !slices.Equal(expFams, own) {
			return redistest.Abort(fmt.Errorf("redis_exporter's default sentinel families %v, gosentinel's table %v", expFams, own))
		}
		for _, f := range own {
			es, gs := exp.family(f), ours.family(f)
			if len(gs) == 0 {
				return fmt.Errorf("gosentinel's /metrics lacks %s", f)
			}
			if ek, ok := labelNames(es), labelNames(gs); !slices.Equal(ek, ok) {
				return redistest.Abort(fmt.Errorf("%s label names: gosentinel %v, redis_exporter %v", f, ok, ek))
			}
			if f == "redis_sentinel_master_last_ok_ping_reply_seconds" {
				continue
			}
			if em, om := maskedSeries(exp, es), maskedSeries(ours, gs); !slices.Equal(em, om) {
				return fmt.Errorf("%s differs:\n gosentinel:     %v\n redis_exporter: %v", f, om, em)
			}
		}
		return nil
	})
	t.Logf("%s: gosentinel's /metrics exports redis_exporter's %d default sentinel families with the same labels and values", when, len(own))
}

// labelNames returns the sorted union of the label names of ss.
func labelNames(ss []promSample) []string {
	var out []string
	for _, s := range ss {
		for k := range s.Labels {
			if !slices.Contains(out, k) {
				out = append(out, k)
			}
		}
	}
	slices.Sort(out)
	return out
}

// maskedSeries renders ss as sorted "labels value" strings with the
// deployment-specific parts masked: the master address, peer ports and run
// ids (which are also the peers' names).
func maskedSeries(m metricSet, ss []promSample) []string {
	master := masterAddress(m)
	var out []string
	for _, s := range ss {
		keys := slices.Sorted(maps.Keys(s.Labels))
		var b strings.Builder
		for _, k := range keys {
			v := s.Labels[k]
			switch {
			case v == master:
				v = "<master>"
			case k == "port" || k == "runid" || (k == "name" && reRunID.MatchString(v)):
				v = "<" + k + ">"
			}
			fmt.Fprintf(&b, "%s=%q ", k, v)
		}
		fmt.Fprintf(&b, "%v", s.Value)
		out = append(out, b.String())
	}
	slices.Sort(out)
	return out
}

// promSample is one series of a Prometheus text exposition.
type promSample struct {
	Name   string
	Labels map[string]string
	Value  float64
}

// metricSet is one scrape.
type metricSet []promSample

// family returns the series named name.
func (m metricSet) family(name string) []promSample {
	var out []promSample
	for _, s := range m {
		if s.Name == name {
			out = append(out, s)
		}
	}
	return out
}

// only returns the single series named name, or an error if there is not
// exactly one.
func (m metricSet) only(name string) (promSample, error) {
	ss := m.family(name)
	if len(ss) != 1 {
		return promSample{}, fmt.Errorf("%d series of %s, want 1: %v", len(ss), name, ss)
	}
	return ss[0], nil
}

// familyNames returns the sorted distinct names of the redis_* series
// other than the exporter's own (redis_exporter_*), which describe the
// exporter rather than the target.
func (m metricSet) familyNames() []string {
	var out []string
	for _, s := range m {
		if strings.HasPrefix(s.Name, "redis_") && !strings.HasPrefix(s.Name, "redis_exporter_") && !slices.Contains(out, s.Name) {
			out = append(out, s.Name)
		}
	}
	slices.Sort(out)
	return out
}

// parseExposition parses the Prometheus text format (version 0.0.4):
// comment lines are skipped, each other line is
// name[{label="value",...}] value [timestamp].
func parseExposition(text string) (metricSet, error) {
	var out metricSet
	for n, line := range strings.Split(text, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		s, err := parseSampleLine(line)
		if err != nil {
			return nil, fmt.Errorf("exposition line %d %q: %w", n+1, line, err)
		}
		out = append(out, s)
	}
	return out, nil
}

func parseSampleLine(line string) (promSample, error) {
	s := promSample{Labels: map[string]string{}}
	i := strings.IndexAny(line, "{ ")
	if i <= 0 {
		return s, fmt.Errorf("no metric name")
	}
	s.Name, line = line[:i], line[i:]
	if line[0] == '{' {
		rest, err := parseLabels(line[1:], s.Labels)
		if err != nil {
			return s, err
		}
		line = rest
	}
	fields := strings.Fields(line)
	if len(fields) < 1 || len(fields) > 2 {
		return s, fmt.Errorf("want a value and an optional timestamp, got %q", line)
	}
	v, err := strconv.ParseFloat(fields[0], 64)
	if err != nil {
		return s, fmt.Errorf("value: %w", err)
	}
	s.Value = v
	return s, nil
}

// parseLabels reads label="value" pairs up to the closing brace into
// labels and returns what follows it. Values unescape \\, \" and \n.
func parseLabels(in string, labels map[string]string) (string, error) {
	for {
		in = strings.TrimLeft(in, " ,")
		if strings.HasPrefix(in, "}") {
			return in[1:], nil
		}
		eq := strings.Index(in, `="`)
		if eq <= 0 {
			return "", fmt.Errorf("bad label list at %q", in)
		}
		key := in[:eq]
		in = in[eq+2:]
		var v strings.Builder
		for {
			if in == "" {
				return "", fmt.Errorf("unterminated value of label %s", key)
			}
			c := in[0]
			in = in[1:]
			if c == '"' {
				break
			}
			if c == '\\' && in != "" {
				switch in[0] {
				case 'n':
					c = '\n'
				default:
					c = in[0]
				}
				in = in[1:]
			}
			v.WriteByte(c)
		}
		labels[key] = v.String()
	}
}

// TestParseExposition pins the exposition parser the exporter test reads
// scrapes with: escapes in label values, no labels, timestamps, comments.
func TestParseExposition(t *testing.T) {
	text := "# HELP redis_up Information about the Redis instance\n" +
		"# TYPE redis_up gauge\n" +
		"redis_up 1\n" +
		`redis_sentinel_master_ckquorum_status{master_name="my\"master",message="a\\b\nc, d"} 0` + "\n" +
		"redis_x{a=\"1\",b=\"\"} -Inf 1712345678000\n"
	m, err := parseExposition(text)
	if err != nil {
		t.Fatal(err)
	}
	want := metricSet{
		{Name: "redis_up", Labels: map[string]string{}, Value: 1},
		{Name: "redis_sentinel_master_ckquorum_status", Labels: map[string]string{"master_name": `my"master`, "message": "a\\b\nc, d"}, Value: 0},
		{Name: "redis_x", Labels: map[string]string{"a": "1", "b": ""}, Value: math.Inf(-1)},
	}
	if fmt.Sprint(m) != fmt.Sprint(want) {
		t.Fatalf("parsed %v\nwant   %v", m, want)
	}
	for _, bad := range []string{"redis_up", `redis_up{a="1" 1`, "redis_up one", `{a="1"} 1`} {
		if _, err := parseExposition(bad + "\n"); err == nil {
			t.Errorf("parseExposition(%q) accepted it", bad)
		}
	}
}
