package redistest

import (
	"bufio"
	"strconv"
	"strings"
	"testing"
)

func mustParse(t *testing.T, wire string) *Reply {
	t.Helper()
	r, err := ReadReply(bufio.NewReader(strings.NewReader(wire)))
	if err != nil {
		t.Fatalf("parse %q: %v", wire, err)
	}
	return r
}

// flatMap builds RESP2 and RESP3 wire forms of a map of bulk strings.
func flatMap(resp3 bool, kv ...string) string {
	var b strings.Builder
	if resp3 {
		b.WriteString("%" + itoa(len(kv)/2) + "\r\n")
	} else {
		b.WriteString("*" + itoa(len(kv)) + "\r\n")
	}
	for _, s := range kv {
		b.WriteString("$" + itoa(len(s)) + "\r\n" + s + "\r\n")
	}
	return b.String()
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestDiffDetectsEachKindOfDifference(t *testing.T) {
	cases := []struct {
		name, ref, got, want string
	}{
		{"equal", "+OK\r\n", "+OK\r\n", ""},
		{"status text", "+OK\r\n", "+Ok\r\n", "at /: value"},
		{"status vs bulk", "+OK\r\n", "$2\r\nOK\r\n", "at /: type"},
		{"null flavours", "$-1\r\n", "*-1\r\n", "at /: type"},
		{"int value", ":1\r\n", ":2\r\n", "at /: value"},
		{"array length", "*1\r\n:1\r\n", "*2\r\n:1\r\n:1\r\n", "at /: length"},
		{"nested", "*2\r\n:1\r\n*1\r\n+a\r\n", "*2\r\n:1\r\n*1\r\n+b\r\n", "at /1/0: value"},
		{"map key order", "%2\r\n+a\r\n:1\r\n+b\r\n:2\r\n", "%2\r\n+b\r\n:2\r\n+a\r\n:1\r\n", "key #0"},
		{"map value", "%1\r\n+a\r\n:1\r\n", "%1\r\n+a\r\n:2\r\n", "at /a: value"},
		{"error text", "-ERR x\r\n", "-ERR y\r\n", "at /: value"},
	}
	for _, c := range cases {
		got := Diff(mustParse(t, c.ref), mustParse(t, c.got), DiffOptions{})
		if c.want == "" && got != "" || c.want != "" && !strings.Contains(got, c.want) {
			t.Errorf("%s: Diff = %q, want containing %q", c.name, got, c.want)
		}
	}
}

func TestDiffRulesByKeyInBothProtocols(t *testing.T) {
	rules := []Rule{{Path: "*/last-ping-reply", Check: AnyInt}}
	for _, resp3 := range []bool{false, true} {
		ref := "*1\r\n" + flatMap(resp3, "name", "x", "last-ping-reply", "12")
		got := "*1\r\n" + flatMap(resp3, "name", "x", "last-ping-reply", "900")
		if d := Diff(mustParse(t, ref), mustParse(t, got), DiffOptions{Rules: rules}); d != "" {
			t.Errorf("resp3=%v: relaxed field still differs: %s", resp3, d)
		}
		notNum := "*1\r\n" + flatMap(resp3, "name", "x", "last-ping-reply", "soon")
		if d := Diff(mustParse(t, ref), mustParse(t, notNum), DiffOptions{Rules: rules}); !strings.Contains(d, "not an integer") {
			t.Errorf("resp3=%v: non-integer accepted: %q", resp3, d)
		}
		other := "*1\r\n" + flatMap(resp3, "name", "y", "last-ping-reply", "12")
		if d := Diff(mustParse(t, ref), mustParse(t, other), DiffOptions{Rules: rules}); !strings.Contains(d, "/0/name") {
			t.Errorf("resp3=%v: unrelaxed field difference not found: %q", resp3, d)
		}
	}
}

func TestDiffRulesNeverRelaxKeys(t *testing.T) {
	rules := []Rule{{Path: "*", Check: AnyValue}}
	ref := mustParse(t, flatMap(true, "a", "1"))
	got := mustParse(t, flatMap(true, "b", "2"))
	if d := Diff(ref, got, DiffOptions{Rules: rules}); !strings.Contains(d, "key #0") {
		t.Fatalf("renamed key accepted: %q", d)
	}
}

func TestDiffTokens(t *testing.T) {
	ref := mustParse(t, flatMap(false, "name", "127.0.0.1:30001", "port", "30001"))
	got := mustParse(t, flatMap(false, "name", "127.0.0.1:40001", "port", "40001"))
	opts := DiffOptions{
		RefTokens: map[string]string{"30001": "<p>"},
		GotTokens: map[string]string{"40001": "<p>"},
	}
	if d := Diff(ref, got, opts); d != "" {
		t.Fatalf("tokens not applied: %s", d)
	}
	// Only whole words are replaced: 300012 is not the port 30001.
	if s := ReplaceWords("300012 30001,a30001", map[string]string{"30001": "P"}); s != "300012 P,a30001" {
		t.Fatalf("ReplaceWords = %q", s)
	}
}

func TestDiffUnordered(t *testing.T) {
	rules := []Rule{{Path: "", Check: Unordered()}}
	ref := mustParse(t, "*3\r\n+a\r\n+b\r\n+c\r\n")
	if d := Diff(ref, mustParse(t, "*3\r\n+c\r\n+a\r\n+b\r\n"), DiffOptions{Rules: rules}); d != "" {
		t.Errorf("permutation rejected: %s", d)
	}
	if d := Diff(ref, mustParse(t, "*3\r\n+c\r\n+a\r\n+a\r\n"), DiffOptions{Rules: rules}); d == "" {
		t.Error("multiset difference accepted")
	}
	mref := mustParse(t, flatMap(true, "k1", "v1", "k2", "v2"))
	if d := Diff(mref, mustParse(t, flatMap(true, "k2", "v2", "k1", "v1")), DiffOptions{Rules: rules}); d != "" {
		t.Errorf("map pair permutation rejected: %s", d)
	}
	if d := Diff(mref, mustParse(t, flatMap(true, "k2", "v1", "k1", "v2")), DiffOptions{Rules: rules}); d == "" {
		t.Error("swapped map values accepted")
	}
}

func TestDiffUnorderedPairsOnRESP2FlatMap(t *testing.T) {
	inner := Rule{Path: "1/sub", Check: UnorderedPairs()}
	rules := []Rule{{Path: "", Check: UnorderedPairs(inner)}}
	ref := mustParse(t, "*4\r\n+a\r\n"+flatMap(false, "sub", "x")+"+b\r\n"+flatMap(false, "sub", "y"))
	got := mustParse(t, "*4\r\n+b\r\n"+flatMap(false, "sub", "y")+"+a\r\n"+flatMap(false, "sub", "x"))
	if d := Diff(ref, got, DiffOptions{Rules: rules}); d != "" {
		t.Errorf("pair permutation rejected: %s", d)
	}
	swapped := mustParse(t, "*4\r\n+b\r\n"+flatMap(false, "sub", "x")+"+a\r\n"+flatMap(false, "sub", "y"))
	if d := Diff(ref, swapped, DiffOptions{Rules: rules}); d == "" {
		t.Error("values moved to other keys accepted")
	}
}
