package monitor

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/internal/redistest"
)

const (
	idA = "aaaaaaaa11111111111111111111111111111111"
	idB = "bbbbbbbb22222222222222222222222222222222"
	idC = "cccccccc33333333333333333333333333333333"
)

// recorder collects everything a Monitor reports.
type recorder struct {
	mu     sync.Mutex
	events []Event
	at     []time.Time
	hellos []Hello
	topo   []string
	infos  []Ref
}

func (r *recorder) config(myid string, cfg Config) Config {
	cfg.MyID = myid
	cfg.OnEvent = func(e Event) {
		r.mu.Lock()
		r.events = append(r.events, e)
		r.at = append(r.at, time.Now())
		r.mu.Unlock()
	}
	cfg.OnHello = func(h Hello) {
		r.mu.Lock()
		r.hellos = append(r.hellos, h)
		r.mu.Unlock()
	}
	cfg.OnTopologyChange = func(name string) {
		r.mu.Lock()
		r.topo = append(r.topo, name)
		r.mu.Unlock()
	}
	cfg.OnInfo = func(ref Ref) {
		r.mu.Lock()
		r.infos = append(r.infos, ref)
		r.mu.Unlock()
	}
	return cfg
}

// find returns the first event matching typ and pred, with its arrival.
func (r *recorder) find(typ string, pred func(Event) bool) (Event, time.Time, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, e := range r.events {
		if e.Type == typ && (pred == nil || pred(e)) {
			return e, r.at[i], true
		}
	}
	return Event{}, time.Time{}, false
}

func (r *recorder) count(typ string, pred func(Event) bool) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, e := range r.events {
		if e.Type == typ && (pred == nil || pred(e)) {
			n++
		}
	}
	return n
}

func (r *recorder) waitEvent(t *testing.T, timeout time.Duration, typ string, pred func(Event) bool) (Event, time.Time) {
	t.Helper()
	var ev Event
	var at time.Time
	redistest.Until(t, timeout, "event "+typ, func() bool {
		var ok bool
		ev, at, ok = r.find(typ, pred)
		return ok
	})
	return ev, at
}

func (r *recorder) helloCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.hellos)
}

func (r *recorder) lastHello() Hello {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.hellos[len(r.hellos)-1]
}

func (r *recorder) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events, r.at, r.hellos, r.topo, r.infos = nil, nil, nil, nil, nil
}

func (r *recorder) topoCount(name string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, s := range r.topo {
		if s == name {
			n++
		}
	}
	return n
}

func kind(k Kind) func(Event) bool {
	return func(e Event) bool { return e.Ref != nil && e.Ref.Kind == k }
}

func refAddr(k Kind, port int) func(Event) bool {
	return func(e Event) bool { return e.Ref != nil && e.Ref.Kind == k && e.Ref.Addr.Port == port }
}

// fastTiming shortens the periods so tests run quickly; the link-hygiene
// period stays long so it does not interfere.
func fastTiming() Timing {
	return Timing{
		PingPeriod:             100 * time.Millisecond,
		InfoPeriod:             500 * time.Millisecond,
		AskPeriod:              100 * time.Millisecond,
		PublishPeriod:          200 * time.Millisecond,
		MinLinkReconnectPeriod: 15 * time.Second,
	}
}

// startMonitor runs a Monitor until the test ends.
func startMonitor(t *testing.T, cfg Config) *Monitor {
	t.Helper()
	m := New(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		m.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		m.Close()
		<-done
	})
	return m
}

func status(t *testing.T, m *Monitor, name string) MasterStatus {
	t.Helper()
	st, ok := m.Status(name)
	if !ok {
		t.Fatalf("master %q not watched", name)
	}
	return st
}

// freePort is redistest.FreePort (never a port this process was given
// before), failing the test on error.
func freePort(t *testing.T) int {
	t.Helper()
	port, err := redistest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// redisProc is a redis-server this test started.
type redisProc struct {
	port int
	cmd  *exec.Cmd
	done chan struct{}
}

func startRedis(t *testing.T, args ...string) *redisProc {
	t.Helper()
	redistest.RequireBin(t, redistest.RedisServerBin)
	port := freePort(t)
	argv := append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--repl-diskless-sync-delay", "0", "--dir", t.TempDir(), "--logfile", ""}, args...)
	cmd := exec.Command(redistest.RedisServerBin, argv...)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start redis-server: %v", err)
	}
	p := &redisProc{port: port, cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(p.kill)
	redistest.Until(t, 5*time.Second, "redis-server on "+strconv.Itoa(port), func() bool {
		c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), time.Second)
		if err != nil {
			return false
		}
		_ = c.Close()
		return true
	})
	return p
}

// kill stops the process (even if SIGSTOPped) and waits until it is gone.
func (p *redisProc) kill() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Kill()
	<-p.done
}

func (p *redisProc) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("signal %v: %v", sig, err)
	}
}

func (p *redisProc) addr() Addr { return Addr{Host: "127.0.0.1", Port: p.port} }

// redisCall sends one command on a fresh connection and returns the reply.
func redisCall(t *testing.T, port int, args ...string) value {
	t.Helper()
	c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), time.Second)
	if err != nil {
		t.Fatalf("dial %d: %v", port, err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := c.Write(appendCommand(nil, args...)); err != nil {
		t.Fatal(err)
	}
	v, err := readValue(bufio.NewReader(c))
	if err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	return v
}

// closeConnection is a fakeServer handler's reply that closes the
// connection without answering.
const closeConnection = "\x00close"

// fakeServer speaks just enough RESP to stand in for a redis node or a
// sentinel; handler returns the raw reply ("" = never answer).
type fakeServer struct {
	ln      net.Listener
	handler func(args []string) string
	// onRead, if set, sees what each read of a connection returned.
	onRead func([]byte)

	mu    sync.Mutex
	cmds  [][]string
	conns []net.Conn
	wg    sync.WaitGroup
}

func newFakeServer(t *testing.T, handler func(args []string) string) *fakeServer {
	t.Helper()
	return newFakeServerReads(t, handler, nil)
}

// newFakeServerReads is newFakeServer whose onRead sees each read.
func newFakeServerReads(t *testing.T, handler func(args []string) string, onRead func([]byte)) *fakeServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeServer{ln: ln, handler: handler, onRead: onRead}
	f.wg.Add(1)
	go f.accept()
	t.Cleanup(f.close)
	return f
}

func (f *fakeServer) port() int { return f.ln.Addr().(*net.TCPAddr).Port }

func (f *fakeServer) accept() {
	defer f.wg.Done()
	for {
		c, err := f.ln.Accept()
		if err != nil {
			return
		}
		f.mu.Lock()
		f.conns = append(f.conns, c)
		f.mu.Unlock()
		f.wg.Add(1)
		go f.serve(c)
	}
}

func (f *fakeServer) serve(c net.Conn) {
	defer f.wg.Done()
	var src io.Reader = c
	if f.onRead != nil {
		src = &chunkReader{r: c, onRead: f.onRead}
	}
	r := bufio.NewReader(src)
	for {
		v, err := readValue(r)
		if err != nil {
			return
		}
		args := make([]string, len(v.elems))
		for i, e := range v.elems {
			args[i] = e.str
		}
		f.mu.Lock()
		f.cmds = append(f.cmds, args)
		f.mu.Unlock()
		reply := f.handler(args)
		if reply == closeConnection {
			_ = c.Close()
			return
		}
		if reply != "" {
			if _, err := c.Write([]byte(reply)); err != nil {
				return
			}
		}
	}
}

func (f *fakeServer) close() {
	_ = f.ln.Close()
	f.mu.Lock()
	for _, c := range f.conns {
		_ = c.Close()
	}
	f.mu.Unlock()
	f.wg.Wait()
}

// commands returns the commands received whose name matches (any case).
func (f *fakeServer) commands(name string) [][]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out [][]string
	for _, c := range f.cmds {
		if len(c) > 0 && strings.EqualFold(c[0], name) {
			out = append(out, c)
		}
	}
	return out
}

// redisLike answers like a healthy redis node; info is the INFO payload.
func redisLike(info func() string, ping func() string) func([]string) string {
	return func(args []string) string {
		switch strings.ToUpper(args[0]) {
		case "PING", "XPING":
			return ping()
		case "INFO", "XINFO":
			s := info()
			return fmt.Sprintf("$%d\r\n%s\r\n", len(s), s)
		case "SUBSCRIBE", "XSUBSCRIBE":
			return "*3\r\n$9\r\nsubscribe\r\n$18\r\n__sentinel__:hello\r\n:1\r\n"
		case "PUBLISH", "XPUBLISH":
			return ":1\r\n"
		default:
			return "+OK\r\n"
		}
	}
}

func masterInfo(runid string) string {
	return "# Server\r\nredis_version:7.0.15\r\nrun_id:" + runid + "\r\n\r\n# Replication\r\nrole:master\r\nconnected_slaves:0\r\nmaster_repl_offset:42\r\n"
}

// chunkReader reports each read of r.
type chunkReader struct {
	r      io.Reader
	onRead func([]byte)
}

func (c *chunkReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if n > 0 {
		c.onRead(p[:n])
	}
	return n, err
}
