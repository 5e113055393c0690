package node_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/x0tta6bl4/gosentinel/config"
	"github.com/x0tta6bl4/gosentinel/node"
)

// startConfigNode runs startTestNode with extra config lines and returns
// a RESP2 client of it and the config path.
func startConfigNode(t *testing.T, extra string) (*redis.Client, string) {
	t.Helper()
	n, path := startTestNode(t, extra)
	c := redis.NewClient(&redis.Options{Addr: n.Addr().String(), Protocol: 2})
	t.Cleanup(func() { c.Close() })
	return c, path
}

func do(t *testing.T, c *redis.Client, args ...any) (any, error) {
	t.Helper()
	return c.Do(context.Background(), args...).Result()
}

func flat(v any) string {
	var parts []string
	for _, e := range v.([]any) {
		parts = append(parts, e.(string))
	}
	return strings.Join(parts, " ")
}

// The 8.0 profile's SENTINEL CONFIG, as Redis 8.0.2's suite asserts it
// (tests/sentinel/tests/15-config-set-config-get.tcl and 01-conf-update's
// loglevel test), and its rewrite.
func TestConfigProfile80(t *testing.T) {
	c, path := startConfigNode(t, "compat-version 8.0\n")
	mustOK := func(args ...any) {
		t.Helper()
		if v, err := do(t, c, args...); err != nil || v != "OK" {
			t.Fatalf("%v = %v, %v", args, v, err)
		}
	}
	mustErr := func(want string, args ...any) {
		t.Helper()
		if _, err := do(t, c, args...); err == nil || err.Error() != want {
			t.Fatalf("%v: error %v, want %q", args, err, want)
		}
	}
	get := func(args ...any) string {
		t.Helper()
		v, err := do(t, c, append([]any{"SENTINEL", "CONFIG", "GET"}, args...)...)
		if err != nil {
			t.Fatal(err)
		}
		return flat(v)
	}
	if got := get("loglevel"); got != "loglevel notice" {
		t.Fatalf("loglevel = %q", got)
	}
	for _, l := range []string{"debug", "verbose", "notice", "warning", "nothing"} {
		mustOK("SENTINEL", "CONFIG", "SET", "loglevel", l)
		if got := get("loglevel"); got != "loglevel "+l {
			t.Fatalf("after SET loglevel %s: %q", l, got)
		}
	}
	mustOK("SENTINEL", "CONFIG", "SET", "resolve-hostnames", "yes", "announce-port", "1234")
	if got := get("resolve-hostnames", "announce-port"); got != "resolve-hostnames yes announce-port 1234" {
		t.Fatalf("GET two = %q", got)
	}
	if got := get("resolve-hostnames", "resolve-hostnames", "does-not-exist"); got != "resolve-hostnames yes" {
		t.Fatalf("GET duplicate = %q", got)
	}
	mustOK("SENTINEL", "CONFIG", "SET", "loglevel", "notice", "announce-port", "1234", "announce-hostnames", "yes")
	if got := get("log*", "*level", "loglevel"); got != "loglevel notice" {
		t.Fatalf("GET patterns = %q", got)
	}
	if got := get("announce*"); got != "announce-hostnames yes announce-ip  announce-port 1234" {
		t.Fatalf("GET announce* = %q", got)
	}
	mustErr("ERR Duplicate argument 'announce-port' to SENTINEL CONFIG SET",
		"SENTINEL", "CONFIG", "SET", "resolve-hostnames", "yes", "announce-port", "1234", "announce-port", "100")
	mustOK("SENTINEL", "CONFIG", "SET", "announce-port", "111")
	mustErr("ERR Invalid argument 'does-not-exist' to SENTINEL CONFIG SET",
		"SENTINEL", "CONFIG", "SET", "does-not-exist", "yes", "announce-port", "1234")
	mustOK("SENTINEL", "CONFIG", "SET", "resolve-hostnames", "no")
	mustErr("ERR Invalid value '-1234' to SENTINEL CONFIG SET 'announce-port'",
		"SENTINEL", "CONFIG", "SET", "announce-port", "-1234", "resolve-hostnames", "yes")
	mustErr("ERR Missing argument 'announce-ip' value",
		"SENTINEL", "CONFIG", "SET", "resolve-hostnames", "yes", "announce-port", "1234", "announce-ip")
	mustErr("ERR Invalid value 'loud' to SENTINEL CONFIG SET 'loglevel'", "SENTINEL", "CONFIG", "SET", "loglevel", "loud")
	// Nothing of a refused call was applied.
	if got := get("announce-port", "resolve-hostnames"); got != "announce-port 111 resolve-hostnames no" {
		t.Fatalf("after refused calls: %q", got)
	}
	mustOK("SENTINEL", "CONFIG", "SET", "loglevel", "nothing")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"compat-version 8.0", "loglevel nothing", "sentinel announce-port 111"} {
		if !strings.Contains(string(b), "\n"+line+"\n") {
			t.Errorf("rewritten config lacks %q:\n%s", line, b)
		}
	}
	// The rewritten file loads again (loglevel nothing is 7.2's).
	if _, err := config.Load(path, nil); err != nil {
		t.Fatalf("rewritten config does not load: %v", err)
	}
}

// The 7.0 profile (the default, and what GOSENTINEL_COMPAT=7.0 forces over
// the file's directive) keeps 7.0.15's SENTINEL CONFIG: no loglevel, one
// parameter.
func TestConfigProfile70(t *testing.T) {
	t.Setenv(config.EnvCompat, "7.0")
	c, _ := startConfigNode(t, "compat-version 8.0\n")
	if _, err := do(t, c, "SENTINEL", "CONFIG", "SET", "loglevel", "debug"); err == nil ||
		err.Error() != "ERR Invalid argument 'loglevel' to SENTINEL CONFIG SET" {
		t.Fatalf("SET loglevel: %v", err)
	}
	v, err := do(t, c, "SENTINEL", "CONFIG", "GET", "*")
	if err != nil || strings.Contains(flat(v), "loglevel") {
		t.Fatalf("GET * = %v, %v", v, err)
	}
	if _, err := do(t, c, "SENTINEL", "CONFIG", "GET", "a", "b"); err == nil ||
		err.Error() != "ERR Only SENTINEL CONFIG GET <option> / SET <option> <value> are supported." {
		t.Fatalf("GET two: %v", err)
	}
	info, err := c.Info(context.Background(), "server").Result()
	if err != nil || !strings.Contains(info, "redis_version:7.0.15\r\n") {
		t.Fatalf("INFO: %v", err)
	}
}

// A bad GOSENTINEL_COMPAT stops the node with the reason.
func TestBadCompatEnvironment(t *testing.T) {
	t.Setenv(config.EnvCompat, "7.2")
	dir := t.TempDir()
	path := filepath.Join(dir, "sentinel.conf")
	if err := os.WriteFile(path, []byte("dir "+dir+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = node.New(cfg, node.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err == nil || !strings.Contains(err.Error(), "GOSENTINEL_COMPAT") || !strings.Contains(err.Error(), `"7.2"`) {
		t.Fatalf("New = %v", err)
	}
}
