package monitor

import (
	"context"
	"errors"
	"net"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/internal/redistest"
)

// clientTo returns a Client of the fake server, with AUTH on connect.
func clientTo(t *testing.T, srv *fakeServer, timeout time.Duration) *Client {
	t.Helper()
	c := NewClient(ClientOptions{
		Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(srv.port())), DialTimeout: time.Second, Timeout: timeout, MaxIdle: 2,
		OnConnect: func(do func(args ...string) ([]string, error)) error {
			_, err := do("AUTH", "pw")
			return err
		},
	})
	t.Cleanup(func() { c.Close() })
	return c
}

func (f *fakeServer) connCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.conns)
}

// killConns closes the server's side of every connection, as CLIENT KILL
// (the SLAVEOF transaction's) does to the client's kept ones.
func (f *fakeServer) killConns() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.conns {
		c.Close()
	}
}

func TestClientRepliesAndPipeline(t *testing.T) {
	srv := newFakeServer(t, func(args []string) string {
		switch args[0] {
		case "AUTH", "MULTI", "SLAVEOF":
			return "+OK\r\n"
		case "PING":
			return "+PONG\r\n"
		case "CONFIG":
			return "*2\r\n$" + strconv.Itoa(len(args[2])) + "\r\n" + args[2] + "\r\n$1\r\n1\r\n"
		case "EXEC":
			return "*3\r\n+OK\r\n-ERR The server is running without a config file\r\n:2\r\n"
		}
		return "-ERR unknown command '" + args[0] + "'\r\n"
	})
	c := clientTo(t, srv, time.Second)
	ctx := context.Background()
	if got, err := c.Do(ctx, "PING"); err != nil || !slices.Equal(got, []string{"PONG"}) {
		t.Fatalf("PING: %q %v", got, err)
	}
	if got, err := c.Do(ctx, "CONFIG", "GET", "min-replicas-to-write"); err != nil || !slices.Equal(got, []string{"min-replicas-to-write", "1"}) {
		t.Fatalf("CONFIG GET: %q %v", got, err)
	}
	var re *ReplyError
	if _, err := c.Do(ctx, "NOPE"); !errors.As(err, &re) || re.Msg != "ERR unknown command 'NOPE'" {
		t.Fatalf("NOPE: %v", err)
	}
	rs, err := c.Pipeline(ctx, []string{"MULTI"}, []string{"SLAVEOF", "NO", "ONE"}, []string{"EXEC"})
	if err != nil || len(rs) != 3 {
		t.Fatalf("pipeline: %+v %v", rs, err)
	}
	exec := rs[2]
	if exec.Err != nil || len(exec.Elems) != 3 || exec.Elems[0].Str != "OK" || exec.Elems[2].Str != "2" ||
		!errors.As(exec.Elems[1].Err, &re) || re.Msg != "ERR The server is running without a config file" {
		t.Fatalf("EXEC reply: %+v", exec)
	}
	// One connection served every command, authenticated once.
	if n, auths := srv.connCount(), len(srv.commands("AUTH")); n != 1 || auths != 1 {
		t.Fatalf("%d connections, %d AUTH", n, auths)
	}
}

// A kept connection the node closed (CLIENT KILL TYPE normal, sent by the
// SLAVEOF transaction on the other connection) is replaced: the command
// goes out on a new connection instead of failing.
func TestClientRedialsAKeptConnectionTheNodeClosed(t *testing.T) {
	srv := newFakeServer(t, func(args []string) string {
		if args[0] == "PING" {
			return "+PONG\r\n"
		}
		return "+OK\r\n"
	})
	c := clientTo(t, srv, time.Second)
	ctx := context.Background()
	if _, err := c.Do(ctx, "PING"); err != nil {
		t.Fatal(err)
	}
	srv.killConns()
	if got, err := c.Do(ctx, "PING"); err != nil || !slices.Equal(got, []string{"PONG"}) {
		t.Fatalf("PING after the node closed the kept connection: %q %v", got, err)
	}
	if n := srv.connCount(); n != 2 {
		t.Fatalf("%d connections, want 2", n)
	}
}

// A connection whose reply did not come in time is never used again: its
// late reply would answer the next command.
func TestClientDropsAConnectionThatTimedOut(t *testing.T) {
	release := make(chan struct{})
	srv := newFakeServer(t, func(args []string) string {
		switch args[0] {
		case "HANG":
			<-release
			return "+LATE\r\n"
		case "PING":
			return "+PONG\r\n"
		}
		return "+OK\r\n"
	})
	c := clientTo(t, srv, 100*time.Millisecond)
	_, err := c.Do(context.Background(), "HANG")
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("HANG: %v, want a timeout", err)
	}
	close(release)
	if got, err := c.Do(context.Background(), "PING"); err != nil || !slices.Equal(got, []string{"PONG"}) {
		t.Fatalf("PING after a timeout: %q %v", got, err)
	}
}

// Cancelling the context ends an exchange at once, whatever Timeout says.
func TestClientCancelEndsTheExchange(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	srv := newFakeServer(t, func(args []string) string {
		if args[0] == "HANG" {
			<-release
		}
		return "+OK\r\n"
	})
	c := clientTo(t, srv, time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := c.Do(ctx, "HANG")
		errc <- err
	}()
	redistest.Until(t, 5*time.Second, "HANG at the server", func() bool { return len(srv.commands("HANG")) > 0 })
	select {
	case err := <-errc:
		t.Fatalf("HANG returned before it was cancelled: %v", err)
	default:
	}
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("HANG: %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("cancelling did not end the exchange")
	}
}

func TestClientOnConnectErrorAndClose(t *testing.T) {
	srv := newFakeServer(t, func(args []string) string {
		if args[0] == "AUTH" {
			return "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
		}
		return "+PONG\r\n"
	})
	c := clientTo(t, srv, time.Second)
	var re *ReplyError
	if _, err := c.Do(context.Background(), "PING"); !errors.As(err, &re) || re.Msg[:9] != "WRONGPASS" {
		t.Fatalf("PING with a refused AUTH: %v", err)
	}
	if n := len(srv.commands("PING")); n != 0 {
		t.Fatalf("PING sent after a refused AUTH (%d)", n)
	}
	c.Close()
	if _, err := c.Do(context.Background(), "PING"); !errors.Is(err, ErrClientClosed) {
		t.Fatalf("after Close: %v", err)
	}
}
