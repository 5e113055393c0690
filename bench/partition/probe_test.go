package partition

import (
	"testing"
	"time"
)

func TestTwoMasters(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := func(ms int, accepted ...bool) ProbeSample {
		return ProbeSample{At: t0.Add(time.Duration(ms) * time.Millisecond), Accepted: accepted}
	}
	for _, tc := range []struct {
		name    string
		samples []ProbeSample
		want    time.Duration
	}{
		{"none", nil, 0},
		{"one master throughout", []ProbeSample{s(0, true, false), s(100, true, false), s(200, false, true)}, 0},
		{"two masters for two rounds", []ProbeSample{s(0, true, false), s(100, true, true), s(210, true, true), s(300, false, true)}, 200 * time.Millisecond},
		{"the last round has no next round", []ProbeSample{s(0, true, false), s(100, true, true)}, 0},
		{"nobody answers", []ProbeSample{s(0, false, false), s(100, false, false)}, 0},
	} {
		if got := TwoMasters(tc.samples); got != tc.want {
			t.Errorf("%s: TwoMasters = %v, want %v", tc.name, got, tc.want)
		}
	}
}
