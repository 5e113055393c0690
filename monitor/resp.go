package monitor

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// The monitor speaks RESP2 directly instead of going through a pooled client:
// redis-sentinel pipelines AUTH, CLIENT SETNAME, PING, INFO and PUBLISH on one
// connection without timeouts and counts the commands awaiting a reply
// (link-pending-commands), which needs a FIFO of reply handlers per
// connection rather than request/response calls.

// Limits on what a peer may send, so a broken peer cannot make us allocate
// without bound.
const (
	maxBulkLen  = 64 << 20
	maxArrayLen = 1 << 20
	maxLineLen  = 64 << 10
)

var errProtocol = errors.New("resp protocol error")

// value is one decoded RESP reply.
type value struct {
	typ   byte // '+' status, '-' error, ':' integer, '$' bulk, '*' array (RESP3 types mapped onto these)
	str   string
	num   int64
	elems []value
	null  bool
}

func (v value) isError() bool  { return v.typ == '-' }
func (v value) isStatus() bool { return v.typ == '+' }

// appendCommand encodes args as a RESP array of bulk strings.
func appendCommand(buf []byte, args ...string) []byte {
	buf = append(buf, '*')
	buf = strconv.AppendInt(buf, int64(len(args)), 10)
	buf = append(buf, '\r', '\n')
	for _, a := range args {
		buf = append(buf, '$')
		buf = strconv.AppendInt(buf, int64(len(a)), 10)
		buf = append(buf, '\r', '\n')
		buf = append(buf, a...)
		buf = append(buf, '\r', '\n')
	}
	return buf
}

// readLine reads one CRLF terminated line without the terminator.
func readLine(r *bufio.Reader) (string, error) {
	var line []byte
	for {
		chunk, isPrefix, err := r.ReadLine()
		if err != nil {
			return "", err
		}
		line = append(line, chunk...)
		if len(line) > maxLineLen {
			return "", fmt.Errorf("line longer than %d bytes: %w", maxLineLen, errProtocol)
		}
		if !isPrefix {
			return string(line), nil
		}
	}
}

// readValue decodes one RESP2 (or RESP3) reply.
func readValue(r *bufio.Reader) (value, error) {
	line, err := readLine(r)
	if err != nil {
		return value{}, err
	}
	if line == "" {
		return value{}, fmt.Errorf("empty reply line: %w", errProtocol)
	}
	t, rest := line[0], line[1:]
	switch t {
	case '+', '-':
		return value{typ: t, str: rest}, nil
	case ':':
		n, err := strconv.ParseInt(rest, 10, 64)
		if err != nil {
			return value{}, fmt.Errorf("bad integer %q: %w", rest, errProtocol)
		}
		return value{typ: ':', num: n}, nil
	case '_':
		return value{typ: '$', null: true}, nil
	case ',', '(', '#':
		// RESP3 double, big number, boolean: keep the text.
		return value{typ: '+', str: rest}, nil
	case '$', '=', '!':
		n, err := strconv.Atoi(rest)
		if err != nil || n > maxBulkLen {
			return value{}, fmt.Errorf("bad bulk length %q: %w", rest, errProtocol)
		}
		if n < 0 {
			return value{typ: '$', null: true}, nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return value{}, err
		}
		if buf[n] != '\r' || buf[n+1] != '\n' {
			return value{}, fmt.Errorf("bulk not CRLF terminated: %w", errProtocol)
		}
		typ := byte('$')
		if t == '!' {
			typ = '-'
		}
		return value{typ: typ, str: string(buf[:n])}, nil
	case '*', '~', '>', '%', '|':
		n, err := strconv.Atoi(rest)
		if err != nil || n > maxArrayLen {
			return value{}, fmt.Errorf("bad aggregate length %q: %w", rest, errProtocol)
		}
		if n < 0 {
			return value{typ: '*', null: true}, nil
		}
		if t == '%' || t == '|' {
			n *= 2
		}
		v := value{typ: '*', elems: make([]value, 0, n)}
		for i := 0; i < n; i++ {
			e, err := readValue(r)
			if err != nil {
				return value{}, err
			}
			v.elems = append(v.elems, e)
		}
		if t == '|' {
			// An attribute precedes the real reply: skip it.
			return readValue(r)
		}
		return v, nil
	default:
		return value{}, fmt.Errorf("unknown reply type %q: %w", t, errProtocol)
	}
}
