package partition

import (
	"testing"
	"time"
)

func TestTwoMasters(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := func(ms int, accepted ...bool) probeSample {
		return probeSample{At: t0.Add(time.Duration(ms) * time.Millisecond), Accepted: accepted}
	}
	for _, tc := range []struct {
		name    string
		samples []probeSample
		want    time.Duration
	}{
		{"none", nil, 0},
		{"one master throughout", []probeSample{s(0, true, false), s(100, true, false), s(200, false, true)}, 0},
		{"two masters for two rounds", []probeSample{s(0, true, false), s(100, true, true), s(210, true, true), s(300, false, true)}, 200 * time.Millisecond},
		{"the last round has no next round", []probeSample{s(0, true, false), s(100, true, true)}, 0},
		{"nobody answers", []probeSample{s(0, false, false), s(100, false, false)}, 0},
	} {
		if got := twoMasters(tc.samples); got != tc.want {
			t.Errorf("%s: twoMasters = %v, want %v", tc.name, got, tc.want)
		}
	}
}
