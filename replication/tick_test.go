package replication

import (
	"testing"

	"github.com/x0tta6bl4/gosentinel/monitor"
	"github.com/x0tta6bl4/gosentinel/quorum"
)

// TestTickCopiesMastersOnlyWhenTheStateChanges: the tick works on its list
// of masters (deep copies) until the replicated state changes; then it
// makes the list again, and the next tick sees the change.
func TestTickCopiesMastersOnlyWhenTheStateChanges(t *testing.T) {
	ms := monitor.MasterStatus{Master: healthyMaster(mAddr)}
	h := newHarness(t, settings(60000, 1), ms, map[monitor.Addr]*fakeNode{mAddr: {role: "master"}})
	h.start()
	h.advance(tickInterval)
	first := h.view.masterCopies.Load()
	if first < 1 {
		t.Fatalf("the first ticks copied %d masters", first)
	}
	h.advance(20 * tickInterval)
	if got := h.view.masterCopies.Load(); got != first {
		t.Fatalf("20 ticks with the state unchanged copied %d masters", got-first)
	}

	// A second master: the list is made again, with both.
	other := settings(60000, 1)
	other.Name, other.Addr = "other", quorum.Addr{Host: "127.0.0.1", Port: 7100}
	if err := h.fsm.Apply(&quorum.Command{Op: quorum.OpMonitor, Master: &other, At: 2}); err != nil {
		t.Fatal(err)
	}
	h.advance(tickInterval)
	if got := h.view.masterCopies.Load() - first; got != 2 {
		t.Fatalf("after the state changed, the tick copied %d masters, want 2", got)
	}
	if len(h.eng.tickList) != 2 || h.eng.tickList[1].name != "other" && h.eng.tickList[0].name != "other" {
		t.Fatalf("tick list %+v", h.eng.tickList)
	}
	h.advance(10 * tickInterval)
	if got := h.view.masterCopies.Load() - first; got != 2 {
		t.Fatalf("10 more ticks with the state unchanged copied %d more masters", got-2)
	}
}
