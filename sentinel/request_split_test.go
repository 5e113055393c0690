package sentinel

import (
	"reflect"
	"testing"
)

// feedChunks parses input delivered in two reads split at cut, compacting
// the buffer in between as the client's loop does.
func feedChunks(input string, cut int) ([][]string, string) {
	var p requestParser
	var reqs [][]string
	for _, chunk := range []string{input[:cut], input[cut:]} {
		p.buf = append(p.buf, chunk...)
		for {
			argv, st, errText := p.next(func() bool { return false })
			if st == parseNeedMore {
				break
			}
			if st == parseError {
				return reqs, errText
			}
			reqs = append(reqs, argv)
		}
		p.compact()
	}
	return reqs, ""
}

// A request read whole shares one string conversion among its arguments;
// one split across reads converts them one by one. Both must give the
// arguments redis would, wherever the split falls.
func TestRequestParserSplitReads(t *testing.T) {
	for _, in := range []string{
		"*3\r\n$8\r\nSENTINEL\r\n$23\r\nGET-MASTER-ADDR-BY-NAME\r\n$8\r\nmymaster\r\n*1\r\n$4\r\nPING\r\n",
		"*4\r\n$0\r\n\r\n$1\r\na\r\n$0\r\n\r\n$3\r\nb\x00c\r\nPING x\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n",
		"*2\r\n$4\r\nPING\r\n$2\r\nhi\r\n*1\r\n:1\r\n",
	} {
		want, wantErr := feed(t, in, false)
		for cut := 0; cut <= len(in); cut++ {
			got, errText := feedChunks(in, cut)
			if errText != wantErr || !reflect.DeepEqual(got, want) {
				t.Errorf("%q split at %d: got %q, %q; want %q, %q", in, cut, got, errText, want, wantErr)
			}
		}
	}
}

// Pipelined requests share their allocations: a command that appends to
// its argv (or keeps it) must never see or change the next request's.
func TestRequestParserSharedArgvIndependent(t *testing.T) {
	var p requestParser
	p.buf = []byte("*2\r\n$1\r\na\r\n$1\r\nb\r\n*2\r\n$1\r\nc\r\n$1\r\nd\r\n")
	first, st, _ := p.next(func() bool { return false })
	if st != parseRequest {
		t.Fatalf("first request: status %v", st)
	}
	second, st, _ := p.next(func() bool { return false })
	if st != parseRequest {
		t.Fatalf("second request: status %v", st)
	}
	_ = append(first, "x")
	first[1] = "y"
	if !reflect.DeepEqual(second, []string{"c", "d"}) {
		t.Errorf("second request = %q after changing the first, want [c d]", second)
	}
}
