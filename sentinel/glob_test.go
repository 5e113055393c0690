package sentinel

import "testing"

// TestGlobMatch checks redis' stringmatchlen semantics, quirks included
// ("*" does not match the empty string).
func TestGlobMatch(t *testing.T) {
	cases := []struct {
		pattern, str string
		nocase, want bool
	}{
		{"*", "", false, false}, {"*", "anything", false, true}, {"", "", false, true}, {"", "a", false, false},
		{"a*", "abc", false, true}, {"a*", "bac", false, false}, {"*c", "abc", false, true},
		{"a?c", "abc", false, true}, {"a?c", "ac", false, false}, {"a**c", "abbc", false, true},
		{"h[ae]llo", "hello", false, true}, {"h[ae]llo", "hillo", false, false},
		{"h[^e]llo", "hallo", false, true}, {"h[^e]llo", "hello", false, false},
		{"h[a-b]llo", "hbllo", false, true}, {"h[b-a]llo", "hallo", false, true}, {"h[a-b]llo", "hcllo", false, false},
		{"h\\*llo", "h*llo", false, true}, {"h\\*llo", "hello", false, false},
		{"[\\]]", "]", false, true}, {"[abc", "a", false, true}, {"[abc", "d", false, false},
		{"HELLO", "hello", true, true}, {"HELLO", "hello", false, false}, {"[A-Z]", "q", true, true},
		{"sentinel|*", "sentinel|masters", false, true}, {"+switch-master", "+switch-master", false, true},
		{"__sentinel__:*", "__sentinel__:hello", false, true}, {"a*b*c", "aXbYc", false, true}, {"a*b*c", "aXbY", false, false},
		{"\\", "\\", false, true}, {"*a", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab", false, false},
	}
	for _, c := range cases {
		if got := globMatch(c.pattern, c.str, c.nocase); got != c.want {
			t.Errorf("globMatch(%q, %q, %v) = %v, want %v", c.pattern, c.str, c.nocase, got, c.want)
		}
	}
}
