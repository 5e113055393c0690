package test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/x0tta6bl4/gosentinel/bench/harness"
	"github.com/x0tta6bl4/gosentinel/internal/redistest"
)

// tlsDeadline bounds each wait of the TLS system test.
const tlsDeadline = 60 * time.Second

// TestTLSEverywhere (issue 10): TLS-only Redis nodes (`--port 0 --tls-port`, tls-replication,
// client certificates required) watched by three TLS-only gosentinels, one of them started
// with the Bitnami chart's TLS arguments on its command line. The group forms over TLS peer
// links, redis-cli, go-redis, redis-py and ioredis reach the sentinels with TLS, a client
// without a certificate and a plain-text client are refused, gosentinel's own health and
// prestop subcommands work with redis-cli's TLS options (prestop hands the master over), and
// a SIGKILL of the master is failed over, end to end with TLS everywhere.
func TestTLSEverywhere(t *testing.T) {
	bin := candidateBin(t)
	f := redistest.NewTLSFiles(t)
	tp := redistest.StartTopology(t, 2, redistest.RedisOptions{TLS: f})
	tp.WaitReplicasOnline(t, tlsDeadline)
	so := redistest.SentinelOptions{
		Bin: bin, MasterPort: tp.Master.Port(), Quorum: 2,
		DownAfter: time.Second, FailoverTimeout: 10 * time.Second, TLS: f,
	}
	chart := so
	chart.TLSOnCommandLine, chart.Args = true, []string{"--sentinel"}
	ss := []*redistest.Sentinel{redistest.StartSentinel(t, so), redistest.StartSentinel(t, so), redistest.StartSentinel(t, chart)}
	d := &harness.Deployment{Opts: harness.Options{Bin: bin, Raft: true}, Topology: tp, Sentinels: ss}
	d.Nodes = append([]*redistest.Redis{tp.Master}, tp.Replicas...)
	redistest.WaitDiscovered(t, ss, tp, tlsDeadline)
	if err := d.WaitGroupActive(ss, tlsDeadline); err != nil {
		t.Fatal(err)
	}
	if err := harness.OneNewGroup(ss); err != nil {
		t.Fatal(err)
	}
	for _, s := range ss {
		// The sentinels announce their TLS port (tls-replication, as sentinelSendHello).
		peers, err := s.Sentinels(harness.MasterName)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range peers {
			if !slicesContainsPort(ss, p["port"]) {
				t.Fatalf("%s lists a sentinel at port %s, not one of the TLS ports", s.Name(), p["port"])
			}
		}
	}

	t.Run("plain text refused", func(t *testing.T) {
		c, err := redistest.Dial(ss[0].Addr(), time.Second)
		if err != nil {
			return // nothing listens in plain text: refused
		}
		defer c.Close()
		c.Timeout = 2 * time.Second
		if r, err := c.Do("PING"); err == nil {
			t.Fatalf("a plain-text PING on the TLS port answered %s", r)
		}
	})
	t.Run("no client certificate refused", func(t *testing.T) {
		noCert, err := f.ClientConfig("", "")
		if err != nil {
			t.Fatal(err)
		}
		c, err := redistest.DialTLS(ss[0].Addr(), noCert, 2*time.Second)
		if err == nil {
			defer c.Close()
			// TLS 1.3: the refusal arrives on the first read.
			if r, err := c.Do("PING"); err == nil {
				t.Fatalf("a client without a certificate got %s under tls-auth-clients yes", r)
			}
		}
		other := redistest.NewTLSFiles(t)
		c, err = redistest.DialTLS(ss[0].Addr(), other.Client, 2*time.Second)
		if err == nil {
			defer c.Close()
			if r, err := c.Do("PING"); err == nil {
				t.Fatalf("a client with another CA's certificate got %s", r)
			}
		}
	})
	t.Run("redis-cli", func(t *testing.T) {
		for _, s := range ss {
			out := redisCLITLS(t, f, s.Port(), "SENTINEL", "GET-MASTER-ADDR-BY-NAME", harness.MasterName)
			if want := "127.0.0.1\n" + strconv.Itoa(tp.Master.Port()) + "\n"; out != want {
				t.Fatalf("redis-cli --tls to %s: %q, want %q", s.Name(), out, want)
			}
		}
		cmd := exec.Command(redisCLIBin, "--tls", "--cacert", f.CACert, "-h", "127.0.0.1", "-p", strconv.Itoa(ss[0].Port()), "PING")
		if out, err := cmd.CombinedOutput(); err == nil && strings.Contains(string(out), "PONG") {
			t.Fatalf("redis-cli --tls without --cert got %q", out)
		}
	})
	t.Run("go-redis", func(t *testing.T) {
		c := redis.NewFailoverClient(&redis.FailoverOptions{
			MasterName: harness.MasterName, SentinelAddrs: d.SentinelAddrs(),
			TLSConfig: f.Client.Clone(), DialTimeout: 2 * time.Second,
		})
		defer c.Close()
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		defer cancel()
		// Fencing's min-replicas-to-write refuses writes (NOREPLICAS) while a replica lags
		// more than a second, which a loaded machine sees: a client retries.
		redistest.Poll(t, 20*time.Second, 100*time.Millisecond, func() error {
			return c.Set(ctx, "tls-go-redis", "v", 0).Err()
		})
		if v, err := c.Get(ctx, "tls-go-redis").Result(); err != nil || v != "v" {
			t.Fatalf("GET: %q, %v", v, err)
		}
	})
	t.Run("redis-py", func(t *testing.T) {
		script := `
import json, sys, time
from redis.sentinel import Sentinel
c = json.loads(sys.argv[1])
tls = dict(ssl=True, ssl_ca_certs=c["ca"], ssl_certfile=c["cert"], ssl_keyfile=c["key"])
s = Sentinel([("127.0.0.1", p) for p in c["ports"]], sentinel_kwargs=dict(tls), socket_timeout=5, **tls)
m = s.master_for(c["name"], socket_timeout=5)
for attempt in range(100):  # NOREPLICAS while a replica lags (fencing): retry
    try:
        m.set("tls-redis-py", "v")
        break
    except Exception as e:
        if "NOREPLICAS" not in str(e) or attempt == 99:
            raise
        time.sleep(0.2)
print(json.dumps({"master": list(s.discover_master(c["name"])), "value": m.get("tls-redis-py").decode()}))
`
		out := runClientScript(t, exec.Command(python3Bin, "-c", script, tlsClientJSON(t, f, ss)))
		var res struct {
			Master []any  `json:"master"`
			Value  string `json:"value"`
		}
		if err := json.Unmarshal(out, &res); err != nil || res.Value != "v" || len(res.Master) != 2 || fmt.Sprint(res.Master[1]) != strconv.Itoa(tp.Master.Port()) {
			t.Fatalf("redis-py: %s (%v)", out, err)
		}
	})
	t.Run("ioredis", func(t *testing.T) {
		ensureIORedisModules(t)
		script := `
const Redis = require("ioredis");
const fs = require("fs");
const c = JSON.parse(process.argv[1]);
const tls = { ca: fs.readFileSync(c.ca), cert: fs.readFileSync(c.cert), key: fs.readFileSync(c.key) };
const r = new Redis({
  sentinels: c.ports.map((port) => ({ host: "127.0.0.1", port })), name: c.name,
  sentinelTLS: tls, tls, enableTLSForSentinelMode: true, maxRetriesPerRequest: 3,
});
(async () => {
  for (let attempt = 0; ; attempt++) {
    // NOREPLICAS while a replica lags (fencing): retry.
    try { await r.set("tls-ioredis", "v"); break; } catch (e) {
      if (!String(e).includes("NOREPLICAS") || attempt >= 99) throw e;
      await new Promise((res) => setTimeout(res, 200));
    }
  }
  const v = await r.get("tls-ioredis");
  console.log(JSON.stringify({ value: v, port: r.options.port }));
  r.disconnect();
})().catch((e) => { console.error(e); process.exit(1); });
`
		cmd := exec.Command(nodeBin, "-e", script, tlsClientJSON(t, f, ss))
		cmd.Dir = ioredisDir
		out := runClientScript(t, cmd)
		var res struct {
			Value string `json:"value"`
		}
		if err := json.Unmarshal(out, &res); err != nil || res.Value != "v" {
			t.Fatalf("ioredis: %s (%v)", out, err)
		}
	})
	tlsArgs := []string{"--tls", "--cacert", f.CACert, "--cert", f.Cert, "--key", f.Key}
	t.Run("gosentinel health", func(t *testing.T) {
		// 10 s, not the probe's 1 s default: a loaded machine took longer for the handshake.
		args := append([]string{"health", "-p", strconv.Itoa(ss[0].Port()), "--timeout", "10s"}, tlsArgs...)
		if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
			t.Fatalf("health --tls: %v\n%s", err, out)
		}
		args = []string{"health", "-p", strconv.Itoa(ss[0].Port()), "--timeout", "10s", "--tls", "--cacert", f.CACert}
		if out, err := exec.Command(bin, args...).CombinedOutput(); err == nil {
			t.Fatalf("health --tls without a client certificate passed:\n%s", out)
		}
	})
	t.Run("gosentinel prestop", func(t *testing.T) {
		old := tp.Master.Port()
		args := append([]string{"prestop", "-p", strconv.Itoa(ss[1].Port()), "--redis", tp.Master.Addr(), "--timeout", "60s"}, tlsArgs...)
		if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
			t.Fatalf("prestop --tls: %v\n%s", err, out)
		}
		if _, err := d.WaitSwitched(old, tlsDeadline); err != nil {
			t.Fatal(err)
		}
		waitFailoverEnd(t, d, 1)
	})
	t.Run("failover", func(t *testing.T) {
		cur, err := d.AgreedMasterPort()
		if err != nil {
			t.Fatal(err)
		}
		old := d.Node(cur)
		if err := old.Kill(); err != nil {
			t.Fatal(err)
		}
		newMaster, err := d.WaitSwitched(old.Port(), tlsDeadline)
		if err != nil {
			t.Fatal(err)
		}
		waitFailoverEnd(t, d, 2)
		n := d.Node(newMaster)
		redistest.Poll(t, tlsDeadline, 50*time.Millisecond, func() error {
			info, err := n.Info("replication")
			if err != nil {
				return err
			}
			if info["role"] != "master" || info["connected_slaves"] != "1" {
				return fmt.Errorf("new master %d: role %s, %s replicas", newMaster, info["role"], info["connected_slaves"])
			}
			return nil
		})
		out := redisCLITLS(t, f, ss[2].Port(), "SENTINEL", "GET-MASTER-ADDR-BY-NAME", harness.MasterName)
		if want := "127.0.0.1\n" + strconv.Itoa(newMaster) + "\n"; out != want {
			t.Fatalf("after the failover: %q, want %q", out, want)
		}
	})
}

// TestTLSUnsupportedSettingFailsAtStart: a setting Go's TLS cannot honour stops the start
// with exit 1 and redis' fatal config block naming the line, never a silent plain-text port.
func TestTLSUnsupportedSettingFailsAtStart(t *testing.T) {
	bin := candidateBin(t)
	f := redistest.NewTLSFiles(t)
	dir := t.TempDir()
	for _, c := range []struct {
		line, want string
	}{
		{"tls-ciphers DEFAULT:!MEDIUM", "tls-ciphers takes"},
		{"tls-dh-params-file " + filepath.Join(dir, "dh.pem"), "no DHE cipher suites"},
		{"tls-protocols \"TLSv1 TLSv1.3\"", "leaves out TLSv1.1"},
	} {
		conf := filepath.Join(dir, "sentinel.conf")
		text := strings.Join([]string{
			"port 0", "tls-port " + strconv.Itoa(freePort(t)), "tls-cert-file " + f.Cert, "tls-key-file " + f.Key,
			"tls-ca-cert-file " + f.CACert, c.line,
		}, "\n") + "\n"
		if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		cmd := exec.CommandContext(ctx, bin, conf)
		out, err := cmd.CombinedOutput()
		cancel()
		ee, ok := err.(*exec.ExitError)
		if !ok || ee.ExitCode() != 1 {
			t.Fatalf("%s: exit %v, want 1\n%s", c.line, err, out)
		}
		if !strings.Contains(string(out), "Reading the configuration file, at line 6") || !strings.Contains(string(out), c.want) {
			t.Fatalf("%s: output does not name line 6 and %q:\n%s", c.line, c.want, out)
		}
	}
}

func freePort(t *testing.T) int {
	p, err := redistest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func slicesContainsPort(ss []*redistest.Sentinel, port string) bool {
	for _, s := range ss {
		if strconv.Itoa(s.Port()) == port {
			return true
		}
	}
	return false
}

// redisCLITLS runs Debian's redis-cli with --tls and the test certificate and returns its
// output.
func redisCLITLS(t *testing.T, f *redistest.TLSFiles, port int, args ...string) string {
	t.Helper()
	argv := append([]string{"--tls", "--cacert", f.CACert, "--cert", f.Cert, "--key", f.Key, "-h", "127.0.0.1", "-p", strconv.Itoa(port)}, args...)
	out, err := exec.Command(redisCLIBin, argv...).CombinedOutput()
	if err != nil {
		t.Fatalf("redis-cli %v: %v\n%s", argv, err, out)
	}
	return string(out)
}

func tlsClientJSON(t *testing.T, f *redistest.TLSFiles, ss []*redistest.Sentinel) string {
	var ports []int
	for _, s := range ss {
		ports = append(ports, s.Port())
	}
	b, err := json.Marshal(map[string]any{"ports": ports, "name": harness.MasterName, "ca": f.CACert, "cert": f.Cert, "key": f.Key})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// runClientScript runs a client script (bounded by a minute) and returns its stdout.
func runClientScript(t *testing.T, cmd *exec.Cmd) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	c := exec.CommandContext(ctx, cmd.Path, cmd.Args[1:]...)
	c.Dir = cmd.Dir
	var stderr bytes.Buffer
	c.Stderr = &stderr
	out, err := c.Output()
	if err != nil {
		t.Fatalf("%s: %v\nstdout: %s\nstderr: %s", filepath.Base(cmd.Path), err, out, stderr.String())
	}
	return out
}

// TestTLSBesidePlainPort: with both port and tls-port, plain text is served on port and TLS
// on tls-port, tls-auth-clients optional serves a TLS client without a certificate there but
// refuses one whose certificate another CA signed, and certificate files replaced on disk are
// served without a restart.
func TestTLSBesidePlainPort(t *testing.T) {
	f := redistest.NewTLSFiles(t)
	tlsPort := freePort(t)
	s := redistest.StartSentinel(t, redistest.SentinelOptions{
		Bin: candidateBin(t),
		Extra: []string{
			"tls-port " + strconv.Itoa(tlsPort), "tls-cert-file " + f.Cert, "tls-key-file " + f.Key,
			"tls-ca-cert-file " + f.CACert, "tls-auth-clients optional",
		},
	})
	if r, err := s.Do("PING"); err != nil || r.Str != "PONG" {
		t.Fatalf("plain PING on port %d: %v, %v", s.Port(), r, err)
	}
	tlsAddr := "127.0.0.1:" + strconv.Itoa(tlsPort)
	noCert, err := f.ClientConfig("", "")
	if err != nil {
		t.Fatal(err)
	}
	c, err := redistest.DialTLS(tlsAddr, noCert, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if r, err := c.Do("PING"); err != nil || r.Str != "PONG" {
		t.Fatalf("TLS PING without a certificate under optional: %v, %v", r, err)
	}
	other := redistest.NewTLSFiles(t)
	foreign, err := f.ClientConfig(other.Cert, other.Key)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := redistest.DialTLS(tlsAddr, foreign, 5*time.Second); err == nil {
		defer c.Close()
		if r, err := c.Do("PING"); err == nil {
			t.Fatalf("a certificate from another CA got %s under optional", r)
		}
	}
	if c, err := redistest.Dial(tlsAddr, time.Second); err == nil {
		defer c.Close()
		c.Timeout = 2 * time.Second
		if r, err := c.Do("PING"); err == nil {
			t.Fatalf("plain text on the TLS port answered %s", r)
		}
	}

	// Certificate rotation: files replaced in place (as Kubernetes updates a Secret) are
	// served to new connections without a restart.
	cert, key, err := f.Issue("rotated", 77)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range [][2]string{{cert, f.Cert}, {key, f.Key}} {
		b, err := os.ReadFile(p[0])
		if err == nil {
			err = os.WriteFile(p[1], b, 0o600)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	redistest.Poll(t, 10*time.Second, 100*time.Millisecond, func() error {
		tc, err := tls.Dial("tcp", tlsAddr, f.Client)
		if err != nil {
			return err
		}
		defer tc.Close()
		if got := tc.ConnectionState().PeerCertificates[0].SerialNumber.Int64(); got != 77 {
			return fmt.Errorf("still serving certificate serial %d", got)
		}
		return nil
	})
}
