package main

import (
	"testing"
	"time"
)

func TestMedianDur(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	for _, tc := range []struct {
		in   []time.Duration
		want time.Duration
		ok   bool
	}{
		{ms(300, 100, 200), 200 * time.Millisecond, true},
		{ms(400, 100, 300, 200), 250 * time.Millisecond, true},
		{nil, 0, false},
	} {
		got, ok := medianDur(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("medianDur(%v) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestRatio(t *testing.T) {
	rs := []*kindResults{{kind: sentinelKind{name: "redis-sentinel"}}, {kind: sentinelKind{name: "gosentinel"}}}
	for _, tc := range []struct {
		values []float64
		ok     []bool
		want   string
	}{
		{[]float64{1100, 200}, []bool{true, true}, "5.50"},
		{[]float64{700, 0}, []bool{true, true}, "inf (gosentinel 0)"},
		{[]float64{0, 0}, []bool{true, true}, "1 (both 0)"},
		{[]float64{700, 0}, []bool{true, false}, "-"},
	} {
		if got := ratio(rs, row{values: tc.values, ok: tc.ok}); got != tc.want {
			t.Errorf("ratio(%v, %v) = %q, want %q", tc.values, tc.ok, got, tc.want)
		}
	}
}
