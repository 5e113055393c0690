package node

import (
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/x0tta6bl4/gosentinel/sentinel"
)

// Script limits of redis-sentinel (SENTINEL_SCRIPT_MAX_*).
const (
	scriptMaxRunning = 16
	scriptMaxQueue   = 256
	scriptMaxRetry   = 10
)

// scriptJob is one queued notification or client-reconfig script run.
type scriptJob struct {
	argv      []string
	running   bool
	pid       int
	startTime time.Time // running: when started; scheduled: not before
	retryNum  int
	cmd       *exec.Cmd
	killed    bool
}

// scriptRunner runs the notification-script and client-reconfig-script
// jobs like redis-sentinel: at most 16 at once, a queue of 256, retries with
// a doubling delay when a script exits 1 or is killed, and a maximum run
// time. Children inherit no descriptors beyond stdio (Go sets close-on-exec
// on everything else), which the official suite's leaked-fd check requires.
type scriptRunner struct {
	log    *slog.Logger
	timing *timings

	mu      sync.Mutex
	jobs    []*scriptJob
	running int
	closed  bool
	wg      sync.WaitGroup
}

func newScriptRunner(log *slog.Logger, t *timings) *scriptRunner {
	return &scriptRunner{log: log, timing: t}
}

// schedule queues argv (argv[0] is the script path).
func (r *scriptRunner) schedule(argv []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	r.jobs = append(r.jobs, &scriptJob{argv: argv, startTime: time.Now()})
	if len(r.jobs) > scriptMaxQueue {
		// Drop the oldest job that is not running (sentinelScheduleScriptExecution).
		for i, j := range r.jobs {
			if !j.running {
				r.jobs = append(r.jobs[:i], r.jobs[i+1:]...)
				break
			}
		}
	}
}

// tick starts due jobs and kills the ones over their maximum run time.
func (r *scriptRunner) tick() {
	now := time.Now()
	maxRun := r.timing.dur("SCRIPT-MAX-RUNTIME")
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, j := range r.jobs {
		if j.running {
			if !j.killed && now.Sub(j.startTime) > maxRun && j.cmd.Process != nil {
				j.killed = true
				j.cmd.Process.Kill()
				r.log.Warn("-script-timeout " + j.argv[0] + " " + strconv.Itoa(j.pid))
			}
			continue
		}
		if r.closed || r.running >= scriptMaxRunning || now.Before(j.startTime) {
			continue
		}
		r.start(j, now)
	}
}

func (r *scriptRunner) start(j *scriptJob, now time.Time) {
	cmd := exec.Command(scriptPath(j.argv[0]), j.argv[1:]...)
	cmd.Env = scriptEnv(os.Environ())
	j.retryNum++
	if err := cmd.Start(); err != nil {
		// sentinel.c: a failed exec is exit code 2, not retried.
		r.log.Warn("-script-error " + j.argv[0] + " 99 0")
		r.remove(j)
		return
	}
	j.cmd, j.running, j.pid, j.startTime, j.killed = cmd, true, cmd.Process.Pid, now, false
	r.running++
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		err := cmd.Wait()
		r.finished(j, err)
	}()
}

// scriptPath is the path to run: redis execve()s the configured path, so
// one without a slash names a file in the working directory (the config's
// dir, where the config check found it executable), which exec.Command
// would look up in $PATH instead.
func scriptPath(path string) string {
	if !strings.Contains(path, "/") {
		return "./" + path
	}
	return path
}

// scriptEnv is the environment a script gets: the sentinel's, as redis
// passes its own, without gosentinel's own variables, among them
// GOSENTINEL_CLUSTER_SECRET, the Raft group's peer secret, which no script
// needs and every one received.
func scriptEnv(env []string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		if !strings.HasPrefix(kv, "GOSENTINEL_") {
			out = append(out, kv)
		}
	}
	return out
}

// finished applies redis' retry rules: exit 0 done; exit 1 or a signal is
// retried later (doubling delay) up to 10 attempts; anything else is an
// error.
func (r *scriptRunner) finished(j *scriptJob, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.running--
	j.running, j.pid = false, 0
	code, signaled := 0, false
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			signaled = true
		} else {
			code = ee.ExitCode()
		}
	}
	if (code == 1 || signaled) && j.retryNum < scriptMaxRetry && !r.closed {
		delay := r.timing.dur("SCRIPT-RETRY-DELAY") << (j.retryNum - 1)
		j.startTime = time.Now().Add(delay)
		return
	}
	if code != 0 || signaled {
		r.log.Warn("-script-error " + j.argv[0] + " " + strconv.Itoa(boolInt(signaled)) + " " + strconv.Itoa(code))
	}
	r.remove(j)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (r *scriptRunner) remove(j *scriptJob) {
	for i, x := range r.jobs {
		if x == j {
			r.jobs = append(r.jobs[:i], r.jobs[i+1:]...)
			return
		}
	}
}

// counts returns running and queued job numbers (INFO).
func (r *scriptRunner) counts() (running, queued int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.running, len(r.jobs)
}

// pending renders SENTINEL PENDING-SCRIPTS.
func (r *scriptRunner) pending() []sentinel.PendingScript {
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	out := []sentinel.PendingScript{}
	for _, j := range r.jobs {
		p := sentinel.PendingScript{Argv: append([]string(nil), j.argv...), Running: j.running, Pid: j.pid, RetryNum: j.retryNum}
		if j.running {
			p.RunTimeMillis = now.Sub(j.startTime).Milliseconds()
		} else if d := j.startTime.Sub(now).Milliseconds(); d > 0 {
			p.RunDelayMillis = d
		}
		out = append(out, p)
	}
	return out
}

// close stops scheduling, kills running scripts and waits for them.
func (r *scriptRunner) close() {
	r.mu.Lock()
	r.closed = true
	for _, j := range r.jobs {
		if j.running && j.cmd.Process != nil {
			j.cmd.Process.Kill()
		}
	}
	r.mu.Unlock()
	r.wg.Wait()
}
