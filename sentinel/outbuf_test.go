package sentinel

import "testing"

// A reply handed to the command loop's own write may already be read by
// the peer before writtenOwn runs; another client's CLIENT LIST must then
// not show it pending (obl, events=w), as redis, which writes before any
// other command runs, never does. The CI failure this reproduces: CLIENT
// LIST showed "obl=5 events=rw" for a client whose +OK the test had read.
func TestOwnWriteInProgressIsNotPending(t *testing.T) {
	o := newOutbuf()
	o.push([]byte("+OK\r\n"))
	data := o.flushOwn()
	if string(data) != "+OK\r\n" {
		t.Fatalf("flushOwn = %q", data)
	}
	if pending, _ := o.stats(); pending != 0 {
		t.Fatalf("during the own write: pending %d, want 0", pending)
	}
	if got := o.pendingBytes(); got != 5 {
		t.Fatalf("backpressure must still count the bytes in flight: %d, want 5", got)
	}
	// The socket took 2 bytes: the rest is pending again.
	o.writtenOwn(data, 2)
	if pending, _ := o.stats(); pending != 3 {
		t.Fatalf("after a partial write: pending %d, want 3", pending)
	}
	// The writer goroutine's blocking write counts as pending until done.
	data, _, _ = o.take()
	if pending, _ := o.stats(); pending != 3 {
		t.Fatalf("during the writer's write: pending %d, want 3", pending)
	}
	o.written(data)
	if pending, _ := o.stats(); pending != 0 {
		t.Fatalf("after the writer's write: pending %d, want 0", pending)
	}
}
