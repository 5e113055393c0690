package monitor

import (
	"context"
	"errors"
	"math"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// fakeDials is a dial function for dialPaced that counts its attempts and
// answers as connect says; a nil connect leaves the attempt unanswered
// until its context ends.
type fakeDials struct {
	connect func(attempt int) (answered bool, err error)

	mu                           sync.Mutex
	started, running, maxRunning int
	starts                       []time.Time
	conns                        []*fakeConn
}

type fakeConn struct {
	net.Conn
	closed atomic.Bool
}

func (c *fakeConn) Close() error { c.closed.Store(true); return nil }

func (f *fakeDials) dial(ctx context.Context) (net.Conn, error) {
	f.mu.Lock()
	n := f.started
	f.started++
	f.running++
	f.maxRunning = max(f.maxRunning, f.running)
	f.starts = append(f.starts, time.Now())
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.running--
		f.mu.Unlock()
	}()
	for {
		if answered, err := f.connect(n); answered {
			if err != nil {
				return nil, err
			}
			c := &fakeConn{}
			f.mu.Lock()
			f.conns = append(f.conns, c)
			f.mu.Unlock()
			return c, nil
		}
		select {
		case <-ctx.Done():
			return nil, &net.OpError{Op: "dial", Net: "tcp", Err: ctx.Err()}
		case <-time.After(time.Millisecond):
		}
	}
}

// stats are read once dialPaced returned.
func (f *fakeDials) stats() (started, running, maxRunning int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.started, f.running, f.maxRunning
}

var testPacing = dialPacing{retry: 20 * time.Millisecond, attemptTimeout: 80 * time.Millisecond, total: 5 * time.Second, maxAttempts: 5}

// TestDialPacedReachesHealedNode: while nothing answers, attempts overlap,
// a new one every retry and never more than maxAttempts at once; once the
// node answers again, a fresh attempt reaches it within about a retry,
// however long the unanswered ones still had to wait.
func TestDialPacedReachesHealedNode(t *testing.T) {
	var healedFrom atomic.Int64 // the first attempt started after the heal
	healedFrom.Store(math.MaxInt64)
	f := &fakeDials{connect: func(attempt int) (bool, error) {
		// Attempts started before the heal stay unanswered (their SYN
		// was dropped).
		return int64(attempt) >= healedFrom.Load(), nil
	}}
	var healAt time.Time
	go func() {
		time.Sleep(500 * time.Millisecond) // the partition's length
		f.mu.Lock()
		healAt = time.Now()
		healedFrom.Store(int64(f.started))
		f.mu.Unlock()
	}()
	nc, err := dialPaced(context.Background(), testPacing, f.dial)
	if err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	since := time.Since(healAt)
	f.mu.Unlock()
	started, running, maxRunning := f.stats()
	t.Logf("%d attempts, at most %d at once; connected %v after the heal", started, maxRunning, since)
	if since > testPacing.retry+30*time.Millisecond {
		t.Errorf("connected %v after the heal, want within about %v", since, testPacing.retry)
	}
	if maxRunning > testPacing.maxAttempts {
		t.Errorf("%d attempts at once, bound %d", maxRunning, testPacing.maxAttempts)
	}
	// 500 ms at one attempt per 20 ms, at most 5 at once: attempts
	// overlapped and were abandoned.
	if started < 15 {
		t.Errorf("%d attempts in 500 ms, want one every %v", started, testPacing.retry)
	}
	if running != 0 {
		t.Errorf("%d attempts still running after dialPaced returned", running)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.conns {
		if (c == nc) == c.closed.Load() {
			t.Errorf("connection closed=%v, winner=%v", c.closed.Load(), c == nc)
		}
	}
}

// TestDialPacedTimeoutBeforeItsContext: an attempt whose connect deadline
// fires (i/o timeout) before its context reports the deadline is still an
// unanswered attempt, not a failure: the dial goes on and reaches the node
// once it answers. Before the fix the first such timeout ended the dial.
func TestDialPacedTimeoutBeforeItsContext(t *testing.T) {
	ioTimeout := &net.OpError{Op: "dial", Net: "tcp", Err: os.ErrDeadlineExceeded}
	f := &fakeDials{connect: func(attempt int) (bool, error) {
		if attempt < 3 {
			return true, ioTimeout
		}
		return true, nil
	}}
	nc, err := dialPaced(context.Background(), testPacing, f.dial)
	if err != nil {
		t.Fatalf("dial ended with %v, want the attempts to go on until one connects", err)
	}
	if started, _, _ := f.stats(); started != 4 || nc == nil {
		t.Fatalf("%d attempts, conn %v; want the fourth attempt's connection", started, nc)
	}
}

// TestDialPacedClosesLosers: attempts that connect together yield one
// connection; the others are closed before dialPaced returns.
func TestDialPacedClosesLosers(t *testing.T) {
	var open atomic.Bool
	f := &fakeDials{connect: func(int) (bool, error) { return open.Load(), nil }}
	go func() {
		time.Sleep(3 * testPacing.retry) // several attempts pending
		open.Store(true)
	}()
	nc, err := dialPaced(context.Background(), testPacing, f.dial)
	if err != nil {
		t.Fatal(err)
	}
	_, running, _ := f.stats()
	if running != 0 {
		t.Fatalf("%d attempts still running", running)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.conns) < 2 {
		t.Logf("only %d attempt connected: nothing to close this time", len(f.conns))
	}
	for _, c := range f.conns {
		if (c == nc) == c.closed.Load() {
			t.Errorf("connection closed=%v, winner=%v", c.closed.Load(), c == nc)
		}
	}
}

// TestDialPacedFailsAtOnce: a refused connect ends the dial at once with
// its error (the link becomes disconnected, as with a single connect).
func TestDialPacedFailsAtOnce(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	f := &fakeDials{connect: func(int) (bool, error) { return true, refused }}
	start := time.Now()
	_, err := dialPaced(context.Background(), testPacing, f.dial)
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("err = %v, want connection refused", err)
	}
	if started, _, _ := f.stats(); started != 1 || time.Since(start) > testPacing.retry {
		t.Fatalf("%d attempts in %v, want one, at once", started, time.Since(start))
	}
}

// TestDialPacedGivesUp: a node that never answers fails the dial after
// the total, with the last attempt's error, every attempt returned; so
// does a cancelled context, at once.
func TestDialPacedGivesUp(t *testing.T) {
	never := func(int) (bool, error) { return false, nil }
	p := testPacing
	p.total = 300 * time.Millisecond
	f := &fakeDials{connect: never}
	start := time.Now()
	_, err := dialPaced(context.Background(), p, f.dial)
	took := time.Since(start)
	if err == nil || took < p.total || took > p.total+200*time.Millisecond {
		t.Fatalf("err %v after %v, want an error after %v", err, took, p.total)
	}
	if _, running, maxRunning := f.stats(); running != 0 || maxRunning > p.maxAttempts {
		t.Fatalf("%d attempts running after the dial, at most %d at once (bound %d)", running, maxRunning, p.maxAttempts)
	}

	ctx, cancel := context.WithCancel(context.Background())
	f = &fakeDials{connect: never}
	go func() {
		time.Sleep(100 * time.Millisecond)
		cancel()
	}()
	start = time.Now()
	if _, err := dialPaced(ctx, testPacing, f.dial); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled dial: %v", err)
	}
	if took := time.Since(start); took > 300*time.Millisecond {
		t.Fatalf("cancelled dial returned after %v", took)
	}
	if _, running, _ := f.stats(); running != 0 {
		t.Fatalf("%d attempts running after a cancelled dial", running)
	}
}
