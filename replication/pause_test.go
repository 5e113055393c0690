package replication

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/quorum"
)

// pauseObserver counts FailoverNotStarted reports per reason.
type pauseObserver struct {
	mu       sync.Mutex
	notStart map[NotStartedReason][]time.Time
	// engineNow, when set, is the engine's clock as it last read it
	// (clock): a report is stamped with the time the engine decided on,
	// which is what it paces, not with when the report arrived, which
	// adds scheduling delay (two reports 97 ms apart with a 100 ms pace in
	// a loaded CI run).
	engineNow time.Time
}

// clock is an engine Clock that records what it returns for the reports.
func (o *pauseObserver) clock() time.Time {
	now := time.Now()
	o.mu.Lock()
	o.engineNow = now
	o.mu.Unlock()
	return now
}

func (o *pauseObserver) FailoverNotStarted(master string, reason NotStartedReason) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.notStart == nil {
		o.notStart = map[NotStartedReason][]time.Time{}
	}
	at := time.Now()
	if !o.engineNow.IsZero() {
		at = o.engineNow
	}
	o.notStart[reason] = append(o.notStart[reason], at)
}
func (o *pauseObserver) FailoverPhase(string, Phase, time.Duration)      {}
func (o *pauseObserver) FailoverFinished(string, Outcome, time.Duration) {}

func (o *pauseObserver) reports(r NotStartedReason) []time.Time {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]time.Time(nil), o.notStart[r]...)
}

// syncBuffer is a log sink safe for the engine's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) count(sub string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Count(s.b.String(), sub)
}

func setPause(t *testing.T, h *harness, paused bool, names ...string) {
	t.Helper()
	if err := h.prop.Propose(context.Background(), &quorum.Command{Op: quorum.OpMaintenance, Paused: paused, Names: names}); err != nil {
		t.Fatal(err)
	}
}

const pausedLine = "failover of mymaster not started: failovers are paused (SENTINEL MAINTENANCE)"

// A paused master that is ODOWN is not failed over: the observer hears
// "paused" about once per recheck period, the log says it once; unpaused,
// it fails over at the next tick.
func TestPausedMasterIsNotFailedOver(t *testing.T) {
	for _, scope := range [][]string{nil, {"mymaster"}} {
		t.Run(strings.Join(append([]string{"scope"}, scope...), "-"), func(t *testing.T) {
			h := autoScenario(t, 3000)
			obs := &pauseObserver{}
			logs := &syncBuffer{}
			h.eng.cfg.Observer = obs
			h.eng.cfg.Clock = obs.clock
			h.eng.log = slog.New(slog.NewTextHandler(logs, nil))
			setPause(t, h, true, scope...)
			h.start()
			started := time.Now()
			h.waitTicks(15) // 1.5 s: 15 recheck periods
			elapsed := time.Since(started)
			if n := h.rec.count("+try-failover"); n != 0 || h.fsm.CurrentEpoch() != 0 || len(h.redis.callList()) != 0 {
				t.Fatalf("paused but failed over: events %q, epoch %d, side effects %q",
					h.rec.list(), h.fsm.CurrentEpoch(), h.redis.callList())
			}
			got := obs.reports(ReasonPaused)
			if max := int(elapsed/h.eng.recheck) + 1; len(got) < 5 || len(got) > max {
				t.Fatalf("observer told %d times in %v, want 5..%d (once per recheck period)", len(got), elapsed, max)
			}
			for i := 1; i < len(got); i++ {
				if d := got[i].Sub(got[i-1]); d < h.eng.recheck {
					t.Fatalf("observer told twice %v apart, recheck period is %v", d, h.eng.recheck)
				}
			}
			if n := logs.count(pausedLine); n != 1 {
				t.Fatalf("%q logged %d times, want once per pause period:\n%s", pausedLine, n, logs.b.String())
			}

			setPause(t, h, false, scope...)
			h.waitEvent("+failover-end", 1, 5*time.Second)
			if m := h.master(); m.Addr != quorum.Addr(r2Addr) || m.ConfigEpoch != 1 {
				t.Fatalf("after unpause: %+v", m)
			}
		})
	}
}

// A pause of another master does not hold this one.
func TestPauseOfAnotherMasterDoesNotHold(t *testing.T) {
	h := autoScenario(t, 3000)
	other := settings(3000, 1)
	other.Name, other.Addr = "other", quorum.Addr{Host: "127.0.0.1", Port: 7100}
	if err := h.fsm.Apply(&quorum.Command{Op: quorum.OpMonitor, Master: &other, At: 2}); err != nil {
		t.Fatal(err)
	}
	setPause(t, h, true, "other")
	h.start()
	h.waitEvent("+failover-end", 1, 5*time.Second)
}

// SENTINEL FAILOVER is an operator's act: it runs while paused.
func TestManualFailoverWhilePaused(t *testing.T) {
	h := switchoverScenario(t, 10000, false)
	setPause(t, h, true)
	h.start()
	if err := h.eng.Failover(context.Background(), "mymaster"); err != nil {
		t.Fatalf("SENTINEL FAILOVER while paused: %v", err)
	}
	h.waitEvent("+failover-end", 1, 5*time.Second)
	if m := h.master(); m.Addr != quorum.Addr(r1Addr) {
		t.Fatalf("after switchover: %+v", m)
	}
}

// A failover recorded before the pause is driven to its end: stopping it
// halfway could leave two masters or none.
func TestRecordedFailoverRunsWhilePaused(t *testing.T) {
	h := autoScenario(t, 10000)
	recordFailover(t, h, r2Addr, time.Now())
	setPause(t, h, true)
	h.start()
	h.waitEvent("+failover-end", 1, 5*time.Second)
	if m := h.master(); m.Addr != quorum.Addr(r2Addr) || m.Failover != nil {
		t.Fatalf("after resumed failover: %+v", m)
	}
}
