package sentinel

import (
	"github.com/x0tta6bl4/gosentinel/internal/redisargs"

	"math"
)

// Limits of redis' request parser (networking.c).
const (
	protoInlineMaxSize = 64 * 1024          // PROTO_INLINE_MAX_SIZE
	protoMaxBulkLen    = 512 * 1024 * 1024  // proto-max-bulk-len default
	maxQueryBufLen     = 1024 * 1024 * 1024 // client-query-buffer-limit default
	unauthMaxMultibulk = 10                 // multibulk count allowed before AUTH
	unauthMaxBulkLen   = 16384              // bulk length allowed before AUTH
)

// parseStatus is the outcome of one requestParser.next call.
type parseStatus int

const (
	parseNeedMore parseStatus = iota // the buffer holds no complete request
	parseRequest                     // argv holds a request (possibly empty)
	parseError                       // protocol error: reply errText and close
)

// requestParser turns the query buffer into argument vectors exactly like
// redis' processInlineBuffer/processMultibulkBuffer, including their quirks
// (unchecked CRLF after bulk data, strchr stopping at NUL bytes, limits for
// unauthenticated clients). redcon's reader differs in several of those
// details, which clients and the protocol tests can observe, hence this
// parser. It is incremental: a multibulk header is validated once, when it
// is first complete, like in redis.
type requestParser struct {
	buf     []byte
	pos     int
	reqType byte // 0 = not yet known, 'i' inline, 'm' multibulk
	left    int64
	bulkLen int64
	argv    []string
}

// pending returns the number of unparsed bytes.
func (p *requestParser) pending() int { return len(p.buf) - p.pos }

// compact drops the consumed prefix of the buffer.
func (p *requestParser) compact() {
	if p.pos == 0 {
		return
	}
	if p.pos >= len(p.buf) {
		p.buf = p.buf[:0]
	} else {
		n := copy(p.buf, p.buf[p.pos:])
		p.buf = p.buf[:n]
	}
	p.pos = 0
}

// indexStop returns the index of the first c or NUL byte in b (strchr
// semantics on a NUL-terminated buffer) and whether it is c.
func indexStop(b []byte, c byte) (int, bool) {
	for i, x := range b {
		if x == c {
			return i, true
		}
		if x == 0 {
			return i, false
		}
	}
	return -1, false
}

// next parses the next request. authRequired is consulted only when a
// size limit for unauthenticated clients applies.
func (p *requestParser) next(authRequired func() bool) ([]string, parseStatus, string) {
	if p.pos >= len(p.buf) {
		return nil, parseNeedMore, ""
	}
	if p.reqType == 0 {
		if p.buf[p.pos] == '*' {
			p.reqType = 'm'
		} else {
			p.reqType = 'i'
		}
	}
	if p.reqType == 'i' {
		return p.nextInline()
	}
	return p.nextMultibulk(authRequired)
}

func (p *requestParser) nextInline() ([]string, parseStatus, string) {
	rest := p.buf[p.pos:]
	nl, ok := indexStop(rest, '\n')
	if !ok {
		if len(rest) > protoInlineMaxSize {
			return nil, parseError, "ERR Protocol error: too big inline request"
		}
		return nil, parseNeedMore, ""
	}
	end, skip := nl, 1
	if nl > 0 && rest[nl-1] == '\r' {
		end--
		skip++
	}
	argv, ok := splitArgs(rest[:end])
	if !ok {
		return nil, parseError, "ERR Protocol error: unbalanced quotes in request"
	}
	p.pos += end + skip
	p.reqType = 0
	return argv, parseRequest, ""
}

func (p *requestParser) nextMultibulk(authRequired func() bool) ([]string, parseStatus, string) {
	if p.left == 0 {
		rest := p.buf[p.pos:]
		cr, ok := indexStop(rest, '\r')
		if !ok {
			if len(rest) > protoInlineMaxSize {
				return nil, parseError, "ERR Protocol error: too big mbulk count string"
			}
			return nil, parseNeedMore, ""
		}
		if cr > len(rest)-2 {
			return nil, parseNeedMore, "" // the byte after CR is not here yet
		}
		n, ok := string2ll(string(rest[1:cr]))
		if !ok || n > math.MaxInt32 {
			return nil, parseError, "ERR Protocol error: invalid multibulk length"
		}
		if n > unauthMaxMultibulk && authRequired() {
			return nil, parseError, "ERR Protocol error: unauthenticated multibulk length"
		}
		p.pos += cr + 2
		if n <= 0 {
			p.reqType = 0
			return nil, parseRequest, ""
		}
		p.left = n
		p.bulkLen = -1
		p.argv = make([]string, 0, min(n, 1024))
	}
	for p.left > 0 {
		if p.bulkLen == -1 {
			rest := p.buf[p.pos:]
			cr, ok := indexStop(rest, '\r')
			if !ok {
				if len(rest) > protoInlineMaxSize {
					return nil, parseError, "ERR Protocol error: too big bulk count string"
				}
				return nil, parseNeedMore, ""
			}
			if cr > len(rest)-2 {
				return nil, parseNeedMore, ""
			}
			if rest[0] != '$' {
				// %c of a NUL byte ends the C string early.
				return nil, parseError, cstr("ERR Protocol error: expected '$', got '" + string(rest[:1]) + "'")
			}
			n, ok := string2ll(string(rest[1:cr]))
			if !ok || n < 0 || n > protoMaxBulkLen {
				return nil, parseError, "ERR Protocol error: invalid bulk length"
			}
			if n > unauthMaxBulkLen && authRequired() {
				return nil, parseError, "ERR Protocol error: unauthenticated bulk length"
			}
			p.pos += cr + 2
			p.bulkLen = n
		}
		if int64(len(p.buf)-p.pos) < p.bulkLen+2 {
			return nil, parseNeedMore, ""
		}
		// redis skips the two bytes after the data without checking them.
		p.argv = append(p.argv, string(p.buf[p.pos:p.pos+int(p.bulkLen)]))
		p.pos += int(p.bulkLen) + 2
		p.bulkLen = -1
		p.left--
	}
	argv := p.argv
	p.argv = nil
	p.reqType = 0
	return argv, parseRequest, ""
}

// splitArgs splits an inline request line like redis' sdssplitargs (shared
// with the config parser); it reports false for unbalanced quotes.
func splitArgs(line []byte) ([]string, bool) {
	argv, err := redisargs.Split(string(line))
	return argv, err == nil
}
