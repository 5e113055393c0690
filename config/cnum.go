package config

import (
	"errors"
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
	v, rest, ok, _ = strtoll(s, 10)
	return v, rest, ok
}

// strtoll is glibc's strtoll(s, &end, base) for a base of 8 or 10: optional leading
// whitespace and sign, then digits of the base; a value past the int64 limits saturates and
// sets erange (ERANGE).
func strtoll(s string, base uint64) (v int64, rest string, ok, erange bool) {
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
	for i < len(s) && s[i] >= '0' && uint64(s[i]-'0') < base {
		d := uint64(s[i] - '0')
		if u > (math.MaxUint64-d)/base {
			overflow = true
		} else {
			u = u*base + d
		}
		i++
	}
	if i == start {
		return 0, s, false, false
	}
	switch {
	case !neg && (overflow || u > math.MaxInt64):
		return math.MaxInt64, s[i:], true, true
	case neg && (overflow || u > 1<<63):
		return math.MinInt64, s[i:], true, true
	case neg:
		return -int64(u), s[i:], true, false
	}
	return int64(u), s[i:], true, false
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

// strtod is glibc's strtod(s, &end) in the C locale, asked to read the whole of s: optional
// leading whitespace and a sign, then a decimal number (digits with an optional '.' and an
// optional exponent e), a hexadecimal one (0x, hex digits with an optional '.' and an
// optional binary exponent p: "0x10" is 16), inf, infinity, nan or nan(chars), in any case.
// ok is false when s is not one such number from end to end (strconv.ParseFloat accepts
// underscores after 0x and wants a p in a hex number; strtod does neither). erange is
// strtod's ERANGE as string2d looks at it: the value overflowed to an infinity, or a value
// other than zero came out as zero.
func strtod(s string) (f float64, erange, ok bool) {
	i := 0
	for i < len(s) && cIsSpace(s[i]) {
		i++
	}
	sign := ""
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		sign = s[i : i+1]
		i++
	}
	rest := s[i:]
	switch low := redisargs.Lower(rest); {
	case low == "inf" || low == "infinity":
		if sign == "-" {
			return math.Inf(-1), false, true
		}
		return math.Inf(1), false, true
	case strings.HasPrefix(low, "nan"):
		seq := low[3:]
		if seq != "" && (seq[0] != '(' || seq[len(seq)-1] != ')' ||
			strings.TrimLeft(seq[1:len(seq)-1], "abcdefghijklmnopqrstuvwxyz0123456789_") != "") {
			return 0, false, false
		}
		return math.NaN(), false, true
	}
	hex := len(rest) > 2 && rest[0] == '0' && (rest[1] == 'x' || rest[1] == 'X')
	digits, expMark := "0123456789", byte('e')
	if hex {
		rest, digits, expMark = rest[2:], "0123456789abcdefABCDEF", 'p'
	}
	// The mantissa: digits with at most one '.', at least one digit.
	j, nonzero, seen := 0, false, false
	for dot := false; j < len(rest); j++ {
		c := rest[j]
		if c == '.' && !dot {
			dot = true
			continue
		}
		if strings.IndexByte(digits, c) < 0 {
			break
		}
		seen, nonzero = true, nonzero || c != '0'
	}
	if !seen {
		return 0, false, false
	}
	mant, exp := rest[:j], rest[j:]
	if exp != "" {
		// The exponent: its letter, an optional sign, at least one decimal digit.
		e := exp
		if e[0]|0x20 != expMark {
			return 0, false, false
		}
		e = e[1:]
		if e != "" && (e[0] == '+' || e[0] == '-') {
			e = e[1:]
		}
		if e == "" || strings.TrimLeft(e, "0123456789") != "" {
			return 0, false, false
		}
	}
	text := sign + mant + exp
	if hex {
		if exp == "" {
			exp = "p0"
		}
		text = sign + "0x" + mant + exp
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, false, false // not expected: the syntax was checked
	}
	return f, math.IsInf(f, 0) || nonzero && f == 0, true
}
