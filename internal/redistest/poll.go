package redistest

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

// Poll calls f every interval until it returns nil or timeout has passed; in
// the latter case the test fails with f's last error. It must be called from
// the test goroutine (it calls t.Fatalf); use PollErr elsewhere.
func Poll(t testing.TB, timeout, interval time.Duration, f func() error) {
	t.Helper()
	if err := PollErr(timeout, interval, f); err != nil {
		t.Fatal(err)
	}
}

// PollErr calls f every interval until it returns nil or timeout has passed,
// and returns nil or an error wrapping f's last error. f is always called at
// least once, and once more at the deadline (unless it returns Abort(err)), so a condition that becomes
// true just in time is not reported as a failure.
func PollErr(timeout, interval time.Duration, f func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil {
			return nil
		}
		var stop abortError
		if errors.As(err, &stop) {
			return stop.err
		}
		left := time.Until(deadline)
		if left <= 0 {
			return fmt.Errorf("condition not met within %v: %w", timeout, err)
		}
		time.Sleep(min(interval, left))
	}
}

// Abort wraps err so that Poll and PollErr stop at once and report err,
// for conditions that can no longer become true (e.g. the process exited).
func Abort(err error) error { return abortError{err} }

type abortError struct{ err error }

func (a abortError) Error() string { return a.err.Error() }
func (a abortError) Unwrap() error { return a.err }

// ErrNotYet is a convenient error for Poll conditions that have no better
// explanation.
var ErrNotYet = errors.New("not yet")

// pollInterval is how often Until and Wait look: short, since the
// conditions are cheap reads and a late look only delays the test.
const pollInterval = 10 * time.Millisecond

// Until polls cond until it holds; after timeout the test fails, naming
// what it waited for. Call it from the test goroutine.
func Until(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	Wait(t, timeout, what, func() error {
		if cond() {
			return nil
		}
		return ErrNotYet
	})
}

// Wait polls f until it returns nil; after timeout the test fails, naming
// what it waited for and f's last error. Call it from the test goroutine.
func Wait(t testing.TB, timeout time.Duration, what string, f func() error) {
	t.Helper()
	if err := PollErr(timeout, pollInterval, f); err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
}
