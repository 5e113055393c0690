// Package beat is the process's metronome. A sentinel runs a dozen
// periodic loops (the monitor's timer, the ODOWN check, the cut-off look,
// the group's rounds, ...), each on a ticker of its own and so each at a
// phase of its own: an idle sentinel woke for every one of them, and every
// wake-up costs a return from epoll, a context switch and a round of the
// runtime's sysmon far more than the loop's work. Tickers made here all
// tick on one shared beat, so the process wakes once per beat for all of
// them (docs/DESIGN.md, "Scale").
package beat

import (
	"sync"
	"time"

	"github.com/x0tta6bl4/gosentinel/internal/clock"
)

// Period is the beat. A ticker whose period is a multiple of it ticks on
// the beat; any other period gets a time.Ticker of its own.
const Period = 50 * time.Millisecond

// Ticker sends the time every period until stopped, dropping ticks a slow
// receiver misses, as time.Ticker does. No value is sent after Stop
// returns; one sent before may still wait in C, as with time.Ticker before
// Go 1.23, which the loops here, stopping it on their way out, never read.
type Ticker struct {
	C <-chan time.Time

	c     chan time.Time
	own   *time.Ticker // a period off the beat
	every int64        // the period in beats
	next  int64        // the beat of the next tick
}

// NewTicker returns a ticker with period d: for a multiple of Period, one
// ticking on the shared beat, its first tick at the beat nearest to d from
// now. It panics if d is not positive, as time.NewTicker does.
func NewTicker(d time.Duration) *Ticker {
	if d <= 0 {
		panic("beat: non-positive interval for NewTicker")
	}
	if d%Period != 0 {
		tt := time.NewTicker(d)
		return &Ticker{C: tt.C, own: tt}
	}
	c := make(chan time.Time, 1)
	t := &Ticker{C: c, c: c, every: int64(d / Period)}
	std.add(t, time.Now())
	return t
}

// Stop turns the ticker off.
func (t *Ticker) Stop() {
	if t.own != nil {
		t.own.Stop()
		return
	}
	std.remove(t)
}

// metronome keeps the beat while any ticker is on it.
type metronome struct {
	// manual: beats come from the caller of beat (tests), not from a
	// goroutine of its own.
	manual bool

	mu      sync.Mutex
	tickers map[*Ticker]struct{}
	// start is the time of beat 0 of the current run; stop ends the run's
	// goroutine, which exits once no ticker is left.
	start time.Time
	stop  chan struct{}
}

var std metronome

func (m *metronome) add(t *Ticker, now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stop == nil {
		m.start, m.stop = now, make(chan struct{})
		m.tickers = map[*Ticker]struct{}{}
		if !m.manual {
			go m.run(m.start, m.stop)
		}
	}
	t.next = firstBeat(m.start, now, t.every)
	m.tickers[t] = struct{}{}
}

func (m *metronome) remove(t *Ticker) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.tickers[t]; !ok {
		return
	}
	delete(m.tickers, t)
	if len(m.tickers) == 0 {
		close(m.stop)
		m.stop, m.tickers = nil, nil
	}
}

func (m *metronome) run(start time.Time, stop chan struct{}) {
	tk := time.NewTicker(Period)
	defer tk.Stop()
	for {
		select {
		case <-stop:
			return
		case now := <-tk.C:
			m.beat(start, now, stop)
		}
	}
}

// beat sends now to every ticker due at the beat now falls on. A beat of a
// run that ended (stop closed) sends nothing: its tickers are gone.
func (m *metronome) beat(start, now time.Time, stop chan struct{}) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stop != stop {
		return
	}
	b := beatOf(start, now)
	for t := range m.tickers {
		var due bool
		if t.next, due = advance(t.next, b, t.every); !due {
			continue
		}
		select {
		case t.c <- now:
		default: // the receiver has not taken the last tick yet
		}
	}
}

// beatOf is the number of the beat at now, for a run whose beat 0 was at
// start: the nearest, so the few microseconds a wake-up comes late, or
// early, do not move it to another beat.
func beatOf(start, now time.Time) int64 {
	return int64((now.Sub(start) + Period/2) / Period)
}

// firstBeat is the beat of the first tick of a ticker of every beats made
// at now: the one nearest to now plus its period, and never the current
// one.
func firstBeat(start, now time.Time, every int64) int64 {
	return max(beatOf(start, now.Add(time.Duration(every)*Period)), beatOf(start, now)+1)
}

// advance decides a ticker's tick at beat b, its next tick being due at
// beat next: due once b reached it, and then the next is the first of its
// beats after b, so ticks missed while the process was held up are
// dropped, not sent in a burst.
func advance(next, b, every int64) (int64, bool) {
	if b < next {
		return next, false
	}
	return next + ((b-next)/every+1)*every, true
}

// Clock returns the wall clock with its tickers on the beat, for code that
// takes a clock.Clock.
func Clock() clock.Clock { return beatClock{} }

type beatClock struct{}

func (beatClock) Now() time.Time                         { return time.Now() }
func (beatClock) NewTimer(d time.Duration) clock.Timer   { return clock.Real().NewTimer(d) }
func (beatClock) NewTicker(d time.Duration) clock.Ticker { return clockTicker{NewTicker(d)} }

type clockTicker struct{ t *Ticker }

func (c clockTicker) C() <-chan time.Time { return c.t.C }
func (c clockTicker) Stop()               { c.t.Stop() }
