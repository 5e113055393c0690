package test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/bench/harness"
	"github.com/x0tta6bl4/gosentinel/internal/redistest"
)

// healthStaleAfter is GOSENTINEL_STALE_AFTER_MS in the health test: how
// long a cut-off member keeps vouching.
const healthStaleAfter = 1500 * time.Millisecond

// getHealth GETs an endpoint of the metrics listener: status and body.
func getHealth(addr, path string) (int, string, error) {
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get("http://" + addr + path)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// waitStatus polls an endpoint until it answers status.
func waitStatus(t *testing.T, addr, path string, status int, timeout time.Duration) string {
	t.Helper()
	var body string
	redistest.Poll(t, timeout, 50*time.Millisecond, func() error {
		code, b, err := getHealth(addr, path)
		if err != nil {
			return err
		}
		if code != status {
			return fmt.Errorf("%s%s: %d %s, want %d", addr, path, code, strings.TrimSpace(b), status)
		}
		body = b
		return nil
	})
	return body
}

// healthExit runs `gosentinel health args...` and returns its exit code and
// output.
func healthExit(t *testing.T, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(candidateBin(t), append([]string{"health"}, args...)...)
	cmd.Env = []string{}
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), string(out)
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0, string(out)
}

// followerOf is a follower of the set whose leader is leader (the member
// the health test pauses failovers on and later cuts off).
func followerOf(leader int) int { return (leader + 1) % 3 }

// TestHealth checks the health endpoints on the leader and followers of a
// live set, /primary and /replica on the master's and a replica's node
// before and after a failover, a cut-off member's /readyz, and the exit
// codes of `gosentinel health`.
func TestHealth(t *testing.T) {
	d := startFailoverDeployment(t, harness.Options{Extra: metricsExtra, StaleAfter: healthStaleAfter, Secret: exporterSecret})
	addrs := make([]string, len(d.Sentinels))
	for i, s := range d.Sentinels {
		addrs[i] = metricsAddr(t, s)
	}
	leader, err := d.WaitRaftLeader(10 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	node := func(i int) string { return "127.0.0.1:" + strconv.Itoa(d.Nodes[i].Port()) }
	for i, a := range addrs {
		waitStatus(t, a, "/healthz", 200, metricsDeadline)
		body := waitStatus(t, a, "/readyz", 200, metricsDeadline)
		var rd struct {
			Ready  bool   `json:"ready"`
			Phase  string `json:"phase"`
			Leader string `json:"leader"`
			Fresh  bool   `json:"fresh"`
		}
		if err := json.Unmarshal([]byte(body), &rd); err != nil || !rd.Ready || rd.Phase != "member" || rd.Leader == "" || !rd.Fresh {
			t.Errorf("%s /readyz body %s (%v)", d.Sentinels[i].Name(), body, err)
		}
		waitStatus(t, a, "/primary?node="+node(0), 200, metricsDeadline)
		waitStatus(t, a, "/replica?node="+node(0), 503, metricsDeadline)
		waitStatus(t, a, "/replica?node="+node(1)+"&master="+harness.MasterName, 200, metricsDeadline)
		waitStatus(t, a, "/primary?node="+node(1), 503, metricsDeadline)
		waitStatus(t, a, "/primary?node=127.0.0.1:1", 404, metricsDeadline)
		waitStatus(t, a, "/primary?node="+node(0)+"&master=nosuch", 404, metricsDeadline)
		// Every node of the test runs on 127.0.0.1: no single co-located one.
		if b := waitStatus(t, a, "/primary", 404, metricsDeadline); !strings.Contains(b, "several known data nodes") {
			t.Errorf("/primary without node=: %s", b)
		}
	}
	t.Logf("leader %s and followers: /healthz, /readyz, /primary, /replica as expected", d.Sentinels[leader].Name())

	// gosentinel health: PING with AUTH, and the HTTP form.
	s0 := d.Sentinels[0]
	p0 := strconv.Itoa(s0.Port())
	for _, tc := range []struct {
		args []string
		code int
		out  string
	}{
		{[]string{"-p", p0, "-a", exporterSecret}, 0, ""},
		{[]string{"-p", p0}, 1, "NOAUTH"},
		{[]string{"-p", p0, "-a", "wrong"}, 1, "AUTH"},
		{[]string{"-p", "1", "--timeout", "300ms"}, 1, "connection refused"},
		{[]string{"--http", addrs[0], "--path", "/readyz"}, 0, ""},
		{[]string{"--http", addrs[0], "--path", "/healthz"}, 0, ""},
		{[]string{"--http", addrs[0], "--path", "/primary", "--query", "node=" + node(0)}, 0, ""},
		{[]string{"--http", addrs[0], "--path", "/replica", "--query", "node=" + node(0)}, 1, "503"},
	} {
		code, out := healthExit(t, tc.args...)
		if code != tc.code || !strings.Contains(out, tc.out) {
			t.Errorf("gosentinel health %v: exit %d %q, want %d and %q", tc.args, code, out, tc.code, tc.out)
		}
	}

	// After a failover the roles follow the new master on every sentinel.
	old := d.Nodes[0].Port()
	if _, err := d.ManualFailover([]int{0}, false); err != nil {
		t.Fatal(err)
	}
	newPort, err := d.WaitSwitched(old, switchDeadline)
	if err != nil {
		t.Fatal(err)
	}
	newNode := "127.0.0.1:" + strconv.Itoa(newPort)
	for _, a := range addrs {
		waitStatus(t, a, "/primary?node="+newNode, 200, metricsDeadline)
		waitStatus(t, a, "/replica?node="+newNode, 503, metricsDeadline)
		waitStatus(t, a, "/primary?node="+node(0), 503, metricsDeadline)
		waitStatus(t, a, "/replica?node="+node(0), 200, metricsDeadline)
	}
	t.Logf("after the failover %d -> %d: /primary and /replica follow on every sentinel", old, newPort)

	// While failovers are paused every sentinel stays ready (it still
	// answers correctly), and /readyz and the metrics show the pause.
	maintenance(t, d.Sentinels[followerOf(leader)], "ON")
	for i, a := range addrs {
		redistest.Poll(t, metricsDeadline, 50*time.Millisecond, func() error {
			code, body, err := getHealth(a, "/readyz")
			if err != nil {
				return err
			}
			var rd struct {
				Ready     bool `json:"ready"`
				PausedAll bool `json:"paused_all"`
			}
			if err := json.Unmarshal([]byte(body), &rd); err != nil {
				return err
			}
			if code != 200 || !rd.Ready || !rd.PausedAll {
				return fmt.Errorf("%s /readyz while paused: %d %s", d.Sentinels[i].Name(), code, strings.TrimSpace(body))
			}
			fams, err := promScrape(a)
			if err != nil {
				return err
			}
			if v, err := series(fams, "gosentinel_failovers_paused_all", nil); err != nil || v != 1 {
				return fmt.Errorf("%s gosentinel_failovers_paused_all = %v (%v) while paused", d.Sentinels[i].Name(), v, err)
			}
			if v, err := series(fams, "gosentinel_failovers_paused", map[string]string{"master_name": harness.MasterName}); err != nil || v != 1 {
				return fmt.Errorf("%s gosentinel_failovers_paused{master_name=%q} = %v (%v) while paused", d.Sentinels[i].Name(), harness.MasterName, v, err)
			}
			return nil
		})
	}
	maintenance(t, d.Sentinels[leader], "OFF")
	for _, a := range addrs {
		redistest.Poll(t, metricsDeadline, 50*time.Millisecond, func() error {
			code, body, err := getHealth(a, "/readyz")
			if err != nil {
				return err
			}
			if code != 200 || !strings.Contains(body, `"paused_all":false`) {
				return fmt.Errorf("/readyz after the pause: %d %s", code, strings.TrimSpace(body))
			}
			return nil
		})
	}
	t.Logf("paused: every sentinel ready, /readyz and the metrics show it; unpaused: gone")

	// A member whose peers stop (SIGSTOP: their ports still accept, so they
	// are not provably dead) is unready within the stale bound; /healthz
	// stays 200: it still serves.
	cut := followerOf(leader)
	for i, s := range d.Sentinels {
		if i == cut {
			continue
		}
		if err := s.Pause(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Resume() })
	}
	stopped := time.Now()
	body := waitStatus(t, addrs[cut], "/readyz", 503, healthStaleAfter+5*time.Second)
	t.Logf("cut-off member %s unready %v after its peers stopped: %s", d.Sentinels[cut].Name(),
		time.Since(stopped).Round(10*time.Millisecond), strings.TrimSpace(body))
	waitStatus(t, addrs[cut], "/healthz", 200, 5*time.Second)
	for i, s := range d.Sentinels {
		if i != cut {
			if err := s.Resume(); err != nil {
				t.Fatal(err)
			}
		}
	}
	waitStatus(t, addrs[cut], "/readyz", 200, metricsDeadline)
}
