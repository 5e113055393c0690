package config

import (
	"strings"

	"github.com/x0tta6bl4/gosentinel/internal/redisargs"
)

// errUnbalancedQuotes is returned by splitArgs for a line redis' sdssplitargs rejects.
var errUnbalancedQuotes = redisargs.ErrUnbalancedQuotes

// cIsSpace is C's isspace in the "C" locale.
func cIsSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// splitArgs splits a config line like redis' sdssplitargs (shared with the
// inline command parser).
func splitArgs(line string) ([]string, error) { return redisargs.Split(line) }

// repr quotes s like redis' sdscatrepr: always in double quotes, with \\, \", \n, \r, \t, \a,
// \b escaped and every non-printable byte as \xHH.
func repr(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\\', '"':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\a':
			b.WriteString(`\a`)
		case '\b':
			b.WriteString(`\b`)
		default:
			if c >= 0x20 && c <= 0x7e {
				b.WriteByte(c)
			} else {
				const hex = "0123456789abcdef"
				b.WriteString(`\x`)
				b.WriteByte(hex[c>>4])
				b.WriteByte(hex[c&15])
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// word renders s as redis would with a plain "%s" when that reads back as the same single
// word, and with repr otherwise. Redis itself writes such values raw (producing a file it
// cannot read back); quoting them is our only deliberate deviation.
func word(s string) string {
	if s == "" {
		return repr(s)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= 0x20 || c >= 0x7f || c == '"' || c == '\'' {
			return repr(s)
		}
	}
	return s
}
