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
type outbuf struct {
	mu        sync.Mutex
	cond      sync.Cond
	buf       []byte
	ready     int // leading bytes of buf the writer may take
	spare     []byte
	inFlight  int  // bytes handed to the writer and not yet written
	peak      int  // largest pending output seen (CLIENT LIST rbp)
	closing   bool // write what is pending, then close
	dead      bool // connection gone: drop everything
	softSince time.Time
}

func newOutbuf() *outbuf {
	o := &outbuf{}
	o.cond.L = &o.mu
	return o
}

// push appends b without waking the writer: replies to a batch of
// pipelined commands are written together once the batch is processed
// (flush), like redis writes them before going back to the event loop.
func (o *outbuf) push(b []byte) {
	if len(b) == 0 {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.dead || o.closing {
		return
	}
	o.buf = append(o.buf, b...)
}

// flush makes everything pushed so far writable and wakes the writer.
func (o *outbuf) flush() {
	o.mu.Lock()
	o.ready = len(o.buf)
	o.peak = max(o.peak, o.ready+o.inFlight)
	o.cond.Broadcast()
	o.mu.Unlock()
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
	o.cond.Broadcast()
	return true
}

// take blocks until there is something to write or the buffer is closing
// or dead, and hands the pending bytes to the writer.
func (o *outbuf) take() (data []byte, closing, dead bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for o.ready == 0 && !o.closing && !o.dead {
		o.cond.Wait()
	}
	if o.dead {
		return nil, false, true
	}
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
	return data, o.closing && len(o.buf) == 0, false
}

// written returns a buffer handed out by take once it has been written.
func (o *outbuf) written(data []byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.inFlight = 0
	if cap(data) <= 64<<10 {
		o.spare = data[:0]
	}
	if len(o.buf) <= pubsubSoftLimit {
		o.softSince = time.Time{}
	}
	o.cond.Broadcast()
}

// waitBelow blocks while more than limit bytes are pending. It reports
// false if the connection died meanwhile.
func (o *outbuf) waitBelow(limit int) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	for !o.dead && len(o.buf)+o.inFlight > limit {
		o.cond.Wait()
	}
	return !o.dead
}

// pendingBytes is the output not yet written.
func (o *outbuf) pendingBytes() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.buf) + o.inFlight
}

// stats returns the pending output and its peak (CLIENT LIST).
func (o *outbuf) stats() (pending, peak int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.buf) + o.inFlight, max(o.peak, len(o.buf)+o.inFlight)
}

// closeAfterFlush asks the writer to write what is pending and then close.
func (o *outbuf) closeAfterFlush() {
	o.mu.Lock()
	o.ready = len(o.buf)
	o.closing = true
	o.cond.Broadcast()
	o.mu.Unlock()
}

// kill drops the pending output and stops the writer.
func (o *outbuf) kill() {
	o.mu.Lock()
	o.dead = true
	o.buf = nil
	o.ready = 0
	o.cond.Broadcast()
	o.mu.Unlock()
}
