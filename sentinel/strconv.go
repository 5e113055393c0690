package sentinel

import (
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
// (7.0), or the shortest text that reads back as d (7.2's fpconv_dtoa:
// 0.605, not 0.60499999999999998).
func formatDouble(d float64, shortest bool) string {
	if shortest {
		return strconv.FormatFloat(d, 'g', -1, 64)
	}
	return strconv.FormatFloat(d, 'g', 17, 64)
}

// isCSpace reports whether b is a space for C's isspace in the C locale.
func isCSpace(b byte) bool {
	switch b {
	case ' ', '\t', '\n', '\v', '\f', '\r':
		return true
	}
	return false
}

// lowerASCII lower-cases ASCII letters only (strcasecmp semantics).
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'A' && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// upperASCII upper-cases ASCII letters only (sdstoupper).
func upperASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - ('a' - 'A')
		}
	}
	return string(b)
}

// eqFold is strcasecmp(a, b) == 0 (ASCII only, like the C library in the C
// locale). Unlike strings.EqualFold it does not fold Unicode.
func eqFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if x >= 'A' && x <= 'Z' {
			x += 'a' - 'A'
		}
		if y >= 'A' && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
