package sentinel

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/internal/redistest"
)

// startServer runs a Server on 127.0.0.1:0 and returns it with its address.
func startServer(t testing.TB, cfg Config) (*Server, string) {
	t.Helper()
	if cfg.Backend == nil {
		cfg.Backend = &fakeBackend{}
	}
	if cfg.RunID == "" {
		cfg.RunID = strings.Repeat("ab", 20)
	}
	srv, err := NewServer(cfg)
	if err != nil {
		t.Fatalf("NewServer: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		select {
		case err := <-done:
			if err != nil && !errors.Is(err, ErrServerClosed) {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Errorf("Serve did not return after Close")
		}
	})
	return srv, ln.Addr().String()
}

// freePort is redistest.FreePort (never a port this process was given
// before), failing the test on error.
func freePort(t testing.TB) int {
	t.Helper()
	port, err := redistest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// absentPort returns a port of 127.0.0.1 that refuses connections for the
// whole test, for the absent master the real sentinels watch: a socket is
// bound to it without listening (and without SO_REUSEADDR, so no other
// process can bind it). A port that was merely free when asked was once
// taken by another test package's Redis while the packages ran in
// parallel (a CI run): both real sentinels then watched it, discovered
// that package's sentinel at different moments, and
// TestCompareWithRealSentinel compared the two discoveries
// ("sentinel,disconnected" against "sentinel").
func absentPort(t testing.TB) int {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	return sa.(*syscall.SockaddrInet4).Port
}

// startRealSentinel starts redis-sentinel with a config made of extra lines
// plus port and a monitored (absent) master; it is killed by pid at cleanup.
func startRealSentinel(t testing.TB, extra string, masterPort int) string {
	t.Helper()
	redistest.RequireBin(t, redistest.ReferenceSentinelBin)
	dir := t.TempDir()
	port := freePort(t)
	conf := fmt.Sprintf("port %d\ndir %s\nsentinel monitor mymaster 127.0.0.1 %d 2\nsentinel down-after-milliseconds mymaster 600000\n%s\n",
		port, dir, masterPort, extra)
	path := filepath.Join(dir, "sentinel.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(redistest.ReferenceSentinelBin, path)
	cmd.Dir = dir
	dieWithTest(cmd)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start redis-sentinel: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
	})
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	deadline := time.Now().Add(10 * time.Second)
	for {
		conn, err := net.Dial("tcp", addr)
		if err == nil {
			conn.Close()
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-sentinel did not start: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// rawConn is a client that records the exact bytes of each reply.
type rawConn struct {
	t    testing.TB
	conn net.Conn
	buf  []byte
}

func dialRaw(t testing.TB, addr string) *rawConn {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { conn.Close() })
	return &rawConn{t: t, conn: conn}
}

func encodeCommand(args ...string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	return b.Bytes()
}

func (r *rawConn) send(b []byte) {
	r.t.Helper()
	if _, err := r.conn.Write(b); err != nil {
		r.t.Fatalf("write: %v", err)
	}
}

var errEOF = errors.New("connection closed")

// reply reads one complete RESP reply (its raw bytes).
func (r *rawConn) reply(timeout time.Duration) ([]byte, error) {
	deadline := time.Now().Add(timeout)
	for {
		if len(r.buf) > 0 {
			_, n, err := scanRESP(r.buf)
			if err == nil {
				out := append([]byte(nil), r.buf[:n]...)
				r.buf = r.buf[n:]
				return out, nil
			}
			if !errors.Is(err, errRespTruncated) {
				return nil, fmt.Errorf("bad reply %q: %w", r.buf, err)
			}
		}
		_ = r.conn.SetReadDeadline(deadline)
		tmp := make([]byte, 64<<10)
		n, err := r.conn.Read(tmp)
		r.buf = append(r.buf, tmp[:n]...)
		if err != nil {
			if len(r.buf) > 0 && n > 0 {
				continue
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return nil, fmt.Errorf("timeout waiting for reply (have %q)", r.buf)
			}
			return nil, errEOF
		}
	}
}

// do sends a command and returns its reply.
func (r *rawConn) do(args ...string) []byte {
	r.t.Helper()
	r.send(encodeCommand(args...))
	b, err := r.reply(5 * time.Second)
	if err != nil {
		r.t.Fatalf("%q: %v", args, err)
	}
	return b
}

// expectClosed waits for the server to close the connection and returns
// whatever it sent before.
func (r *rawConn) expectClosed(timeout time.Duration) ([]byte, error) {
	deadline := time.Now().Add(timeout)
	for {
		_ = r.conn.SetReadDeadline(deadline)
		tmp := make([]byte, 64<<10)
		n, err := r.conn.Read(tmp)
		r.buf = append(r.buf, tmp[:n]...)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return r.buf, fmt.Errorf("connection still open after %v (have %q)", timeout, r.buf)
			}
			return r.buf, nil
		}
	}
}
