package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/internal/redistest"
)

// The chart's names for a release "redis" in namespace "default"
// (replica.replicaCount=2, sentinel.masterSet=mymaster, quorum 2).
const (
	chartFullname  = "redis"
	chartHeadless  = "redis-headless.default.svc.cluster.local"
	chartService   = "redis.default.svc.cluster.local"
	chartMasterSet = "mymaster"
	chartReplicas  = 2
	chartPassword  = "s3cret-pw"
	passwordFile   = "/opt/bitnami/redis/secrets/redis-password"
)

// chartPod is one pod of the chart's StatefulSet: its redis data node runs
// on the host, its sentinel container in its own copy of the image's file
// tree (the chroot shares the host's network; every pod is 127.0.0.1, so
// ports differ per pod where the chart has 6379/26379 for all).
type chartPod struct {
	name         string // redis-node-<i>, the pod's HOSTNAME
	root         string
	redis        *redistest.Redis
	sentinelPort int
	env          []string
	log          string
}

func (p *chartPod) fqdn() string { return p.name + "." + chartHeadless }

// command runs argv inside the pod's file tree as uid/gid 1001, with the
// sentinel container's environment.
func (p *chartPod) command(ctx context.Context, extraEnv []string, argv ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = "/"
	cmd.Env = append(append([]string{}, p.env...), extraEnv...)
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Chroot:     p.root,
		Credential: &syscall.Credential{Uid: imageUID, Gid: imageUID},
		Pdeathsig:  syscall.SIGKILL,
	}
	return cmd
}

// run runs argv in the pod (bounded by timeout) and returns its stdout,
// stderr and exit status.
func (p *chartPod) run(timeout time.Duration, extraEnv []string, argv ...string) (stdout, stderr string, code int, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := p.command(ctx, extraEnv, argv...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		return out.String(), errOut.String(), exitErr.ExitCode(), nil
	}
	return out.String(), errOut.String(), 0, err
}

// startSentinel runs the container's command (bash -ec start-sentinel.sh,
// which execs redis-server ... --sentinel) and stops it at cleanup.
func (p *chartPod) startSentinel(t *testing.T) (exited <-chan struct{}) {
	t.Helper()
	p.log = filepath.Join(t.TempDir(), p.name+"-sentinel.log")
	logFile, err := os.Create(p.log)
	if err != nil {
		t.Fatal(err)
	}
	cmd := p.command(context.Background(), nil, "/bin/bash", "-ec", "/opt/bitnami/scripts/start-scripts/start-sentinel.sh")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	err = cmd.Start()
	logFile.Close()
	if err != nil {
		t.Fatalf("%s: start the sentinel container: %v", p.name, err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(redistest.StopTimeout):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			b, _ := os.ReadFile(p.log)
			t.Logf("---- %s sentinel container log ----\n%s", p.name, b)
		}
	})
	return done
}

// probe runs the chart's probe command until it passes: the startup probe.
func (p *chartPod) waitReady(t *testing.T, exited <-chan struct{}) {
	t.Helper()
	redistest.Poll(t, 45*time.Second, 250*time.Millisecond, func() error {
		select {
		case <-exited:
			b, _ := os.ReadFile(p.log)
			return redistest.Abort(fmt.Errorf("%s: the sentinel container exited:\n%s", p.name, b))
		default:
		}
		out, _, code, err := p.run(10*time.Second, nil, "/bin/bash", "-ec", "/health/ping_sentinel.sh 1")
		if err != nil || code != 0 {
			return fmt.Errorf("%s: ping_sentinel.sh: status %d, %v, stdout %q", p.name, code, err, out)
		}
		return nil
	})
}

// TestImageRunsChartSentinel runs the chart's sentinel container steps for
// two pods: pod 0 starts alone (the Service's sentinels do not answer, so
// the master is its own redis), pod 1 asks the Service (pod 0's sentinel)
// and gets the master; both pass the probe, answer GET-MASTER-ADDR-BY-NAME,
// rewrite their sentinel.conf in place with one monitor line the redis
// container can read, and pass or hold in preStop as the chart expects.
func TestImageRunsChartSentinel(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("this test runs the image's file tree under chroot as uid 1001 and must run as root")
	}
	img, err := openImage(builtImage(t))
	if err != nil {
		t.Fatal(err)
	}

	pods := make([]*chartPod, chartReplicas)
	for i := range pods {
		pods[i] = &chartPod{name: fmt.Sprintf("%s-node-%d", chartFullname, i), root: filepath.Join(t.TempDir(), "root")}
		if pods[i].sentinelPort, err = redistest.FreePort(); err != nil {
			t.Fatal(err)
		}
	}
	// The data nodes: pod 0's redis is the master, the others replicate it
	// and announce their pod names, as the chart's redis containers do.
	pods[0].redis = redistest.StartRedis(t, redistest.RedisOptions{Password: chartPassword})
	for _, p := range pods[1:] {
		p.redis = redistest.StartRedis(t, redistest.RedisOptions{
			Password:  chartPassword,
			ReplicaOf: pods[0].redis.Port(),
			Args:      []string{"--replica-announce-ip", p.fqdn()},
		})
	}

	// What Kubernetes gives every sentinel container: the image's PATH, the
	// chart's env, and service links (the Service's sentinel port is pod
	// 0's here: the one behind the Service once it is up).
	var common []string
	common = append(common, img.config.Config.Env...)
	common = append(common,
		"BITNAMI_DEBUG=false",
		"REDIS_PASSWORD_FILE="+passwordFile,
		"REDIS_SENTINEL_TLS_ENABLED=no",
		"CHART_REPLICA_COUNT="+strconv.Itoa(chartReplicas),
		"REDIS_SERVICE_PORT_SENTINEL="+strconv.Itoa(pods[0].sentinelPort),
	)
	hosts := "127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n127.0.0.1 " + chartService + "\n"
	for _, p := range pods {
		link := strings.ToUpper(strings.ReplaceAll(p.name, "-", "_")) + "_SERVICE_PORT_"
		common = append(common,
			link+"SENTINEL="+strconv.Itoa(p.sentinelPort),
			link+"REDIS="+strconv.Itoa(p.redis.Port()))
		hosts += fmt.Sprintf("127.0.0.1 %s %s\n", p.fqdn(), p.name)
	}
	for _, p := range pods {
		p.env = append(append([]string{}, common...),
			"HOSTNAME="+p.name,
			"POD_NAME="+p.name,
			"REDIS_SENTINEL_PORT="+strconv.Itoa(p.sentinelPort),
		)
		if err := img.unpackLayer(p.root); err != nil {
			t.Fatalf("unpack the layer for %s: %v", p.name, err)
		}
		mountChartFiles(t, p, hosts)
	}

	// Pod 0: nobody behind the Service yet, so two tries 5 s apart fail
	// and the master is this pod's redis.
	exited0 := pods[0].startSentinel(t)
	pods[0].waitReady(t, exited0)
	// Pod 1: the Service answers with pod 0's redis.
	exited1 := pods[1].startSentinel(t)
	pods[1].waitReady(t, exited1)

	wantMaster := pods[0].fqdn() + "\n" + strconv.Itoa(pods[0].redis.Port()) + "\n"
	auth := []string{"REDISCLI_AUTH=" + chartPassword}
	for _, p := range pods {
		out, errOut, code, err := p.run(10*time.Second, auth, "redis-cli", "-h", "localhost", "-p", strconv.Itoa(p.sentinelPort), "ping")
		if err != nil || code != 0 || out != "PONG\n" {
			t.Errorf("%s: redis-cli ping: stdout %q, stderr %q, status %d, %v", p.name, out, errOut, code, err)
		}
		out, errOut, code, err = p.run(10*time.Second, auth, "redis-cli", "-h", chartService, "-p", strconv.Itoa(p.sentinelPort),
			"sentinel", "get-master-addr-by-name", chartMasterSet)
		if err != nil || code != 0 || out != wantMaster {
			t.Errorf("%s: get-master-addr-by-name: stdout %q (want %q), stderr %q, status %d, %v", p.name, out, wantMaster, errOut, code, err)
		}
	}
	if b, _ := os.ReadFile(pods[1].log); !strings.Contains(string(b), fmt.Sprintf("printing REDIS_SENTINEL_INFO=(%s,%d)", pods[0].fqdn(), pods[0].redis.Port())) {
		t.Errorf("%s did not take the master from the Service's sentinels:\n%s", pods[1].name, b)
	}

	// The sentinel rewrites etc/sentinel.conf in place (the redis container
	// reads it): one monitor line, naming the master. Asked to: the file the
	// chart wrote holds the id and the known instances already, so, as
	// redis-sentinel, the sentinel has nothing to rewrite at its start.
	for _, p := range pods {
		conf := filepath.Join(p.root, "opt/bitnami/redis-sentinel/etc/sentinel.conf")
		if out, errOut, code, err := p.run(10*time.Second, auth, "redis-cli", "-h", "localhost", "-p", strconv.Itoa(p.sentinelPort), "sentinel", "flushconfig"); err != nil || code != 0 || out != "OK\n" {
			t.Errorf("%s: sentinel flushconfig: stdout %q, stderr %q, status %d, %v", p.name, out, errOut, code, err)
		}
		redistest.Poll(t, 30*time.Second, 200*time.Millisecond, func() error {
			b, err := os.ReadFile(conf)
			if err != nil {
				return err
			}
			if !strings.Contains(string(b), "# Generated by CONFIG REWRITE") {
				return fmt.Errorf("%s: sentinel.conf not rewritten yet:\n%s", p.name, b)
			}
			return nil
		})
		out, errOut, code, err := p.run(10*time.Second, nil, "/bin/bash", "-c", "awk '/monitor/ {print $4}' /opt/bitnami/redis-sentinel/etc/sentinel.conf")
		if err != nil || code != 0 || out != pods[0].fqdn()+"\n" {
			b, _ := os.ReadFile(conf)
			t.Errorf("%s: awk '/monitor/ {print $4}': %q (want %q), stderr %q, status %d, %v\n%s", p.name, out, pods[0].fqdn()+"\n", errOut, code, err, b)
		}
		fi, err := os.Stat(conf)
		if err != nil {
			t.Fatal(err)
		}
		if st := fi.Sys().(*syscall.Stat_t); st.Uid != imageUID {
			t.Errorf("%s: sentinel.conf owned by uid %d, want %d", p.name, st.Uid, imageUID)
		}
		b, _ := os.ReadFile(conf)
		logText, _ := os.ReadFile(p.log)
		t.Logf("---- %s: container log ----\n%s---- %s: etc/sentinel.conf ----\n%s", p.name, logText, p.name, b)
	}

	// preStop: pod 1 is not the master and stops at once; pod 0 is, and
	// nothing moves the master, so it waits grace-10 s and fails.
	out, errOut, code, err := pods[1].run(20*time.Second, nil, "/bin/bash", "-ec", "/opt/bitnami/scripts/start-scripts/prestop-sentinel.sh")
	if err != nil || code != 0 || !strings.Contains(out, "REDIS_MASTER_HOST: "+pods[0].fqdn()) {
		t.Errorf("%s preStop: status %d, %v, stdout %q, stderr %q; want 0 after reading the master", pods[1].name, code, err, out, errOut)
	}
	start := time.Now()
	out, errOut, code, err = pods[0].run(30*time.Second, []string{"CHART_TERMINATION_GRACE_SECONDS=12"},
		"/bin/bash", "-ec", "/opt/bitnami/scripts/start-scripts/prestop-sentinel.sh")
	if err != nil || code != 1 || !strings.Contains(out, "I am the master pod") || !strings.Contains(out, "Master failover failed") {
		t.Errorf("%s preStop: status %d, %v, stdout %q, stderr %q; want 1 after waiting for a failover", pods[0].name, code, err, out, errOut)
	}
	if d := time.Since(start); d < time.Second {
		t.Errorf("%s preStop gave up after %v: retry_while did not wait between its 2 tries", pods[0].name, d)
	}
}

// mountChartFiles writes what the chart mounts into the sentinel
// container: the start scripts and health ConfigMaps (testdata/chart), the
// sentinel.conf ConfigMap, the password Secret, and the /etc/hosts the
// kubelet writes (here with every pod's name).
func mountChartFiles(t *testing.T, p *chartPod, hosts string) {
	t.Helper()
	mounted := fmt.Sprintf(`dir "/tmp"
port %d
sentinel monitor %s %s 6379 2
sentinel down-after-milliseconds %s 60000
sentinel failover-timeout %s 180000
sentinel parallel-syncs %s 1
# User-supplied sentinel configuration:

# End of sentinel configuration
`, p.sentinelPort, chartMasterSet, fmt.Sprintf("%s-node-0.%s", chartFullname, chartHeadless), chartMasterSet, chartMasterSet, chartMasterSet)
	files := []struct {
		path string
		mode os.FileMode
		data []byte
	}{
		{"opt/bitnami/scripts/start-scripts/start-sentinel.sh", 0o755, readFixture(t, "start-sentinel.sh")},
		{"opt/bitnami/scripts/start-scripts/prestop-sentinel.sh", 0o755, readFixture(t, "prestop-sentinel.sh")},
		{"health/ping_sentinel.sh", 0o755, readFixture(t, "ping_sentinel.sh")},
		{"opt/bitnami/redis-sentinel/mounted-etc/sentinel.conf", 0o644, []byte(mounted)},
		{strings.TrimPrefix(passwordFile, "/"), 0o644, []byte(chartPassword)},
		{"etc/hosts", 0o644, []byte(hosts)},
	}
	for _, f := range files {
		name := filepath.Join(p.root, f.path)
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, f.data, f.mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(name, f.mode); err != nil {
			t.Fatal(err)
		}
	}
}

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "chart", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
