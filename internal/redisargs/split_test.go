package redisargs

import (
	"errors"
	"reflect"
	"testing"
)

func TestSplit(t *testing.T) {
	cases := []struct {
		in   string
		want []string
		err  bool
	}{
		{"", nil, false},
		{"  set  a b ", []string{"set", "a", "b"}, false},
		{`"a b" c`, []string{"a b", "c"}, false},
		{`"\x41\n\t\\" 'it\'s'`, []string{"A\n\t\\", "it's"}, false},
		{`a"b c"`, []string{"ab c"}, false},
		{`"unterminated`, nil, true},
		{`"a"b`, nil, true},
		{`'a'b`, nil, true},
		{"a\x00b c", []string{"a"}, false},
	}
	for _, c := range cases {
		got, err := Split(c.in)
		if c.err {
			if !errors.Is(err, ErrUnbalancedQuotes) {
				t.Errorf("Split(%q) err = %v, want unbalanced quotes", c.in, err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("Split(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}
