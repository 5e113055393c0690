package sentinel

import (
	"sync"
	"time"
)

// Output buffer limits. Replies to a client's own commands apply
// backpressure (its command loop waits above outputHighWater); messages
// published to a subscriber never block the publisher: like redis'
// client-output-buffer-limit for the pubsub class (32mb hard, 8mb soft for
// 60 s), a subscriber whose pending output exceeds the limits is
// disconnected.
const (
	outputHighWater    = 4 << 20
	pubsubHardLimit    = 32 << 20
	pubsubSoftLimit    = 8 << 20
	pubsubSoftDuration = 60 * time.Second
)

// outbuf is a client's pending output, shared by the client's command loop,
// publishers (any goroutine) and the client's writer goroutine. Frames are
// appended whole, so concurrent producers never interleave inside a reply.
//
// One buffer at a time is being written (writing): by the writer goroutine
// (take, written), or by the command loop itself (flushOwn, writtenOwn),
// which writes the replies to its own commands directly when nothing else
// is being written, as redis writes them before going back to its event
// loop, saving the hand-off to the writer goroutine.
type outbuf struct {
	mu       sync.Mutex
	work     sync.Cond // the writer goroutine waits here for output
	space    sync.Cond // waitBelow waits here for output to be written
	buf      []byte
	ready    int // leading bytes of buf the writer may take
	spare    []byte
	inFlight int  // bytes handed out for writing and not yet written
	writing  bool // a buffer handed out is being written
	// ownWrite: the buffer being written was handed to the command loop's
	// single non-blocking write(2) (flushOwn). CLIENT LIST counts it as
	// written: redis writes a reply before any other client's command runs,
	// so its observers never see a reply the peer may already have read;
	// ours, without this, could (the command loop between its write and
	// writtenOwn). What the socket did not take comes back in writtenOwn.
	ownWrite  bool
	peak      int  // largest pending output seen (CLIENT LIST rbp)
	closing   bool // write what is pending, then close
	dead      bool // connection gone: drop everything
	softSince time.Time
}

func newOutbuf() *outbuf {
	o := &outbuf{}
	o.work.L = &o.mu
	o.space.L = &o.mu
	return o
}

// push appends b without waking the writer: replies to a batch of
// pipelined commands are written together once the batch is processed
// (flush), like redis writes them before going back to the event loop.
// It returns the output then pending (pendingBytes).
func (o *outbuf) push(b []byte) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(b) > 0 && !o.dead && !o.closing {
		o.buf = append(o.buf, b...)
	}
	return len(o.buf) + o.inFlight
}

// flush makes everything pushed so far writable and wakes the writer.
func (o *outbuf) flush() {
	o.mu.Lock()
	o.ready = len(o.buf)
	o.peak = max(o.peak, o.ready+o.inFlight)
	o.work.Signal()
	o.mu.Unlock()
}

// flushOwn is flush for a caller that writes the output itself: when
// nothing is being written it returns everything pending, which the caller
// writes and hands back to writtenOwn; otherwise (nil) it wakes the writer.
func (o *outbuf) flushOwn() []byte {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.ready = len(o.buf)
	o.peak = max(o.peak, o.ready+o.inFlight)
	if o.ready == 0 {
		return nil
	}
	if o.writing || o.closing || o.dead {
		o.work.Signal()
		return nil
	}
	o.ownWrite = true
	return o.takeLocked()
}

// writtenOwn returns a buffer from flushOwn of which the first n bytes
// were written: the rest goes back in front of the pending output, for the
// writer goroutine.
func (o *outbuf) writtenOwn(data []byte, n int) {
	if n >= len(data) {
		o.written(data)
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.inFlight, o.writing, o.ownWrite = 0, false, false
	if !o.dead {
		rest := make([]byte, 0, len(data)-n+len(o.buf))
		rest = append(append(rest, data[n:]...), o.buf...)
		o.ready += len(data) - n
		o.buf = rest
	}
	o.space.Broadcast()
	o.work.Signal()
}

// pushLimited appends b unless that makes the pending output exceed the
// pubsub limits; it reports false when the client must be disconnected.
func (o *outbuf) pushLimited(b []byte, now time.Time) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.dead || o.closing {
		return !o.dead
	}
	pending := len(o.buf) + o.inFlight + len(b)
	if pending > pubsubHardLimit {
		return false
	}
	if pending > pubsubSoftLimit {
		if o.softSince.IsZero() {
			o.softSince = now
		} else if now.Sub(o.softSince) > pubsubSoftDuration {
			return false
		}
	} else {
		o.softSince = time.Time{}
	}
	o.buf = append(o.buf, b...)
	o.ready = len(o.buf)
	o.work.Signal()
	return true
}

// take blocks until there is something to write (and nothing else is
// being written) or the buffer is closing or dead, and hands the pending
// bytes to the writer.
func (o *outbuf) take() (data []byte, closing, dead bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for !o.dead && (o.writing || (o.ready == 0 && !o.closing)) {
		o.work.Wait()
	}
	if o.dead {
		return nil, false, true
	}
	data = o.takeLocked()
	return data, o.closing && len(o.buf) == 0, false
}

// takeLocked hands out the ready bytes for writing.
func (o *outbuf) takeLocked() []byte {
	var data []byte
	if o.ready == len(o.buf) {
		data = o.buf
		o.buf = o.spare[:0]
		o.spare = nil
	} else {
		data = append(o.spare[:0], o.buf[:o.ready]...)
		o.spare = nil
		o.buf = append(o.buf[:0], o.buf[o.ready:]...)
	}
	o.ready = 0
	o.inFlight = len(data)
	o.writing = len(data) > 0
	return data
}

// written returns a buffer handed out by take or flushOwn once it has
// been written.
func (o *outbuf) written(data []byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.inFlight, o.writing, o.ownWrite = 0, false, false
	o.spare = emptied(data)
	if len(o.buf) <= pubsubSoftLimit {
		o.softSince = time.Time{}
	}
	o.space.Broadcast()
	if o.ready > 0 || o.closing || o.dead {
		o.work.Signal()
	}
}

// waitBelow blocks while more than limit bytes are pending. It reports
// false if the connection died meanwhile.
func (o *outbuf) waitBelow(limit int) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	for !o.dead && len(o.buf)+o.inFlight > limit {
		o.space.Wait()
	}
	return !o.dead
}

// pendingBytes is the output not yet written.
func (o *outbuf) pendingBytes() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.buf) + o.inFlight
}

// stats returns the pending output and its peak (CLIENT LIST). Output
// in the command loop's own write counts as written (ownWrite).
func (o *outbuf) stats() (pending, peak int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	pending = len(o.buf) + o.inFlight
	if o.ownWrite {
		pending = len(o.buf)
	}
	return pending, max(o.peak, len(o.buf)+o.inFlight)
}

// closeAfterFlush asks the writer to write what is pending and then close.
func (o *outbuf) closeAfterFlush() {
	o.mu.Lock()
	o.ready = len(o.buf)
	o.closing = true
	o.work.Signal()
	o.mu.Unlock()
}

// kill drops the pending output and stops the writer.
func (o *outbuf) kill() {
	o.mu.Lock()
	o.dead = true
	o.buf = nil
	o.ready = 0
	o.work.Broadcast()
	o.space.Broadcast()
	o.mu.Unlock()
}
