package main

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/internal/redistest"
)

// TestPrestopFailsWhenRedisRefusesIt: a node that answers with a refusal
// (no password, a wrong one) fails the hook, so that the pod is not
// stopped in silence while it may hold the master role; only a node that
// cannot be reached at all has nothing to hand over.
func TestPrestopFailsWhenRedisRefusesIt(t *testing.T) {
	t.Setenv("REDISCLI_AUTH", "")
	r := redistest.StartRedis(t, redistest.RedisOptions{Password: "pw"})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gone := ln.Addr().String()
	ln.Close()
	f := redistest.NewTLSFiles(t)
	tr := redistest.StartRedis(t, redistest.RedisOptions{TLS: f}) // tls-auth-clients yes: a client certificate is required
	for _, tc := range []struct {
		name     string
		args     []string
		code     int
		contains string
	}{
		{"no password", []string{"--redis", r.Addr()}, 1, "NOAUTH"},
		{"TLS without a client certificate", []string{"--redis", tr.Addr(), "--tls", "--cacert", f.CACert}, 1, "refused the hook"},
		{"wrong password", []string{"--redis", r.Addr(), "-a", "wrong"}, 1, "WRONGPASS"},
		{"node gone", []string{"--redis", gone}, 0, "does not answer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := runPrestop(append([]string{"--master-set", "mymaster", "--timeout", "5s"}, tc.args...), &stdout, &stderr)
			if out := stdout.String() + stderr.String(); code != tc.code || !strings.Contains(out, tc.contains) {
				t.Errorf("exit %d, want %d with %q:\n%s", code, tc.code, tc.contains, out)
			}
		})
	}
}

// TestPrestopWaitsForTheSentinelToKnowItsMaster: a local sentinel that has
// not read its master's INFO yet answers SENTINEL MASTER with an empty run
// id. The hook asks again until it knows, and fails at its timeout if it
// never does; it reported "nothing to hand over" at once, and the pod
// stopped holding the master role.
func TestPrestopWaitsForTheSentinelToKnowItsMaster(t *testing.T) {
	t.Setenv("REDISCLI_AUTH", "")
	r := redistest.StartRedis(t, redistest.RedisOptions{})
	var asks atomic.Int32
	sentAddr := fakeRedis(t, time.Time{}, func([]string) string {
		asks.Add(1)
		// SENTINEL MASTER, from a sentinel that has no run id yet.
		return array("name", "mymaster", "ip", "127.0.0.1", "port", strconv.Itoa(r.Port()), "runid", "")
	})
	_, port, _ := net.SplitHostPort(sentAddr)
	var stdout, stderr bytes.Buffer
	code := runPrestop([]string{"--master-set", "mymaster", "--timeout", "1s", "--redis", r.Addr(), "-p", port}, &stdout, &stderr)
	if out := stdout.String() + stderr.String(); code != 1 || !strings.Contains(out, "has not learnt its master's run id") {
		t.Errorf("exit %d, want 1 naming the missing run id:\n%s", code, out)
	}
	if n := asks.Load(); n < 2 {
		t.Errorf("SENTINEL MASTER asked %d times, want it asked again", n)
	}
}

func bulk(s string) string { return fmt.Sprintf("$%d\r\n%s\r\n", len(s), s) }

func array(xs ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(xs))
	for _, x := range xs {
		b.WriteString(bulk(x))
	}
	return b.String()
}

// fakeRedis answers each command with reply(args); until silentUntil it
// reads commands and answers none (a node busy with a slow command, a fork,
// CPU throttling), then answers them in order.
func fakeRedis(t *testing.T, silentUntil time.Time, reply func(args []string) string) string {
	t.Helper()
	return redistest.ServeTCP(t, func(c net.Conn) {
		br := bufio.NewReader(c)
		for {
			r, err := redistest.ReadReply(br)
			if err != nil {
				return
			}
			var args []string
			for _, e := range r.Elems {
				args = append(args, e.Str)
			}
			// The fake's own stall, as a busy redis' (not a wait of the
			// test's).
			time.Sleep(time.Until(silentUntil))
			c.Write([]byte(reply(args)))
		}
	})
}

// prestopAgainst runs the hook against a fake master (silent for silence)
// whose sentinel names it with the run id staleID until staleFor has
// passed; it returns the exit code, the output, and whether SENTINEL
// FAILOVER was asked.
func prestopAgainst(t *testing.T, silence time.Duration, staleFor time.Duration) (int, string, bool) {
	t.Helper()
	t.Setenv("REDISCLI_AUTH", "")
	const runID = "0123456789012345678901234567890123456789"
	start := time.Now()
	var failedOver atomic.Bool
	redisAddr := fakeRedis(t, start.Add(silence), func(args []string) string {
		switch strings.ToUpper(args[0]) {
		case "ROLE":
			if failedOver.Load() {
				return "*5\r\n" + bulk("slave") + bulk("127.0.0.2") + ":6379\r\n" + bulk("connected") + ":0\r\n"
			}
			return "*3\r\n" + bulk("master") + ":0\r\n*0\r\n"
		case "INFO":
			return bulk("# Server\r\nrun_id:" + runID + "\r\n")
		}
		return "+PONG\r\n"
	})
	host, port, _ := net.SplitHostPort(redisAddr)
	sentAddr := fakeRedis(t, time.Time{}, func(args []string) string {
		if len(args) < 2 {
			return "+PONG\r\n"
		}
		switch strings.ToUpper(args[1]) {
		case "MASTER":
			id := runID
			if time.Since(start) < staleFor {
				id = strings.Repeat("a", 40) // the node's previous process's
			}
			return array("name", "mymaster", "ip", host, "port", port, "runid", id)
		case "FAILOVER":
			failedOver.Store(true)
			return "+OK\r\n"
		case "GET-MASTER-ADDR-BY-NAME":
			if failedOver.Load() {
				return array("127.0.0.2", "6379")
			}
			return array(host, port)
		}
		return "-ERR unknown\r\n"
	})
	_, sport, _ := net.SplitHostPort(sentAddr)
	var stdout, stderr bytes.Buffer
	code := runPrestop([]string{"--master-set", "mymaster", "--timeout", "20s", "--redis", redisAddr, "-p", sport}, &stdout, &stderr)
	return code, stdout.String() + stderr.String(), failedOver.Load()
}

// TestPrestopHandsOverAMasterSlowToAnswer: a master silent for longer than
// the hook's client timeout (2 s) is still the node to hand over. The hook
// took it for a node that is gone and exited 0, so the pod stopped its
// master without the switchover, and the set failed it over only after
// down-after, losing what was not replicated.
func TestPrestopHandsOverAMasterSlowToAnswer(t *testing.T) {
	code, out, asked := prestopAgainst(t, 3*time.Second, 0)
	if code != 0 || !asked {
		t.Fatalf("exit %d, SENTINEL FAILOVER asked %v: %s", code, asked, out)
	}
}

// TestPrestopWaitsForTheSentinelToLearnTheRunID: within an INFO period of
// the node's restart the sentinel names the previous process's run id. The
// hook took the node for a stale master and exited 0 without a handover.
func TestPrestopWaitsForTheSentinelToLearnTheRunID(t *testing.T) {
	code, out, asked := prestopAgainst(t, 0, time.Second)
	if code != 0 || !asked {
		t.Fatalf("exit %d, SENTINEL FAILOVER asked %v: %s", code, asked, out)
	}
}
