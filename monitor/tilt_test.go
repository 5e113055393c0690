package monitor

import (
	"testing"
	"time"
)

func TestTiltStep(t *testing.T) {
	t0 := time.Now()
	const trigger, period = 2 * time.Second, 5 * time.Second
	var st tiltState
	now := t0
	// tick advances the clock by d and runs one step.
	tick := func(d time.Duration) (entered, exited bool) {
		now = now.Add(d)
		st, entered, exited = tiltStep(st, now, trigger, period)
		return entered, exited
	}
	// run ticks every 50 ms for d, failing on any transition.
	run := func(d time.Duration) {
		for end := now.Add(d); now.Before(end); {
			if e, x := tick(50 * time.Millisecond); e || x {
				t.Fatalf("at %v: entered=%v exited=%v on time", now.Sub(t0), e, x)
			}
		}
	}
	if e, _ := tick(time.Hour); e || st.on {
		t.Fatal("the first tick entered TILT")
	}
	run(3 * time.Second)
	if e, _ := tick(trigger); e || st.on {
		t.Fatal("a delta of exactly the trigger entered TILT")
	}
	if e, _ := tick(trigger + time.Millisecond); !e || !st.on {
		t.Fatal("a stall beyond the trigger did not enter TILT")
	}
	entered := now
	run(period - 100*time.Millisecond)
	if !st.on {
		t.Fatal("left TILT before the period")
	}
	// A second stall starts the period over.
	if e, _ := tick(2500 * time.Millisecond); !e || !st.since.Equal(now) {
		t.Fatalf("a second stall: entered=%v since=%v", e, st.since.Sub(entered))
	}
	run(period - 50*time.Millisecond)
	var exited bool
	for i := 0; i < 4 && !exited; i++ {
		_, exited = tick(50 * time.Millisecond)
	}
	if !exited || st.on {
		t.Fatalf("still in TILT %v after the second stall", now.Sub(st.since))
	}
	run(time.Second)
}
