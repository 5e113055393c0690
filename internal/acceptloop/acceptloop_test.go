package acceptloop

import (
	"fmt"
	"net"
	"os"
	"syscall"
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	emfile := &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", syscall.EMFILE)}
	var b Backoff
	var waits []time.Duration
	for i := 0; i < 10; i++ {
		w, ok := b.Retry(emfile)
		if !ok {
			t.Fatalf("EMFILE ended the loop")
		}
		waits = append(waits, w)
	}
	if got, want := fmt.Sprint(waits), "[5ms 10ms 20ms 40ms 80ms 160ms 320ms 640ms 1s 1s]"; got != want {
		t.Fatalf("waits %s, want %s", got, want)
	}
	b.Accepted()
	if w, _ := b.Retry(emfile); w != firstWait {
		t.Fatalf("after an accepted connection the wait is %v", w)
	}
	for _, err := range []error{net.ErrClosed, fmt.Errorf("accept: %w", net.ErrClosed)} {
		if _, ok := b.Retry(err); ok {
			t.Fatalf("%v: the loop goes on after the listener closed", err)
		}
	}
}
