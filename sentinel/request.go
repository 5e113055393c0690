package sentinel

import (
	"github.com/x0tta6bl4/gosentinel/internal/redisargs"

	"math"
	"unsafe"
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
	argc    int64
	left    int64
	bulkLen int64
	argv    []string
	// spans are the arguments read by the current next call and not yet
	// in argv (positions in buf; reused between requests).
	spans []span
	// Every request allocated its argv and the strings of its arguments;
	// pipelined requests now share both (redis-benchmark -P 16: 2
	// allocations per read instead of 2 per request). batch is a copy of
	// buf[batchAt:] made when a request completed, shared by the requests
	// of the same read that it covers (until compact moves buf); arena is
	// a block from which argument vectors are cut, each with its own
	// capacity, so no request ever sees another's arguments.
	//
	// Both are reused when the caller gave back (release) every request
	// the batch held before the next batch begins: it is then copied over
	// the same memory (batchMem) and its vectors are cut from the same
	// arena. Otherwise the next batch gets fresh memory and the old stays
	// with whoever kept a request. The command loop gives back the
	// requests of the commands in argsLentBy; redis-benchmark -P 16 made a
	// hundred garbage collections a second before.
	batch    string
	batchAt  int
	batchMem []byte // the memory batch views
	arena    []string
	out      bool // the last request handed out was not given back
	kept     bool // a request of the current batch was not given back
}

// span is one argument's position in the query buffer.
type span struct{ start, end int }

// Bounds of the shared allocations: a larger batch is not copied whole
// (one small argument kept by a command, such as a client name, would keep
// it all), a larger request gets its own argv.
const (
	maxBatchCopy   = 64 << 10
	maxReusedBatch = 16 << 10 // a read's worth (client.serve)
	arenaBlock     = 128
	maxArenaArgv   = 16
)

// takeSpans converts the arguments in spans into argv, one string each:
// before returning for more data (compact may then move the buffer) or
// when the request began in an earlier call.
func (p *requestParser) takeSpans() {
	if len(p.spans) > 0 && p.argv == nil {
		p.argv = make([]string, 0, min(p.argc, 1024))
	}
	for _, sp := range p.spans {
		p.argv = append(p.argv, string(p.buf[sp.start:sp.end]))
	}
	p.spans = p.spans[:0]
}

// finishArgv completes argv. The arguments of a request read whole by one
// next call (the usual case) are substrings of the batch copy.
func (p *requestParser) finishArgv() []string {
	if p.argv != nil || len(p.spans) == 0 {
		p.takeSpans()
		return p.argv
	}
	first, last := p.spans[0].start, p.spans[len(p.spans)-1].end
	if first < p.batchAt || last > p.batchAt+len(p.batch) {
		end := len(p.buf)
		if end-first > maxBatchCopy {
			end = last
		}
		p.newBatch(p.buf[first:end])
		p.batchAt = first
	}
	argv := p.newArgv(len(p.spans))
	for i, sp := range p.spans {
		argv[i] = p.batch[sp.start-p.batchAt : sp.end-p.batchAt]
	}
	p.spans = p.spans[:0]
	return argv
}

// newBatch makes batch a copy of b: over the previous batch's memory and
// arena unless something of them may have been kept.
func (p *requestParser) newBatch(b []byte) {
	if p.kept || p.out || cap(p.batchMem) < len(b) {
		p.batchMem = make([]byte, len(b))
		p.arena = nil
		p.kept, p.out = false, false
	} else {
		p.batchMem = p.batchMem[:len(b)]
		p.arena = p.arena[:0]
	}
	copy(p.batchMem, b)
	p.batch = unsafe.String(unsafe.SliceData(p.batchMem), len(p.batchMem))
}

// release gives back the request next returned last: its caller keeps
// nothing of it.
func (p *requestParser) release() { p.out = false }

// newArgv returns an argument vector of n elements, cut from the arena
// when it is small.
func (p *requestParser) newArgv(n int) []string {
	if n > maxArenaArgv {
		return make([]string, n)
	}
	if cap(p.arena)-len(p.arena) < n {
		p.arena = make([]string, 0, arenaBlock)
	}
	l := len(p.arena)
	p.arena = p.arena[:l+n]
	return p.arena[l : l+n : l+n]
}

// pending returns the number of unparsed bytes.
func (p *requestParser) pending() int { return len(p.buf) - p.pos }

// compact drops the consumed prefix of the buffer.
func (p *requestParser) compact() {
	if p.pos == 0 {
		return
	}
	p.batch, p.batchAt = "", 0 // its positions move
	if cap(p.batchMem) > maxReusedBatch {
		p.batchMem = nil // not held by an idle client
	}
	if p.pos >= len(p.buf) {
		p.buf = emptied(p.buf)
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
	argv, st, errText := p.parse(authRequired)
	if st == parseRequest {
		// Until release, the request's memory is its caller's.
		p.kept = p.kept || p.out
		p.out = true
	}
	return argv, st, errText
}

func (p *requestParser) parse(authRequired func() bool) ([]string, parseStatus, string) {
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
		n, ok := string2ll(rest[1:cr])
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
		p.argc = n
		p.argv = nil
		p.spans = p.spans[:0] // left over by a protocol error
	}
	for p.left > 0 {
		if p.bulkLen == -1 {
			rest := p.buf[p.pos:]
			cr, ok := indexStop(rest, '\r')
			if !ok {
				if len(rest) > protoInlineMaxSize {
					return nil, parseError, "ERR Protocol error: too big bulk count string"
				}
				p.takeSpans()
				return nil, parseNeedMore, ""
			}
			if cr > len(rest)-2 {
				p.takeSpans()
				return nil, parseNeedMore, ""
			}
			if rest[0] != '$' {
				// %c of a NUL byte ends the C string early.
				return nil, parseError, cstr("ERR Protocol error: expected '$', got '" + string(rest[:1]) + "'")
			}
			n, ok := string2ll(rest[1:cr])
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
			p.takeSpans()
			return nil, parseNeedMore, ""
		}
		// redis skips the two bytes after the data without checking them.
		p.spans = append(p.spans, span{p.pos, p.pos + int(p.bulkLen)})
		p.pos += int(p.bulkLen) + 2
		p.bulkLen = -1
		p.left--
	}
	argv := p.finishArgv()
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
