package monitor

import (
	"bufio"
	"bytes"
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

// Bounds on one reply, so that any node the monitor connects to (a fake
// sentinel announced by a hello, a fake replica) can neither exhaust the
// stack nor make us allocate from a count it announces. A reply beyond a
// bound is a protocol error: the link is closed (and logged) and redialled.
const (
	// maxReplyDepth is the nesting hiredis' reader stack allowed (7
	// aggregates, the innermost holding scalars). The
	// deepest reply the monitor reads is a pub/sub message or the
	// is-master-down-by-addr answer: one level.
	maxReplyDepth = 7
	// maxAggregateLen bounds one array/set/push/map (a map counts its keys
	// and its values). The monitor's replies have at most 3 elements.
	maxAggregateLen = 1024
	// maxReplyElems bounds the elements of one reply in all: elements
	// cost ~80 bytes here for 3 on the wire.
	maxReplyElems = 4 * maxAggregateLen
	// maxBulkLen bounds one bulk string. The largest reply the monitor
	// reads is INFO: a few KB, ~100 bytes more per replica; 8 MB is room
	// for tens of thousands of replicas. redis' proto-max-bulk-len (512 MB)
	// is a data server's bound, not a sentinel's.
	maxBulkLen = 8 << 20
	// maxReplyBytes bounds the bulk and line bytes of one reply in all.
	maxReplyBytes = maxBulkLen + 1<<20
	// maxLineLen is hiredis' and redis' inline bound (64 KB).
	maxLineLen = 64 << 10
	// preallocElems and preallocBulk are what we allocate before the data
	// arrives; beyond them buffers grow as bytes and elements come in.
	preallocElems = 8
	preallocBulk  = 64 << 10
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

// readLine reads one CRLF terminated line without the terminator. A line
// the stream ends in before its LF is no line (io.ErrUnexpectedEOF), as the
// event loop's replyParser and hiredis treat it: bufio's ReadLine would hand
// it over as a whole one, so ":10\r\n" cut short by the node's close would
// read as 1.
func readLine(r *bufio.Reader) (string, error) {
	var line []byte
	for {
		chunk, err := r.ReadSlice('\n')
		line = append(line, chunk...)
		switch {
		case err == bufio.ErrBufferFull && len(line) <= maxLineLen+1: // a CR may end it
			continue
		case err == bufio.ErrBufferFull:
			return "", fmt.Errorf("line longer than %d bytes: %w", maxLineLen, errProtocol)
		case err == io.EOF && len(line) > 0:
			return "", io.ErrUnexpectedEOF
		case err != nil:
			return "", err
		}
		line = line[:len(line)-1]
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
		if len(line) > maxLineLen {
			return "", fmt.Errorf("line longer than %d bytes: %w", maxLineLen, errProtocol)
		}
		return string(line), nil
	}
}

// readValue decodes one RESP2 (or RESP3) reply within the bounds above.
func readValue(r *bufio.Reader) (value, error) {
	rd := replyReader{r: r, elems: maxReplyElems, bytes: maxReplyBytes}
	return rd.read(1)
}

// replyReader reads one reply and holds what is left of its budgets.
type replyReader struct {
	r     *bufio.Reader
	elems int // elements the rest of the reply may still carry
	bytes int // bulk and line bytes the rest of the reply may still carry
}

// spend takes n bytes from the reply's byte budget.
func (rd *replyReader) spend(n int) error {
	if n > rd.bytes {
		return fmt.Errorf("reply larger than %d bytes: %w", maxReplyBytes, errProtocol)
	}
	rd.bytes -= n
	return nil
}

// read decodes one value at nesting level depth (1 for the reply itself).
// RESP3 attributes ahead of it are read and dropped in a loop, each costing
// one element of the budget, so a chain of them neither recurses nor runs
// unbounded.
func (rd *replyReader) read(depth int) (value, error) {
	for {
		v, attr, err := rd.readOne(depth)
		if err != nil || !attr {
			return v, err
		}
		if rd.elems == 0 {
			return value{}, fmt.Errorf("reply with more than %d elements: %w", maxReplyElems, errProtocol)
		}
		rd.elems--
	}
}

// readOne decodes one value, or one attribute (attr true: the real value
// follows).
func (rd *replyReader) readOne(depth int) (v value, attr bool, err error) {
	line, err := readLine(rd.r)
	if err != nil {
		return value{}, false, err
	}
	if err := rd.spend(len(line) + 2); err != nil {
		return value{}, false, err
	}
	if line == "" {
		return value{}, false, fmt.Errorf("empty reply line: %w", errProtocol)
	}
	t, rest := line[0], line[1:]
	switch t {
	case '+', '-':
		return value{typ: t, str: rest}, false, nil
	case ':':
		n, err := strconv.ParseInt(rest, 10, 64)
		if err != nil {
			return value{}, false, fmt.Errorf("bad integer %q: %w", rest, errProtocol)
		}
		return value{typ: ':', num: n}, false, nil
	case '_':
		return value{typ: '$', null: true}, false, nil
	case ',', '(', '#':
		// RESP3 double, big number, boolean: keep the text.
		return value{typ: '+', str: rest}, false, nil
	case '$', '=', '!':
		n, err := strconv.Atoi(rest)
		if err != nil || n > maxBulkLen {
			return value{}, false, fmt.Errorf("bad bulk length %q (at most %d): %w", rest, maxBulkLen, errProtocol)
		}
		if n < 0 {
			return value{typ: '$', null: true}, false, nil
		}
		if err := rd.spend(n); err != nil {
			return value{}, false, err
		}
		s, err := readBulk(rd.r, n)
		if err != nil {
			return value{}, false, err
		}
		typ := byte('$')
		if t == '!' {
			typ = '-'
		}
		return value{typ: typ, str: s}, false, nil
	case '*', '~', '>', '%', '|':
		n, err := strconv.Atoi(rest)
		if err == nil && (t == '%' || t == '|') && n > 0 && n <= maxAggregateLen {
			n *= 2
		}
		if err != nil || n > maxAggregateLen {
			return value{}, false, fmt.Errorf("bad aggregate length %q (at most %d elements): %w", rest, maxAggregateLen, errProtocol)
		}
		if n < 0 {
			return value{typ: '*', null: true}, false, nil
		}
		if depth > maxReplyDepth {
			return value{}, false, fmt.Errorf("reply nested deeper than %d levels: %w", maxReplyDepth, errProtocol)
		}
		if n > rd.elems {
			return value{}, false, fmt.Errorf("reply with more than %d elements: %w", maxReplyElems, errProtocol)
		}
		rd.elems -= n
		v = value{typ: '*', elems: make([]value, 0, min(n, preallocElems))}
		for i := 0; i < n; i++ {
			e, err := rd.read(depth + 1)
			if err != nil {
				return value{}, false, err
			}
			v.elems = append(v.elems, e)
		}
		// An attribute precedes the real reply: the caller skips it.
		return v, t == '|', nil
	default:
		return value{}, false, fmt.Errorf("unknown reply type %q: %w", t, errProtocol)
	}
}

// readBulk reads n bytes and their CRLF. Up to preallocBulk is read into
// one buffer; a longer bulk grows its buffer as its bytes arrive, so an
// announced length costs nothing until the peer actually sends the data.
func readBulk(r *bufio.Reader, n int) (string, error) {
	var buf []byte
	if n+2 <= preallocBulk {
		buf = make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return "", err
		}
	} else {
		var b bytes.Buffer
		b.Grow(preallocBulk)
		if _, err := io.CopyN(&b, r, int64(n+2)); err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return "", err
		}
		buf = b.Bytes()
	}
	if buf[n] != '\r' || buf[n+1] != '\n' {
		return "", fmt.Errorf("bulk not CRLF terminated: %w", errProtocol)
	}
	return string(buf[:n]), nil
}
