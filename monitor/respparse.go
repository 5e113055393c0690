package monitor

import (
	"bytes"
	"fmt"
	"strconv"
	"unsafe"
)

// replyParser decodes RESP replies from bytes as they arrive, in any
// pieces, for the event loop (poller) that reads many connections on one
// goroutine: unlike readValue it never waits for more input, it keeps what
// it has of an unfinished reply (the line so far, the bulk so far, the
// aggregates being filled) and resumes with the next bytes. Each byte is
// looked at once, so a reply trickled a byte at a time costs no more than
// one that arrives whole. It accepts exactly what readValue accepts, with
// the same bounds (TestReplyParserMatchesReadValue, FuzzReplyParser).
type replyParser struct {
	line     []byte // the current line so far, without its end
	inBulk   bool
	bulkTyp  byte
	bulkLen  int    // the bulk's announced length
	bulk     []byte // the bulk and its CRLF so far
	stack    []aggFrame
	started  bool // a reply is under way (its budgets are in use)
	elems    int  // what is left of the reply's element budget
	bytesCap int  // what is left of the reply's byte budget
}

// aggFrame is an aggregate being filled.
type aggFrame struct {
	v    value
	left int  // elements still to come
	attr bool // a RESP3 attribute: dropped once complete
}

// feed parses data, calling emit for every complete reply in order; emit
// returns false to stop (the connection was closed meanwhile). It returns
// a protocol error (errProtocol) for input readValue rejects; the parser
// is then unusable.
func (p *replyParser) feed(data []byte, emit func(value) bool) error {
	for len(data) > 0 {
		if !p.started {
			p.started = true
			p.elems, p.bytesCap = maxReplyElems, maxReplyBytes
		}
		if p.inBulk {
			need := p.bulkLen + 2 - len(p.bulk)
			var b []byte
			if len(p.bulk) == 0 && len(data) >= need {
				// The whole bulk is in this read (nearly always):
				// its string is made straight from it.
				b, data = data[:need], data[need:]
			} else {
				if p.bulk == nil {
					// As readBulk: an announced length costs at most
					// preallocBulk until its bytes arrive.
					p.bulk = make([]byte, 0, min(p.bulkLen+2, preallocBulk))
				}
				take := min(need, len(data))
				p.bulk = append(p.bulk, data[:take]...)
				data = data[take:]
				if take < need {
					return nil
				}
				b = p.bulk
			}
			p.inBulk, p.bulk = false, nil
			if b[p.bulkLen] != '\r' || b[p.bulkLen+1] != '\n' {
				return fmt.Errorf("bulk not CRLF terminated: %w", errProtocol)
			}
			typ := byte('$')
			if p.bulkTyp == '!' {
				typ = '-'
			}
			done, err := p.complete(value{typ: typ, str: intern(b[:p.bulkLen])}, false, emit)
			if err != nil || done {
				return err
			}
			continue
		}
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			p.line = append(p.line, data...)
			if len(p.line) > maxLineLen+1 { // its CR may be in
				return fmt.Errorf("line longer than %d bytes: %w", maxLineLen, errProtocol)
			}
			return nil
		}
		line := data[:i]
		if len(p.line) > 0 {
			p.line = append(p.line, line...)
			line = p.line
		}
		data = data[i+1:]
		line = bytes.TrimSuffix(line, []byte{'\r'})
		if len(line) > maxLineLen {
			return fmt.Errorf("line longer than %d bytes: %w", maxLineLen, errProtocol)
		}
		done, err := p.header(line, emit)
		p.line = p.line[:0]
		if err != nil || done {
			return err
		}
	}
	return nil
}

// spend takes n bytes from the reply's byte budget.
func (p *replyParser) spend(n int) error {
	if n > p.bytesCap {
		return fmt.Errorf("reply larger than %d bytes: %w", maxReplyBytes, errProtocol)
	}
	p.bytesCap -= n
	return nil
}

// header handles one complete line: a scalar, or the start of a bulk or an
// aggregate (replyReader.readOne, line for line). done reports that emit
// asked to stop.
func (p *replyParser) header(line []byte, emit func(value) bool) (done bool, err error) {
	if err := p.spend(len(line) + 2); err != nil {
		return false, err
	}
	if len(line) == 0 {
		return false, fmt.Errorf("empty reply line: %w", errProtocol)
	}
	// body is read in place (bytesView): numbers are parsed from it, and
	// only text that a value keeps is copied.
	t, body := line[0], line[1:]
	switch t {
	case '+', '-':
		return p.complete(value{typ: t, str: intern(body)}, false, emit)
	case ':':
		n, err := strconv.ParseInt(bytesView(body), 10, 64)
		if err != nil {
			return false, fmt.Errorf("bad integer %q: %w", body, errProtocol)
		}
		return p.complete(value{typ: ':', num: n}, false, emit)
	case '_':
		return p.complete(value{typ: '$', null: true}, false, emit)
	case ',', '(', '#':
		return p.complete(value{typ: '+', str: string(body)}, false, emit)
	case '$', '=', '!':
		n, err := strconv.Atoi(bytesView(body))
		if err != nil || n > maxBulkLen {
			return false, fmt.Errorf("bad bulk length %q (at most %d): %w", body, maxBulkLen, errProtocol)
		}
		if n < 0 {
			return p.complete(value{typ: '$', null: true}, false, emit)
		}
		if err := p.spend(n); err != nil {
			return false, err
		}
		// The bulk's memory is taken once its bytes are known to be
		// split across reads (feed).
		p.inBulk, p.bulkTyp, p.bulkLen = true, t, n
		return false, nil
	case '*', '~', '>', '%', '|':
		n, err := strconv.Atoi(bytesView(body))
		if err == nil && (t == '%' || t == '|') && n > 0 && n <= maxAggregateLen {
			n *= 2
		}
		if err != nil || n > maxAggregateLen {
			return false, fmt.Errorf("bad aggregate length %q (at most %d elements): %w", body, maxAggregateLen, errProtocol)
		}
		if n < 0 {
			return p.complete(value{typ: '*', null: true}, false, emit)
		}
		if len(p.stack)+1 > maxReplyDepth {
			return false, fmt.Errorf("reply nested deeper than %d levels: %w", maxReplyDepth, errProtocol)
		}
		if n > p.elems {
			return false, fmt.Errorf("reply with more than %d elements: %w", maxReplyElems, errProtocol)
		}
		p.elems -= n
		v := value{typ: '*', elems: make([]value, 0, min(n, preallocElems))}
		if n == 0 {
			return p.complete(v, t == '|', emit)
		}
		p.stack = append(p.stack, aggFrame{v: v, left: n, attr: t == '|'})
		return false, nil
	default:
		return false, fmt.Errorf("unknown reply type %q: %w", t, errProtocol)
	}
}

// bytesView is b as a string without a copy, for strconv's parsers, which
// keep nothing of their input (a NumError holds a copy).
func bytesView(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// intern returns b as a string, without an allocation for the texts that
// every link receives again and again: a PONG, a PUBLISH's OK, and the
// frame of a hello message on a pub/sub connection.
func intern(b []byte) string {
	switch string(b) { // compared in place: no allocation
	case "PONG":
		return "PONG"
	case "OK":
		return "OK"
	case "message":
		return "message"
	case helloChannel:
		return helloChannel
	case "pong":
		return "pong"
	}
	return string(b)
}

// complete places a finished value: into the aggregate being filled, or,
// at the top, hands it to emit. An attribute is dropped wherever it
// stands, costing one element of the budget (replyReader.read).
func (p *replyParser) complete(v value, attr bool, emit func(value) bool) (done bool, err error) {
	for {
		if attr {
			if p.elems == 0 {
				return false, fmt.Errorf("reply with more than %d elements: %w", maxReplyElems, errProtocol)
			}
			p.elems--
			return false, nil
		}
		if len(p.stack) == 0 {
			p.started = false
			return !emit(v), nil
		}
		top := &p.stack[len(p.stack)-1]
		top.v.elems = append(top.v.elems, v)
		top.left--
		if top.left > 0 {
			return false, nil
		}
		v, attr = top.v, top.attr
		p.stack[len(p.stack)-1] = aggFrame{}
		p.stack = p.stack[:len(p.stack)-1]
	}
}

// pending reports whether part of a reply has been fed and not yet
// emitted.
func (p *replyParser) pending() bool {
	return p.inBulk || len(p.line) > 0 || len(p.stack) > 0
}
