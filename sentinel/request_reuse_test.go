package sentinel

import (
	"strings"
	"testing"
	"time"
	"unsafe"
)

// The parser copies the next batch over the previous one's memory only
// when every request of it was given back; a request kept by its caller
// keeps its bytes.
func TestRequestParserReusesOnlyWhatWasGivenBack(t *testing.T) {
	batch := func(a, b string) string {
		return string(encodeCommand("PING", a)) + string(encodeCommand("PING", b))
	}
	var p requestParser
	next := func() []string {
		t.Helper()
		argv, st, errText := p.next(func() bool { return false })
		if st != parseRequest {
			t.Fatalf("status %v (%s), want a request", st, errText)
		}
		return argv
	}

	p.buf = append(p.buf, batch("aa", "bb")...)
	next()
	p.release()
	next()
	p.release()
	p.compact()
	mem := unsafe.SliceData(p.batchMem)

	// Everything given back: the next batch is copied over the same memory.
	p.buf = append(p.buf, batch("cc", "dd")...)
	kept := next() // not given back
	if unsafe.SliceData(p.batchMem) != mem {
		t.Fatalf("a batch after one whose requests were all given back got fresh memory")
	}
	next()
	p.release()
	p.compact()

	// One request kept: the next batch must not overwrite it.
	p.buf = append(p.buf, batch("ee", "ff")...)
	if argv := next(); argv[1] != "ee" {
		t.Fatalf("third batch's first request: %q", argv)
	}
	if unsafe.SliceData(p.batchMem) == mem {
		t.Fatalf("a batch after one with a kept request reused its memory")
	}
	if kept[1] != "cc" {
		t.Fatalf("kept request changed to %q by the next batch", kept)
	}
}

// End to end: CLIENT SETNAME keeps its argument (the client's name), so
// the batches of lent commands after it must not be copied over it.
func TestKeptArgumentSurvivesLaterBatches(t *testing.T) {
	_, addr := startServer(t, Config{})
	r := dialRaw(t, addr)
	name := "keep-" + strings.Repeat("n", 40)
	first := append(encodeCommand("CLIENT", "SETNAME", name), encodeCommand("PING", "x")...)
	r.send(first)
	for range 2 {
		if _, err := r.reply(5 * time.Second); err != nil {
			t.Fatal(err)
		}
	}
	// Batches exactly as long as the first, of commands that give their
	// arguments back: were the first batch's memory reused, they would be
	// copied over the name.
	var filler []byte
	for n := 1; len(filler) != len(first); n++ {
		if n > len(first) {
			t.Fatal("no filler batch as long as the first")
		}
		filler = append(encodeCommand("PING", strings.Repeat("z", n)), encodeCommand("PING", "x")...)
	}
	for i := range 50 {
		r.send(filler)
		for range 2 {
			if _, err := r.reply(5 * time.Second); err != nil {
				t.Fatalf("batch %d: %v", i, err)
			}
		}
	}
	if got, want := string(r.do("CLIENT", "GETNAME")), "$"+itoa(len(name))+"\r\n"+name+"\r\n"; got != want {
		t.Fatalf("CLIENT GETNAME = %q, want %q", got, want)
	}
}

// TestLargeBuffersAreGivenBack: once a large request has been answered,
// the client keeps none of the buffers it grew for it (query, reply being
// built, output written) beyond maxKeptBuffer; small ones it keeps, so a
// steady client allocates none.
func TestLargeBuffersAreGivenBack(t *testing.T) {
	srv, err := NewServer(Config{Backend: &fakeBackend{}, RunID: strings.Repeat("ab", 20)})
	if err != nil {
		t.Fatal(err)
	}
	c := benchClient(t, srv)
	run := func(req []byte, wantReply int) {
		t.Helper()
		// The request arrives in reads of 16 KB, as client.serve reads.
		for len(req) > 0 {
			n := min(len(req), 16<<10)
			c.parser.buf = append(c.parser.buf, req[:n]...)
			req = req[n:]
			if !c.processInput() {
				t.Fatal("processInput stopped")
			}
		}
		data, _, _ := c.out.take()
		if len(data) != wantReply {
			t.Fatalf("reply of %d bytes, want %d", len(data), wantReply)
		}
		c.out.written(data)
	}
	big := strings.Repeat("x", 1<<20)
	run(encodeCommand("PING", big), len("$1048576\r\n")+len(big)+2)
	run(encodeCommand("PING"), len("+PONG\r\n"))
	for name, b := range map[string][]byte{"query": c.parser.buf, "reply": c.reply, "output": c.out.spare} {
		if cap(b) > maxKeptBuffer {
			t.Errorf("%s buffer keeps %d bytes after a 1 MB request", name, cap(b))
		}
	}
	if cap(c.out.spare) == 0 {
		t.Error("output buffer of a small reply not kept")
	}
}
