package redisargs

import "testing"

func TestFold(t *testing.T) {
	cases := []struct {
		in, lower, upper string
	}{
		{"", "", ""},
		{"Sentinel", "sentinel", "SENTINEL"},
		{"get-master-ADDR-by-name", "get-master-addr-by-name", "GET-MASTER-ADDR-BY-NAME"},
		// Not letters in the C locale: kept byte for byte.
		{"\u212aeepalive", "\u212aeepalive", "\u212aEEPALIVE"}, // Kelvin sign, which Unicode folds to 'k'
		{"L\xc4\xc4.Z", "l\xc4\xc4.z", "L\xc4\xc4.Z"},          // invalid UTF-8, which strings.ToLower turns into U+FFFD
		{"\xc3\x89T\xc3\xa9", "\xc3\x89t\xc3\xa9", "\xc3\x89T\xc3\xa9"},
		{"@[`{", "@[`{", "@[`{"}, // the bytes next to the letters
	}
	for _, c := range cases {
		if got := Lower(c.in); got != c.lower {
			t.Errorf("Lower(%q) = %q, want %q", c.in, got, c.lower)
		}
		if got := Upper(c.in); got != c.upper {
			t.Errorf("Upper(%q) = %q, want %q", c.in, got, c.upper)
		}
		if !EqualFold(c.in, c.lower) || !EqualFold(c.upper, c.in) {
			t.Errorf("EqualFold(%q) is false against its own case forms", c.in)
		}
	}
	for _, c := range []struct {
		a, b string
		want bool
	}{
		{"ping", "PING", true},
		{"ping", "pin", false},
		{"\u212a", "k", false}, // strings.EqualFold says true
		{"\u212a", "K", false},
		{"\xc4", "\xe4", false}, // Latin-1 Ä and ä: not letters to strcasecmp in the C locale
		{"[", "{", false},       // 0x5b and 0x7b differ by the case bit but are not letters
	} {
		if got := EqualFold(c.a, c.b); got != c.want {
			t.Errorf("EqualFold(%q, %q) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}
