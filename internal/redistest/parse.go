package redistest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// maxBulk bounds bulk lengths the parser accepts, so a corrupt length cannot
// make a test allocate gigabytes.
const maxBulk = 64 << 20

// ErrProtocol is wrapped by every parse error caused by malformed input.
var ErrProtocol = errors.New("resp protocol error")

// ReadReply reads one complete reply (RESP2 or RESP3) from br.
func ReadReply(br *bufio.Reader) (*Reply, error) {
	r, err := readReply(br)
	if err != nil {
		return nil, err
	}
	if r.Kind != KindAttribute {
		return r, nil
	}
	// An attribute is out-of-band data attached to the next reply.
	next, err := readReply(br)
	if err != nil {
		return nil, err
	}
	next.Attr = r
	next.Raw = append(append([]byte{}, r.Raw...), next.Raw...)
	return next, nil
}

// readLine reads one CRLF-terminated line and returns it without CRLF,
// together with the raw bytes.
func readLine(br *bufio.Reader) (string, []byte, error) {
	line, err := br.ReadBytes('\n')
	if err != nil {
		if err == io.EOF && len(line) > 0 {
			err = io.ErrUnexpectedEOF
		}
		return "", nil, err
	}
	if len(line) < 2 || line[len(line)-2] != '\r' {
		return "", nil, fmt.Errorf("%w: line not terminated by CRLF: %q", ErrProtocol, line)
	}
	return string(line[:len(line)-2]), line, nil
}

func readReply(br *bufio.Reader) (*Reply, error) {
	line, raw, err := readLine(br)
	if err != nil {
		return nil, err
	}
	if line == "" {
		return nil, fmt.Errorf("%w: empty line", ErrProtocol)
	}
	r := &Reply{Type: line[0], Raw: raw}
	body := line[1:]
	switch line[0] {
	case '+':
		r.Kind, r.Str = KindStatus, body
	case '-':
		r.Kind, r.Str = KindError, body
	case ':':
		n, err := strconv.ParseInt(body, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%w: bad integer %q", ErrProtocol, body)
		}
		r.Kind, r.Int = KindInt, n
	case ',':
		r.Kind, r.Str = KindDouble, body
	case '(':
		r.Kind, r.Str = KindBigNum, body
	case '#':
		if body != "t" && body != "f" {
			return nil, fmt.Errorf("%w: bad boolean %q", ErrProtocol, body)
		}
		r.Kind, r.Bool = KindBool, body == "t"
	case '_':
		if body != "" {
			return nil, fmt.Errorf("%w: bad null %q", ErrProtocol, line)
		}
		r.Kind = KindNull
	case '$', '!', '=':
		return readBlob(br, r, body)
	case '*', '~', '>', '%', '|':
		return readAggregate(br, r, body)
	default:
		return nil, fmt.Errorf("%w: unknown type byte %q in line %q", ErrProtocol, line[0], line)
	}
	return r, nil
}

func readBlob(br *bufio.Reader, r *Reply, body string) (*Reply, error) {
	n, err := strconv.Atoi(body)
	if err != nil || n < -1 || n > maxBulk {
		return nil, fmt.Errorf("%w: bad blob length %q", ErrProtocol, body)
	}
	if n == -1 {
		if r.Type != '$' {
			return nil, fmt.Errorf("%w: null length on %q", ErrProtocol, r.Type)
		}
		r.Kind = KindNull
		return r, nil
	}
	buf := make([]byte, n+2)
	if _, err := io.ReadFull(br, buf); err != nil {
		return nil, fmt.Errorf("read %d-byte blob: %w", n, err)
	}
	if buf[n] != '\r' || buf[n+1] != '\n' {
		return nil, fmt.Errorf("%w: blob not terminated by CRLF", ErrProtocol)
	}
	r.Raw = append(r.Raw, buf...)
	text := string(buf[:n])
	switch r.Type {
	case '$':
		r.Kind, r.Str = KindBulk, text
	case '!':
		r.Kind, r.Str = KindBlobError, text
	case '=':
		if len(text) < 4 || text[3] != ':' {
			return nil, fmt.Errorf("%w: verbatim string without format: %q", ErrProtocol, text)
		}
		r.Kind, r.Format, r.Str = KindVerbatim, text[:3], text[4:]
	}
	return r, nil
}

func readAggregate(br *bufio.Reader, r *Reply, body string) (*Reply, error) {
	n, err := strconv.Atoi(body)
	if err != nil || n < -1 || n > maxBulk {
		return nil, fmt.Errorf("%w: bad aggregate length %q", ErrProtocol, body)
	}
	if n == -1 {
		if r.Type != '*' {
			return nil, fmt.Errorf("%w: null length on %q", ErrProtocol, r.Type)
		}
		r.Kind = KindNull
		return r, nil
	}
	count := n
	switch r.Type {
	case '*':
		r.Kind = KindArray
	case '~':
		r.Kind = KindSet
	case '>':
		r.Kind = KindPush
	case '%':
		r.Kind, count = KindMap, 2*n
	case '|':
		r.Kind, count = KindAttribute, 2*n
	}
	r.Elems = make([]*Reply, 0, count)
	for range count {
		e, err := ReadReply(br)
		if err != nil {
			return nil, err
		}
		r.Elems = append(r.Elems, e)
		r.Raw = append(r.Raw, e.Raw...)
	}
	return r, nil
}
