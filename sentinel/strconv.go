package sentinel

import (
	"math"
	"strconv"
	"strings"

	"github.com/x0tta6bl4/gosentinel/internal/redisargs"
)

// string2ll is redis' string2ll (redisargs.String2ll): every integer
// argument redis validates goes through it, so the accepted spellings (and
// the error replies for the others) match.
func string2ll[T ~string | ~[]byte](s T) (int64, bool) { return redisargs.String2ll(s) }

// errNotInteger is redis' shared error for a non-integer argument.
const errNotInteger = "ERR value is not an integer or out of range"

// cstr truncates s at its first NUL byte: redis formats user arguments into
// error texts with %s, which stops there.
func cstr(s string) string {
	if i := strings.IndexByte(s, 0); i >= 0 {
		return s[:i]
	}
	return s
}

// truncate returns at most n bytes of s, like %.*s.
func truncate(s string, n int) string {
	if n < 0 {
		n = 0
	}
	if len(s) > n {
		return s[:n]
	}
	return s
}

// sanitizeLine replaces CR and LF by spaces so that a text can be written as
// a RESP simple string or error (redis' sdsmapchars in addReplyErrorFormat).
func sanitizeLine(s string) string {
	if strings.IndexAny(s, "\r\n") < 0 {
		return s
	}
	return strings.NewReplacer("\r", " ", "\n", " ").Replace(s)
}

// formatDouble renders d like redis' addReplyDouble: printf's "%.17g"
// (7.0), or 7.2's d2string (shortest).
func formatDouble(d float64, shortest bool) string {
	if shortest {
		return d2string(d)
	}
	return strconv.FormatFloat(d, 'g', 17, 64)
}

// d2string is redis 7.2's d2string: nan, inf, -inf, 0 and -0 by name, a
// whole number that a long long holds as an integer, anything else as
// fpconv_dtoa writes the shortest digits that read back as d (0.605, not
// 0.60499999999999998; 1234567.8 and 0.00001 without an exponent).
func d2string(d float64) string {
	switch {
	case math.IsNaN(d):
		return "nan"
	case math.IsInf(d, 1):
		return "inf"
	case math.IsInf(d, -1):
		return "-inf"
	case d == 0:
		if math.Signbit(d) {
			return "-0"
		}
		return "0"
	case math.Abs(d) <= math.MaxInt64/2 && d == math.Trunc(d): // double2ll's range
		return strconv.FormatInt(int64(d), 10)
	}
	// The shortest digits and their exponent, laid out by fpconv's
	// emit_digits: d = digits * 10^k.
	e := strconv.FormatFloat(d, 'e', -1, 64)
	neg := e[0] == '-'
	if neg {
		e = e[1:]
	}
	mant, expText, _ := strings.Cut(e, "e")
	digits := strings.Replace(mant, ".", "", 1)
	exp10, _ := strconv.Atoi(expText)
	n := len(digits)
	k := exp10 - (n - 1)
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	absExp := exp10
	if absExp < 0 {
		absExp = -absExp
	}
	switch {
	case k >= 0 && absExp < n+7: // a plain integer
		b.WriteString(digits)
		b.WriteString(strings.Repeat("0", k))
	case k < 0 && (k > -7 || absExp < 4): // a decimal without exponent
		if offset := n + k; offset <= 0 {
			b.WriteString("0.")
			b.WriteString(strings.Repeat("0", -offset))
			b.WriteString(digits)
		} else {
			b.WriteString(digits[:offset])
			b.WriteByte('.')
			b.WriteString(digits[offset:])
		}
	default: // scientific: d.ddde+XX, the exponent without padding
		if max := 18 - btoi(neg); n > max {
			digits, n = digits[:max], max
		}
		b.WriteByte(digits[0])
		if n > 1 {
			b.WriteByte('.')
			b.WriteString(digits[1:])
		}
		b.WriteByte('e')
		if exp10 < 0 {
			b.WriteByte('-')
		} else {
			b.WriteByte('+')
		}
		b.WriteString(strconv.Itoa(absExp))
	}
	return b.String()
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// isCSpace reports whether b is a space for C's isspace in the C locale.
func isCSpace(b byte) bool {
	switch b {
	case ' ', '\t', '\n', '\v', '\f', '\r':
		return true
	}
	return false
}
