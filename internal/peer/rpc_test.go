package peer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/internal/mux"
)

type echoReq struct {
	Name string `json:"name"`
	N    int    `json:"n"`
}

// blockEnded receives when a "block" handler's context ends.
var blockEnded = make(chan error, 10)

func startRPC(t *testing.T, addr, secret string) (*Server, string) {
	t.Helper()
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	m := mux.New(ln)
	sub, err := m.Listen(HeaderRPC)
	if err != nil {
		t.Fatal(err)
	}
	go m.Serve()
	srv := NewServer(nil, testCodes)
	srv.Handle("echo", func(ctx context.Context, body json.RawMessage) (any, error) {
		var r echoReq
		if err := json.Unmarshal(body, &r); err != nil {
			return nil, err
		}
		r.N++
		return r, nil
	})
	srv.Handle("fail", func(ctx context.Context, body json.RawMessage) (any, error) {
		return nil, errors.New("ERR Duplicate master name.")
	})
	srv.Handle("fail-coded", func(ctx context.Context, body json.RawMessage) (any, error) {
		return nil, fmt.Errorf("proposal refused: %w", errTestDuplicate)
	})
	srv.Handle("block", func(ctx context.Context, body json.RawMessage) (any, error) {
		<-ctx.Done()
		blockEnded <- ctx.Err()
		return nil, ctx.Err()
	})
	go srv.Serve(NewListener(sub, HeaderRPC, NewSecretKeys(secret)))
	t.Cleanup(func() { srv.Close(); m.Close() })
	return srv, ln.Addr().String()
}

var (
	errTestDuplicate = errors.New("ERR Duplicate master name.")
	testCodes        = NewCodes(Code{Name: "duplicate", Err: errTestDuplicate})
)

func TestCodes_RejectsClashes(t *testing.T) {
	for name, entries := range map[string][]Code{
		"same name":  {{"a", errors.New("x")}, {"a", errors.New("y")}},
		"same value": {{"a", errTestDuplicate}, {"b", errTestDuplicate}},
		"no name":    {{"", errors.New("x")}},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: NewCodes accepted %v", name, entries)
				}
			}()
			NewCodes(entries...)
		}()
	}
}

func TestRPC_RoundTrip(t *testing.T) {
	_, addr := startRPC(t, "", "s")
	cl := NewClient(NewDialer(HeaderRPC, NewSecretKeys("s")), testCodes)
	defer cl.Close()
	ctx := context.Background()

	var out echoReq
	if err := cl.Call(ctx, addr, "echo", echoReq{Name: "mymaster", N: 1}, &out); err != nil {
		t.Fatal(err)
	}
	if out != (echoReq{Name: "mymaster", N: 2}) {
		t.Fatalf("echo = %+v", out)
	}
	// The connection went back to the pool and is reused.
	cl.mu.Lock()
	pooled := len(cl.idle[addr])
	cl.mu.Unlock()
	if pooled != 1 {
		t.Fatalf("pooled conns = %d, want 1", pooled)
	}
	if err := cl.Call(ctx, addr, "echo", echoReq{N: 41}, &out); err != nil || out.N != 42 {
		t.Fatalf("second call: %+v, %v", out, err)
	}

	err := cl.Call(ctx, addr, "fail", nil, nil)
	var re *RemoteError
	if !errors.As(err, &re) || err.Error() != "ERR Duplicate master name." {
		t.Fatalf("handler error: %v (%T)", err, err)
	}
	if errors.Is(err, errTestDuplicate) || re.Code != "" {
		t.Fatalf("an unregistered error came back as a registered one: %v, code %q", err, re.Code)
	}
	// A registered value keeps its identity across the RPC, wrapped or not.
	err = cl.Call(ctx, addr, "fail-coded", nil, nil)
	if !errors.Is(err, errTestDuplicate) || !errors.As(err, &re) || re.Code != "duplicate" {
		t.Fatalf("coded handler error: %v (%T)", err, err)
	}
	if err.Error() != "proposal refused: ERR Duplicate master name." {
		t.Fatalf("coded handler error text: %q", err.Error())
	}
	if err := cl.Call(ctx, addr, "nope", nil, nil); err == nil || !strings.Contains(err.Error(), "unknown peer rpc op") {
		t.Fatalf("unknown op: %v", err)
	}
}

func TestRPC_WrongSecret(t *testing.T) {
	_, addr := startRPC(t, "", "s")
	cl := NewClient(NewDialer(HeaderRPC, NewSecretKeys("guess")), testCodes)
	defer cl.Close()
	err := cl.Call(context.Background(), addr, "echo", echoReq{}, nil)
	if !errors.Is(err, ErrAuthFailed) {
		t.Fatalf("call with wrong secret: %v", err)
	}
}

// TestRPC_NotSentIsMarked: a call that could not reach the peer (nothing
// listens, a wrong secret) is marked ErrNotSent and keeps its cause; one
// the peer received (a handler error, a handler still running at the
// deadline) is not, since the peer may have acted on it.
func TestRPC_NotSentIsMarked(t *testing.T) {
	_, addr := startRPC(t, "", "s")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gone := ln.Addr().String()
	ln.Close()
	cl := NewClient(NewDialer(HeaderRPC, NewSecretKeys("s")), testCodes)
	defer cl.Close()
	wrong := NewClient(NewDialer(HeaderRPC, NewSecretKeys("guess")), testCodes)
	defer wrong.Close()
	ctx := func() context.Context {
		c, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		t.Cleanup(cancel)
		return c
	}
	for _, tc := range []struct {
		name    string
		err     error
		notSent bool
	}{
		{"nothing listens", cl.Call(ctx(), gone, "echo", echoReq{}, nil), true},
		{"wrong secret", wrong.Call(ctx(), addr, "echo", echoReq{}, nil), true},
		{"handler error", cl.Call(ctx(), addr, "fail", nil, nil), false},
		{"handler past the deadline", cl.Call(ctx(), addr, "block", nil, nil), false},
	} {
		if tc.err == nil || errors.Is(tc.err, ErrNotSent) != tc.notSent {
			t.Errorf("%s: %v: marked not sent %v, want %v", tc.name, tc.err, errors.Is(tc.err, ErrNotSent), tc.notSent)
		}
	}
	if err := wrong.Call(ctx(), addr, "echo", echoReq{}, nil); !errors.Is(err, ErrAuthFailed) {
		t.Errorf("the cause is kept: %v", err)
	}
	<-blockEnded

	// A pooled connection the peer closed is seen closed before the
	// request goes out on it; the redial refused, nothing was sent. (A
	// request written before the peer went away is an error not marked:
	// TestRPC_RequestWrittenIsNeverSentAgain.)
	srv, dying := startRPC(t, "", "s")
	if err := cl.Call(ctx(), dying, "echo", echoReq{}, nil); err != nil {
		t.Fatal(err)
	}
	srv.Close()
	if err := cl.Call(ctx(), dying, "echo", echoReq{}, nil); !errors.Is(err, ErrNotSent) {
		t.Errorf("a pooled connection the peer closed, then a refused redial: %v, want ErrNotSent", err)
	}
}

// The caller's deadline travels with the request: the handler's context ends
// when the caller gives up.
func TestRPC_Deadline(t *testing.T) {
	_, addr := startRPC(t, "", "s")
	cl := NewClient(NewDialer(HeaderRPC, NewSecretKeys("s")), testCodes)
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := cl.Call(ctx, addr, "block", nil, nil)
	// Either the caller's deadline fires first, or the handler's (the same
	// deadline, sent along) does and its error comes back.
	if err == nil || !strings.Contains(err.Error(), "deadline exceeded") {
		t.Fatalf("blocked call: %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("blocked call returned after %v", d)
	}
	select {
	case herr := <-blockEnded:
		if !errors.Is(herr, context.DeadlineExceeded) {
			t.Fatalf("handler context ended with %v", herr)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the handler's context outlived the caller's deadline")
	}
}

// A pooled connection to a peer that restarted is replaced transparently.
func TestRPC_PeerRestart(t *testing.T) {
	srv, addr := startRPC(t, "", "s")
	cl := NewClient(NewDialer(HeaderRPC, NewSecretKeys("s")), testCodes)
	defer cl.Close()
	if err := cl.Call(context.Background(), addr, "echo", echoReq{}, nil); err != nil {
		t.Fatal(err)
	}
	srv.Close() // closes the pooled connection's server end
	startRPC(t, addr, "s")
	var out echoReq
	if err := cl.Call(context.Background(), addr, "echo", echoReq{N: 6}, &out); err != nil || out.N != 7 {
		t.Fatalf("call after restart: %+v, %v", out, err)
	}
}

// TestRPC_PeerRestartWithConnectionsPooled: after a restart every pooled
// connection to the peer is closed. The retry took the next pooled one,
// failed again, and a forwarded command came back "may have acted" though
// nothing had reached a live server.
func TestRPC_PeerRestartWithConnectionsPooled(t *testing.T) {
	srv, addr := startRPC(t, "", "s")
	cl := NewClient(NewDialer(HeaderRPC, NewSecretKeys("s")), testCodes)
	defer cl.Close()
	var conns []net.Conn
	for range maxIdlePerAddr {
		conn, reused, err := cl.get(context.Background(), addr, false)
		if err != nil || reused {
			t.Fatalf("dial: reused %v, %v", reused, err)
		}
		conns = append(conns, conn)
	}
	for _, conn := range conns {
		cl.put(addr, conn)
	}
	srv.Close() // closes every pooled connection's server end
	startRPC(t, addr, "s")
	var out echoReq
	if err := cl.Call(context.Background(), addr, "echo", echoReq{N: 6}, &out); err != nil || out.N != 7 {
		t.Fatalf("call after restart with %d connections pooled: %+v, %v", len(conns), out, err)
	}
}

// TestRPC_CallWithContextDoneSendsNothing: a pooled connection took the
// request of a Call whose ctx was already done, and the peer acted on what
// its caller had given up.
func TestRPC_CallWithContextDoneSendsNothing(t *testing.T) {
	_, addr := startRPC(t, "", "s")
	cl := NewClient(NewDialer(HeaderRPC, NewSecretKeys("s")), testCodes)
	defer cl.Close()
	if err := cl.Call(context.Background(), addr, "echo", echoReq{}, nil); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := cl.Call(ctx, addr, "fail", nil, nil)
	var re *RemoteError
	if errors.As(err, &re) {
		t.Fatalf("the peer ran a call whose context was done: %v", err)
	}
	if !errors.Is(err, ErrNotSent) || !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want ErrNotSent and context.Canceled", err)
	}
}

// TestRPC_ResponseTooLargeIsAnError: a handler that ran but whose response
// cannot be sent answers an error. The connection was closed without a
// byte, which the client takes for a peer that closed it idle: it sent the
// request again and the handler ran twice.
func TestRPC_ResponseTooLargeIsAnError(t *testing.T) {
	srv, addr := startRPC(t, "", "s")
	var runs atomic.Int32
	srv.Handle("big", func(ctx context.Context, body json.RawMessage) (any, error) {
		runs.Add(1)
		return strings.Repeat("x", MaxFrameSize), nil
	})
	cl := NewClient(NewDialer(HeaderRPC, NewSecretKeys("s")), testCodes)
	defer cl.Close()
	if err := cl.Call(context.Background(), addr, "echo", echoReq{}, nil); err != nil {
		t.Fatal(err) // pools a connection, which the retry needs
	}
	err := cl.Call(context.Background(), addr, "big", nil, nil)
	var re *RemoteError
	if !errors.As(err, &re) || !strings.Contains(re.Msg, "too large") {
		t.Fatalf("err %v, want the peer's error that the response is too large", err)
	}
	if got := runs.Load(); got != 1 {
		t.Fatalf("the handler ran %d times for one call", got)
	}
}

// dropRelay forwards TCP between a client and target; armed, it drops the
// next bytes the target sends and closes both sides, as someone on the path
// can without the secret.
type dropRelay struct {
	addr  string
	armed atomic.Bool
}

func startDropRelay(t *testing.T, target string) *dropRelay {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	r := &dropRelay{addr: ln.Addr().String()}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			go func() { io.Copy(s, c); s.Close() }()
			go func() {
				defer c.Close()
				defer s.Close()
				buf := make([]byte, 64<<10)
				for {
					n, err := s.Read(buf)
					if n > 0 && r.armed.CompareAndSwap(true, false) {
						return
					}
					if n > 0 {
						c.Write(buf[:n])
					}
					if err != nil {
						return
					}
				}
			}()
		}
	}()
	return r
}

// TestRPC_RequestWrittenIsNeverSentAgain: a connection that ends without a
// byte of response after the request went out is an error for the caller,
// never a second send. The client sent it again when the connection was a
// pooled one, so a relay that dropped the answer and closed the connection,
// or a peer that ran the request and died before answering, ran it twice.
func TestRPC_RequestWrittenIsNeverSentAgain(t *testing.T) {
	srv, addr := startRPC(t, "", "s")
	var runs atomic.Int32
	srv.Handle("inc", func(ctx context.Context, body json.RawMessage) (any, error) {
		return runs.Add(1), nil
	})
	relay := startDropRelay(t, addr)
	cl := NewClient(NewDialer(HeaderRPC, NewSecretKeys("s")), testCodes)
	defer cl.Close()
	if err := cl.Call(context.Background(), relay.addr, "inc", nil, nil); err != nil {
		t.Fatal(err)
	}
	relay.armed.Store(true)
	err := cl.Call(context.Background(), relay.addr, "inc", nil, nil)
	if err == nil || errors.Is(err, ErrNotSent) {
		t.Fatalf("the call whose answer was dropped: %v, want an error not marked ErrNotSent", err)
	}
	if got := runs.Load(); got != 2 {
		t.Fatalf("two calls ran the handler %d times", got)
	}
}

// TestRPC_ServeAfterCloseClosesItsListener: Close closes the listeners
// given to Serve, including one given after Close (a node closed before
// its Serve began): that listener's accept goroutine was left behind.
func TestRPC_ServeAfterCloseClosesItsListener(t *testing.T) {
	srv := NewServer(nil, testCodes)
	srv.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Serve(ln); err != nil {
		t.Fatal(err)
	}
	// Left open, Accept would wait: a deadline makes that a failure.
	ln.(*net.TCPListener).SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := ln.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("listener given to a closed server: Accept = %v", err)
	}
}

// TestRPC_IdleConnectionsAreSweptForEveryAddress: a pooled connection to an
// address never called again (a peer that moved, a sentinel a hello named
// once) is closed once idle for ClientIdleTimeout, at the next call to any
// address, and the address leaves the pool. It stayed open for the life of
// the process.
func TestRPC_IdleConnectionsAreSweptForEveryAddress(t *testing.T) {
	_, a := startRPC(t, "", "s")
	_, b := startRPC(t, "", "s")
	cl := NewClient(NewDialer(HeaderRPC, NewSecretKeys("s")), testCodes)
	defer cl.Close()
	now := time.Now()
	cl.now = func() time.Time { return now }
	if err := cl.Call(context.Background(), a, "echo", echoReq{}, nil); err != nil {
		t.Fatal(err)
	}
	cl.mu.Lock()
	stale := cl.idle[a][0].conn
	cl.mu.Unlock()
	now = now.Add(ClientIdleTimeout + time.Second)
	if err := cl.Call(context.Background(), b, "echo", echoReq{}, nil); err != nil {
		t.Fatal(err)
	}
	cl.mu.Lock()
	_, kept := cl.idle[a]
	n := len(cl.idle)
	cl.mu.Unlock()
	if kept || n != 1 {
		t.Fatalf("after a call to another address: %s still pooled %v, %d addresses pooled", a, kept, n)
	}
	if _, err := stale.Write([]byte("x")); err == nil {
		t.Fatal("the swept connection is still open")
	}
}
