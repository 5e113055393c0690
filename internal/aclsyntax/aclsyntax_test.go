package aclsyntax

import (
	"slices"
	"testing"
)

func TestMergeSelectorArgs(t *testing.T) {
	for _, c := range []struct {
		in   []string
		want []string
		open int
	}{
		{[]string{"on", ">pw", "~*"}, []string{"on", ">pw", "~*"}, -1},
		{[]string{"on", "(~key*", "+get)", "off"}, []string{"on", "(~key* +get)", "off"}, -1},
		{[]string{"(+get)"}, []string{"(+get)"}, -1},
		{[]string{"on", "(~a", "+get"}, nil, 1},
		// A selector opened inside another starts afresh, as in redis.
		{[]string{"(~a", "(~b", "+get)"}, []string{"(~b +get)"}, -1},
		// Words joined into a selector end at a NUL byte, as C strings.
		{[]string{"(~a", "+get\x00x", "&c)"}, []string{"(~a +get &c)"}, -1},
		{[]string{"", "on"}, []string{"", "on"}, -1},
	} {
		got, open := MergeSelectorArgs(c.in)
		if !slices.Equal(got, c.want) || open != c.open {
			t.Errorf("MergeSelectorArgs(%q) = %q, %d; want %q, %d", c.in, got, open, c.want, c.open)
		}
	}
}

func TestHashes(t *testing.T) {
	h := HashPassword("foo")
	if h != "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae" {
		t.Fatalf("HashPassword(foo) = %s", h)
	}
	for _, c := range []struct {
		h  string
		ok bool
	}{{h, true}, {h[:63], false}, {h[:63] + "A", false}, {h[:63] + "g", false}} {
		if ValidHash(c.h) != c.ok {
			t.Errorf("ValidHash(%q) = %v", c.h, !c.ok)
		}
	}
}
