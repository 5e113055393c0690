package monitor

import (
	"bufio"
	"errors"
	"reflect"
	"strings"
	"testing"
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
