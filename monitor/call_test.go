package monitor

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/internal/redistest"
)

// Call carries a command on the link the monitor keeps to a node: to the
// master and to a discovered replica, renamed as the master's
// rename-command says, with error replies as values and ErrNoLink for a
// node it has no connected link to.
func TestCallUsesTheCommandLink(t *testing.T) {
	master := startRedis(t, "--rename-command", "CONFIG", "MYCONFIG")
	replica := startRedis(t, "--replicaof", "127.0.0.1", strconv.Itoa(master.port), "--rename-command", "CONFIG", "MYCONFIG")
	rec := &recorder{}
	m := startMonitor(t, rec.config(idA, Config{Timing: infoFast}))
	m.Watch(MasterSpec{Name: "mymaster", Addr: master.addr(), DownAfter: 5 * time.Second,
		RenameCommands: map[string]string{"CONFIG": "MYCONFIG"}})
	rec.waitEvent(t, 5*time.Second, "+slave", nil)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var got []string
	redistest.Wait(t, 5*time.Second, "CONFIG GET over the replica's link", func() error {
		var err error
		got, err = m.Call(ctx, replica.addr(), "CONFIG", "GET", "min-replicas-max-lag")
		return err
	})
	if want := []string{"min-replicas-max-lag", "10"}; !slices.Equal(got, want) {
		t.Fatalf("replica CONFIG GET = %q, want %q", got, want)
	}
	if got, err := m.Call(ctx, master.addr(), "CONFIG", "GET", "min-replicas-to-write"); err != nil ||
		!slices.Equal(got, []string{"min-replicas-to-write", "0"}) {
		t.Fatalf("master CONFIG GET = %q, %v", got, err)
	}
	if got, err := m.Call(ctx, master.addr(), "PING"); err != nil || !slices.Equal(got, []string{"PONG"}) {
		t.Fatalf("PING = %q, %v", got, err)
	}
	_, err := m.Call(ctx, master.addr(), "CONFIG", "GET")
	var rerr *ReplyError
	if !errors.As(err, &rerr) || rerr.Msg == "" {
		t.Fatalf("CONFIG GET without a parameter: %v, want a ReplyError", err)
	}
	// The link is the monitor's: no connection of its own.
	clients := redisCall(t, master.port, "CLIENT", "LIST").str
	if n := strings.Count(clients, "name=sentinel-"); n != 2 {
		t.Fatalf("master has %d sentinel connections, want the link's 2:\n%s", n, clients)
	}
	if _, err := m.Call(ctx, Addr{Host: "127.0.0.1", Port: freePort(t)}, "PING"); !errors.Is(err, ErrNoLink) {
		t.Fatalf("Call to an unknown node: %v, want ErrNoLink", err)
	}
	replica.kill()
	redistest.Wait(t, 10*time.Second, "Call to the killed replica refused", func() error {
		if _, err := m.Call(ctx, replica.addr(), "PING"); !errors.Is(err, ErrNoLink) {
			return errors.New("still answered or another error")
		}
		return nil
	})
}

// Call uses only an idle link: a node under CLIENT PAUSE WRITE holds a
// PUBLISH, and every command pipelined behind it, until the pause ends, so
// a command sent behind one would wait out its caller's timeout.
func TestCallRefusesABusyLink(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m, master := idleLinkMonitor(t, ctx)
	redisCall(t, master.port, "CLIENT", "PAUSE", "5000", "WRITE")
	held := callWhenIdle(ctx, m, master.addr(), "PUBLISH", "somechannel", "x")
	redistest.Until(t, 5*time.Second, "the PUBLISH held by the pause", func() bool {
		return strings.Contains(redisCall(t, master.port, "INFO", "clients").str, "blocked_clients:1")
	})
	for range 5 {
		start := time.Now()
		_, err := m.Call(ctx, master.addr(), "CONFIG", "GET", "maxmemory")
		if time.Since(start) > time.Second || !errors.Is(err, ErrLinkBusy) || !errors.Is(err, ErrNoLink) {
			t.Fatalf("Call behind a held PUBLISH: %v after %v", err, time.Since(start))
		}
	}
	select {
	case err := <-held:
		t.Fatalf("PUBLISH answered during the pause: %v", err)
	default:
	}
	redisCall(t, master.port, "CLIENT", "UNPAUSE")
	if err := <-held; err != nil {
		t.Fatalf("held PUBLISH after the pause: %v", err)
	}
}

// A Call waiting on a link whose connection closes (the node died) returns
// ErrNoLink at once, not at its caller's deadline: the connection closes
// the channel Call waits on.
func TestCallEndsWhenItsConnectionCloses(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	m, master := idleLinkMonitor(t, ctx)
	held := callWhenIdle(ctx, m, master.addr(), "BLPOP", "nothing-ever", "0")
	redistest.Until(t, 5*time.Second, "the BLPOP to block", func() bool {
		return strings.Contains(redisCall(t, master.port, "INFO", "clients").str, "blocked_clients:1")
	})
	master.kill()
	start := time.Now()
	select {
	case err := <-held:
		if !errors.Is(err, ErrNoLink) || ctx.Err() != nil {
			t.Fatalf("Call on the closed connection: %v (ctx %v)", err, ctx.Err())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Call still waiting 10 s after its connection closed")
	}
	t.Logf("Call returned %v after the node died", time.Since(start).Round(time.Millisecond))
}

// idleLinkMonitor starts a monitor watching a new redis-server as
// "mymaster" and waits until a Call goes through on its idle link.
func idleLinkMonitor(t *testing.T, ctx context.Context) (*Monitor, *redisProc) {
	t.Helper()
	master := startRedis(t)
	m := startMonitor(t, (&recorder{}).config(idA, Config{Timing: infoFast}))
	m.Watch(MasterSpec{Name: "mymaster", Addr: master.addr(), DownAfter: 5 * time.Second})
	redistest.Wait(t, 5*time.Second, "an idle link", func() error {
		_, err := m.Call(ctx, master.addr(), "PING")
		return err
	})
	return m, master
}

// callWhenIdle runs Call in a goroutine, asking again while the link is
// busy (a PING or an INFO is out), and delivers the error it ends with.
func callWhenIdle(ctx context.Context, m *Monitor, a Addr, args ...string) <-chan error {
	held := make(chan error, 1)
	go func() {
		for {
			_, err := m.Call(ctx, a, args...)
			if errors.Is(err, ErrLinkBusy) && ctx.Err() == nil {
				time.Sleep(5 * time.Millisecond) // pacing of the retries, not synchronisation
				continue
			}
			held <- err
			return
		}
	}()
	return held
}
