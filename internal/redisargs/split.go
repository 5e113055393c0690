// Package redisargs splits a line into arguments exactly like redis'
// sdssplitargs, which both redis.conf parsing and inline commands use. The
// config parser and the command surface share it so that a quirk fixed once
// is fixed for both.
package redisargs

import (
	"errors"
	"strings"
)

// ErrUnbalancedQuotes is returned for a line sdssplitargs rejects.
var ErrUnbalancedQuotes = errors.New("unbalanced quotes")

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

// Split splits a line like redis' sdssplitargs: blanks separate words, "double quotes"
// support \xHH, \n, \r, \t, \b, \a and \<any> escapes, 'single quotes' support \' only, and a
// closing quote must be followed by a blank or the end. The line is treated as a C string (it
// ends at the first NUL byte).
func Split(line string) ([]string, error) {
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
						return nil, ErrUnbalancedQuotes
					}
					done = true
				case c == 0:
					return nil, ErrUnbalancedQuotes
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
						return nil, ErrUnbalancedQuotes
					}
					done = true
				case c == 0:
					return nil, ErrUnbalancedQuotes
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
