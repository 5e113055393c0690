package harness

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/x0tta6bl4/gosentinel/internal/redistest"
)

// WriterOptions configure a Writer.
type WriterOptions struct {
	// SentinelAddrs are the sentinels the FailoverClient starts from.
	SentinelAddrs []string
	// SentinelPassword is the sentinels' requirepass, if any.
	SentinelPassword string
	// Prefix names this writer's keys: "<Prefix>:<seq>".
	Prefix string
	// Interval is the pause after each write (default 2 ms).
	Interval time.Duration
	// Timeout bounds dialing, reading and writing (default 500 ms). A write
	// that times out is not acknowledged, so a paused master cannot
	// acknowledge it long after the client moved on.
	Timeout time.Duration
	// WaitReplicas > 0 sends each SET with WAIT <WaitReplicas> <WaitTimeout>
	// on the same connection; the write counts as acknowledged only if
	// that many replicas confirmed it.
	WaitReplicas int
	// WaitTimeout is WAIT's timeout (default 200 ms).
	WaitTimeout time.Duration
	// Dialer, if set, opens the client's connections (to sentinels and
	// data nodes), e.g. from inside a network namespace (internal/netlab).
	Dialer func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Ack is one acknowledged write: key "<prefix>:<Seq>" holds Seq.
type Ack struct {
	Seq int
	At  time.Time
}

// Writer writes through a go-redis FailoverClient in one goroutine, one
// SET after another, and records which writes were acknowledged and when.
//
// The client retries by itself, every Interval: go-redis' own command
// retries and dial retries are off, and its pool is larger than the number
// of failed dials a test can cause, so its dial circuit breaker (which then
// probes once a second) never opens. The time to the first acknowledged
// write after a fault then measures the sentinels, not go-redis' backoff.
type Writer struct {
	opts   WriterOptions
	client *redis.Client
	stop   chan struct{}
	done   chan struct{}
	once   sync.Once
	// node is the data node address of the client's latest dial.
	node atomic.Pointer[string]

	mu       sync.Mutex
	acks     []Ack
	ackAddrs []string
	attempts int
	failures int
	lastErr  error
}

// discardLogger silences go-redis' own log lines (sentinel switches,
// reconnects), which would drown the test output.
type discardLogger struct{}

func (discardLogger) Printf(context.Context, string, ...any) {}

var quietOnce sync.Once

// poolSize is far above the failed dials a writer makes in a minute of
// outage (one per Interval): see Writer. One connection is in use at a time.
const poolSize = 100000

// StartWriter starts writing.
func StartWriter(o WriterOptions) *Writer {
	quietOnce.Do(func() { redis.SetLogger(discardLogger{}) })
	if o.Interval == 0 {
		o.Interval = 2 * time.Millisecond
	}
	if o.Timeout == 0 {
		o.Timeout = 500 * time.Millisecond
	}
	if o.WaitTimeout == 0 {
		o.WaitTimeout = 200 * time.Millisecond
	}
	readTimeout := o.Timeout
	if o.WaitReplicas > 0 {
		readTimeout += o.WaitTimeout
	}
	w := &Writer{opts: o, stop: make(chan struct{}), done: make(chan struct{})}
	empty := ""
	w.node.Store(&empty)
	w.client = redis.NewFailoverClient(&redis.FailoverOptions{
		MasterName:       MasterName,
		SentinelAddrs:    o.SentinelAddrs,
		SentinelPassword: o.SentinelPassword,
		DialTimeout:      o.Timeout,
		ReadTimeout:      readTimeout,
		WriteTimeout:     o.Timeout,
		MaxRetries:       -1,
		DialerRetries:    1,
		PoolSize:         poolSize,
		Dialer:           w.dial,
	})
	go w.run()
	return w
}

// dial opens a connection with o.Dialer (or a net.Dialer) and remembers a
// data node's address (any address that is not a sentinel's).
func (w *Writer) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	var c net.Conn
	var err error
	if w.opts.Dialer != nil {
		c, err = w.opts.Dialer(ctx, network, addr)
	} else {
		var d net.Dialer
		c, err = d.DialContext(ctx, network, addr)
	}
	if err == nil && !slices.Contains(w.opts.SentinelAddrs, addr) {
		w.node.Store(&addr)
	}
	return c, err
}

// Key returns the key of write seq.
func (w *Writer) Key(seq int) string { return w.opts.Prefix + ":" + strconv.Itoa(seq) }

func (w *Writer) run() {
	defer close(w.done)
	ctx := context.Background()
	for seq := 0; ; seq++ {
		select {
		case <-w.stop:
			return
		default:
		}
		err := w.write(ctx, seq)
		now := time.Now()
		w.mu.Lock()
		w.attempts++
		if err == nil {
			w.acks = append(w.acks, Ack{Seq: seq, At: now})
			w.ackAddrs = append(w.ackAddrs, *w.node.Load())
		} else {
			w.failures++
			w.lastErr = err
		}
		w.mu.Unlock()
		select {
		case <-w.stop:
			return
		case <-time.After(w.opts.Interval):
		}
	}
}

// write sends write seq and returns nil only if it was acknowledged.
func (w *Writer) write(ctx context.Context, seq int) error {
	key, val := w.Key(seq), strconv.Itoa(seq)
	if w.opts.WaitReplicas == 0 {
		return w.client.Set(ctx, key, val, 0).Err()
	}
	pipe := w.client.Pipeline()
	set := pipe.Set(ctx, key, val, 0)
	wait := pipe.Do(ctx, "WAIT", w.opts.WaitReplicas, w.opts.WaitTimeout.Milliseconds())
	if _, err := pipe.Exec(ctx); err != nil {
		return err
	}
	if err := set.Err(); err != nil {
		return err
	}
	n, err := wait.Int()
	if err != nil {
		return fmt.Errorf("WAIT: %w", err)
	}
	if n < w.opts.WaitReplicas {
		return fmt.Errorf("WAIT %d: only %d replicas acknowledged", w.opts.WaitReplicas, n)
	}
	return nil
}

// Stop stops writing, closes the client and returns the record.
func (w *Writer) Stop() Result {
	w.once.Do(func() {
		close(w.stop)
		<-w.done
		w.client.Close()
	})
	return w.Result()
}

// Result returns the record so far.
func (w *Writer) Result() Result {
	w.mu.Lock()
	defer w.mu.Unlock()
	return Result{Prefix: w.opts.Prefix, Acks: append([]Ack(nil), w.acks...), AckAddrs: append([]string(nil), w.ackAddrs...),
		Attempts: w.attempts, Failures: w.failures, LastErr: w.lastErr}
}

// Acked returns how many writes were acknowledged so far.
func (w *Writer) Acked() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.acks)
}

// AcksAfter returns how many writes were acknowledged after t, and when
// the first of them was.
func (w *Writer) AcksAfter(t time.Time) (int, time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	var first time.Time
	for i := len(w.acks) - 1; i >= 0 && w.acks[i].At.After(t); i-- {
		n++
		first = w.acks[i].At
	}
	return n, first
}

// WaitAcksAfter polls until n writes were acknowledged after t and returns
// the time of the first of them.
func (w *Writer) WaitAcksAfter(t time.Time, n int, timeout time.Duration) (time.Time, error) {
	var first time.Time
	err := redistest.PollErr(timeout, 5*time.Millisecond, func() error {
		got, f := w.AcksAfter(t)
		if got < n {
			r := w.Result()
			return fmt.Errorf("%d of %d writes acknowledged after %s (attempts %d, failures %d, last error %v)",
				got, n, t.Format("15:04:05.000"), r.Attempts, r.Failures, r.LastErr)
		}
		first = f
		return nil
	})
	return first, err
}

// Result is what a Writer did.
type Result struct {
	Prefix string
	Acks   []Ack
	// AckAddrs[i] is the data node that acknowledged Acks[i]: the node
	// the client last connected to before it (the FailoverClient drops its
	// pool when it switches masters, and the writer writes one at a time).
	AckAddrs []string
	Attempts int
	Failures int
	LastErr  error
}

// LongestGap returns the longest time within [from, to] without an
// acknowledged write (from the start of the window to the first ack, between
// acks, and from the last ack to the end of the window).
func (r Result) LongestGap(from, to time.Time) time.Duration {
	prev, longest := from, time.Duration(0)
	for _, a := range r.Acks {
		if a.At.Before(from) {
			continue
		}
		if a.At.After(to) {
			break
		}
		longest = max(longest, a.At.Sub(prev))
		prev = a.At
	}
	return max(longest, to.Sub(prev))
}
