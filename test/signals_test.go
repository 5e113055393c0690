package test

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/x0tta6bl4/gosentinel/internal/redistest"
)

// TestSignalsAsRedis: as redis-sentinel, a sentinel ignores SIGHUP and
// SIGPIPE (a closed terminal, a reload hook's `kill -HUP`, a closed log
// pipe do not stop it), and SIGINT shuts it down cleanly, saying so in
// redis' words. Go's default for both would end the process without
// flushing its config file.
func TestSignalsAsRedis(t *testing.T) {
	forEachTarget(t, func(t *testing.T, bin string) {
		tp := redistest.StartTopology(t, 0, redistest.RedisOptions{})
		s := redistest.StartSentinels(t, 1, redistest.SentinelOptions{Bin: bin, MasterPort: tp.Master.Port(), Quorum: 1})[0]
		ignored, err := ignoredSignals(s.Pid())
		if err != nil {
			t.Fatal(err)
		}
		for _, sig := range []syscall.Signal{syscall.SIGHUP, syscall.SIGPIPE} {
			if ignored&(1<<(sig-1)) == 0 {
				t.Errorf("%v is not ignored (SigIgn %#x)", sig, ignored)
			}
		}
		// Ignored signals are dropped when sent, so the PING after one is
		// answered by the same process.
		pid := s.Pid()
		if err := s.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		if err := s.WaitReady(redistest.ReadyTimeout); err != nil || s.Pid() != pid {
			t.Fatalf("after SIGHUP: pid %d, was %d: %v", s.Pid(), pid, err)
		}
		if err := s.Signal(syscall.SIGINT); err != nil {
			t.Fatal(err)
		}
		st, err := s.WaitExit(redistest.StopTimeout)
		if err != nil {
			t.Fatal(err)
		}
		if st.ExitCode() != 0 {
			t.Errorf("exit after SIGINT: %v", st)
		}
		if log := s.Log(); !strings.Contains(log, "Received SIGINT scheduling shutdown...") {
			t.Errorf("no \"Received SIGINT scheduling shutdown...\" in the log:\n%s", s.LogTail(20))
		}
	})
}

// ignoredSignals is the SigIgn mask of /proc/<pid>/status: bit n-1 is set
// when signal n is ignored.
func ignoredSignals(pid int) (uint64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "SigIgn:"); ok {
			return strconv.ParseUint(strings.TrimSpace(v), 16, 64)
		}
	}
	return 0, fmt.Errorf("no SigIgn in /proc/%d/status", pid)
}
