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
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var asks atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					if _, err := redistest.ReadReply(br); err != nil {
						return
					}
					asks.Add(1)
					// SENTINEL MASTER, from a sentinel that has no run id yet.
					fmt.Fprintf(c, "*8\r\n$4\r\nname\r\n$8\r\nmymaster\r\n$2\r\nip\r\n$9\r\n127.0.0.1\r\n$4\r\nport\r\n$%d\r\n%d\r\n$5\r\nrunid\r\n$0\r\n\r\n",
						len(strconv.Itoa(r.Port())), r.Port())
				}
			}()
		}
	}()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	var stdout, stderr bytes.Buffer
	code := runPrestop([]string{"--master-set", "mymaster", "--timeout", "1s", "--redis", r.Addr(), "-p", port}, &stdout, &stderr)
	if out := stdout.String() + stderr.String(); code != 1 || !strings.Contains(out, "has not learnt its master's run id") {
		t.Errorf("exit %d, want 1 naming the missing run id:\n%s", code, out)
	}
	if n := asks.Load(); n < 2 {
		t.Errorf("SENTINEL MASTER asked %d times, want it asked again", n)
	}
}
