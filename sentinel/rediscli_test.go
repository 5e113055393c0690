package sentinel

import (
	"context"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/internal/redistest"
)

// runCLI runs a command line with a deadline and returns its output.
func runCLI(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Stdin = strings.NewReader(stdin)
	// linenoise does not query the terminal when TERM is dumb.
	cmd.Env = append(os.Environ(), "TERM=dumb")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%q: %v\n%s", args, err, out)
	}
	return string(out)
}

// TestRedisCLI runs redis-cli against the real redis-sentinel and against
// our server and expects the same output, in one-shot mode and in
// interactive mode (which fetches COMMAND DOCS first).
func TestRedisCLI(t *testing.T) {
	redistest.RequireBin(t, redistest.RedisCLIBin)
	masterPort := absentPort(t)
	real := startRealSentinel(t, "requirepass secret", masterPort)
	fb := &fakeBackend{AddrFn: func(name string) (string, string, bool) {
		return "127.0.0.1", strconv.Itoa(masterPort), name == "mymaster"
	}}
	_, ours := startServer(t, Config{Backend: fb, RequirePass: "secret", HasRequirePass: true})
	port := func(addr string) string { return addr[strings.LastIndexByte(addr, ':')+1:] }

	invocations := []struct {
		stdin string
		args  []string
		term  bool
	}{
		{args: []string{"-a", "secret", "--no-auth-warning", "SENTINEL", "get-master-addr-by-name", "mymaster"}},
		{args: []string{"-a", "secret", "--no-auth-warning", "SENTINEL", "get-master-addr-by-name", "nope"}},
		{args: []string{"-a", "secret", "--no-auth-warning", "-3", "ROLE"}},
		{args: []string{"-a", "secret", "--no-auth-warning", "-3", "SENTINEL", "get-master-addr-by-name", "nope"}},
		{args: []string{"-a", "secret", "--no-auth-warning", "SENTINEL", "CKQUORUM", "nope"}},
		{args: []string{"-a", "wrong", "--no-auth-warning", "PING"}},
		{args: []string{"PING"}},
		{stdin: "ping\nsentinel get-master-addr-by-name mymaster\nrole\nsentinel myid x\nquit\n", args: []string{"-a", "secret", "--no-auth-warning"}, term: true},
	}
	for _, inv := range invocations {
		var outs [2]string
		for i, addr := range []string{real, ours} {
			args := append([]string{redistest.RedisCLIBin, "-p", port(addr)}, inv.args...)
			if inv.term {
				if _, err := os.Stat("/usr/bin/script"); err != nil {
					t.Skip("script(1) not installed")
				}
				args = []string{"script", "-qec", strings.Join(args, " "), "/dev/null"}
			}
			outs[i] = strings.ReplaceAll(runCLI(t, inv.stdin, args...), port(addr), "PORT")
		}
		if outs[0] != outs[1] {
			t.Errorf("redis-cli %q:\nreal: %q\nours: %q", inv.args, outs[0], outs[1])
		}
	}
}
