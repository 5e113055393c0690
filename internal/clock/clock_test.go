package clock

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"
)

var start = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// at is a fake time as an offset from start, for short tables.
func at(ms int) time.Time { return start.Add(time.Duration(ms) * time.Millisecond) }

// TestFakeFires: what each timer or ticker has sent after a series of
// Advances, received after each one (a ticker whose tick is not received
// before the next one drops it).
func TestFakeFires(t *testing.T) {
	type waiterSpec struct {
		ticker bool
		ms     int // delay or period
		stopAt int // index of the Advance before which it is stopped; -1 never
	}
	for _, tc := range []struct {
		name     string
		waiters  []waiterSpec
		advances []int // ms
		drain    bool  // receive after every Advance (else only at the end)
		want     [][]time.Time
		waiting  int // Waiters() at the end
	}{
		{"a timer fires at its deadline, not before",
			[]waiterSpec{{ms: 10, stopAt: -1}}, []int{9}, true, [][]time.Time{nil}, 1},
		{"a timer fires once",
			[]waiterSpec{{ms: 10, stopAt: -1}}, []int{9, 1, 100}, true, [][]time.Time{{at(10)}}, 0},
		{"a zero timer fires at once",
			[]waiterSpec{{ms: 0, stopAt: -1}}, nil, true, [][]time.Time{{at(0)}}, 0},
		{"a ticker ticks every period",
			[]waiterSpec{{ticker: true, ms: 10, stopAt: -1}}, []int{10, 10, 5, 5}, true,
			[][]time.Time{{at(10), at(20), at(30)}}, 1},
		{"a slow receiver misses ticks",
			[]waiterSpec{{ticker: true, ms: 10, stopAt: -1}}, []int{35}, false, [][]time.Time{{at(10)}}, 1},
		{"one Advance fires several waiters, each with its own deadline",
			[]waiterSpec{{ms: 30, stopAt: -1}, {ms: 10, stopAt: -1}, {ticker: true, ms: 15, stopAt: -1}}, []int{40}, false,
			[][]time.Time{{at(30)}, {at(10)}, {at(15)}}, 1},
		{"a stopped timer never fires",
			[]waiterSpec{{ms: 10, stopAt: 1}}, []int{5, 10}, true, [][]time.Time{nil}, 0},
		{"a stopped ticker stops",
			[]waiterSpec{{ticker: true, ms: 10, stopAt: 2}}, []int{10, 10, 10}, true, [][]time.Time{{at(10), at(20)}}, 0},
		{"stopping drops a tick nobody received",
			[]waiterSpec{{ticker: true, ms: 10, stopAt: 1}}, []int{10, 10}, false, [][]time.Time{nil}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := NewFake(start)
			type ch struct {
				c    <-chan time.Time
				stop func()
			}
			var chans []ch
			for _, w := range tc.waiters {
				if w.ticker {
					tk := f.NewTicker(time.Duration(w.ms) * time.Millisecond)
					chans = append(chans, ch{tk.C(), tk.Stop})
				} else {
					tm := f.NewTimer(time.Duration(w.ms) * time.Millisecond)
					chans = append(chans, ch{tm.C(), func() { tm.Stop() }})
				}
			}
			got := make([][]time.Time, len(chans))
			receive := func() {
				for i, c := range chans {
					select {
					case v := <-c.c:
						got[i] = append(got[i], v)
					default:
					}
				}
			}
			total := 0
			for i, d := range tc.advances {
				for j, w := range tc.waiters {
					if w.stopAt == i {
						chans[j].stop()
					}
				}
				f.Advance(time.Duration(d) * time.Millisecond)
				total += d
				if tc.drain {
					receive()
				}
			}
			receive()
			for i := range got {
				if !slices.EqualFunc(got[i], tc.want[i], time.Time.Equal) {
					t.Errorf("waiter %d received %v, want %v", i, got[i], tc.want[i])
				}
			}
			if n := f.Waiters(); n != tc.waiting {
				t.Errorf("Waiters() = %d, want %d", n, tc.waiting)
			}
			if now := f.Now(); !now.Equal(at(total)) {
				t.Errorf("Now() = %v, want %v", now, at(total))
			}
		})
	}
}

// TestFakeStop: Stop reports whether it stopped an armed timer.
func TestFakeStop(t *testing.T) {
	f := NewFake(start)
	tm := f.NewTimer(time.Second)
	if !tm.Stop() || tm.Stop() {
		t.Fatal("Stop of an armed timer must be true once, then false")
	}
	fired := f.NewTimer(time.Second)
	f.Advance(time.Second)
	if fired.Stop() {
		t.Fatal("Stop of a fired timer returned true")
	}
	select {
	case v := <-fired.C():
		t.Fatalf("received %v after Stop", v)
	default:
	}
}

// TestFakeNext: the earliest armed deadline, for stepping from one to the
// next.
func TestFakeNext(t *testing.T) {
	f := NewFake(start)
	if _, ok := f.Next(); ok {
		t.Fatal("Next with nothing armed")
	}
	f.NewTimer(30 * time.Millisecond)
	tk := f.NewTicker(20 * time.Millisecond)
	for _, want := range []time.Time{at(20), at(30), at(40)} {
		next, ok := f.Next()
		if !ok || !next.Equal(want) {
			t.Fatalf("Next() = %v %v, want %v", next, ok, want)
		}
		f.Advance(next.Sub(f.Now()))
		select {
		case <-tk.C():
		default:
		}
	}
}

// TestFakeBlockUntil: a test can wait for a goroutine to block on the
// clock, move time, and see it wake.
func TestFakeBlockUntil(t *testing.T) {
	f := NewFake(start)
	woke := make(chan time.Time)
	go func() {
		tm := f.NewTimer(time.Minute)
		woke <- <-tm.C()
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := f.BlockUntil(ctx, 1); err != nil {
		t.Fatal(err)
	}
	f.Advance(time.Minute)
	if v := <-woke; !v.Equal(start.Add(time.Minute)) {
		t.Fatalf("woke at %v", v)
	}

	short, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	if err := f.BlockUntil(short, 1); err != context.DeadlineExceeded {
		t.Fatalf("BlockUntil with nobody waiting: %v", err)
	}
}

// TestFakeConcurrent runs timers, tickers and Advance from several
// goroutines at once (for -race).
func TestFakeConcurrent(t *testing.T) {
	f := NewFake(start)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			tk := f.NewTicker(time.Millisecond)
			defer tk.Stop()
			for {
				tm := f.NewTimer(3 * time.Millisecond)
				select {
				case <-ctx.Done():
					tm.Stop()
					return
				case <-tm.C():
				case <-tk.C():
					tm.Stop()
				}
			}
		})
	}
	for range 1000 {
		f.Advance(time.Millisecond)
		_ = f.Waiters()
	}
	cancel()
	wg.Wait()
	if n := f.Waiters(); n != 0 {
		t.Fatalf("%d waiters left after every goroutine stopped its timers", n)
	}
}

// TestReal: the real clock's timers and tickers fire.
func TestReal(t *testing.T) {
	c := OrReal(nil)
	before := time.Now()
	tm := c.NewTimer(time.Millisecond)
	if v := <-tm.C(); v.Before(before) {
		t.Fatalf("timer fired at %v, before it was set (%v)", v, before)
	}
	tk := c.NewTicker(time.Millisecond)
	<-tk.C()
	tk.Stop()
	if c.Now().Before(before) {
		t.Fatal("Now went back")
	}
}
