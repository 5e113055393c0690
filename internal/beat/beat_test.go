package beat

import (
	"slices"
	"testing"
	"time"
)

func TestAdvance(t *testing.T) {
	for _, c := range []struct {
		name           string
		next, b, every int64
		wantNext       int64
		wantDue        bool
	}{
		{"before its beat", 5, 4, 2, 5, false},
		{"at its beat", 5, 5, 2, 7, true},
		{"one beat late", 5, 6, 2, 7, true},
		{"ticks missed are dropped", 5, 9, 2, 11, true},
		{"every beat", 3, 3, 1, 4, true},
		{"every beat, three missed", 3, 6, 1, 7, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			next, due := advance(c.next, c.b, c.every)
			if next != c.wantNext || due != c.wantDue {
				t.Fatalf("advance(%d, %d, %d) = %d, %v; want %d, %v", c.next, c.b, c.every, next, due, c.wantNext, c.wantDue)
			}
		})
	}
}

func TestBeatOfIsTheNearestBeat(t *testing.T) {
	start := time.Unix(1000, 0)
	ms := time.Millisecond
	for _, c := range []struct {
		after time.Duration
		want  int64
	}{
		{0, 0}, {24 * ms, 0}, {26 * ms, 1}, {50 * ms, 1}, {47 * ms, 1}, {53 * ms, 1}, {1003 * ms, 20}, {990 * ms, 20},
	} {
		if got := beatOf(start, start.Add(c.after)); got != c.want {
			t.Errorf("beatOf(+%v) = %d, want %d", c.after, got, c.want)
		}
	}
}

func TestFirstBeat(t *testing.T) {
	start := time.Unix(1000, 0)
	ms := time.Millisecond
	for _, c := range []struct {
		at    time.Duration
		every int64
		want  int64
	}{
		{0, 1, 1},          // made at beat 0: the next beat
		{10 * ms, 1, 1},    // 40 ms later
		{30 * ms, 1, 2},    // 70 ms later: beat 1 is nearer to now than to now + 50 ms
		{10 * ms, 2, 2},    // 90 ms later
		{130 * ms, 5, 8},   // 270 ms later
		{140 * ms, 5, 8},   // 260 ms later
		{160 * ms, 5, 8},   // 240 ms later
		{180 * ms, 20, 24}, // 1020 ms later
	} {
		if got := firstBeat(start, start.Add(c.at), c.every); got != c.want {
			t.Errorf("firstBeat(+%v, %d) = %d, want %d", c.at, c.every, got, c.want)
		}
	}
}

// TestTickersTickOnTheBeat drives a metronome's beats by hand, a few
// milliseconds off the grid as wake-ups are, and checks that tickers made
// at different times tick only on beats, every period, together.
func TestTickersTickOnTheBeat(t *testing.T) {
	m := &metronome{manual: true}
	start := time.Unix(1000, 0)
	ms := time.Millisecond
	mk := func(d, at time.Duration) *Ticker {
		c := make(chan time.Time, 1)
		tk := &Ticker{C: c, c: c, every: int64(d / Period)}
		m.add(tk, start.Add(at))
		return tk
	}
	every := mk(50*ms, 0) // starts the run: beat 0 is at start
	a := mk(100*ms, 10*ms)
	b := mk(250*ms, 130*ms)
	ticks := map[*Ticker][]int64{}
	for k := int64(1); k <= 20; k++ {
		jitter := time.Duration(k%3-1) * 3 * ms // -3, 0, +3 ms
		now := start.Add(time.Duration(k)*Period + jitter)
		m.beat(start, now, m.stop)
		for _, tk := range []*Ticker{every, a, b} {
			select {
			case got := <-tk.C:
				if !got.Equal(now) {
					t.Fatalf("beat %d sent %v, want the beat's time %v", k, got, now)
				}
				ticks[tk] = append(ticks[tk], k)
			default:
			}
		}
	}
	want := map[*Ticker][]int64{
		every: {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20},
		a:     {2, 4, 6, 8, 10, 12, 14, 16, 18, 20},
		b:     {8, 13, 18},
	}
	for tk, name := range map[*Ticker]string{every: "50 ms", a: "100 ms", b: "250 ms"} {
		if got := ticks[tk]; !slices.Equal(got, want[tk]) {
			t.Errorf("the %s ticker ticked at beats %v, want %v", name, got, want[tk])
		}
	}
}

func TestSlowProcessDropsTicks(t *testing.T) {
	m := &metronome{manual: true}
	start := time.Unix(1000, 0)
	c := make(chan time.Time, 1)
	tk := &Ticker{C: c, c: c, every: 2}
	m.add(tk, start)
	// The process was held up from beat 1 to beat 9: one tick, not four.
	m.beat(start, start.Add(9*Period), m.stop)
	if len(c) != 1 {
		t.Fatalf("%d ticks after a long hold-up, want 1", len(c))
	}
	<-c
	// It keeps its beats (2, 4, 6, ...): the next tick is at beat 10.
	m.beat(start, start.Add(10*Period), m.stop)
	if len(c) != 1 {
		t.Fatalf("no tick at beat 10")
	}
	<-c
	m.beat(start, start.Add(11*Period), m.stop)
	if len(c) != 0 {
		t.Fatalf("ticked at beat 11, off its beats")
	}
}

func TestStopEndsTheRun(t *testing.T) {
	m := &metronome{manual: true}
	start := time.Unix(1000, 0)
	c := make(chan time.Time, 1)
	tk := &Ticker{C: c, c: c, every: 1}
	m.add(tk, start)
	run := m.stop
	m.remove(tk)
	if m.stop != nil || m.tickers != nil {
		t.Fatal("the run goes on with no ticker left")
	}
	select {
	case <-run:
	default:
		t.Fatal("the run's goroutine is not told to stop")
	}
	m.beat(start, start.Add(Period), run)
	if len(c) != 0 {
		t.Fatal("a stopped ticker ticked")
	}
	// A beat of the old run that comes after a new run began sends nothing
	// to the new run's tickers: they count beats from another start.
	c2 := make(chan time.Time, 1)
	m.add(&Ticker{C: c2, c: c2, every: 1}, start.Add(7*time.Millisecond))
	m.beat(start, start.Add(2*Period), run)
	if len(c2) != 0 {
		t.Fatal("a beat of an ended run ticked a ticker of the next one")
	}
	m.remove(tk) // not on it: a no-op
}

// TestNewTicker runs the process's metronome: tickers on the beat receive
// the very same time from one wake-up; a period off the beat gets a
// time.Ticker of its own.
func TestNewTicker(t *testing.T) {
	a := NewTicker(50 * time.Millisecond)
	b := NewTicker(50 * time.Millisecond)
	off := NewTicker(30 * time.Millisecond)
	deadline := time.After(10 * time.Second)
	var ta, tb time.Time
	for ta.IsZero() || !ta.Equal(tb) {
		select {
		case ta = <-a.C:
		case tb = <-b.C:
		case <-deadline:
			t.Fatalf("two tickers on the beat never received the same beat's time (last %v and %v)", ta, tb)
		}
	}
	select {
	case <-off.C:
	case <-deadline:
		t.Fatal("the 30 ms ticker never ticked")
	}
	if off.own == nil || a.own != nil {
		t.Fatal("30 ms is off the beat, 50 ms on it")
	}
	a.Stop()
	b.Stop()
	off.Stop()
	std.mu.Lock()
	running := std.stop != nil
	std.mu.Unlock()
	if running {
		t.Fatal("the metronome runs on with every ticker stopped")
	}
	defer func() {
		if recover() == nil {
			t.Fatal("NewTicker(0) did not panic")
		}
	}()
	NewTicker(0)
}
