package main

import (
	"bytes"
	"net"
	"strings"
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
