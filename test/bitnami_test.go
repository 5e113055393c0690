package test

import (
	"bytes"
	"context"
	"crypto/sha1"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/bench/harness"
	"github.com/x0tta6bl4/gosentinel/internal/redistest"
)

// The Bitnami release of the chart test: auth.password is both the data
// nodes' and the sentinels' password (auth.sentinel=true), as the chart
// sets it.
const (
	bitnamiPassword = "bitnami-release-pw"
	bitnamiFixture  = "testdata/bitnami/chart-steps.sh"
	bitnamiPods     = 3
	// bitnamiDownAfter is sentinel.downAfterMilliseconds: shorter than the
	// chart's 60 s so that a stopped pod is noticed within the test.
	bitnamiDownAfter = 5 * time.Second
	// bitnamiFailoverTimeout is the chart's sentinel.failoverTimeout.
	bitnamiFailoverTimeout = 180 * time.Second
	// bitnamiUserConfig is sentinel.configuration: keeps every listener on
	// the loopback (the chart's config has no bind line: all interfaces).
	bitnamiUserConfig = "bind 127.0.0.1 -::1"
)

// TestBitnamiChartScripts replays the sentinel-facing steps of the Bitnami
// redis chart (test/testdata/bitnami/chart-steps.sh) against gosentinels
// started from the sentinel.conf the chart's start-sentinel.sh writes, the
// way a StatefulSet of three pods (redis + sentinel containers each) goes:
// pods start in order (the first alone is the master, the others ask the
// Service), the probes ping, the redis container reads the last master
// from sentinel.conf, the preStop hooks of a replica pod do nothing, the
// preStop hooks of the master pod fail it over (CLIENT PAUSE, SENTINEL
// FAILOVER to the local sentinel, wait for the master to move), the pod
// comes back as a replica with a regenerated sentinel.conf and the same
// myid, and an operator's SENTINEL RESET on each sentinel is followed by
// full rediscovery.
func TestBitnamiChartScripts(t *testing.T) {
	forEachTarget(t, testBitnamiChartScripts)
}

func testBitnamiChartScripts(t *testing.T, bin string) {
	rel := newBitnamiRelease(t, bin)
	phase := time.Now()
	for i := range rel.pods {
		rel.startPod(i)
	}
	d := rel.deployment()
	if rel.raft {
		if err := d.WaitGroupActive(d.Sentinels, 60*time.Second); err != nil {
			t.Fatal(err)
		}
		if err := harness.OneNewGroup(d.Sentinels); err != nil {
			t.Fatal(err)
		}
	}
	first := rel.pods[0].redis.Port()
	rel.waitSettled(first)
	t.Logf("release up and settled in %v", time.Since(phase).Round(time.Millisecond))

	t.Run("probes", func(t *testing.T) { rel.checkProbes(t) })
	t.Run("myid", func(t *testing.T) { rel.checkMyIDs(t) })
	t.Run("service-master", func(t *testing.T) { rel.checkServiceMaster(t, first) })
	t.Run("conf-master", func(t *testing.T) { rel.waitConfMaster(t, first) })
	t.Run("recovery-check", func(t *testing.T) {
		if out := rel.step(rel.pods[1], rel.pods[0].sentinelPort, "recovery-check").want(t, 0); out["s_down"] != "no" {
			t.Errorf("SENTINEL MASTER mentions s_down on a healthy master: %v", out)
		}
	})
	t.Run("prestop-replica", func(t *testing.T) {
		pod := rel.pods[1]
		for _, hook := range []string{"prestop-redis", "prestop-sentinel"} {
			if out := rel.step(pod, 0, hook).want(t, 0); out["is_master"] != "no" {
				t.Errorf("%s on replica pod %s: %v", hook, pod.name, out)
			}
		}
	})
	if t.Failed() {
		t.FailNow()
	}

	// Roll the master pod: kubelet runs the preStop hooks of its two
	// containers at the same time, sends SIGTERM as soon as both returned,
	// and the StatefulSet re-creates the pod at once.
	pod0 := rel.pods[0]
	start := time.Now()
	hooks := rel.preStop(pod0)
	redisHook, sentinelHook := hooks[0].want(t, 0), hooks[1].want(t, 0)
	if redisHook["is_master"] != "yes" || redisHook["pause"] != "OK" || redisHook["failover"] != "OK" || redisHook["result"] != "moved" {
		t.Fatalf("prestop-redis on the master pod: %v", redisHook)
	}
	// The sentinel's hook waits for the move, unless it asked only after
	// the failover was done.
	if sentinelHook["is_master"] != "no" && sentinelHook["result"] != "moved" {
		t.Fatalf("prestop-sentinel on the master pod: %v", sentinelHook)
	}
	t.Logf("preStop hooks of the master pod done in %v: master moved to %s; prestop-sentinel %v",
		time.Since(start).Round(time.Millisecond), redisHook["new_master"], sentinelHook)
	rel.stopPod(pod0)
	newMaster, err := d.WaitSwitched(first, switchDeadline)
	if err != nil {
		t.Fatal(err)
	}
	if redisHook["new_master"] != redistest.Addr(newMaster) {
		t.Fatalf("prestop-redis saw the master move to %s, the sentinels agree on %d", redisHook["new_master"], newMaster)
	}
	requireFailovers(t, d, 1, first, newMaster)

	// The re-created pod's start-node.sh and start-sentinel.sh ask the
	// Service, which now holds only the other two pods; its /tmp (and so
	// gosentinel's Raft state) is new, its myid the same.
	phase = time.Now()
	rel.startPod(0)
	d = rel.deployment()
	if rel.raft {
		if err := d.WaitGroupActive(d.Sentinels, 60*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	rel.waitSettled(newMaster)
	for _, s := range d.Sentinels {
		if epoch, err := harness.ConfigEpoch(s); err != nil || epoch != 1 {
			t.Fatalf("%s: config-epoch %d (%v) after one failover", s.Name(), epoch, err)
		}
	}
	t.Logf("pod re-created and release settled in %v", time.Since(phase).Round(time.Millisecond))
	t.Run("after-roll/probes", func(t *testing.T) { rel.checkProbes(t) })
	t.Run("after-roll/myid", func(t *testing.T) { rel.checkMyIDs(t) })
	t.Run("after-roll/service-master", func(t *testing.T) { rel.checkServiceMaster(t, newMaster) })
	t.Run("after-roll/conf-master", func(t *testing.T) { rel.waitConfMaster(t, newMaster) })
	if t.Failed() {
		t.FailNow()
	}

	// SENTINEL RESET on one sentinel at a time, each rediscovering every
	// replica and peer before the next.
	for _, pod := range rel.pods {
		phase = time.Now()
		if out := rel.step(pod, 0, "sentinel-reset").want(t, 0); out["reset"] != "1" {
			t.Fatalf("SENTINEL RESET on %s: %v", pod.name, out)
		}
		rel.waitSettled(newMaster)
		t.Logf("SENTINEL RESET on %s: rediscovered in %v", pod.name, time.Since(phase).Round(time.Millisecond))
	}
	if p, err := d.AgreedMasterPort(); err != nil || p != newMaster {
		t.Fatalf("after SENTINEL RESET the sentinels report %d (%v), want %d", p, err, newMaster)
	}
}

// bitnamiPod is one pod of the StatefulSet: its redis and sentinel
// containers share the pod's directory (mounted-etc and etc); tmp is the
// pod's /tmp, the sentinel's dir (where gosentinel keeps its Raft state),
// an emptyDir that a re-created pod gets afresh.
type bitnamiPod struct {
	name         string
	dir          string
	tmp          string
	sentinelPort int
	redis        *redistest.Redis
	sentinel     *redistest.Sentinel
}

// bitnamiRelease is the chart's StatefulSet on 127.0.0.1.
type bitnamiRelease struct {
	t   *testing.T
	bin string
	// raft: bin is gosentinel, whose Raft group the test waits for (not
	// the reference redis-sentinel).
	raft bool
	pods []*bitnamiPod
	// created is the highest pod index created so far: pods are created
	// in order, and a created pod's name resolves from then on.
	created int
}

func newBitnamiRelease(t *testing.T, bin string) *bitnamiRelease {
	t.Helper()
	t.Setenv("GOSENTINEL_SETTLE_MS", strconv.FormatInt(failoverSettle.Milliseconds(), 10))
	rel := &bitnamiRelease{t: t, bin: bin, raft: bin != redistest.ReferenceSentinelBin, created: -1}
	for i := range bitnamiPods {
		port, err := redistest.FreePort()
		if err != nil {
			t.Fatal(err)
		}
		rel.pods = append(rel.pods, &bitnamiPod{
			name: fmt.Sprintf("redis-node-%d", i), dir: t.TempDir(), sentinelPort: port,
		})
	}
	return rel
}

// running returns the pods whose sentinel runs: the Service's endpoints.
func (r *bitnamiRelease) running() []*bitnamiPod {
	var out []*bitnamiPod
	for _, p := range r.pods {
		if p.sentinel != nil && p.sentinel.Running() {
			out = append(out, p)
		}
	}
	return out
}

// podList is the fixture's PODS: the pods whose names resolve (the
// headless service publishes not-ready addresses, so a starting pod is
// one of them), as name:redisport:sentinelport.
func (r *bitnamiRelease) podList() string {
	var out []string
	for _, p := range r.pods[:r.created+1] {
		rport := 0
		if p.redis != nil {
			rport = p.redis.Port()
		}
		out = append(out, fmt.Sprintf("%s:%d:%d", p.name, rport, p.sentinelPort))
	}
	return strings.Join(out, " ")
}

// stepResult is one run of the fixture.
type stepResult struct {
	step   string
	pod    string
	exit   int
	stdout string
	stderr string
}

// want fails the test unless the step exited with code, and returns its
// key=value lines.
func (s stepResult) want(t *testing.T, code int) map[string]string {
	t.Helper()
	if s.exit != code {
		t.Fatalf("%s on %s exited %d, want %d\nstdout:\n%s\nstderr:\n%s", s.step, s.pod, s.exit, code, s.stdout, s.stderr)
	}
	return s.values()
}

func (s stepResult) values() map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(s.stdout, "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			out[k] = v
		}
	}
	return out
}

// step runs one chart step as pod (see runStep) and fails the test if the
// fixture could not run.
func (r *bitnamiRelease) step(pod *bitnamiPod, servicePort int, step string, args ...string) stepResult {
	r.t.Helper()
	res, err := r.runStep(pod, servicePort, nil, step, args...)
	if err != nil {
		r.t.Fatal(err)
	}
	return res
}

// runStep runs one chart step as pod, the Service sending it to the
// sentinel on servicePort (0: the first running sentinel of another pod,
// or none), with env overriding the release's variables. Only a step that
// could not run (or hung) is an error; its exit status is in the result.
func (r *bitnamiRelease) runStep(pod *bitnamiPod, servicePort int, env []string, step string, args ...string) (stepResult, error) {
	if servicePort == 0 {
		for _, p := range r.running() {
			if p != pod {
				servicePort = p.sentinelPort
				break
			}
		}
	}
	rport := 0
	if pod.redis != nil {
		rport = pod.redis.Port()
	}
	ctx, cancel := context.WithTimeout(r.t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", append([]string{bitnamiFixture, step}, args...)...)
	cmd.Env = append(os.Environ(),
		"REDIS_CLI="+redisCLIBin,
		"MASTER_SET="+harness.MasterName,
		"QUORUM=2",
		"DOWN_AFTER_MS="+strconv.FormatInt(bitnamiDownAfter.Milliseconds(), 10),
		"FAILOVER_TIMEOUT_MS="+strconv.FormatInt(bitnamiFailoverTimeout.Milliseconds(), 10),
		"PARALLEL_SYNCS=1",
		"REDIS_PASSWORD="+bitnamiPassword,
		"POD_NAME="+pod.name,
		"REDIS_PORT="+strconv.Itoa(rport),
		"REDIS_SENTINEL_PORT="+strconv.Itoa(pod.sentinelPort),
		"SERVICE_SENTINEL_PORT="+strconv.Itoa(servicePort),
		"PODS="+r.podList(),
		"SENTINEL_ETC="+filepath.Join(pod.dir, "etc"),
		"MOUNTED_ETC="+filepath.Join(pod.dir, "mounted-etc"),
		"USER_CONFIG="+bitnamiUserConfig,
		"POD_TMP="+pod.tmp,
		"REDISCLI_HISTFILE=/dev/null",
	)
	cmd.Env = append(cmd.Env, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := stepResult{step: step, pod: pod.name, stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		return res, fmt.Errorf("%s on %s did not finish: %v\nstdout:\n%s\nstderr:\n%s", step, pod.name, ctx.Err(), res.stdout, res.stderr)
	case err == nil:
	case errors.As(err, &ee):
		res.exit = ee.ExitCode()
	default:
		return res, fmt.Errorf("run %s %s: %w", bitnamiFixture, step, err)
	}
	return res, nil
}

// preStop runs the preStop hooks of pod's redis and sentinel containers
// concurrently, as kubelet does, and returns their results in that order.
func (r *bitnamiRelease) preStop(pod *bitnamiPod) [2]stepResult {
	r.t.Helper()
	var res [2]stepResult
	var errs [2]error
	var wg sync.WaitGroup
	for i, hook := range []string{"prestop-redis", "prestop-sentinel"} {
		wg.Go(func() { res[i], errs[i] = r.runStep(pod, 0, nil, hook) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			r.t.Fatal(err)
		}
	}
	return res
}

// startPod creates (or re-creates) pod i as the StatefulSet does: the
// redis container's start-node.sh decides master or --replicaof, the
// sentinel container's start-sentinel.sh writes sentinel.conf and execs
// the sentinel (`<bin> sentinel.conf --sentinel`), and the pod is ready
// once the readiness probe passes.
func (r *bitnamiRelease) startPod(i int) {
	t := r.t
	t.Helper()
	pod := r.pods[i]
	r.created = max(r.created, i)
	pod.tmp = t.TempDir()

	node := r.step(pod, 0, "start-node").want(t, 0)
	switch {
	case node["mode"] == "master" && pod.redis == nil:
		pod.redis = redistest.StartRedis(t, redistest.RedisOptions{Password: bitnamiPassword})
	case node["mode"] == "replica" && node["master_host"] == "127.0.0.1":
		master, err := strconv.Atoi(node["master_port"])
		if err != nil {
			t.Fatalf("start-node on %s: %v", pod.name, node)
		}
		pod.redis = r.startRedis(pod, master)
	default:
		t.Fatalf("start-node on %s: %v", pod.name, node)
	}

	if _, err := os.Stat(filepath.Join(pod.dir, "mounted-etc")); err != nil {
		r.step(pod, 0, "render-configmap").want(t, 0)
	}
	sen := r.step(pod, 0, "start-sentinel").want(t, 0)
	t.Logf("%s: redis %d (%s), sentinel %d monitoring %s:%s (from %s)", pod.name, pod.redis.Port(), node["mode"],
		pod.sentinelPort, sen["master_host"], sen["master_port"], sen["master_source"])
	p, err := redistest.StartProcess(t, redistest.ProcessSpec{
		Name: "sentinel-" + pod.name, Bin: r.bin, Args: []string{sen["conf"], "--sentinel"},
		Dir: filepath.Join(pod.dir, "etc"), Port: pod.sentinelPort,
	})
	if err != nil {
		t.Fatalf("start the sentinel of %s: %v", pod.name, err)
	}
	pod.sentinel = &redistest.Sentinel{Process: p, ConfigPath: sen["conf"], Opts: redistest.SentinelOptions{
		Bin: r.bin, MasterName: harness.MasterName, Quorum: 2, DownAfter: bitnamiDownAfter,
		FailoverTimeout: bitnamiFailoverTimeout, RequirePass: bitnamiPassword, AuthPass: bitnamiPassword,
	}}
	redistest.Poll(t, 30*time.Second, 100*time.Millisecond, func() error {
		res, err := r.runStep(pod, 0, nil, "ping-sentinel", "1")
		if err != nil {
			return redistest.Abort(err)
		}
		if res.exit != 0 {
			return fmt.Errorf("readiness probe of %s: %s", pod.name, res.stdout)
		}
		return nil
	})
}

// startRedis starts pod's redis-server again on its port as a replica of
// master, as start-node.sh does (`--replicaof host port`); the data dir is
// empty, like an emptyDir after the pod was re-created.
func (r *bitnamiRelease) startRedis(pod *bitnamiPod, master int) *redistest.Redis {
	t := r.t
	t.Helper()
	if pod.redis == nil {
		return redistest.StartRedis(t, redistest.RedisOptions{Password: bitnamiPassword, ReplicaOf: master})
	}
	port := pod.redis.Port()
	p, err := redistest.StartProcess(t, redistest.ProcessSpec{
		Name: fmt.Sprintf("redis-%d", port), Bin: redistest.RedisServerBin, Port: port,
		Args: []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
			"--daemonize", "no", "--repl-diskless-sync-delay", "0",
			"--requirepass", bitnamiPassword, "--masterauth", bitnamiPassword,
			"--replicaof", "127.0.0.1", strconv.Itoa(master)},
	})
	if err != nil {
		t.Fatalf("restart redis of %s: %v", pod.name, err)
	}
	return &redistest.Redis{Process: p, Opts: redistest.RedisOptions{Password: bitnamiPassword, ReplicaOf: master}}
}

// stopPod stops the pod's containers with SIGTERM, as kubelet does after
// the preStop hooks.
func (r *bitnamiRelease) stopPod(pod *bitnamiPod) {
	r.t.Helper()
	if err := pod.sentinel.Stop(redistest.StopTimeout); err != nil {
		r.t.Fatal(err)
	}
	if err := pod.redis.Stop(redistest.StopTimeout); err != nil {
		r.t.Fatal(err)
	}
}

// deployment is the release seen as a harness deployment (its current
// processes), for the failover test helpers.
func (r *bitnamiRelease) deployment() *harness.Deployment {
	d := &harness.Deployment{Opts: harness.Options{
		Bin: r.bin, Raft: true, Sentinels: len(r.pods), Replicas: len(r.pods) - 1, Quorum: 2,
		DownAfter: bitnamiDownAfter, FailoverTimeout: bitnamiFailoverTimeout, Secret: bitnamiPassword,
	}}
	for _, p := range r.pods {
		d.Nodes = append(d.Nodes, p.redis)
		d.Sentinels = append(d.Sentinels, p.sentinel)
	}
	return d
}

// waitSettled polls until every sentinel reports master (flags master)
// with every other node as a replica of it with an ok link, and every
// other sentinel as a peer.
func (r *bitnamiRelease) waitSettled(master int) {
	r.t.Helper()
	d := r.deployment()
	// The data nodes have a password, which checkRoles does not send: the
	// sentinels' views (roles, links and master from each node's INFO) are
	// checked instead.
	redistest.Poll(r.t, settleDeadline, 50*time.Millisecond, func() error {
		if err := checkSentinelViews(d, master); err != nil {
			return err
		}
		var replicas []int
		for _, n := range d.Nodes {
			if n.Port() != master {
				replicas = append(replicas, n.Port())
			}
		}
		for _, s := range d.Sentinels {
			var peers []int
			for _, o := range d.Sentinels {
				if o != s {
					peers = append(peers, o.Port())
				}
			}
			if err := s.CheckDiscovered(harness.MasterName, replicas, peers); err != nil {
				return err
			}
		}
		return nil
	})
}

// checkProbes runs ping_sentinel.sh on every pod: PONG with the password;
// without it the probe must fail (the sentinel demands AUTH).
func (r *bitnamiRelease) checkProbes(t *testing.T) {
	for _, pod := range r.pods {
		res, err := r.runStep(pod, 0, nil, "ping-sentinel", "1")
		if err != nil {
			t.Fatal(err)
		}
		if out := res.values(); res.exit != 0 || out["response"] != "PONG" || out["probe"] != "ok" {
			t.Errorf("readiness probe of %s exited %d: %v", pod.name, res.exit, out)
		}
		res, err = r.runStep(pod, 0, []string{"REDIS_PASSWORD=wrong-password"}, "ping-sentinel", "1")
		if err != nil {
			t.Fatal(err)
		}
		if out := res.values(); res.exit != 1 || out["probe"] != "failed" || !strings.HasPrefix(out["response"], "NOAUTH") {
			t.Errorf("probe of %s with a wrong password exited %d: %v", pod.name, res.exit, out)
		}
	}
}

// checkMyIDs checks that each sentinel took the myid start-sentinel.sh
// gave it (sha1 of the pod's host name): peers' known-sentinel lines and
// the Raft membership of a re-created pod rely on it.
func (r *bitnamiRelease) checkMyIDs(t *testing.T) {
	for _, pod := range r.pods {
		want := fmt.Sprintf("%x", sha1.Sum([]byte(pod.name+"\n")))
		got, err := pod.sentinel.MyID()
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("SENTINEL MYID of %s = %q, want sha1(%q) = %s", pod.name, got, pod.name, want)
		}
		conf, err := pod.sentinel.ReadConfig()
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(conf, "sentinel myid "+want); n != 1 {
			t.Errorf("%s's sentinel.conf has %d lines `sentinel myid %s`, want 1:\n%s", pod.name, n, want, conf)
		}
	}
}

// checkServiceMaster runs start-node.sh's lookup (the same redis-cli call
// as start-sentinel.sh's) for every pod against every other running
// sentinel behind the Service: each must name master. An unknown master
// set gets a null reply, which the scripts must see as an error.
func (r *bitnamiRelease) checkServiceMaster(t *testing.T, master int) {
	for _, pod := range r.pods {
		for _, svc := range r.running() {
			if svc == pod {
				continue
			}
			out := r.step(pod, svc.sentinelPort, "start-node").want(t, 0)
			if out["mode"] != "replica" || out["master_host"] != "127.0.0.1" || out["master_port"] != strconv.Itoa(master) {
				t.Errorf("start-node on %s via the sentinel of %s: %v, want a replica of %d", pod.name, svc.name, out, master)
			}
		}
	}
	res, err := r.runStep(r.pods[1], 0, []string{"MASTER_SET=nosuchmaster"}, "start-node")
	if err != nil {
		t.Fatal(err)
	}
	if out := res.values(); res.exit != 1 || out["error"] != "master-misconfigured" {
		t.Errorf("start-node for an unknown master set exited %d: %v", res.exit, out)
	}
}

// waitConfMaster polls every pod's sentinel.conf, as rewritten by its
// sentinel, until the redis container's awk on it finds exactly one
// monitor line naming master.
func (r *bitnamiRelease) waitConfMaster(t *testing.T, master int) {
	redistest.Poll(t, settleDeadline, 100*time.Millisecond, func() error {
		for _, pod := range r.pods {
			res, err := r.runStep(pod, 0, nil, "conf-master")
			if err != nil {
				return redistest.Abort(err)
			}
			out := res.values()
			if res.exit != 0 || out["conf_host"] != "127.0.0.1" || out["conf_port"] != strconv.Itoa(master) || out["monitor_lines"] != "1" {
				return fmt.Errorf("%s: awk on sentinel.conf gives %v (exit %d), want 127.0.0.1 %d on one line", pod.name, out, res.exit, master)
			}
		}
		return nil
	})
}
