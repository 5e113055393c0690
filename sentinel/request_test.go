package sentinel

import (
	"reflect"
	"testing"
)

func TestString2ll(t *testing.T) {
	cases := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true}, {"1", 1, true}, {"-1", -1, true}, {"123456789", 123456789, true},
		{"9223372036854775807", 9223372036854775807, true}, {"-9223372036854775808", -9223372036854775808, true},
		{"9223372036854775808", 0, false}, {"-9223372036854775809", 0, false},
		{"", 0, false}, {"-", 0, false}, {"+1", 0, false}, {"01", 0, false}, {"-0", 0, false},
		{" 1", 0, false}, {"1 ", 0, false}, {"1x", 0, false}, {"00", 0, false},
		{"123456789012345678901", 0, false},
	}
	for _, c := range cases {
		got, ok := string2ll(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("string2ll(%q) = %d, %v; want %d, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestSplitArgs(t *testing.T) {
	cases := []struct {
		in   string
		want []string
		ok   bool
	}{
		{"", nil, true},
		{"   ", nil, true},
		{"PING", []string{"PING"}, true},
		{"  a   b\tc ", []string{"a", "b", "c"}, true},
		{`"a b"`, []string{"a b"}, true},
		{`"\x41\x4a\n\r\t\b\a\z\""`, []string{"AJ\n\r\t\b\az\""}, true},
		{`"\x4"`, []string{"x4"}, true},
		{`'it\'s' 'a\nb'`, []string{"it's", `a\nb`}, true},
		{`a"b c"d`, nil, false},
		{`a"b c" d`, []string{"ab c", "d"}, true},
		{`"abc`, nil, false},
		{`'abc`, nil, false},
		{`"a"b`, nil, false},
		{`"a"` + "\v" + "b", []string{"a", "b"}, true},
		{`""`, []string{""}, true},
		{"a\x00b c", []string{"a"}, true},
	}
	for _, c := range cases {
		got, ok := splitArgs([]byte(c.in))
		if ok != c.ok || (ok && !reflect.DeepEqual(got, c.want)) {
			t.Errorf("splitArgs(%q) = %q, %v; want %q, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

// feed runs the parser over input delivered one byte at a time and
// collects the requests and the first error.
func feed(t *testing.T, input string, authRequired bool) ([][]string, string) {
	t.Helper()
	var p requestParser
	var reqs [][]string
	for i := 0; i < len(input); i++ {
		p.buf = append(p.buf, input[i])
		for {
			argv, st, errText := p.next(func() bool { return authRequired })
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

func TestRequestParser(t *testing.T) {
	cases := []struct {
		name  string
		in    string
		auth  bool
		want  [][]string
		error string
	}{
		{name: "multibulk", in: "*2\r\n$4\r\nPING\r\n$2\r\nhi\r\n", want: [][]string{{"PING", "hi"}}},
		{name: "inline", in: "PING\r\nPING a\n", want: [][]string{{"PING"}, {"PING", "a"}}},
		{name: "empty requests", in: "\r\n*0\r\n*-5\r\n", want: [][]string{nil, nil, nil}},
		{name: "binary bulk", in: "*1\r\n$3\r\na\x00b\r\n", want: [][]string{{"a\x00b"}}},
		{name: "unchecked crlf", in: "*1\r\n$4\rxPINGxy", want: [][]string{{"PING"}}},
		{name: "bad count", in: "*x\r\n", error: "ERR Protocol error: invalid multibulk length"},
		{name: "count over int32", in: "*2147483648\r\n", error: "ERR Protocol error: invalid multibulk length"},
		{name: "unauth count", in: "*11\r\n", auth: true, error: "ERR Protocol error: unauthenticated multibulk length"},
		{name: "unauth count ok", in: "*10\r\n", auth: true, want: nil},
		{name: "unauth bulk", in: "*1\r\n$16385\r\n", auth: true, error: "ERR Protocol error: unauthenticated bulk length"},
		{name: "dollar", in: "*1\r\n:1\r\n", error: "ERR Protocol error: expected '$', got ':'"},
		{name: "dollar nul", in: "*1\r\n\x00\r\n", want: nil},
		{name: "negative bulk", in: "*1\r\n$-1\r\n", error: "ERR Protocol error: invalid bulk length"},
		{name: "huge bulk", in: "*1\r\n$536870913\r\n", error: "ERR Protocol error: invalid bulk length"},
		{name: "quotes", in: "PING \"a\r\n", error: "ERR Protocol error: unbalanced quotes in request"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, errText := feed(t, c.in, c.auth)
			if errText != c.error || !reflect.DeepEqual(got, c.want) {
				t.Errorf("got %q, %q; want %q, %q", got, errText, c.want, c.error)
			}
		})
	}
}

func TestRequestParserLimits(t *testing.T) {
	big := make([]byte, protoInlineMaxSize+1)
	for i := range big {
		big[i] = 'x'
	}
	for _, c := range []struct{ prefix, want string }{
		{"", "ERR Protocol error: too big inline request"},
		{"*", "ERR Protocol error: too big mbulk count string"},
		{"*1\r\n$", "ERR Protocol error: too big bulk count string"},
	} {
		p := requestParser{buf: append([]byte(c.prefix), big...)}
		_, st, errText := p.next(func() bool { return false })
		if st != parseError || errText != c.want {
			t.Errorf("prefix %q: %v %q, want %q", c.prefix, st, errText, c.want)
		}
	}
}
