package monitor

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/internal/redistest"
)

func TestAppendCommand(t *testing.T) {
	got := string(appendCommand(nil, "PUBLISH", "__sentinel__:hello", "a,b"))
	want := "*3\r\n$7\r\nPUBLISH\r\n$18\r\n__sentinel__:hello\r\n$3\r\na,b\r\n"
	if got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestReadValue(t *testing.T) {
	cases := []struct {
		in   string
		want value
	}{
		{"+PONG\r\n", value{typ: '+', str: "PONG"}},
		{"-LOADING loading\r\n", value{typ: '-', str: "LOADING loading"}},
		{":42\r\n", value{typ: ':', num: 42}},
		{"$5\r\nab\r\nc\r\n", value{typ: '$', str: "ab\r\nc"}},
		{"$-1\r\n", value{typ: '$', null: true}},
		{"*-1\r\n", value{typ: '*', null: true}},
		{"*3\r\n:1\r\n$1\r\n*\r\n:0\r\n", value{typ: '*', elems: []value{{typ: ':', num: 1}, {typ: '$', str: "*"}, {typ: ':', num: 0}}}},
		{">3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$1\r\np\r\n", value{typ: '*', elems: []value{{typ: '$', str: "message"}, {typ: '$', str: "c"}, {typ: '$', str: "p"}}}},
		{"%1\r\n+k\r\n:1\r\n", value{typ: '*', elems: []value{{typ: '+', str: "k"}, {typ: ':', num: 1}}}},
		{"_\r\n", value{typ: '$', null: true}},
	}
	for _, tc := range cases {
		got, err := readValue(bufio.NewReader(strings.NewReader(tc.in)))
		if err != nil {
			t.Fatalf("%q: %v", tc.in, err)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Fatalf("%q: got %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

func TestReadValueRejectsGarbage(t *testing.T) {
	for _, in := range []string{"?x\r\n", ":abc\r\n", "$3\r\nabcd\r\n", "$99999999999\r\n", "\r\n"} {
		_, err := readValue(bufio.NewReader(strings.NewReader(in)))
		if !errors.Is(err, errProtocol) {
			t.Errorf("%q: err = %v, want a protocol error", in, err)
		}
	}
}

// allocatedBy reports the bytes the Go heap handed out while f ran.
func allocatedBy(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// A reply nested deeper than any reply the monitor reads is refused before
// the recursion can exhaust the stack (a peer could send "*1\r\n" millions
// of times).
func TestReadValueRefusesDeepNesting(t *testing.T) {
	ok := strings.Repeat("*1\r\n", maxReplyDepth) + ":1\r\n"
	if _, err := readValue(bufio.NewReader(strings.NewReader(ok))); err != nil {
		t.Fatalf("nesting of %d levels: %v", maxReplyDepth, err)
	}
	deep := strings.Repeat("*1\r\n", maxReplyDepth+1) + ":1\r\n"
	if _, err := readValue(bufio.NewReader(strings.NewReader(deep))); !errors.Is(err, errProtocol) {
		t.Fatalf("nesting of %d levels: err = %v, want a protocol error", maxReplyDepth+1, err)
	}
	huge := strings.Repeat("*1\r\n", 1_000_000)
	if _, err := readValue(bufio.NewReader(strings.NewReader(huge))); !errors.Is(err, errProtocol) {
		t.Fatalf("nesting of 1e6 levels: err = %v, want a protocol error", err)
	}
}

// The count a peer announces is never allocated up front: a header alone
// costs what its bytes cost, and a count beyond the bound is refused.
func TestReadValueDoesNotAllocateFromAnnouncedCounts(t *testing.T) {
	for _, in := range []string{"*1000\r\n", "%1000\r\n", "*1000\r\n*1000\r\n*1000\r\n"} {
		var err error
		n := allocatedBy(func() { _, err = readValue(bufio.NewReader(strings.NewReader(in))) })
		if err == nil {
			t.Fatalf("%q: truncated reply accepted", in)
		}
		if n > 64<<10 {
			t.Errorf("%q: reading the header allocated %d bytes", in, n)
		}
	}
	for _, in := range []string{"*2147483647\r\n", "*1000000\r\n", "%600\r\n", "*9223372036854775807\r\n"} {
		var err error
		n := allocatedBy(func() { _, err = readValue(bufio.NewReader(strings.NewReader(in))) })
		if !errors.Is(err, errProtocol) {
			t.Errorf("%q: err = %v, want a protocol error", in, err)
		}
		if n > 64<<10 {
			t.Errorf("%q: allocated %d bytes", in, n)
		}
	}
	// Elements that do arrive are bounded per reply too: many small
	// aggregates cannot add up to more than maxReplyElems.
	many := "*" + strconv.Itoa(maxAggregateLen) + "\r\n" + strings.Repeat("*"+strconv.Itoa(maxAggregateLen)+"\r\n"+strings.Repeat(":1\r\n", maxAggregateLen), maxAggregateLen)
	if _, err := readValue(bufio.NewReader(strings.NewReader(many))); !errors.Is(err, errProtocol) {
		t.Fatalf("%d elements in one reply: err = %v, want a protocol error", maxAggregateLen*maxAggregateLen, err)
	}
}

// Bulk strings: the largest reply the monitor reads (INFO) fits; a larger
// announced length is refused, and a large announced length allocates only
// as its bytes arrive.
func TestReadValueBoundsBulks(t *testing.T) {
	info := strings.Repeat("x", 1<<20)
	got, err := readValue(bufio.NewReader(strings.NewReader("$" + strconv.Itoa(len(info)) + "\r\n" + info + "\r\n")))
	if err != nil || got.str != info {
		t.Fatalf("1 MB bulk: err = %v", err)
	}
	for _, in := range []string{"$" + strconv.Itoa(maxBulkLen+1) + "\r\n", "$536870912\r\n", "=99999999\r\n"} {
		if _, err := readValue(bufio.NewReader(strings.NewReader(in))); !errors.Is(err, errProtocol) {
			t.Errorf("%q: err = %v, want a protocol error", in, err)
		}
	}
	var rerr error
	n := allocatedBy(func() {
		_, rerr = readValue(bufio.NewReader(strings.NewReader("$" + strconv.Itoa(maxBulkLen) + "\r\nabc")))
	})
	if rerr == nil || n > 1<<20 {
		t.Fatalf("a %d-byte bulk announced, 3 bytes sent: err = %v, allocated %d bytes", maxBulkLen, rerr, n)
	}
	// Two bulks of the maximum size are more than one reply may carry.
	two := "*2\r\n" + strings.Repeat("$"+strconv.Itoa(maxBulkLen)+"\r\n"+strings.Repeat("y", maxBulkLen)+"\r\n", 2)
	if _, err := readValue(bufio.NewReader(strings.NewReader(two))); !errors.Is(err, errProtocol) {
		t.Fatalf("two maximal bulks in one reply: err = %v, want a protocol error", err)
	}
	long := strings.Repeat("+", maxLineLen+2) + "\r\n"
	if _, err := readValue(bufio.NewReader(strings.NewReader(long))); !errors.Is(err, errProtocol) {
		t.Fatalf("a %d-byte line: err = %v, want a protocol error", len(long), err)
	}
}

// RESP3 attributes ahead of a reply count against the reply's element
// budget: a chain of them is refused instead of recursing once per
// attribute.
func TestReadValueBoundsAttributeChains(t *testing.T) {
	got, err := readValue(bufio.NewReader(strings.NewReader("|1\r\n+k\r\n+v\r\n:7\r\n")))
	if err != nil || got.typ != ':' || got.num != 7 {
		t.Fatalf("one attribute: %+v, %v", got, err)
	}
	chain := strings.Repeat("|0\r\n", 1_000_000) + ":1\r\n"
	if _, err := readValue(bufio.NewReader(strings.NewReader(chain))); !errors.Is(err, errProtocol) {
		t.Fatalf("a chain of 1e6 attributes: err = %v, want a protocol error", err)
	}
}

// A reply the node's close cuts short before its last LF is no reply, on the
// blocking reader (TLS links, Client) as in the event loop's parser: bufio's
// ReadLine handed ":10\r\n" cut to ":1" over as 1.
func TestUnterminatedLineAtEOFIsNoReply(t *testing.T) {
	for _, in := range []string{":1", "+PONG", "+PONG\r", "*3\r\n:1\r\n$1\r\n*\r\n:7", "-ERR half"} {
		v, err := readValue(bufio.NewReader(strings.NewReader(in)))
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("readValue(%q) = %+v, %v; want io.ErrUnexpectedEOF", in, v, err)
		}
		var p replyParser
		var got []value
		if err := p.feed([]byte(in), func(v value) bool { got = append(got, v); return true }); err != nil || len(got) != 0 {
			t.Errorf("replyParser on %q: %+v, %v; want nothing yet", in, got, err)
		}
	}
	// The end of the stream between replies is still io.EOF.
	if _, err := readValue(bufio.NewReader(strings.NewReader(""))); err != io.EOF {
		t.Errorf("readValue on an empty stream: %v, want io.EOF", err)
	}
}

// The same through a Client: a WAIT whose ":10" the node's crash cut short
// is an error, not 1.
func TestClientReplyCutShortIsAnError(t *testing.T) {
	addr := redistest.ServeTCP(t, func(c net.Conn) {
		if _, err := readValue(bufio.NewReader(c)); err == nil {
			c.Write([]byte(":1"))
		}
	})
	cl := NewClient(ClientOptions{Addr: addr, DialTimeout: 5 * time.Second, Timeout: 5 * time.Second})
	defer cl.Close()
	if got, err := cl.Do(context.Background(), "WAIT", "1", "0"); err == nil {
		t.Fatalf("a reply cut short by the node's close read as %+v", got)
	}
}

// readLine's bounds are exact whatever the reader's buffer: a line of
// maxLineLen bytes reads, one more does not, CR or bare LF, a CR within the
// line kept; and the event loop's parser takes the longest line whose CR
// and LF arrive in two reads.
func TestLineBoundsAreExact(t *testing.T) {
	for _, size := range []int{16, 4096, 65536, 70000} {
		for _, tc := range []struct {
			in, want string
			ok       bool
		}{
			{"+" + strings.Repeat("a", maxLineLen-1) + "\r\n", "+" + strings.Repeat("a", maxLineLen-1), true},
			{"+" + strings.Repeat("a", maxLineLen) + "\r\n", "", false},
			{"+" + strings.Repeat("a", maxLineLen-1) + "\n", "+" + strings.Repeat("a", maxLineLen-1), true},
			{"+" + strings.Repeat("a", 15) + "\r\n", "+" + strings.Repeat("a", 15), true},
			{"\n", "", true},
			{"+a\rb\r\n", "+a\rb", true},
		} {
			got, err := readLine(bufio.NewReaderSize(strings.NewReader(tc.in), size))
			if (err == nil) != tc.ok || got != tc.want {
				t.Errorf("buffer %d, input of %d bytes: %d bytes, %v; want ok=%v", size, len(tc.in), len(got), err, tc.ok)
			}
		}
	}
	var p replyParser
	line := "+" + strings.Repeat("a", maxLineLen-1)
	var got []value
	emit := func(v value) bool { got = append(got, v); return true }
	if err := p.feed([]byte(line+"\r"), emit); err != nil {
		t.Fatalf("a %d-byte line whose LF has not arrived yet: %v", len(line), err)
	}
	if err := p.feed([]byte("\n"), emit); err != nil || len(got) != 1 {
		t.Fatalf("its LF: %v, %d values", err, len(got))
	}
}
