package monitor

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

// FuzzReadValue: the monitor's RESP reader never panics, never reads past
// its input, and anything it accepts is within the bounds of resp.go
// (nesting, elements, bulk sizes). Errors are protocol errors or the end of
// the input.
func FuzzReadValue(f *testing.F) {
	for _, s := range []string{
		"+PONG\r\n", "-LOADING loading\r\n", ":42\r\n", "$5\r\nab\r\nc\r\n", "$-1\r\n", "*-1\r\n", "_\r\n",
		"*3\r\n:1\r\n$40\r\n" + idC + "\r\n:7\r\n",
		"*3\r\n$7\r\nmessage\r\n$18\r\n__sentinel__:hello\r\n$5\r\nhello\r\n",
		">3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$1\r\np\r\n", "%1\r\n+k\r\n:1\r\n", "|1\r\n+a\r\n+b\r\n:1\r\n",
		"*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n", "*2147483647\r\n", "$536870912\r\n", "~2\r\n,1.5\r\n#t\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bufio.NewReader(bytes.NewReader(data))
		v, err := readValue(r)
		if err != nil {
			if !errors.Is(err, errProtocol) && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		depth, elems := shape(v)
		if depth > maxReplyDepth+1 {
			t.Fatalf("accepted a reply %d levels deep", depth)
		}
		if elems > maxReplyElems {
			t.Fatalf("accepted a reply of %d elements", elems)
		}
		if n := stringBytes(v); n > maxReplyBytes {
			t.Fatalf("accepted a reply of %d bytes", n)
		}
		if n := len(data) - r.Buffered(); n < 0 || n > len(data) {
			t.Fatalf("consumed %d of %d bytes", n, len(data))
		}
		_ = fmt.Sprint(v)
	})
}

// shape returns a value's nesting depth (1 for a scalar) and its number of
// elements at every level.
func shape(v value) (depth, elems int) {
	depth = 1
	for _, e := range v.elems {
		d, n := shape(e)
		depth = max(depth, d+1)
		elems += n + 1
	}
	return depth, elems
}

func stringBytes(v value) int {
	n := len(v.str)
	for _, e := range v.elems {
		n += stringBytes(e)
	}
	return n
}

// FuzzParseHello: the hello parser never panics, and what it accepts is a
// hello a sentinel could have sent: every field valid, and rendering it
// again gives a payload that parses to the same Hello.
func FuzzParseHello(f *testing.F) {
	for _, s := range []string{
		"10.0.0.2,26379," + idB + ",7,mymaster,10.0.0.1,6379,3",
		"::1,26379," + idB + ",18446744073709551615,m,fe80::1,1,0",
		"sentinel-0.sentinel.default.svc.cluster.local,26379," + idC + ",0,m,redis-0.redis,65535,0",
		"127.0.0.1,0," + idB + ",-1,m,127.0.0.1,abc,1",
		"a,b,c,d,e,f,g,h", "", ",,,,,,,",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, payload string) {
		h, err := parseHello(payload)
		if strings.Count(payload, ",") != 7 && err == nil {
			t.Fatalf("accepted %q, which has %d fields", payload, strings.Count(payload, ",")+1)
		}
		if err != nil {
			if !errors.Is(err, errBadHello) {
				t.Fatalf("error is not errBadHello: %v", err)
			}
			return
		}
		for _, a := range []Addr{h.SentinelAddr, h.MasterAddr} {
			if a.Port < 1 || a.Port > 65535 || a.Host == "" {
				t.Fatalf("accepted address %+v in %q", a, payload)
			}
		}
		if !isRunID(h.SentinelID) || h.Master == "" {
			t.Fatalf("accepted %+v from %q", h, payload)
		}
		again := fmt.Sprintf("%s,%d,%s,%d,%s,%s,%d,%d", h.SentinelAddr.Host, h.SentinelAddr.Port, h.SentinelID,
			h.CurrentEpoch, h.Master, h.MasterAddr.Host, h.MasterAddr.Port, h.MasterConfigEpoch)
		h2, err := parseHello(again)
		if err != nil || h2 != h {
			t.Fatalf("%q parsed to %+v; rendered %q parses to %+v, %v", payload, h, again, h2, err)
		}
	})
}
