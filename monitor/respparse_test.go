package monitor

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// endOfInput is what starvingReader panics with: the reader wants bytes
// that have not arrived.
type endOfInput struct{}

// starvingReader models a connection that has sent data and nothing else
// yet: a read past it never returns (here: panics), as a socket read
// blocks. With io.EOF instead, bufio would hand over an unterminated last
// line as a whole one.
type starvingReader struct{ r *bytes.Reader }

func (s starvingReader) Read(p []byte) (int, error) {
	if s.r.Len() == 0 {
		panic(endOfInput{})
	}
	return s.r.Read(p)
}

// readAll decodes data with readValue, the reference: the replies, and
// whether it ended on a protocol error (otherwise it waits for more input,
// possibly inside a reply).
func readAll(t testing.TB, data []byte) (out []value, bad bool) {
	r := bufio.NewReaderSize(starvingReader{bytes.NewReader(data)}, readBufSize)
	defer func() {
		if e := recover(); e != nil {
			if _, ok := e.(endOfInput); !ok {
				panic(e)
			}
			bad = false
		}
	}()
	for {
		v, err := readValue(r)
		if err != nil {
			if errors.Is(err, errProtocol) {
				return out, true
			}
			if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("reference reader: %v", err)
			}
			return out, false
		}
		out = append(out, v)
	}
}

// parseChunks feeds data to a replyParser cut at the given offsets.
func parseChunks(data []byte, cuts []int) ([]value, bool) {
	var p replyParser
	var out []value
	prev := 0
	for _, c := range append(cuts, len(data)) {
		if c < prev {
			continue
		}
		if err := p.feed(data[prev:c], func(v value) bool { out = append(out, v); return true }); err != nil {
			if !errors.Is(err, errProtocol) {
				panic(err)
			}
			return out, true
		}
		prev = c
	}
	return out, false
}

// norm makes empty and nil element slices compare equal (reflect).
func norm(vs []value) []value {
	for i := range vs {
		if vs[i].elems != nil {
			vs[i].elems = norm(vs[i].elems)
		}
	}
	return vs
}

func checkSame(t testing.TB, data []byte, cuts []int) {
	want, wantBad := readAll(t, data)
	got, gotBad := parseChunks(data, cuts)
	if wantBad != gotBad || !reflect.DeepEqual(norm(want), norm(got)) {
		t.Fatalf("input %q cut at %v:\nreadValue: %+v (protocol error %v)\nparser:    %+v (protocol error %v)", data, cuts, want, wantBad, got, gotBad)
	}
}

// The parser gives readValue's replies and errors however the input is cut:
// whole, a byte at a time, at random places.
func TestReplyParserMatchesReadValue(t *testing.T) {
	inputs := []string{
		"+PONG\r\n-LOADING loading\r\n:42\r\n$5\r\nab\r\nc\r\n$-1\r\n*-1\r\n_\r\n",
		"*3\r\n$7\r\nmessage\r\n$18\r\n__sentinel__:hello\r\n$5\r\nhello\r\n",
		">3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$1\r\np\r\n%1\r\n+k\r\n:1\r\n|1\r\n+a\r\n+b\r\n:1\r\n",
		"*2\r\n|1\r\n+a\r\n+b\r\n:1\r\n*0\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n",
		"*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n",
		"~2\r\n,1.5\r\n#t\r\n(123\r\n=7\r\ntxt:abc\r\n!3\r\nERR\r\n",
		"+bare newline\n:7\n",
		"$3\r\nabcXY", "\r\n", "*2147483647\r\n", "$536870912\r\n", "?\r\n", ":x\r\n",
		"$" + "4096\r\n" + strings.Repeat("i", 4096) + "\r\n+after\r\n",
		"+" + strings.Repeat("l", maxLineLen+10) + "\r\n",
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, in := range inputs {
		data := []byte(in)
		checkSame(t, data, nil)
		every := make([]int, len(data))
		for i := range every {
			every[i] = i
		}
		checkSame(t, data, every)
		for k := 0; k < 50; k++ {
			var cuts []int
			for i := 0; i < len(data); i += 1 + rng.IntN(16) {
				cuts = append(cuts, i)
			}
			checkSame(t, data, cuts)
		}
	}
}

// A reply trickled a byte at a time costs no more than one arriving whole:
// the parser never goes back over what it has seen (an 8 MB bulk fed in
// 1-byte pieces would take minutes otherwise).
func TestReplyParserTrickleIsLinear(t *testing.T) {
	n := 1 << 20
	data := append([]byte("$1048576\r\n"), bytes.Repeat([]byte{'x'}, n)...)
	data = append(data, "\r\n"...)
	var p replyParser
	got := 0
	for i := range data {
		if err := p.feed(data[i:i+1], func(v value) bool { got = len(v.str); return true }); err != nil {
			t.Fatal(err)
		}
	}
	if got != n {
		t.Fatalf("bulk of %d bytes, want %d", got, n)
	}
}

// emit returning false stops the parse: the replies after it are not
// handed over.
func TestReplyParserStops(t *testing.T) {
	var p replyParser
	n := 0
	if err := p.feed([]byte("+a\r\n+b\r\n+c\r\n"), func(value) bool { n++; return n < 2 }); err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Fatalf("%d replies handed over, want 2", n)
	}
}

// FuzzReplyParser: for any input cut anywhere, the parser agrees with
// readValue (which FuzzReadValue keeps within the bounds of resp.go).
func FuzzReplyParser(f *testing.F) {
	for _, s := range []string{
		"+PONG\r\n", "$5\r\nab\r\nc\r\n:1\r\n", "*3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$1\r\np\r\n",
		"|1\r\n+a\r\n+b\r\n:1\r\n", "*2\r\n|1\r\n+a\r\n+b\r\n:1\r\n*0\r\n", "~2\r\n,1.5\r\n#t\r\n", "+x\n",
	} {
		f.Add([]byte(s), uint64(1))
	}
	f.Fuzz(func(t *testing.T, data []byte, seed uint64) {
		rng := rand.New(rand.NewPCG(seed, 0))
		var cuts []int
		for i := 0; i < len(data); i += 1 + rng.IntN(8) {
			cuts = append(cuts, i)
		}
		checkSame(t, data, cuts)
	})
}

// TestReplyParserAllocations pins what the event loop allocates per reply:
// nothing for a PONG, an OK or an integer, and for a hello message only its
// array and its payload (the frame's texts are interned, and a bulk read
// whole is made into its string straight from the read).
func TestReplyParserAllocations(t *testing.T) {
	emit := func(value) bool { return true }
	for _, tc := range []struct {
		name  string
		input string
		want  float64
	}{
		{"status", "+PONG\r\n", 0},
		{"OK", "+OK\r\n", 0},
		{"integer", ":3\r\n", 0},
		{"hello message", "*3\r\n$7\r\nmessage\r\n$18\r\n__sentinel__:hello\r\n$5\r\nhello\r\n", 2},
	} {
		var p replyParser
		data := []byte(tc.input)
		got := testing.AllocsPerRun(200, func() {
			if err := p.feed(data, emit); err != nil {
				t.Fatal(err)
			}
		})
		if got != tc.want {
			t.Errorf("%s: %v allocations per reply, want %v", tc.name, got, tc.want)
		}
	}
}
