package config

import (
	"errors"
	"strings"
)

// errUnbalancedQuotes is returned by splitArgs for a line redis' sdssplitargs rejects.
var errUnbalancedQuotes = errors.New("unbalanced quotes")

// cIsSpace is C's isspace in the "C" locale.
func cIsSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

func isHexDigit(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func hexDigitValue(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// splitArgs splits a line like redis' sdssplitargs: blanks separate words, "double quotes"
// support \xHH, \n, \r, \t, \b, \a and \<any> escapes, 'single quotes' support \' only, and a
// closing quote must be followed by a blank or the end. The line is treated as a C string (it
// ends at the first NUL byte).
func splitArgs(line string) ([]string, error) {
	if i := strings.IndexByte(line, 0); i >= 0 {
		line = line[:i]
	}
	var args []string
	p := 0
	n := len(line)
	at := func(i int) byte { // C-string access: past the end reads NUL
		if i < n {
			return line[i]
		}
		return 0
	}
	for {
		for p < n && cIsSpace(line[p]) {
			p++
		}
		if p >= n {
			return args, nil
		}
		var cur []byte
		inq, insq, done := false, false, false
		for !done {
			c := at(p)
			switch {
			case inq:
				switch {
				case c == '\\' && at(p+1) == 'x' && isHexDigit(at(p+2)) && isHexDigit(at(p+3)):
					cur = append(cur, hexDigitValue(at(p+2))*16+hexDigitValue(at(p+3)))
					p += 3
				case c == '\\' && at(p+1) != 0:
					p++
					switch at(p) {
					case 'n':
						cur = append(cur, '\n')
					case 'r':
						cur = append(cur, '\r')
					case 't':
						cur = append(cur, '\t')
					case 'b':
						cur = append(cur, '\b')
					case 'a':
						cur = append(cur, '\a')
					default:
						cur = append(cur, at(p))
					}
				case c == '"':
					if at(p+1) != 0 && !cIsSpace(at(p+1)) {
						return nil, errUnbalancedQuotes
					}
					done = true
				case c == 0:
					return nil, errUnbalancedQuotes
				default:
					cur = append(cur, c)
				}
			case insq:
				switch {
				case c == '\\' && at(p+1) == '\'':
					p++
					cur = append(cur, '\'')
				case c == '\'':
					if at(p+1) != 0 && !cIsSpace(at(p+1)) {
						return nil, errUnbalancedQuotes
					}
					done = true
				case c == 0:
					return nil, errUnbalancedQuotes
				default:
					cur = append(cur, c)
				}
			default:
				switch c {
				case ' ', '\n', '\r', '\t', 0:
					done = true
				case '"':
					inq = true
				case '\'':
					insq = true
				default:
					cur = append(cur, c)
				}
			}
			if p < n {
				p++
			}
		}
		args = append(args, string(cur))
	}
}

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
