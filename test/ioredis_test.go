package test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/bench/harness"
	"github.com/x0tta6bl4/gosentinel/internal/redistest"
)

// The ioredis case of the client matrix (issue 4): ioredis from npm, pinned
// by test/clients/ioredis/package-lock.json, through a SIGKILL failover of
// three password-protected gosentinels.

// ioredisDir holds package.json, the lockfile and failover.js (relative to
// ./test, the tests' working directory).
const ioredisDir = "clients/ioredis"

// ioredisSentinelPassword is the gosentinels' requirepass (and sentinel-pass).
const ioredisSentinelPassword = "ioredis-sentinel-pw"

// Bounds of the ioredis test.
const (
	// ioredisPreAcks, ioredisPostAcks: acknowledged writes before the kill
	// and after the switch.
	ioredisPreAcks  = 50
	ioredisPostAcks = 50
	// ioredisScriptDeadline bounds the script's own work; the process is
	// killed ioredisScriptKill after it started.
	ioredisScriptDeadline = 60 * time.Second
	ioredisScriptKill     = 90 * time.Second
	// npmTimeout bounds `npm ci`.
	npmTimeout = 5 * time.Minute
)

var (
	nodeBin = redistest.EnvOr("NODE", "/usr/bin/node")
	npmBin  = redistest.EnvOr("NPM", "/usr/bin/npm")
)

// ioredisReplicaRead is what a slave-role client of the script read and
// where: the port of its connection and that connection's ROLE.
type ioredisReplicaRead struct {
	Port       int    `json:"port"`
	Key        string `json:"key"`
	Value      string `json:"value"`
	Role       string `json:"role"`
	MasterPort int    `json:"master_port"`
}

// ioredisEvent is one line of failover.js' output; which fields are set
// depends on Event ("version", "writing" or "result").
type ioredisEvent struct {
	Event string `json:"event"`
	// version
	IORedis   string `json:"ioredis"`
	NodeRedis string `json:"noderedis"`
	Node      string `json:"node"`
	RESP      int    `json:"resp"`
	// writing
	MasterPort    int                 `json:"master_port"`
	Acks          int                 `json:"acks"`
	ReplicaBefore *ioredisReplicaRead `json:"replica_before"`
	// result
	OK              bool   `json:"ok"`
	Error           string `json:"error"`
	FirstMasterPort int    `json:"first_master_port"`
	PreSwitchAcks   int    `json:"pre_switch_acks"`
	PostSwitch      []struct {
		Seq  int `json:"seq"`
		Port int `json:"port"`
	} `json:"post_switch"`
	WritesGapMS int64 `json:"writes_gap_ms"`
	// Errors and SentinelErrors count ioredis' errors by text.
	Errors         map[string]int      `json:"errors"`
	SentinelErrors map[string]int      `json:"sentinel_errors"`
	ReplicaAfter   *ioredisReplicaRead `json:"replica_after"`
	// node-redis: the replicas its topology lists before the kill and
	// after the switch, the master after it, the topology-change events.
	ReplicasBefore []int    `json:"replicas_before"`
	ReplicasAfter  []int    `json:"replicas_after"`
	MasterAfter    int      `json:"master_after"`
	Topology       []string `json:"topology"`
}

// TestIORedisFailover: an ioredis client (role master, sentinelPassword)
// writes through three sentinels; once it has written and a slave-role
// client has read back from a replica, the master is SIGKILLed. The client
// must resume on the new master the sentinels agree on, every write it
// saw acknowledged after the switch must be on that master (read
// directly), a fresh slave-role client must read from the remaining
// replica of the new master, and no sentinel may have failed the
// master-role client (no "sentinelError" event). Runs per
// SENTINEL_TEST_TARGETS: "reference" (redis-sentinel) proves the test.
func TestIORedisFailover(t *testing.T) {
	pinned := ensureIORedisModules(t)
	for _, tg := range targets() {
		t.Run(tg.name, func(t *testing.T) {
			o := harness.Options{Secret: ioredisSentinelPassword}
			var d *harness.Deployment
			if tg.name == "candidate" {
				d = startFailoverDeployment(t, o)
			} else {
				o.Bin = tg.bin(t)
				d = harness.Start(t, o)
			}
			testIORedisFailover(t, d, pinned, tg.name == "candidate")
		})
	}
}

// testIORedisFailover runs the case on d; raft says d's sentinels are
// gosentinels in one Raft group (exactly one failover decision).
func testIORedisFailover(t *testing.T, d *harness.Deployment, pinned string, raft bool) {
	old := d.Topology.Master
	start := time.Now()
	script := startIORedisScript(t, d, "ioredis")

	v := script.next(t, "version", 30*time.Second)
	t.Logf("ioredis %s on node %s", v.IORedis, v.Node)
	if v.IORedis != pinned {
		t.Fatalf("node loaded ioredis %s, package.json pins %s", v.IORedis, pinned)
	}

	w := script.next(t, "writing", 30*time.Second)
	if w.MasterPort != old.Port() {
		t.Fatalf("ioredis (role master) connected to %d, the master is %d", w.MasterPort, old.Port())
	}
	var replicaPorts []int
	for _, r := range d.Topology.Replicas {
		replicaPorts = append(replicaPorts, r.Port())
	}
	if rb := w.ReplicaBefore; rb == nil || !slices.Contains(replicaPorts, rb.Port) || rb.Role != "slave" || rb.MasterPort != old.Port() {
		t.Fatalf("slave-role client before the kill: %+v, want a connection to one of %v answering ROLE slave of %d", rb, replicaPorts, old.Port())
	}
	t.Logf("%d writes acknowledged by %d; the slave-role client read %s from replica %d", w.Acks, w.MasterPort, w.ReplicaBefore.Key, w.ReplicaBefore.Port)

	if err := old.Kill(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	newMaster, err := d.WaitSwitched(old.Port(), switchDeadline)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("SIGKILL of %d: all sentinels report %d after %v", old.Port(), newMaster, time.Since(killed).Round(time.Millisecond))

	res := script.next(t, "result", ioredisScriptDeadline)
	script.wait(t)
	t.Logf("ioredis: %d writes acknowledged before the switch, %d after it, %d ms between the last on %d and the first on the new master; errors seen (by text): %v",
		res.PreSwitchAcks, len(res.PostSwitch), res.WritesGapMS, old.Port(), res.Errors)
	requireNoMasterSentinelErrors(t, res.SentinelErrors)
	requireIORedisWritesOn(t, d, res, "ioredis", newMaster)
	requireIORedisReplicaRead(t, d, res.ReplicaAfter, newMaster)
	waitFailoverEnd(t, d, 1)
	if raft {
		requireFailovers(t, d, 1, old.Port(), newMaster)
	}
	t.Logf("ioredis failover case done in %v after the deployment was ready", time.Since(start).Round(time.Millisecond))
}

// requireNoMasterSentinelErrors fails on any "sentinelError" of the
// master-role client: every sentinel was up and must always answer
// get-master-addr-by-name with an address. The slave-role client's are
// only logged: right after a switch a sentinel (redis-sentinel too) may
// list no replica as usable yet (each new replica entry starts
// disconnected), which ioredis reports as an invalid reply and retries.
func requireNoMasterSentinelErrors(t *testing.T, errs map[string]int) {
	t.Helper()
	for text, n := range errs {
		if strings.HasPrefix(text, "master:") {
			t.Errorf("ioredis (role master) got %d× a sentinel error although every sentinel was up: %s", n, text)
		} else {
			t.Logf("ioredis sentinel error (%d×): %s", n, text)
		}
	}
}

// requireIORedisWritesOn checks that the script's acknowledged writes after
// the switch were acknowledged by newMaster and are all there, read
// directly from it (which must answer ROLE master).
func requireIORedisWritesOn(t *testing.T, d *harness.Deployment, res ioredisEvent, prefix string, newMaster int) {
	t.Helper()
	if len(res.PostSwitch) != ioredisPostAcks {
		t.Fatalf("%d writes acknowledged after the switch, want %d", len(res.PostSwitch), ioredisPostAcks)
	}
	acks := make([]harness.Ack, 0, len(res.PostSwitch))
	for _, a := range res.PostSwitch {
		if a.Port != newMaster {
			t.Fatalf("write %s:%d was acknowledged by %d, the sentinels' new master is %d", prefix, a.Seq, a.Port, newMaster)
		}
		acks = append(acks, harness.Ack{Seq: a.Seq})
	}
	if r := harness.ReadRole(d.Node(newMaster), roleTimeout); r.Role != "master" {
		t.Fatalf("the sentinels' new master %d answers ROLE %v", newMaster, r)
	}
	lost, err := harness.Lost(redistest.Addr(newMaster), harness.Result{Prefix: prefix, Acks: acks})
	if err != nil {
		t.Fatal(err)
	}
	if len(lost) > 0 {
		t.Fatalf("%d of %d writes acknowledged after the switch are missing on %d, e.g. %v", len(lost), len(acks), newMaster, lost[:min(len(lost), 10)])
	}
	t.Logf("all %d writes acknowledged after the switch read back from %d", len(acks), newMaster)
}

// requireIORedisReplicaRead checks that a slave-role client read from a
// node that is a replica of newMaster, by its own ROLE and by ROLE asked
// directly.
func requireIORedisReplicaRead(t *testing.T, d *harness.Deployment, rr *ioredisReplicaRead, newMaster int) {
	t.Helper()
	if rr == nil {
		t.Fatal("no slave-role read after the switch")
	}
	if rr.Port == newMaster || rr.Role != "slave" || rr.MasterPort != newMaster {
		t.Fatalf("slave-role client after the switch: %+v, want a replica of %d", rr, newMaster)
	}
	n := d.Node(rr.Port)
	if n == nil {
		t.Fatalf("slave-role client connected to %d, not a data node of the deployment", rr.Port)
	}
	if r := harness.ReadRole(n, roleTimeout); r.Role != "slave" || r.MasterPort != newMaster {
		t.Fatalf("slave-role client read from %d, which answers ROLE %v", rr.Port, r)
	}
	t.Logf("the slave-role client read %s=%s from replica %d of %d", rr.Key, rr.Value, rr.Port, newMaster)
}

// ensureIORedisModules is ensureNodeModules for ioredis.
func ensureIORedisModules(t *testing.T) string { return ensureNodeModules(t, ioredisDir, "ioredis") }

// ensureNodeModules runs `npm ci` in dir unless node_modules already holds
// the version of pkg that dir/package.json pins, and returns that version.
// npm works from its cache when it can; a failure fails the test (never
// skips it).
func ensureNodeModules(t *testing.T, dir, pkgName string) string {
	t.Helper()
	var pkg struct {
		Dependencies map[string]string `json:"dependencies"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "package.json"))
	if err == nil {
		err = json.Unmarshal(b, &pkg)
	}
	if err != nil {
		t.Fatalf("read %s/package.json: %v", dir, err)
	}
	pinned := pkg.Dependencies[pkgName]
	if pinned == "" {
		t.Fatalf("%s/package.json does not pin %s", dir, pkgName)
	}
	if installedNodeModule(dir, pkgName) == pinned {
		return pinned
	}
	ctx, cancel := context.WithTimeout(t.Context(), npmTimeout)
	defer cancel()
	// From the module root, the same command as the Makefile's.
	cmd := exec.CommandContext(ctx, npmBin, "ci", "--prefix", filepath.Join("test", dir), "--prefer-offline", "--no-audit", "--no-fund")
	cmd.Dir = ".."
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("npm ci for %s failed: %v\n%s", pkgName, err, out)
	}
	if got := installedNodeModule(dir, pkgName); got != pinned {
		t.Fatalf("after npm ci, node_modules holds %s %q, package.json pins %s", pkgName, got, pinned)
	}
	t.Logf("npm ci installed %s %s in %v", pkgName, pinned, time.Since(start).Round(time.Millisecond))
	return pinned
}

// installedNodeModule returns the version of pkg in dir/node_modules, or "".
func installedNodeModule(dir, pkgName string) string {
	b, err := os.ReadFile(filepath.Join(dir, "node_modules", pkgName, "package.json"))
	if err != nil {
		return ""
	}
	var m struct {
		Version string `json:"version"`
	}
	if json.Unmarshal(b, &m) != nil {
		return ""
	}
	return m.Version
}

// ioredisScript is a running failover.js.
type ioredisScript struct {
	cmd    *exec.Cmd
	events chan ioredisEvent // closed when stdout ends
	stderr bytes.Buffer      // read only after exited is closed
	exited chan struct{}     // closed once Wait returned
	err    error             // Wait's error, set before exited is closed

	mu    sync.Mutex
	lines []string // stdout's raw lines, for failure messages
}

// startIORedisScript starts failover.js against d's sentinels, writing keys
// "<prefix>:<seq>"; it is killed (by pid) in t.Cleanup.
func startIORedisScript(t *testing.T, d *harness.Deployment, prefix string) *ioredisScript {
	t.Helper()
	var sentinels []map[string]any
	for _, s := range d.Sentinels {
		sentinels = append(sentinels, map[string]any{"host": "127.0.0.1", "port": s.Port()})
	}
	return startNodeScript(t, t.Cleanup, ioredisDir, map[string]any{
		"sentinels": sentinels, "name": harness.MasterName, "sentinelPassword": d.Opts.Secret,
		"prefix": prefix, "preAcks": ioredisPreAcks, "postAcks": ioredisPostAcks,
		"commandTimeoutMs": 500, "deadlineMs": ioredisScriptDeadline.Milliseconds(),
	})
}

// startNodeScript starts dir/failover.js with cfg as its JSON argument; it
// is killed (by pid) in the cleanup registered with cleanup (t.Cleanup, or
// a parent test's when the script must outlive a subtest).
func startNodeScript(t *testing.T, cleanup func(func()), dir string, cfgMap map[string]any) *ioredisScript {
	t.Helper()
	cfg, err := json.Marshal(cfgMap)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), ioredisScriptKill)
	s := &ioredisScript{events: make(chan ioredisEvent, 16), exited: make(chan struct{})}
	s.cmd = exec.CommandContext(ctx, nodeBin, "failover.js", string(cfg))
	s.cmd.Dir = dir
	s.cmd.Stderr = &s.stderr
	stdout, err := s.cmd.StdoutPipe()
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start %s failover.js: %v", nodeBin, err)
	}
	go func() {
		defer cancel()
		s.read(stdout)
		// Wait only once stdout is read to its end: it closes the pipe.
		s.err = s.cmd.Wait()
		close(s.exited)
	}()
	cleanup(func() {
		_ = s.cmd.Process.Kill() // by pid; harmless once it exited
		<-s.exited
	})
	return s
}

// read parses stdout's lines into events until stdout ends.
func (s *ioredisScript) read(stdout io.Reader) {
	defer close(s.events)
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	for sc.Scan() {
		line := sc.Text()
		s.mu.Lock()
		s.lines = append(s.lines, line)
		s.mu.Unlock()
		var ev ioredisEvent
		if json.Unmarshal([]byte(line), &ev) == nil && ev.Event != "" {
			s.events <- ev
		}
	}
}

// next returns the next event, which must be name, within timeout. A
// failed result, another event, an early exit or the timeout fail t.
func (s *ioredisScript) next(t *testing.T, name string, timeout time.Duration) ioredisEvent {
	t.Helper()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case ev, ok := <-s.events:
		switch {
		case !ok:
			s.fail(t, fmt.Sprintf("failover.js ended before its %q line", name))
		case ev.Event == "result" && !ev.OK:
			s.fail(t, fmt.Sprintf("failover.js failed: %s\nerrors: %v\nsentinel errors: %v", ev.Error, ev.Errors, ev.SentinelErrors))
		case ev.Event != name:
			s.fail(t, fmt.Sprintf("failover.js printed %q, want %q", ev.Event, name))
		}
		return ev
	case <-timer.C:
		s.fail(t, fmt.Sprintf("no %q line from failover.js within %v", name, timeout))
	}
	panic("unreachable")
}

// wait waits for the script to exit and fails t unless it exited 0.
func (s *ioredisScript) wait(t *testing.T) {
	t.Helper()
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		s.fail(t, "failover.js did not exit after its result")
	}
	if s.err != nil {
		s.fail(t, fmt.Sprintf("failover.js: %v", s.err))
	}
}

// fail kills the script (by pid), waits for it and fails t with msg, the
// exit status, stdout and stderr.
func (s *ioredisScript) fail(t *testing.T, msg string) {
	t.Helper()
	_ = s.cmd.Process.Kill()
	<-s.exited
	s.mu.Lock()
	stdout := strings.Join(s.lines, "\n")
	s.mu.Unlock()
	t.Fatalf("%s\nexit: %v\nstdout:\n%s\nstderr:\n%s", msg, s.err, stdout, s.stderr.String())
}
