package monitor

import (
	"slices"
	"testing"
	"time"
)

// gateHarness drives a dialGate on a fake clock: admitted dials run
// inline and only record their ticket, in order.
type gateHarness struct {
	g       *dialGate
	now     time.Time
	started []int // dial numbers, in the order admitted
	tickets map[int]*dialTicket
	next    int
}

func newGateHarness(limit int) *gateHarness {
	h := &gateHarness{now: time.Unix(1000, 0), tickets: map[int]*dialTicket{}}
	h.g = &dialGate{
		limit: limit, slowAfter: 100 * time.Millisecond, maxWait: 250 * time.Millisecond,
		now:   func() time.Time { return h.now },
		spawn: func(f func()) { f() },
	}
	return h
}

func (h *gateHarness) submit() int {
	n := h.next
	h.next++
	h.g.submit(func(t *dialTicket) {
		h.started = append(h.started, n)
		h.tickets[n] = t
	})
	return n
}

func (h *gateHarness) finish(n int) { h.g.finished(h.tickets[n]) }

// advance moves the clock and fires what the gate's timer would.
func (h *gateHarness) advance(d time.Duration) {
	h.now = h.now.Add(d)
	h.g.expire()
}

func TestDialGate(t *testing.T) {
	type step struct {
		submit  int           // dials to submit
		finish  []int         // dials that end
		advance time.Duration // then the clock moves
		started []int         // every dial admitted so far
	}
	cases := []struct {
		name  string
		limit int
		steps []step
	}{
		{"under the limit every dial starts at once", 3, []step{
			{submit: 3, started: []int{0, 1, 2}},
		}},
		{"at the limit the rest wait, and start in order as dials end", 2, []step{
			{submit: 5, started: []int{0, 1}},
			{finish: []int{1}, started: []int{0, 1, 2}},
			{finish: []int{0, 2}, started: []int{0, 1, 2, 3, 4}},
		}},
		{"a dial past slowAfter stops counting", 2, []step{
			{submit: 3, started: []int{0, 1}},
			{advance: 99 * time.Millisecond, started: []int{0, 1}},
			{advance: time.Millisecond, started: []int{0, 1, 2}},
			// 0 and 1 ending frees nothing (they no longer count); of two
			// new dials, one takes the place 2 leaves.
			{finish: []int{0, 1}, submit: 2, started: []int{0, 1, 2, 3}},
		}},
		{"slow dials give their places in turn", 1, []step{
			{submit: 1, started: []int{0}},
			{advance: 90 * time.Millisecond, submit: 2, started: []int{0}},
			{advance: 10 * time.Millisecond, started: []int{0, 1}},
			{advance: 100 * time.Millisecond, started: []int{0, 1, 2}},
		}},
		{"nothing waits past maxWait, even behind fast dials", 1, []step{
			{submit: 5, started: []int{0}},
			{advance: 90 * time.Millisecond, started: []int{0}},
			// 1 begins at 90 ms, 2 at 180 ms, each while the one before
			// is still fast.
			{finish: []int{0}, advance: 90 * time.Millisecond, started: []int{0, 1}},
			{finish: []int{1}, advance: 69 * time.Millisecond, started: []int{0, 1, 2}},
			// At 250 ms 3 and 4 have waited maxWait: both start though 2
			// (70 ms old) holds the one place.
			{advance: time.Millisecond, started: []int{0, 1, 2, 3, 4}},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newGateHarness(tc.limit)
			for i, s := range tc.steps {
				for _, n := range s.finish {
					h.finish(n)
				}
				for range s.submit {
					h.submit()
				}
				if s.advance > 0 {
					h.advance(s.advance)
				}
				if !slices.Equal(h.started, s.started) {
					t.Fatalf("step %d: started %v, want %v", i, h.started, s.started)
				}
			}
		})
	}
}
