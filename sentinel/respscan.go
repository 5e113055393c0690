package sentinel

import (
	"errors"
	"fmt"
)

// respValue is one RESP2/RESP3 value located inside a byte slice: its type
// byte, the raw bytes (header included), the payload of a string-like value
// and the children of an aggregate (a map's children alternate key, value).
// It is only used to slice the captured replies into per-command chunks.
type respValue struct {
	typ      byte
	raw      []byte
	str      string
	children []respValue
}

var errRespTruncated = errors.New("resp: truncated value")

// scanRESP parses the value starting at b[0] and returns it with the number
// of bytes it spans.
func scanRESP(b []byte) (respValue, int, error) {
	if len(b) == 0 {
		return respValue{}, 0, errRespTruncated
	}
	nl := -1
	for i := 1; i+1 < len(b); i++ {
		if b[i] == '\r' && b[i+1] == '\n' {
			nl = i
			break
		}
	}
	if nl < 0 {
		return respValue{}, 0, errRespTruncated
	}
	head := string(b[1:nl])
	pos := nl + 2
	v := respValue{typ: b[0]}
	switch b[0] {
	case '+', '-', ':', ',', '_', '#', '(':
		v.str = head
	case '$', '=', '!':
		n, ok := string2ll(head)
		if !ok {
			return respValue{}, 0, fmt.Errorf("resp: bad length %q", head)
		}
		if n >= 0 {
			if int64(len(b)-pos) < n+2 {
				return respValue{}, 0, errRespTruncated
			}
			v.str = string(b[pos : pos+int(n)])
			pos += int(n) + 2
		}
	case '*', '~', '>', '%', '|':
		n, ok := string2ll(head)
		if !ok {
			return respValue{}, 0, fmt.Errorf("resp: bad count %q", head)
		}
		if b[0] == '%' || b[0] == '|' {
			n *= 2
		}
		for i := int64(0); i < n; i++ {
			child, used, err := scanRESP(b[pos:])
			if err != nil {
				return respValue{}, 0, err
			}
			v.children = append(v.children, child)
			pos += used
		}
	default:
		return respValue{}, 0, fmt.Errorf("resp: unknown type %q", b[0])
	}
	v.raw = b[:pos]
	return v, pos, nil
}

// pairs returns the key/value children of a map, which in RESP2 is a flat
// array of even length.
func (v respValue) pairs() [][2]respValue {
	out := make([][2]respValue, 0, len(v.children)/2)
	for i := 0; i+1 < len(v.children); i += 2 {
		out = append(out, [2]respValue{v.children[i], v.children[i+1]})
	}
	return out
}
