package test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/redis/go-redis/v9"

	"github.com/x0tta6bl4/gosentinel/internal/redistest"
)

// Passwords of the client tests: the sentinels have requirepass (and use it
// between themselves), the data nodes have their own.
const (
	clientSentinelPassword = "client-sentinel-pw"
	clientDataPassword     = "client-data-pw"
)

// Client executables; overridable for machines that keep them elsewhere.
var (
	python3Bin  = redistest.EnvOr("PYTHON3", "/usr/bin/python3") // Debian's, which has python3-redis
	redisCLIBin = redistest.RedisCLIBin
)

// clientDeployment is a master with one replica, both with requirepass,
// watched by three password-protected sentinels.
type clientDeployment struct {
	tp        *redistest.Topology
	sentinels []*redistest.Sentinel
}

func startClientDeployment(t *testing.T, bin string) *clientDeployment {
	t.Helper()
	tp := redistest.StartTopology(t, 1, redistest.RedisOptions{Password: clientDataPassword})
	ss := redistest.StartSentinels(t, 3, redistest.SentinelOptions{
		Bin: bin, MasterPort: tp.Master.Port(), Quorum: 2, DownAfter: 5 * time.Second,
		RequirePass: clientSentinelPassword, SentinelPass: clientSentinelPassword, AuthPass: clientDataPassword,
	})
	redistest.WaitDiscovered(t, ss, tp, 30*time.Second)
	return &clientDeployment{tp: tp, sentinels: ss}
}

func (d *clientDeployment) sentinelAddrs() []string {
	var out []string
	for _, s := range d.sentinels {
		out = append(out, s.Addr())
	}
	return out
}

// masterGet reads key directly from the master, proving that a client's
// write went there.
func (d *clientDeployment) masterGet(t *testing.T, key string) string {
	t.Helper()
	r, err := d.tp.Master.Dial(t).Do("GET", key)
	if err != nil {
		t.Fatal(err)
	}
	return r.Str
}

// TestClients drives real client libraries and tools against
// password-protected sentinels: go-redis v9 (always HELLO 3), redis-py 4.3.4
// (RESP2, SENTINEL MASTERS/SLAVES) and redis-cli (one-shot, -3, and an
// interactive session on a pty).
func TestClients(t *testing.T) {
	forEachTarget(t, func(t *testing.T, bin string) {
		d := startClientDeployment(t, bin)
		t.Run("go-redis/FailoverClient", func(t *testing.T) { testGoRedisFailoverClient(t, d) })
		t.Run("go-redis/SentinelClient", func(t *testing.T) { testGoRedisSentinelClient(t, d) })
		t.Run("redis-py", func(t *testing.T) { testRedisPy(t, d) })
		t.Run("redis-cli/one-shot", func(t *testing.T) { testRedisCLIOneShot(t, d) })
		t.Run("redis-cli/interactive", func(t *testing.T) { testRedisCLIInteractive(t, d) })
	})
}

func testGoRedisFailoverClient(t *testing.T, d *clientDeployment) {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	rdb := redis.NewFailoverClient(&redis.FailoverOptions{
		MasterName:       redistest.DefaultMasterName,
		SentinelAddrs:    d.sentinelAddrs(),
		SentinelPassword: clientSentinelPassword,
		Password:         clientDataPassword,
		DialTimeout:      5 * time.Second,
		MaxRetries:       2,
	})
	defer rdb.Close()
	if err := rdb.Set(ctx, "go-redis-key", "v1", 0).Err(); err != nil {
		t.Fatalf("SET through FailoverClient: %v", err)
	}
	got, err := rdb.Get(ctx, "go-redis-key").Result()
	if err != nil || got != "v1" {
		t.Fatalf("GET through FailoverClient = %q, %v", got, err)
	}
	if v := d.masterGet(t, "go-redis-key"); v != "v1" {
		t.Fatalf("the write did not reach the master: GET on master = %q", v)
	}
}

func testGoRedisSentinelClient(t *testing.T, d *clientDeployment) {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	sc := redis.NewSentinelClient(&redis.Options{
		Addr: d.sentinels[0].Addr(), Password: clientSentinelPassword, DialTimeout: 5 * time.Second,
	})
	defer sc.Close()

	addr, err := sc.GetMasterAddrByName(ctx, redistest.DefaultMasterName).Result()
	if err != nil || !slices.Equal(addr, []string{"127.0.0.1", strconv.Itoa(d.tp.Master.Port())}) {
		t.Fatalf("GetMasterAddrByName = %v, %v", addr, err)
	}
	peers, err := sc.Sentinels(ctx, redistest.DefaultMasterName).Result()
	if err != nil {
		t.Fatalf("Sentinels: %v", err)
	}
	var peerPorts []string
	for _, p := range peers {
		peerPorts = append(peerPorts, p["port"])
		if p["ip"] != "127.0.0.1" || len(p["runid"]) != 40 || p["flags"] != "sentinel" {
			t.Errorf("sentinel entry %v", p)
		}
	}
	wantPeers := []string{strconv.Itoa(d.sentinels[1].Port()), strconv.Itoa(d.sentinels[2].Port())}
	slices.Sort(peerPorts)
	slices.Sort(wantPeers)
	if !slices.Equal(peerPorts, wantPeers) {
		t.Fatalf("Sentinels ports = %v, want %v", peerPorts, wantPeers)
	}
	replicas, err := sc.Replicas(ctx, redistest.DefaultMasterName).Result()
	if err != nil {
		t.Fatalf("Replicas: %v", err)
	}
	if len(replicas) != 1 || replicas[0]["port"] != strconv.Itoa(d.tp.Replicas[0].Port()) || replicas[0]["flags"] != "slave" {
		t.Fatalf("Replicas = %v", replicas)
	}
}

// pyResult is what test/clients/sentinel_py.py prints.
type pyResult struct {
	Master   []any   `json:"master"`
	Replicas [][]any `json:"replicas"`
	Get      string  `json:"get"`
	Role     string  `json:"role"`
	RedisPy  string  `json:"redis_py"`
}

func testRedisPy(t *testing.T, d *clientDeployment) {
	var ports []int
	for _, s := range d.sentinels {
		ports = append(ports, s.Port())
	}
	cfg, _ := json.Marshal(map[string]any{
		"sentinel_ports": ports, "sentinel_password": clientSentinelPassword,
		"data_password": clientDataPassword, "master_name": redistest.DefaultMasterName,
		"key": "redis-py-key", "value": "v2",
	})
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, python3Bin, "clients/sentinel_py.py", string(cfg))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("sentinel_py.py: %v\nstdout: %s\nstderr: %s", err, out, stderr.String())
	}
	var res pyResult
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("sentinel_py.py output %q: %v", out, err)
	}
	t.Logf("redis-py %s: %s", res.RedisPy, strings.TrimSpace(string(out)))
	wantMaster := fmt.Sprint([]any{"127.0.0.1", float64(d.tp.Master.Port())})
	if fmt.Sprint(res.Master) != wantMaster {
		t.Errorf("discover_master = %v, want %v", res.Master, wantMaster)
	}
	wantReplicas := fmt.Sprint([][]any{{"127.0.0.1", float64(d.tp.Replicas[0].Port())}})
	if fmt.Sprint(res.Replicas) != wantReplicas {
		t.Errorf("discover_slaves = %v, want %v", res.Replicas, wantReplicas)
	}
	if res.Get != "v2" || res.Role != "master" {
		t.Errorf("master_for: get=%q role=%q", res.Get, res.Role)
	}
	if v := d.masterGet(t, "redis-py-key"); v != "v2" {
		t.Errorf("the write did not reach the master: GET on master = %q", v)
	}
}

// runCLI runs redis-cli with args (REDISCLI_AUTH set if auth) and returns
// its stdout.
func runCLI(t *testing.T, auth bool, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, redisCLIBin, args...)
	cmd.Env = append(os.Environ(), "REDISCLI_HISTFILE=/dev/null")
	if auth {
		cmd.Env = append(cmd.Env, "REDISCLI_AUTH="+clientSentinelPassword)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("redis-cli %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func testRedisCLIOneShot(t *testing.T, d *clientDeployment) {
	port := strconv.Itoa(d.sentinels[0].Port())
	want := fmt.Sprintf("127.0.0.1\n%d\n", d.tp.Master.Port())
	query := []string{"-h", "127.0.0.1", "-p", port, "SENTINEL", "get-master-addr-by-name", redistest.DefaultMasterName}
	if out := runCLI(t, true, query...); out != want {
		t.Errorf("redis-cli one-shot = %q, want %q", out, want)
	}
	if out := runCLI(t, true, append([]string{"-3"}, query...)...); out != want {
		t.Errorf("redis-cli -3 one-shot = %q, want %q", out, want)
	}
	if out := runCLI(t, true, "-h", "127.0.0.1", "-p", port, "SENTINEL", "get-master-addr-by-name", "nosuch"); out != "\n" && out != "" {
		t.Errorf("redis-cli unknown master = %q, want an empty answer", out)
	}
	if out := runCLI(t, false, query...); !strings.Contains(out, "NOAUTH Authentication required.") {
		t.Errorf("redis-cli without password = %q, want NOAUTH", out)
	}
}

func testRedisCLIInteractive(t *testing.T, d *clientDeployment) {
	cmd := exec.Command(redisCLIBin, "-h", "127.0.0.1", "-p", strconv.Itoa(d.sentinels[0].Port()))
	cmd.Env = append(os.Environ(), "REDISCLI_AUTH="+clientSentinelPassword, "REDISCLI_HISTFILE=/dev/null", "TERM=dumb")
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 160})
	if err != nil {
		t.Fatalf("start redis-cli on a pty: %v", err)
	}
	var out redistest.LogBuffer
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := tty.Read(buf)
			out.Write(buf[:n])
			if err != nil {
				return // EIO once redis-cli exits and the pty closes
			}
		}
	}()
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill() // by pid; harmless once it exited
		<-exited
		tty.Close()
	})

	prompt := fmt.Sprintf("127.0.0.1:%d>", d.sentinels[0].Port())
	redistest.Poll(t, 10*time.Second, 20*time.Millisecond, func() error {
		if !strings.Contains(out.String(), prompt) {
			return fmt.Errorf("no prompt %q yet; screen: %q", prompt, out.String())
		}
		return nil
	})
	if _, err := tty.Write([]byte("SENTINEL get-master-addr-by-name mymaster\r")); err != nil {
		t.Fatal(err)
	}
	want := []string{`1) "127.0.0.1"`, fmt.Sprintf(`2) "%d"`, d.tp.Master.Port())}
	redistest.Poll(t, 10*time.Second, 20*time.Millisecond, func() error {
		screen := out.String()
		for _, w := range want {
			if !strings.Contains(screen, w) {
				return fmt.Errorf("screen lacks %q: %q", w, screen)
			}
		}
		return nil
	})
	if _, err := tty.Write([]byte("quit\r")); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		t.Fatalf("redis-cli did not exit after quit; screen: %q", out.String())
	}
}
