// Package acceptloop paces an accept loop through errors that pass.
//
// Every error an Accept returns, other than the listener's own close,
// passes: out of file descriptors (EMFILE, ENFILE) or buffers, a
// connection reset before it was taken. An accept loop that returned on
// them stopped accepting for good while the process went on running and
// the kernel went on queueing connections nobody took; redis logs the
// error and takes the next connection.
package acceptloop

import (
	"errors"
	"net"
	"time"
)

// Bounds of the wait between failed accepts: it doubles from the first
// to the last, so a process out of descriptors neither spins nor waits
// long once one is free.
const (
	firstWait = 5 * time.Millisecond
	lastWait  = time.Second
)

// Backoff paces one accept loop.
type Backoff struct{ wait time.Duration }

// Retry reports whether the loop goes on after Accept returned err, and
// how long it waits first; false only when the listener was closed.
func (b *Backoff) Retry(err error) (time.Duration, bool) {
	if errors.Is(err, net.ErrClosed) {
		return 0, false
	}
	b.wait = min(max(2*b.wait, firstWait), lastWait)
	return b.wait, true
}

// Accepted resets the wait once a connection was accepted.
func (b *Backoff) Accepted() { b.wait = 0 }
