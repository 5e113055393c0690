package harness

import (
	"testing"
	"time"
)

func TestMedian(t *testing.T) {
	if _, ok := Median([]float64(nil)); ok {
		t.Error("median of none: ok")
	}
	if m, _ := Median([]float64{3, 1, 2}); m != 2 {
		t.Errorf("odd count: %v, want 2", m)
	}
	if m, _ := Median([]float64{4, 1, 3, 2}); m != 2.5 {
		t.Errorf("even count: %v, want 2.5", m)
	}
	if m, _ := Median([]time.Duration{3 * time.Second, time.Second}); m != 2*time.Second {
		t.Errorf("durations: %v, want 2s", m)
	}
	in := []float64{3, 1, 2}
	Median(in)
	if in[0] != 3 {
		t.Error("Median sorted its argument")
	}
}
