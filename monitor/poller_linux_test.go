//go:build linux

package monitor

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/internal/redistest"
	"golang.org/x/sys/unix"
)

// Links to plain TCP nodes are read by the event loop: no goroutine per
// connection stays (issue 12), and every node's replies still arrive (its
// INFO, its PONGs).
func TestLinksAreServedByTheEventLoop(t *testing.T) {
	const n = 30
	rec := &recorder{}
	m := startMonitor(t, rec.config(idA, Config{Timing: fastTiming}))
	for i := 0; i < n; i++ {
		runid := fmt.Sprintf("%040d", i)
		srv := newFakeServer(t, redisLike(func() string { return masterInfo(runid) }, func() string { return "+PONG\r\n" }))
		m.Watch(MasterSpec{Name: fmt.Sprintf("m%d", i), Addr: Addr{Host: "127.0.0.1", Port: srv.port()}, DownAfter: time.Hour})
	}
	redistest.Until(t, 10*time.Second, "every master's INFO and PONG", func() bool {
		for i := 0; i < n; i++ {
			st, _ := m.Status(fmt.Sprintf("m%d", i))
			if st.Master.RunID != fmt.Sprintf("%040d", i) || st.Master.LastOKPingReply.IsZero() || !st.Master.PingPendingSince.IsZero() && st.Master.LastOKPingReply.Before(st.Master.PingPendingSince) {
				return false
			}
		}
		return true
	})
	buf := make([]byte, 1<<20)
	stacks := string(buf[:runtime.Stack(buf, true)])
	if k := strings.Count(stacks, "monitor.(*conn).readLoop"); k != 0 {
		t.Fatalf("%d connections have a reader goroutine; want the event loop for all", k)
	}
	if !strings.Contains(stacks, "monitor.(*poller).loop") {
		t.Fatal("no event loop runs")
	}
}

// polledPair is a conn served by p on one end of a socket pair; the test
// holds the other end (blocking).
func polledPair(t *testing.T, m *Monitor, p *poller) (*conn, *os.File) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.SetNonblock(fds[0], true); err != nil {
		t.Fatal(err)
	}
	c := newConn(m, &link{}, false, "pair")
	c.poll = p
	if err := p.add(c, fds[0]); err != nil {
		t.Fatal(err)
	}
	peer := os.NewFile(uintptr(fds[1]), "peer")
	t.Cleanup(func() {
		m.mu.Lock()
		c.closed = true
		c.shutdown()
		m.mu.Unlock()
		peer.Close()
	})
	return c, peer
}

// Commands queued while the node does not read wait for the socket, in
// order, and all go out once it reads again; replies arriving in pieces
// reach their handler whole.
func TestPolledConnWaitsForAFullSocket(t *testing.T) {
	m := New(Config{})
	p := newPoller(m)
	if p == nil {
		t.Fatal("no epoll")
	}
	defer func() { m.wg.Wait(); p.close() }()
	c, peer := polledPair(t, m, p)

	// Far more than a socket pair's buffers, queued while nobody reads.
	var want bytes.Buffer
	big := strings.Repeat("v", 64<<10)
	for i := 0; i < 200; i++ {
		arg := fmt.Sprintf("%d-%s", i, big)
		want.Write(appendCommand(nil, "ECHO", arg))
		m.mu.Lock()
		c.write("ECHO", arg)
		m.mu.Unlock()
	}
	redistest.Until(t, 5*time.Second, "the socket to fill and the loop to wait for it", func() bool {
		c.wmu.Lock()
		defer c.wmu.Unlock()
		return c.wantOut && !c.flushing
	})
	got := make([]byte, want.Len())
	if _, err := io.ReadFull(peer, got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Fatal("the node received the commands altered or out of order")
	}
	redistest.Until(t, 5*time.Second, "the writes to finish", func() bool {
		c.wmu.Lock()
		defer c.wmu.Unlock()
		return !c.wantOut && len(c.wbuf) == 0
	})

	replies := make(chan value, 2)
	m.mu.Lock()
	c.send(replyHandler{fn: func(v value) { replies <- v }}, "PING")
	c.send(replyHandler{fn: func(v value) { replies <- v }}, "INFO")
	m.mu.Unlock()
	info := masterInfo(idB)
	for _, piece := range []string{"+PO", "NG\r", "\n$", fmt.Sprintf("%d\r\n%s", len(info), info[:10]), info[10:] + "\r\n"} {
		if _, err := peer.Write([]byte(piece)); err != nil {
			t.Fatal(err)
		}
	}
	for _, w := range []value{{typ: '+', str: "PONG"}, {typ: '$', str: info}} {
		select {
		case v := <-replies:
			if v.typ != w.typ || v.str != w.str {
				t.Fatalf("reply %+v, want %+v", v, w)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no reply %q", w.str)
		}
	}
}

// Where the runtime cannot poll the epoll set, the loop waits in
// epoll_wait itself: replies still arrive.
func TestPollerOutsideTheRuntimesPoller(t *testing.T) {
	setOutsideRuntime = true
	m := New(Config{})
	p := newPoller(m)
	setOutsideRuntime = false
	if p == nil {
		t.Fatal("no epoll")
	}
	defer func() { m.wg.Wait(); p.close() }()
	// The loop falls back at its first look that finds the set empty.
	// Before anything is sent, so the reply below must come through the
	// fallback's epoll_wait: a loop that first ran once the reply was
	// already there took it without a wait, and fell back only after.
	redistest.Until(t, 5*time.Second, "the loop falls back to epoll_wait", p.blocking.Load)
	c, peer := polledPair(t, m, p)
	replies := make(chan value, 1)
	m.mu.Lock()
	c.send(replyHandler{fn: func(v value) { replies <- v }}, "PING")
	m.mu.Unlock()
	cmd := appendCommand(nil, "PING")
	got := make([]byte, len(cmd))
	if _, err := io.ReadFull(peer, got); err != nil || !bytes.Equal(got, cmd) {
		t.Fatalf("the node received %q (%v), want %q", got, err, cmd)
	}
	if _, err := peer.Write([]byte("+PONG\r\n")); err != nil {
		t.Fatal(err)
	}
	select {
	case v := <-replies:
		if v.typ != '+' || v.str != "PONG" {
			t.Fatalf("reply %+v, want PONG", v)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no reply")
	}
	if !p.blocking.Load() {
		t.Fatal("the loop left its fallback")
	}
}
