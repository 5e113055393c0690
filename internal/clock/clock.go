// Package clock is the one source of time for code whose waits tests must
// control: Real is the wall clock, Fake a manual clock that only moves when
// a test advances it. Code takes a Clock instead of calling time.Now,
// time.NewTimer and time.NewTicker, so that its tests can run production
// intervals in no time and assert exact times instead of bounds.
package clock

import "time"

// Clock tells the time and makes timers and tickers.
type Clock interface {
	// Now is the current time (time.Now).
	Now() time.Time
	// NewTimer returns a timer that sends the time on its channel once, d
	// from now (time.NewTimer).
	NewTimer(d time.Duration) Timer
	// NewTicker returns a ticker that sends the time on its channel every
	// d, dropping ticks a slow receiver misses (time.NewTicker). d must be
	// positive.
	NewTicker(d time.Duration) Ticker
}

// Timer is a one-shot timer. As with time.Timer since Go 1.23, no value is
// received from C after Stop returns.
type Timer interface {
	C() <-chan time.Time
	// Stop prevents the timer from firing; false if it had already fired
	// or been stopped.
	Stop() bool
}

// Ticker sends the time every period until stopped. No value is received
// from C after Stop returns.
type Ticker interface {
	C() <-chan time.Time
	Stop()
}

// Real returns the wall clock.
func Real() Clock { return realClock{} }

type realClock struct{}

func (realClock) Now() time.Time                   { return time.Now() }
func (realClock) NewTimer(d time.Duration) Timer   { return realTimer{time.NewTimer(d)} }
func (realClock) NewTicker(d time.Duration) Ticker { return realTicker{time.NewTicker(d)} }

type realTimer struct{ t *time.Timer }

func (r realTimer) C() <-chan time.Time { return r.t.C }
func (r realTimer) Stop() bool          { return r.t.Stop() }

type realTicker struct{ t *time.Ticker }

func (r realTicker) C() <-chan time.Time { return r.t.C }
func (r realTicker) Stop()               { r.t.Stop() }

// OrReal returns c, or the wall clock if c is nil: a nil Clock in a config
// means real time.
func OrReal(c Clock) Clock {
	if c == nil {
		return Real()
	}
	return c
}
