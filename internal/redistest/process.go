package redistest

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Timeouts used by the process helpers. Generous because the machine has two
// cores and `go test ./...` runs packages in parallel.
const (
	// ReadyTimeout bounds how long a started process may take to answer PING.
	ReadyTimeout = 15 * time.Second
	// StopTimeout is how long Stop waits after SIGTERM before SIGKILL.
	StopTimeout = 10 * time.Second
)

// ProcessSpec describes a server process to run.
type ProcessSpec struct {
	// Name identifies the process in logs and messages, e.g. "redis-30001".
	Name string
	// Bin is the executable; Args its arguments.
	Bin  string
	Args []string
	// Dir is the working directory (a fresh temp dir if empty).
	Dir string
	// Port is the port the process listens on; readiness is a PING there.
	Port int
	// Host is the address the process listens on (default 127.0.0.1),
	// e.g. a network namespace's address in internal/netlab.
	Host string
	// Wrap, if set, is a command prefix the process runs under, e.g.
	// `ip netns exec <ns>`; it must exec Bin in place, so that signals sent
	// to the started pid reach Bin.
	Wrap []string
	// TLS, if set, is the client configuration of the readiness PING: the
	// port speaks TLS only.
	TLS *tls.Config
	// Env are NAME=value pairs set for the process on top of the test
	// process's environment: per process, where t.Setenv would be the
	// whole test binary's (and cannot be used by a parallel test).
	Env []string
}

// Process is a running (or stopped) server process started by a test. All
// signals go to its pid only.
type Process struct {
	spec    ProcessSpec
	logPath string

	mu     sync.Mutex
	run    *processRun // nil when never started
	paused bool
}

// processRun is one start of the process.
type processRun struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when Wait returned
	err  error         // Wait's result, valid after done is closed
}

// StartProcess starts spec, waits until it answers PING on its port and
// registers a cleanup that stops it and, if the test failed, prints its log.
func StartProcess(t testing.TB, spec ProcessSpec) (*Process, error) {
	t.Helper()
	p, err := NewProcess(t, spec)
	if err != nil {
		return nil, err
	}
	if err := p.Start(); err != nil {
		return p, err
	}
	return p, nil
}

// NewProcess prepares a process without starting it: it creates the log
// file in a temp dir and registers the cleanup (stop, print log on failure).
func NewProcess(t testing.TB, spec ProcessSpec) (*Process, error) {
	t.Helper()
	logDir := t.TempDir()
	if spec.Dir == "" {
		spec.Dir = logDir
	}
	p := &Process{spec: spec, logPath: logDir + "/" + spec.Name + ".log"}
	t.Cleanup(func() {
		if err := p.Stop(StopTimeout); err != nil {
			t.Logf("cleanup: %v", err)
		}
		if t.Failed() {
			t.Logf("---- log of %s (%s, last lines) ----\n%s", p.spec.Name, p.logPath, p.LogTail(120))
			p.keepLog(t)
		}
	})
	return p, nil
}

// KeepLogsEnv names a directory where the whole log of every process of a
// failed test is copied (the temp dir holding it is removed): the last
// lines printed are often not enough to explain a rare failure.
const KeepLogsEnv = "GOSENTINEL_TEST_LOGDIR"

func (p *Process) keepLog(t testing.TB) {
	dir := os.Getenv(KeepLogsEnv)
	if dir == "" {
		return
	}
	data, err := os.ReadFile(p.logPath)
	if err == nil {
		err = os.MkdirAll(dir, 0o755)
	}
	if err == nil {
		name := strings.NewReplacer("/", "_", " ", "_").Replace(t.Name()) + "-" + p.spec.Name + ".log"
		err = os.WriteFile(filepath.Join(dir, name), data, 0o644)
	}
	if err != nil {
		t.Logf("failed to keep the log of %s: %v", p.spec.Name, err)
	}
}

// Name returns the process name given in its spec.
func (p *Process) Name() string { return p.spec.Name }

// Port returns the port the process listens on.
func (p *Process) Port() int { return p.spec.Port }

// Host returns the address the process listens on.
func (p *Process) Host() string {
	if p.spec.Host == "" {
		return "127.0.0.1"
	}
	return p.spec.Host
}

// Addr returns host:port (127.0.0.1:port unless the spec names a Host).
func (p *Process) Addr() string {
	if p.spec.Host == "" {
		return Addr(p.spec.Port)
	}
	return net.JoinHostPort(p.spec.Host, strconv.Itoa(p.spec.Port))
}

// LogPath is the file that receives the process's stdout and stderr.
func (p *Process) LogPath() string { return p.logPath }

// Dir is the process's working directory.
func (p *Process) Dir() string { return p.spec.Dir }

// Pid returns the pid of the current run, or 0 if not running.
func (p *Process) Pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.run == nil || p.run.exited() {
		return 0
	}
	return p.run.cmd.Process.Pid
}

// Running tells whether the process has been started and has not exited.
func (p *Process) Running() bool { return p.Pid() != 0 }

func (r *processRun) exited() bool {
	select {
	case <-r.done:
		return true
	default:
		return false
	}
}

// Start starts the process (again) and waits until it answers PING.
func (p *Process) Start() error {
	p.mu.Lock()
	if p.run != nil && !p.run.exited() {
		p.mu.Unlock()
		return fmt.Errorf("%s: already running", p.spec.Name)
	}
	f, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		p.mu.Unlock()
		return fmt.Errorf("%s: open log: %w", p.spec.Name, err)
	}
	fmt.Fprintf(f, "==== %s start: %s %s\n", time.Now().Format(time.RFC3339Nano), p.spec.Bin, strings.Join(p.spec.Args, " "))
	argv := append(append(append([]string(nil), p.spec.Wrap...), p.spec.Bin), p.spec.Args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = p.spec.Dir
	if len(p.spec.Env) > 0 {
		cmd.Env = append(os.Environ(), p.spec.Env...)
	}
	cmd.Stdout, cmd.Stderr = f, f
	// The kernel kills the child if the test binary dies without running
	// its cleanups (timeout panic, os.Exit), so no server outlives a run.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	err = cmd.Start()
	f.Close() // the child has its own copy of the descriptor
	if err != nil {
		p.mu.Unlock()
		return fmt.Errorf("%s: start %s: %w", p.spec.Name, p.spec.Bin, err)
	}
	run := &processRun{cmd: cmd, done: make(chan struct{})}
	go func() {
		run.err = cmd.Wait()
		close(run.done)
	}()
	p.run, p.paused = run, false
	p.mu.Unlock()
	return p.WaitReady(ReadyTimeout)
}

// WaitReady polls the port with an inline PING until any status or error
// line comes back (an error such as -NOAUTH also proves the server is up).
func (p *Process) WaitReady(timeout time.Duration) error {
	p.mu.Lock()
	run := p.run
	p.mu.Unlock()
	if run == nil {
		return fmt.Errorf("%s: not started", p.spec.Name)
	}
	err := PollErr(timeout, 20*time.Millisecond, func() error {
		if run.exited() {
			return Abort(fmt.Errorf("%w (%v)", errExited, run.err))
		}
		return pingOnce(p.Addr(), p.spec.TLS)
	})
	if err != nil {
		return fmt.Errorf("%s: not ready on %s: %w\nlog tail:\n%s", p.spec.Name, p.Addr(), err, p.LogTail(30))
	}
	return nil
}

var errExited = errors.New("process exited")

// pingOnce sends the inline PING the official test harness uses as its
// readiness probe and accepts any '+' or '-' line.
func pingOnce(addr string, tlsConf *tls.Config) error {
	c, err := dialMaybeTLS(addr, tlsConf, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.Timeout = time.Second
	if err := c.WriteRaw([]byte("PING\r\n")); err != nil {
		return err
	}
	r, err := c.Read()
	if err != nil {
		return err
	}
	if r.Kind != KindStatus && r.Kind != KindError {
		return fmt.Errorf("unexpected PING reply %s", r)
	}
	return nil
}

// signal sends sig to the current run's pid.
func (p *Process) signal(sig syscall.Signal) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.run == nil || p.run.exited() {
		return fmt.Errorf("%s: not running", p.spec.Name)
	}
	if err := p.run.cmd.Process.Signal(sig); err != nil {
		return fmt.Errorf("%s: signal %v: %w", p.spec.Name, sig, err)
	}
	switch sig {
	case syscall.SIGSTOP:
		p.paused = true
	case syscall.SIGCONT:
		p.paused = false
	}
	return nil
}

// Signal sends sig to the current run.
func (p *Process) Signal(sig syscall.Signal) error { return p.signal(sig) }

// WaitExit waits up to timeout for the current run to exit and returns
// how it ended.
func (p *Process) WaitExit(timeout time.Duration) (*os.ProcessState, error) {
	p.mu.Lock()
	run := p.run
	p.mu.Unlock()
	if run == nil {
		return nil, fmt.Errorf("%s: not started", p.spec.Name)
	}
	select {
	case <-run.done:
		return run.cmd.ProcessState, nil
	case <-time.After(timeout):
		return nil, fmt.Errorf("%s: still running after %v", p.spec.Name, timeout)
	}
}

// Stop sends SIGTERM (after SIGCONT if paused) and waits up to timeout for
// the process to exit, then sends SIGKILL. Stopping a stopped process is a
// no-op.
func (p *Process) Stop(timeout time.Duration) error {
	p.mu.Lock()
	run, paused := p.run, p.paused
	p.mu.Unlock()
	if run == nil || run.exited() {
		return nil
	}
	if paused {
		_ = p.signal(syscall.SIGCONT)
	}
	_ = p.signal(syscall.SIGTERM)
	select {
	case <-run.done:
		return nil
	case <-time.After(timeout):
	}
	if err := p.Kill(); err != nil {
		return err
	}
	return fmt.Errorf("%s: did not exit within %v of SIGTERM, killed", p.spec.Name, timeout)
}

// Kill sends SIGKILL and waits for the process to be reaped.
func (p *Process) Kill() error {
	p.mu.Lock()
	run := p.run
	p.mu.Unlock()
	if run == nil || run.exited() {
		return nil
	}
	_ = p.signal(syscall.SIGKILL)
	select {
	case <-run.done:
		return nil
	case <-time.After(StopTimeout):
		return fmt.Errorf("%s: still not reaped %v after SIGKILL", p.spec.Name, StopTimeout)
	}
}

// Pause stops the process with SIGSTOP (it keeps its sockets but answers
// nothing).
func (p *Process) Pause() error { return p.signal(syscall.SIGSTOP) }

// Resume continues a paused process with SIGCONT.
func (p *Process) Resume() error { return p.signal(syscall.SIGCONT) }

// Restart stops the process (SIGTERM) if it runs and starts it again with
// the same arguments, working directory and port, then waits for PING.
func (p *Process) Restart() error {
	if err := p.Stop(StopTimeout); err != nil {
		return err
	}
	return p.Start()
}

// Wait waits up to timeout for the process to exit by itself and returns
// its exit error (nil for status 0).
func (p *Process) Wait(timeout time.Duration) error {
	p.mu.Lock()
	run := p.run
	p.mu.Unlock()
	if run == nil {
		return fmt.Errorf("%s: not started", p.spec.Name)
	}
	select {
	case <-run.done:
		return run.err
	case <-time.After(timeout):
		return fmt.Errorf("%s: still running after %v", p.spec.Name, timeout)
	}
}

// Log returns the whole log written so far.
func (p *Process) Log() string {
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return fmt.Sprintf("(cannot read log: %v)", err)
	}
	return string(b)
}

// LogTail returns the last n lines of the log.
func (p *Process) LogTail(n int) string {
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return fmt.Sprintf("(cannot read log: %v)", err)
	}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
