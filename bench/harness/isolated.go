package harness

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
)

// recorder is the testing.TB a run gets: a *testing.B (so the harness has
// temp dirs, and cleanups that stop every process of the run by pid) that
// also keeps the failure messages, which testing.Benchmark would discard.
type recorder struct {
	*testing.B
	mu   sync.Mutex
	msgs []string
}

func (r *recorder) record(s string) {
	r.mu.Lock()
	r.msgs = append(r.msgs, s)
	r.mu.Unlock()
}

// Error records and fails.
func (r *recorder) Error(args ...any) { r.record(fmt.Sprint(args...)); r.B.Error(args...) }

// Errorf records and fails.
func (r *recorder) Errorf(format string, args ...any) {
	r.record(fmt.Sprintf(format, args...))
	r.B.Errorf(format, args...)
}

// Fatal records and stops the run.
func (r *recorder) Fatal(args ...any) { r.record(fmt.Sprint(args...)); r.B.Fatal(args...) }

// Fatalf records and stops the run.
func (r *recorder) Fatalf(format string, args ...any) {
	r.record(fmt.Sprintf(format, args...))
	r.B.Fatalf(format, args...)
}

func (r *recorder) err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.msgs) == 0 {
		return errors.New("run failed")
	}
	return errors.New(strings.Join(r.msgs, "\n"))
}

// Isolated runs f once as the body of a testing.Benchmark, so that every
// process it starts (and every lab it opens) is stopped by the cleanups of
// its testing.TB when it returns or fails, and returns its failure. The
// benchmarks (bench/failover, bench/partition) run each measured run in
// it. A program calling it must call testing.Init first.
func Isolated(f func(testing.TB)) error {
	var rec *recorder
	ran := false
	testing.Benchmark(func(b *testing.B) {
		// testing.Benchmark calls the body again if it ran for less than
		// -test.benchtime (1 s); a run is never repeated.
		if ran {
			return
		}
		ran = true
		rec = &recorder{B: b}
		f(rec)
	})
	if rec == nil {
		return errors.New("run did not start")
	}
	if rec.Failed() {
		return rec.err()
	}
	return nil
}
