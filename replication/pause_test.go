package replication

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/internal/redistest"
	"github.com/x0tta6bl4/gosentinel/quorum"
)

// pauseObserver counts FailoverNotStarted reports per reason, stamped
// with now (the harness's fake clock, which stands still while the engine
// works: the time of a report is the time the engine decided on).
type pauseObserver struct {
	now      func() time.Time
	mu       sync.Mutex
	notStart map[NotStartedReason][]time.Time
}

func (o *pauseObserver) FailoverNotStarted(master string, reason NotStartedReason) {
	at := o.now()
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.notStart == nil {
		o.notStart = map[NotStartedReason][]time.Time{}
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

func setPause(t *testing.T, h *harness, paused bool, names ...string) {
	t.Helper()
	if err := h.prop.Propose(context.Background(), &quorum.Command{Op: quorum.OpMaintenance, Paused: paused, Names: names}); err != nil {
		t.Fatal(err)
	}
}

const pausedLine = "failover of mymaster not started: failovers are paused (SENTINEL MAINTENANCE)"

// A paused master that is ODOWN is not failed over: the observer hears
// "paused" once per recheck period, the log says it once; unpaused, it
// fails over at the next search.
func TestPausedMasterIsNotFailedOver(t *testing.T) {
	for _, scope := range [][]string{nil, {"mymaster"}} {
		t.Run(strings.Join(append([]string{"scope"}, scope...), "-"), func(t *testing.T) {
			h := autoScenario(t, 3000)
			obs := &pauseObserver{now: h.clock.Now}
			logs := &redistest.LogBuffer{}
			h.eng.cfg.Observer = obs
			h.eng.log = slog.New(slog.NewTextHandler(logs, nil))
			setPause(t, h, true, scope...)
			h.start() // the first search, at once
			const periods = 15
			h.advance(periods * recheckInterval)
			if n := h.rec.count("+try-failover"); n != 0 || h.fsm.CurrentEpoch() != 0 || len(h.redis.callList()) != 0 {
				t.Fatalf("paused but failed over: events %q, epoch %d, side effects %q",
					h.rec.list(), h.fsm.CurrentEpoch(), h.redis.callList())
			}
			got := obs.reports(ReasonPaused)
			if len(got) != periods+1 {
				t.Fatalf("observer told %d times in %d recheck periods, want %d (at the start, then once per period)",
					len(got), periods, periods+1)
			}
			for i := 1; i < len(got); i++ {
				if d := got[i].Sub(got[i-1]); d != recheckInterval {
					t.Fatalf("observer told twice %v apart, want the recheck period (%v)", d, recheckInterval)
				}
			}
			if n := strings.Count(logs.String(), pausedLine); n != 1 {
				t.Fatalf("%q logged %d times, want once per pause period:\n%s", pausedLine, n, logs.String())
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
	recordFailover(t, h, r2Addr, h.now())
	setPause(t, h, true)
	h.start()
	h.waitEvent("+failover-end", 1, 5*time.Second)
	if m := h.master(); m.Addr != quorum.Addr(r2Addr) || m.Failover != nil {
		t.Fatalf("after resumed failover: %+v", m)
	}
}
