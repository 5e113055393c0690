package config

import (
	"math"
	"testing"
)

// TestString2d: redis' string2d is strtod on the whole string (util.c), so it
// takes what glibc's strtod takes, hex numbers without a p exponent among
// them, and refuses a leading blank, NaN, an overflow and a value that comes
// out as zero without being zero. Checked against redis-sentinel 7.0.15
// through latency-tracking-info-percentiles (testdata/errors/percentiles-*).
func TestString2d(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want float64
		ok   bool
	}{
		{"50", 50, true},
		{"99.9", 99.9, true},
		{".5", 0.5, true},
		{"1.", 1, true},
		{"+.5e+1", 5, true},
		{"-0", 0, true},
		{"1E2", 100, true},
		{"0x10", 16, true},
		{"0X1P-2", 0.25, true},
		{"0x.8", 0.5, true},
		{"0x1.", 1, true},
		{"-0xAp0", -10, true},
		{"inf", math.Inf(1), true},
		{"-Infinity", math.Inf(-1), true},
		{"1e-320", 1e-320, true}, // subnormal: ERANGE, but not zero
		{"0e-400", 0, true},      // zero itself
		{"0x0p-2000", 0, true},
		{"1e-400", 0, false}, // not zero, came out as zero
		{"0x1p-1080", 0, false},
		{"1e400", 0, false}, // overflow
		{"-1e400", 0, false},
		{"0x1p2000", 0, false},
		{"nan", 0, false},
		{"-NaN(12ab_)", 0, false},
		{"", 0, false},
		{" 1", 0, false},
		{"\t1", 0, false},
		{"1 ", 0, false},
		{"1e", 0, false},
		{"1e+", 0, false},
		{"0x", 0, false},
		{"0x.", 0, false},
		{"0x1p", 0, false},
		{"0x_1p0", 0, false}, // Go's ParseFloat takes underscores after 0x
		{"1_0", 0, false},
		{".", 0, false},
		{"infinit", 0, false},
		{"inf1", 0, false},
		{"1.2.3", 0, false},
		{"1\x00", 0, false},
	} {
		got, ok := string2d(tc.in)
		if ok != tc.ok || ok && got != tc.want {
			t.Errorf("string2d(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

// TestParseOctal: unixsocketperm's strtoll(s, &end, 8) with *end == '\0'
// (config.c numericParseString), each case run through redis-sentinel
// 7.0.15: "" and "\x00x" are 0, "7\x00x" is 7, "  +17" is 15; " ", "-",
// "7 ", "0o7" and an overflow are refused.
func TestParseOctal(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"", 0, true},
		{"\x00x", 0, true},
		{"7\x00x", 7, true},
		{"  +17", 15, true},
		{"-0", 0, true},
		{"0777", 511, true},
		{"-1", -1, true},
		{"777777777777777777777", math.MaxInt64, true},
		{"-1000000000000000000000", math.MinInt64, true},
		{"1000000000000000000000", 0, false},
		{"-1000000000000000000001", 0, false},
		{"10000000000000000000000", 0, false},
		{" ", 0, false},
		{"-", 0, false},
		{"7 ", 0, false},
		{"0o7", 0, false},
		{"8", 0, false},
	} {
		got, ok := parseOctal(tc.in)
		if ok != tc.ok || ok && got != tc.want {
			t.Errorf("parseOctal(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}
