package config

import (
	"math"
	"strconv"
	"strings"

	"github.com/x0tta6bl4/gosentinel/internal/redisargs"
)

// This file reproduces the C number parsers redis uses on config values, so that odd inputs
// ("12abc", " 7", "-1", overflow) give the same results as in redis.

// strtol is glibc's strtol(s, &end, 10): optional leading whitespace and sign, then digits;
// saturates at the int64 limits. ok reports whether at least one digit was read and rest is
// what follows the number.
func strtol(s string) (v int64, rest string, ok bool) {
	i := 0
	for i < len(s) && cIsSpace(s[i]) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	start := i
	var u uint64
	overflow := false
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		d := uint64(s[i] - '0')
		if u > (math.MaxUint64-d)/10 {
			overflow = true
		} else {
			u = u*10 + d
		}
		i++
	}
	if i == start {
		return 0, s, false
	}
	switch {
	case !neg && (overflow || u > math.MaxInt64):
		v = math.MaxInt64
	case neg && (overflow || u > 1<<63):
		v = math.MinInt64
	case neg:
		v = -int64(u)
	default:
		v = int64(u)
	}
	return v, s[i:], true
}

// atoi is C's atoi on glibc/LP64: (int)strtol(s, NULL, 10), i.e. saturated to int64 and then
// truncated to 32 bits.
func atoi(s string) int {
	v, _, _ := strtol(s)
	return int(int32(v))
}

// strtoull is glibc's strtoull(s, NULL, 10): leading whitespace, optional sign (a '-' negates
// modulo 2^64), saturating at MaxUint64 on overflow, 0 when there are no digits.
func strtoull(s string) uint64 {
	i := 0
	for i < len(s) && cIsSpace(s[i]) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	var u uint64
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		d := uint64(s[i] - '0')
		if u > (math.MaxUint64-d)/10 {
			return math.MaxUint64 // ERANGE: the sign is not applied
		}
		u = u*10 + d
		i++
	}
	if neg {
		return -u
	}
	return u
}

// string2ll is redis' strict integer parser (util.c): no blanks, no '+', no leading zeros,
// fits in int64, fewer than 21 bytes.
func string2ll(s string) (int64, bool) {
	if len(s) == 0 || len(s) >= 21 {
		return 0, false
	}
	if s == "0" {
		return 0, true
	}
	p := 0
	neg := false
	if s[0] == '-' {
		neg = true
		p++
		if p == len(s) {
			return 0, false
		}
	}
	if s[p] < '1' || s[p] > '9' {
		return 0, false
	}
	var v uint64
	for ; p < len(s); p++ {
		c := s[p]
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if v > math.MaxUint64/10 || v*10 > math.MaxUint64-d {
			return 0, false
		}
		v = v*10 + d
	}
	if neg {
		if v > 1<<63 {
			return 0, false
		}
		return -int64(v), true
	}
	if v > math.MaxInt64 {
		return 0, false
	}
	return int64(v), true
}

// memtoull is redis' memory value parser (util.c): digits followed by nothing, b, k, kb, m,
// mb, g or gb (case-insensitive). Like redis it does not detect overflow.
func memtoull(s string) (uint64, bool) {
	if strings.HasPrefix(s, "-") {
		return 0, false
	}
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	var mul uint64
	switch redisargs.Lower(s[i:]) {
	case "", "b":
		mul = 1
	case "k":
		mul = 1000
	case "kb":
		mul = 1024
	case "m":
		mul = 1000 * 1000
	case "mb":
		mul = 1024 * 1024
	case "g":
		mul = 1000 * 1000 * 1000
	case "gb":
		mul = 1024 * 1024 * 1024
	default:
		return 0, false
	}
	if i >= 128 {
		return 0, false
	}
	return strtoull(s[:i]) * mul, true
}

// yesNo is redis' yesnotoi: case-insensitive "yes"/"no".
func yesNo(s string) (v bool, ok bool) {
	switch {
	case redisargs.EqualFold(s, "yes"):
		return true, true
	case redisargs.EqualFold(s, "no"):
		return false, true
	}
	return false, false
}

// formatMemory is redis' rewriteConfigFormatMemory.
func formatMemory(v int64) string {
	const kb, mb, gb = 1024, 1024 * 1024, 1024 * 1024 * 1024
	switch {
	case v != 0 && v%gb == 0:
		return itoa64(v/gb) + "gb"
	case v != 0 && v%mb == 0:
		return itoa64(v/mb) + "mb"
	case v != 0 && v%kb == 0:
		return itoa64(v/kb) + "kb"
	}
	return itoa64(v)
}

// formatMemoryUnsigned is formatMemory for unsigned sizes.
func formatMemoryUnsigned(v uint64) string {
	const kb, mb, gb = 1024, 1024 * 1024, 1024 * 1024 * 1024
	switch {
	case v != 0 && v%gb == 0:
		return strconv.FormatUint(v/gb, 10) + "gb"
	case v != 0 && v%mb == 0:
		return strconv.FormatUint(v/mb, 10) + "mb"
	case v != 0 && v%kb == 0:
		return strconv.FormatUint(v/kb, 10) + "kb"
	}
	return strconv.FormatUint(v, 10)
}
