package test

import (
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/bench/fleet"
	"github.com/x0tta6bl4/gosentinel/internal/fakefleet"
)

// Issue 12's many-masters system test: three sentinels, each configured
// with the 200 masters of a fake fleet (internal/fakefleet, in this
// process) and with none of the other sentinels, down-after 5 s.
const (
	fleetMasters          = 200
	fleetDownAfter        = 5 * time.Second
	fleetConvergeDeadline = 60 * time.Second
	fleetSteady           = 5 * time.Second
)

// TestFleetManyMasters: every sentinel counts the three sentinels for every
// master within 60 s (by hellos alone), no master that answers is ever
// reported +sdown (warm-up included), and a master made dark (it stops
// answering, its connections stay open) is reported +sdown by all three.
// The measured figures are logged (bench/fleet measures them side by side
// with redis-sentinel: make bench-fleet).
func TestFleetManyMasters(t *testing.T) {
	forEachTarget(t, func(t *testing.T, bin string) {
		f, err := fakefleet.ListenPorts(make([]int, fleetMasters))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		res := fleet.Run(t, fleet.Options{
			Bin: bin, Kind: bin, Ports: f.Ports(), DownAfter: fleetDownAfter,
			ConvergeDeadline: fleetConvergeDeadline, Steady: fleetSteady, Dark: 1,
			Logf: t.Logf,
		})
		for _, e := range res.Errors {
			t.Error(e)
		}
		if !res.Converged {
			t.Errorf("after %v, %.1f %% of the (sentinel, master) pairs count 3 sentinels, want all",
				res.ConvergeTime.Round(time.Millisecond), 100*res.Fraction)
		}
		if n := res.FalseSdownWarm + res.FalseSdownSteady; n > 0 {
			t.Errorf("%d +sdown master for masters that answered (%d during the warm-up, %d after)",
				n, res.FalseSdownWarm, res.FalseSdownSteady)
		}
		if len(res.Detection) != 3 || res.Missed > 0 {
			t.Errorf("the dark master was reported +sdown by %d sentinels, want 3 (%d missed)", len(res.Detection), res.Missed)
		}
		lo, med, hi := fleet.Summary(res.Detection)
		llo, lmed, lhi := fleet.Summary(res.Lateness)
		t.Logf("%d masters: converged in %v; steady CPU %.1f %% of a core and RSS %.0f MB per sentinel (peak %.0f MB); "+
			"+tilt %d; detection beyond down-after %v / %v / %v (min / median / max), of which after the first unanswered PING %v / %v / %v",
			fleetMasters, res.ConvergeTime.Round(time.Millisecond), res.CPU, res.RSSSteady/(1<<20), res.RSSPeak/(1<<20), res.Tilt,
			lo, med, hi, llo, lmed, lhi)
	})
}
