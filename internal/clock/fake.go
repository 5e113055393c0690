package clock

import (
	"context"
	"sync"
	"time"
)

// Fake is a manual Clock: its time stands still until Advance moves it,
// firing every timer and ticker that falls due on the way. Waiters tells a
// test how many timers and tickers are armed, which is how it knows that
// the goroutines it drives are all blocked on the clock before it moves
// time again. It is safe for concurrent use.
type Fake struct {
	mu      sync.Mutex
	now     time.Time
	armed   []*waiter
	seq     uint64
	changed chan struct{} // closed and replaced whenever armed changes
}

// waiter is a fake timer (period 0) or ticker.
type waiter struct {
	f      *Fake
	c      chan time.Time // one slot, like the runtime's timers before Go 1.23
	at     time.Time      // next firing
	period time.Duration
	seq    uint64 // creation order: equal deadlines fire in the order they were set
	armed  bool
}

// NewFake returns a fake clock reading start.
func NewFake(start time.Time) *Fake {
	return &Fake{now: start, changed: make(chan struct{})}
}

// Now returns the fake time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// NewTimer returns a timer firing once Advance reaches d from now; d <= 0
// fires at once, as time.NewTimer's does.
func (f *Fake) NewTimer(d time.Duration) Timer {
	return fakeTimer{f.add(d, 0)}
}

// NewTicker returns a ticker firing every d of fake time. It panics if d
// is not positive, as time.NewTicker does.
func (f *Fake) NewTicker(d time.Duration) Ticker {
	if d <= 0 {
		panic("clock: non-positive interval for NewTicker")
	}
	return fakeTicker{f.add(d, d)}
}

func (f *Fake) add(d, period time.Duration) *waiter {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq++
	w := &waiter{f: f, c: make(chan time.Time, 1), at: f.now.Add(d), period: period, seq: f.seq}
	if d <= 0 {
		w.c <- f.now
		return w
	}
	w.armed = true
	f.armed = append(f.armed, w)
	f.changedLocked()
	return w
}

// Advance moves the time forward by d, firing in deadline order every
// timer and ticker due by then; each fires with the time set to its
// deadline. A ticker whose previous tick was not received drops the new
// one, as a real ticker does for a slow receiver.
func (f *Fake) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	target := f.now.Add(d)
	for {
		w := f.nextLocked()
		if w == nil || w.at.After(target) {
			break
		}
		f.now = w.at
		select {
		case w.c <- w.at:
		default:
		}
		if w.period > 0 {
			w.at = w.at.Add(w.period)
			f.seq++
			w.seq = f.seq
			continue
		}
		f.disarmLocked(w)
	}
	if target.After(f.now) {
		f.now = target
	}
}

// Next returns the deadline of the earliest armed timer or ticker; false
// if none is armed.
func (f *Fake) Next() (time.Time, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if w := f.nextLocked(); w != nil {
		return w.at, true
	}
	return time.Time{}, false
}

// Waiters returns how many timers and tickers are armed: created, not yet
// fired (a ticker until stopped) and not stopped.
func (f *Fake) Waiters() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.armed)
}

// BlockUntil returns once at least n timers and tickers are armed, or with
// ctx's error when ctx ends first. It waits on a signal, not by polling.
func (f *Fake) BlockUntil(ctx context.Context, n int) error {
	for {
		f.mu.Lock()
		ok, changed := len(f.armed) >= n, f.changed
		f.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-changed:
		}
	}
}

func (f *Fake) nextLocked() *waiter {
	var first *waiter
	for _, w := range f.armed {
		if first == nil || w.at.Before(first.at) || w.at.Equal(first.at) && w.seq < first.seq {
			first = w
		}
	}
	return first
}

func (f *Fake) disarmLocked(w *waiter) bool {
	if !w.armed {
		return false
	}
	w.armed = false
	for i, a := range f.armed {
		if a == w {
			f.armed = append(f.armed[:i], f.armed[i+1:]...)
			break
		}
	}
	f.changedLocked()
	return true
}

func (f *Fake) changedLocked() {
	close(f.changed)
	f.changed = make(chan struct{})
}

// stop disarms w and drops a value it sent that nobody received, so that
// nothing is received after Stop (time.Timer's guarantee since Go 1.23).
func (w *waiter) stop() bool {
	w.f.mu.Lock()
	defer w.f.mu.Unlock()
	select {
	case <-w.c:
	default:
	}
	return w.f.disarmLocked(w)
}

type fakeTimer struct{ w *waiter }

func (t fakeTimer) C() <-chan time.Time { return t.w.c }
func (t fakeTimer) Stop() bool          { return t.w.stop() }

type fakeTicker struct{ w *waiter }

func (t fakeTicker) C() <-chan time.Time { return t.w.c }
func (t fakeTicker) Stop()               { t.w.stop() }
