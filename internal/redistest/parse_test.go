package redistest

import (
	"bufio"
	"errors"
	"strings"
	"testing"
)

func parse(t *testing.T, wire string) *Reply {
	t.Helper()
	r, err := ReadReply(bufio.NewReader(strings.NewReader(wire)))
	if err != nil {
		t.Fatalf("parse %q: %v", wire, err)
	}
	if string(r.Raw) != wire {
		t.Fatalf("Raw = %q, want %q", r.Raw, wire)
	}
	return r
}

func TestReadReplyKinds(t *testing.T) {
	cases := []struct {
		wire   string
		kind   Kind
		render string
	}{
		{"+OK\r\n", KindStatus, "+OK"},
		{"-ERR bad thing\r\n", KindError, "-ERR bad thing"},
		{":-42\r\n", KindInt, "(int)-42"},
		{"$5\r\nhe\r\no\r\n", KindBulk, `"he\r\no"`},
		{"$0\r\n\r\n", KindBulk, `""`},
		{"$-1\r\n", KindNull, "(null$)"},
		{"*-1\r\n", KindNull, "(null*)"},
		{"_\r\n", KindNull, "(null_)"},
		{"*2\r\n$1\r\na\r\n:1\r\n", KindArray, `*2["a" (int)1]`},
		{"*0\r\n", KindArray, "*0[]"},
		{"%2\r\n+a\r\n:1\r\n+b\r\n*1\r\n_\r\n", KindMap, `%2{+a:(int)1 +b:*1[(null_)]}`},
		{"~1\r\n+x\r\n", KindSet, "~1[+x]"},
		{">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$1\r\nm\r\n", KindPush, `>3["message" "ch" "m"]`},
		{",3.14\r\n", KindDouble, "(double)3.14"},
		{"#t\r\n", KindBool, "(bool)true"},
		{"=7\r\ntxt:abc\r\n", KindVerbatim, `=txt:"abc"`},
		{"(123456789012345678901234567890\r\n", KindBigNum, "(bignum)123456789012345678901234567890"},
		{"!9\r\nSYNTAX ab\r\n", KindBlobError, `!"SYNTAX ab"`},
	}
	for _, c := range cases {
		r := parse(t, c.wire)
		if r.Kind != c.kind {
			t.Errorf("%q: kind %v, want %v", c.wire, r.Kind, c.kind)
		}
		if got := r.String(); got != c.render {
			t.Errorf("%q: String() = %s, want %s", c.wire, got, c.render)
		}
	}
}

func TestReadReplyMapOrderAndAccessors(t *testing.T) {
	r := parse(t, "%3\r\n$4\r\nname\r\n$8\r\nmymaster\r\n$2\r\nip\r\n$9\r\n127.0.0.1\r\n$4\r\nport\r\n$4\r\n6379\r\n")
	if got := strings.Join(r.Keys(), ","); got != "name,ip,port" {
		t.Fatalf("keys %s", got)
	}
	if v := r.Get("port"); v == nil || v.Str != "6379" {
		t.Fatalf("Get(port) = %v", v)
	}
	m, err := r.StringMap()
	if err != nil || m["ip"] != "127.0.0.1" {
		t.Fatalf("StringMap = %v, %v", m, err)
	}
	// The same map as a RESP2 flat array gives the same accessors.
	flat := parse(t, "*4\r\n$4\r\nname\r\n$1\r\nx\r\n$2\r\nip\r\n$1\r\ny\r\n")
	if flat.Get("ip").Str != "y" || strings.Join(flat.Keys(), ",") != "name,ip" {
		t.Fatalf("flat accessors: %v %v", flat.Get("ip"), flat.Keys())
	}
}

func TestReadReplyAttributeAttachesToNext(t *testing.T) {
	wire := "|1\r\n+ttl\r\n:3\r\n$1\r\nv\r\n"
	r := parse(t, wire)
	if r.Kind != KindBulk || r.Attr == nil || r.Attr.Get("ttl").Int != 3 {
		t.Fatalf("got %s attr %s", r, r.Attr)
	}
}

func TestReadReplyErrors(t *testing.T) {
	bad := []string{
		"?x\r\n",
		":12a\r\n",
		"$3\r\nabcd\r\n",
		"$-2\r\n",
		"%-1\r\n",
		"#x\r\n",
		"=3\r\nabc\r\n",
		"+no crlf\n",
	}
	for _, w := range bad {
		_, err := ReadReply(bufio.NewReader(strings.NewReader(w)))
		if !errors.Is(err, ErrProtocol) {
			t.Errorf("%q: err = %v, want ErrProtocol", w, err)
		}
	}
	if _, err := ReadReply(bufio.NewReader(strings.NewReader("*2\r\n+a\r\n"))); err == nil {
		t.Error("truncated array: no error")
	}
}

func TestEncodeCommand(t *testing.T) {
	got := string(EncodeCommand("SENTINEL", "get-master-addr-by-name", ""))
	want := "*3\r\n$8\r\nSENTINEL\r\n$23\r\nget-master-addr-by-name\r\n$0\r\n\r\n"
	if got != want {
		t.Fatalf("got %q want %q", got, want)
	}
}
