package tests

import (
	"crypto/sha1"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/x0tta6bl4/gosentinel/config"
	"github.com/x0tta6bl4/gosentinel/internal/redistest"
)

// scriptEnv is the environment the StatefulSet gives both containers, with
// the paths moved into dir and stubs first on PATH.
type scriptEnv struct {
	dir, confDir, dataDir, tmpDir, stubs string
	vars                                 map[string]string
}

const fqdnSuffix = ".redis-headless.x0tta6bl4.svc.cluster.local"

func newScriptEnv(t *testing.T, hostname string) *scriptEnv {
	t.Helper()
	dir := t.TempDir()
	e := &scriptEnv{dir: dir, confDir: filepath.Join(dir, "etc"), dataDir: filepath.Join(dir, "data"),
		tmpDir: filepath.Join(dir, "tmp"), stubs: filepath.Join(dir, "bin")}
	for _, d := range []string{e.confDir, e.dataDir, e.tmpDir, e.stubs} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	e.vars = map[string]string{
		"HOSTNAME": hostname, "NAMESPACE": namespace, "STATEFULSET_NAME": statefulSet, "REPLICAS": "3",
		"HEADLESS_SERVICE": headless, "CLIENT_SERVICE": clientService, "CLUSTER_DOMAIN": "cluster.local",
		"MASTER_SET": masterSet, "QUORUM": "2", "DOWN_AFTER_MS": "5000", "FAILOVER_TIMEOUT_MS": "60000",
		"PARALLEL_SYNCS": "1", "REDIS_PORT_NUMBER": "6379", "SENTINEL_PORT": "26379", "METRICS_PORT": "9355",
		"SENTINEL_CONF_DIR": e.confDir, "REDIS_DATA_DIR": e.dataDir, "REDIS_TMP_DIR": e.tmpDir,
		"REDIS_PASSWORD": `pa"ss\word`, "REDISCLI_AUTH": `pa"ss\word`, "SENTINEL_QUERY_ATTEMPTS": "1",
		"PATH": e.stubs + ":" + os.Getenv("PATH"),
	}
	// The server the script execs is replaced by a stub that records its
	// arguments; the generated file is checked by the real parsers below.
	for _, name := range []string{"redis-server", "gosentinel"} {
		e.stub(t, name, `printf '%s\n' "$@" > "$0.args"`)
	}
	return e
}

func (e *scriptEnv) stub(t *testing.T, name, body string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(e.stubs, name), []byte("#!/bin/bash\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
}

// sentinelsAnswer makes redis-cli answer as the client Service's sentinels
// would: reply printed with exit status 0, or unreachable (exit 1) if reply
// is empty.
func (e *scriptEnv) sentinelsAnswer(t *testing.T, reply string) {
	t.Helper()
	if reply == "" {
		e.stub(t, "redis-cli", `echo "Could not connect to Redis" >&2; exit 1`)
		return
	}
	e.stub(t, "redis-cli", `[[ "$*" == *"sentinel get-master-addr-by-name mymaster"* ]] || exit 3; printf '%s\n' '`+strings.ReplaceAll(reply, "\n", "' '")+`'`)
}

func (e *scriptEnv) run(t *testing.T, script string) {
	t.Helper()
	cmd := exec.Command("/bin/bash", filepath.Join(deployDir(t), "kustomize", "base", "scripts", script))
	for k, v := range e.vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", script, err, out)
	}
	t.Logf("%s:\n%s", script, out)
}

func (e *scriptEnv) execArgs(t *testing.T, name string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(e.stubs, name+".args"))
	if err != nil {
		t.Fatalf("%s was not executed: %v", name, err)
	}
	return strings.Fields(string(b))
}

// TestStartScripts runs start-node.sh and start-sentinel.sh for each way a
// pod finds its master, then loads the sentinel.conf with gosentinel's own
// parser and starts the real redis-server with the generated redis.conf.
func TestStartScripts(t *testing.T) {
	node1 := "redis-node-1" + fqdnSuffix
	cases := []struct {
		name, hostname, reply, prevConf string
		wantMaster                      string
	}{
		{name: "the sentinels name another pod", hostname: "redis-node-0", reply: node1 + "\n6379", wantMaster: node1},
		{name: "the sentinels name this pod", hostname: "redis-node-1", reply: node1 + "\n6379", wantMaster: node1},
		{name: "no sentinel answers: the last master in sentinel.conf", hostname: "redis-node-0",
			prevConf: "sentinel monitor mymaster redis-node-2" + fqdnSuffix + " 6379 2\n", wantMaster: "redis-node-2" + fqdnSuffix},
		{name: "sentinels answer with an error and no sentinel.conf: pod 0", hostname: "redis-node-2",
			reply: "ERR No such master with that name", wantMaster: "redis-node-0" + fqdnSuffix},
		{name: "fresh set, pod 0 itself", hostname: "redis-node-0", wantMaster: "redis-node-0" + fqdnSuffix},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newScriptEnv(t, tc.hostname)
			e.sentinelsAnswer(t, tc.reply)
			if tc.prevConf != "" {
				if err := os.WriteFile(filepath.Join(e.confDir, "sentinel.conf"), []byte(tc.prevConf), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			own := tc.hostname + fqdnSuffix

			e.run(t, "start-sentinel.sh")
			conf := filepath.Join(e.confDir, "sentinel.conf")
			if args := e.execArgs(t, "gosentinel"); len(args) != 1 || args[0] != conf {
				t.Errorf("gosentinel exec'd with %v, want [%s]", args, conf)
			}
			cfg, err := config.Load(conf, nil)
			if err != nil {
				b, _ := os.ReadFile(conf)
				t.Fatalf("gosentinel cannot load the generated sentinel.conf: %v\n%s", err, b)
			}
			if len(cfg.Masters) != 1 || cfg.Masters[0].Name != masterSet || cfg.Masters[0].Host != tc.wantMaster ||
				cfg.Masters[0].Port != redisPort || cfg.Masters[0].Quorum != 2 || cfg.Masters[0].AuthPass != e.vars["REDIS_PASSWORD"] {
				t.Errorf("monitored master = %+v, want %s %s:%d quorum 2 with the password", cfg.Masters[0], masterSet, tc.wantMaster, redisPort)
			}
			if cfg.RequirePass != e.vars["REDIS_PASSWORD"] || cfg.Port != sentinelPort || cfg.ClusterSize != 3 ||
				cfg.MetricsAddr != ":9355" || cfg.AnnounceIP != own || !cfg.ResolveHostnames || !cfg.AnnounceHostnames || len(cfg.MyID) != 40 {
				t.Errorf("sentinel settings: requirepass %q port %d cluster-size %d metrics-addr %q announce-ip %q resolve %v announce-hostnames %v myid %q",
					cfg.RequirePass, cfg.Port, cfg.ClusterSize, cfg.MetricsAddr, cfg.AnnounceIP, cfg.ResolveHostnames, cfg.AnnounceHostnames, cfg.MyID)
			}

			// The Bitnami chart's start-sentinel.sh: host_id() { echo "$1" |
			// openssl sha1 ...}, the name and a newline. Same ids as the
			// chart's for the same pod names, so a pod keeps its run id.
			if want := chartHostID(tc.hostname); cfg.MyID != want {
				t.Errorf("myid %s, want the chart's sha1(%q + newline) %s", cfg.MyID, tc.hostname, want)
			}
			for _, ks := range cfg.Masters[0].KnownSentinels {
				pod, _, _ := strings.Cut(ks.Addr.Host, ".")
				if want := chartHostID(pod); ks.RunID != want {
					t.Errorf("known-sentinel %s has id %s, want the chart's %s", ks.Addr.Host, ks.RunID, want)
				}
			}

			e.run(t, "start-node.sh")
			redisConf := filepath.Join(e.tmpDir, "redis.conf")
			if args := e.execArgs(t, "redis-server"); len(args) != 1 || args[0] != redisConf {
				t.Errorf("redis-server exec'd with %v, want [%s]", args, redisConf)
			}
			b, err := os.ReadFile(redisConf)
			if err != nil {
				t.Fatal(err)
			}
			wantReplicaOf := "replicaof " + tc.wantMaster + " 6379"
			if isMaster := tc.wantMaster == own; isMaster == strings.Contains(string(b), wantReplicaOf) || (isMaster && strings.Contains(string(b), "replicaof")) {
				t.Errorf("redis.conf for %s with master %s:\n%s", own, tc.wantMaster, b)
			}
			checkRedisConf(t, redisConf, e.vars["REDIS_PASSWORD"], tc.wantMaster == own)
		})
	}
}

// checkRedisConf starts the real redis-server (7.0, as the manifests' image)
// with the generated file on a free port and checks the password and role.
func checkRedisConf(t *testing.T, path, password string, master bool) {
	t.Helper()
	port, err := redistest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	p, err := redistest.StartProcess(t, redistest.ProcessSpec{Name: "redis-from-start-node", Bin: "redis-server",
		Args: []string{path, "--port", strconv.Itoa(port)}, Port: port})
	if err != nil {
		t.Fatalf("redis-server does not start with the generated redis.conf: %v", err)
	}
	c := redistest.MustDial(t, p.Addr())
	if r, err := c.Do("PING"); err != nil || !strings.HasPrefix(r.Str, "NOAUTH") {
		t.Errorf("PING without the password = %v, %v; want NOAUTH", r, err)
	}
	if _, err := c.DoOK("AUTH", password); err != nil {
		t.Fatalf("AUTH with the Secret's password: %v", err)
	}
	r, err := c.Do("ROLE")
	if err != nil || len(r.Elems) == 0 {
		t.Fatalf("ROLE: %v %v", r, err)
	}
	want := "slave"
	if master {
		want = "master"
	}
	if got := r.Elems[0].Str; got != want {
		t.Errorf("ROLE = %s, want %s", got, want)
	}
}

// TestPrestopRedisWaitsOutABusyMaster: prestop-redis.sh keeps the redis
// container up while its node is the master. A node too busy to answer ROLE
// within 2 s (a slow command, a fork) is still that master; the script took
// the empty answer for a replica and let the container stop under the
// sentinel's switchover.
func TestPrestopRedisWaitsOutABusyMaster(t *testing.T) {
	e := newScriptEnv(t, statefulSet+"-0")
	e.vars["PRESTOP_WAIT_SECONDS"] = "10"
	calls := filepath.Join(e.dir, "calls")
	// The first ROLE hangs past the script's 2 s timeout; the next answer
	// that the node is a replica now.
	e.stub(t, "redis-cli", `echo x >> `+calls+`; n=$(wc -l < `+calls+`); if ((n == 1)); then exec sleep 30; fi; printf 'slave\n127.0.0.2\n6379\nconnected\n0\n'`)
	e.run(t, "prestop-redis.sh")
	b, err := os.ReadFile(calls)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), "x"); n < 2 {
		t.Fatalf("ROLE asked %d time(s): the script stopped at the busy node's silence", n)
	}
}

// chartHostID is the Bitnami chart's sentinel id of a pod: the sha1 of
// `echo "$hostname"`, the trailing newline included.
func chartHostID(hostname string) string {
	sum := sha1.Sum([]byte(hostname + "\n"))
	return hex.EncodeToString(sum[:])
}
