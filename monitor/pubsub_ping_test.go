package monitor

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// infoInt is the number after prefix on a line of the node's INFO section
// (false if no line has it).
func infoInt(t *testing.T, port int, section, prefix string) (int, bool) {
	t.Helper()
	v := redisCall(t, port, "INFO", section)
	for _, l := range strings.Split(v.str, "\r\n") {
		if s, ok := strings.CutPrefix(l, prefix); ok {
			n, err := strconv.Atoi(s)
			if err != nil {
				t.Fatal(err)
			}
			return n, true
		}
	}
	return 0, false
}

// connsReceived is the node's total_connections_received.
func connsReceived(t *testing.T, port int) int {
	t.Helper()
	n, ok := infoInt(t, port, "stats", "total_connections_received:")
	if !ok {
		t.Fatal("no total_connections_received in INFO stats")
	}
	return n
}

// watchPingRenamed watches a real redis-server as master "m" through a
// rename of PING to PONG, so that every PING is answered with an error,
// until it is SDOWN (down-after 1 s).
func watchPingRenamed(t *testing.T, timing func() Timing) (*redisProc, *Monitor) {
	t.Helper()
	r := startRedis(t)
	rec := &recorder{}
	m := startMonitor(t, rec.config(idA, Config{Timing: timing}))
	m.Watch(MasterSpec{Name: "m", Addr: r.addr(), DownAfter: time.Second,
		RenameCommands: map[string]string{"PING": "PONG"}})
	rec.waitEvent(t, 10*time.Second, "+sdown", nil)
	return r, m
}

// TestPubsubPingErrorKeepsTheSubscription: a master that answers PING with
// an error (here PING renamed away, 07-down-conditions' last test; -BUSY
// from a long script does the same) goes SDOWN, and its pub/sub connection
// stays, as in redis-sentinel, which sends nothing on it but SUBSCRIBE.
// Our pub/sub PING got the same error, the handler took it for a failed
// SUBSCRIBE and closed the connection: redialled every ping period, the
// master was shown disconnected and the command link sent nothing while
// it was.
func TestPubsubPingErrorKeepsTheSubscription(t *testing.T) {
	r, m := watchPingRenamed(t, fastTiming)
	before := connsReceived(t, r.port)
	// Twenty ping periods, each one a pub/sub PING answered with an error.
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for end := time.Now().Add(2 * time.Second); time.Now().Before(end); <-tick.C {
		if status(t, m, "m").Master.Disconnected {
			t.Fatal("the master is shown disconnected while it answers")
		}
	}
	// One connection is the INFO call's own.
	if n := connsReceived(t, r.port) - before - 1; n > 0 {
		t.Fatalf("the links were redialled %d times in 2 s", n)
	}
}

// errorsAnswered is the node's count of ERR replies (INFO errorstats; no
// line before the first).
func errorsAnswered(t *testing.T, port int) int {
	t.Helper()
	n, _ := infoInt(t, port, "errorstats", "errorstat_ERR:count=")
	return n
}

// TestPubsubPingsArePaced: while a master answers PING with an error, the
// pub/sub connection is asked PING at most once per half ping period.
// Each error cleared the PING in flight and the next look sent another:
// 10 to 20 a second at the default timing, on a node that may be busy
// already (-BUSY from a long script). Here the command link's PINGs (two a
// second once SDOWN) and the pub/sub link's (two a second) are the only
// commands that fail.
func TestPubsubPingsArePaced(t *testing.T) {
	r, _ := watchPingRenamed(t, DefaultTiming)
	const window = 3 * time.Second
	before, start := errorsAnswered(t, r.port), time.Now()
	// The window is the measurement, not a wait for an event.
	time.Sleep(window)
	n := errorsAnswered(t, r.port) - before
	took := time.Since(start)
	if limit := int(4*took.Seconds()) + 2; n > limit {
		t.Fatalf("%d PINGs answered with an error in %v, want at most %d (two a second on each link)", n, took.Round(time.Millisecond), limit)
	}
	t.Logf("%d PINGs answered with an error in %v", n, took.Round(time.Millisecond))
}
