package config

import (
	"strings"
	"testing"
)

// TestProcTitleTemplate: which templates redis-sentinel 7.0.15 takes from
// the file (each case run through it; the refused ones are also
// testdata/errors/proctitle-*).
func TestProcTitleTemplate(t *testing.T) {
	for _, tc := range []struct {
		text string
		ok   bool
	}{
		{`proc-title-template "{title} {listen-addr} {server-mode}"`, true},
		{`proc-title-template "{port}"`, true},
		{`proc-title-template "{server-mode}"`, true},
		{`proc-title-template "}"`, true},
		{`proc-title-template "{{"`, true},
		{`proc-title-template "{{foo}"`, true},
		{`proc-title-template "a\x00{foo}"`, true}, // a C string: "a"
		{"unixsocket /tmp/s.sock\nproc-title-template {unixsocket}", true},
		{`proc-title-template ""`, false},
		{`proc-title-template "{title}"`, false},
		{`proc-title-template "  {title}  "`, false},
		{`proc-title-template "{foo}"`, false},
		{`proc-title-template "{Title} x"`, false},
		{`proc-title-template "{}"`, false},
		{`proc-title-template "{title"`, false},
		{`proc-title-template "{"`, false},
		{`proc-title-template "\x00abc"`, false},
		{`proc-title-template {unixsocket}`, false},
		{"proc-title-template {unixsocket}\nunixsocket /tmp/s.sock", false},
		{"unixsocket \"\\x00a\"\nproc-title-template {unixsocket}", false},
		{"unixsocket /tmp/s.sock\nunixsocket \"\"\nproc-title-template {unixsocket}", false},
	} {
		_, err := Parse("x.conf", []byte(tc.text+"\n"), nil)
		refused := err != nil && strings.Contains(err.Error(), errProcTitleTemplate)
		if err != nil && !refused {
			t.Errorf("%q: %v", tc.text, err)
		}
		if refused == tc.ok {
			t.Errorf("%q: refused %v, want %v", tc.text, refused, !tc.ok)
		}
	}
}

// A template naming {unixsocket} is checked against the unixsocket lines
// before it, and the rewrite writes the last unixsocket value at the first
// unixsocket line, or none when that value is empty: the file it writes can
// then fail to load. redis-sentinel 7.0.15 writes the same file and refuses
// it at its next start (seen by hand); FuzzParse lets this one through.
func TestRewriteOfUnixsocketTemplateAsRedis(t *testing.T) {
	in := "unixsocket /tmp/s.sock\nproc-title-template \"{unixsocket}\"\nunixsocket \"\"\n" +
		"sentinel myid " + strings.Repeat("a", 40) + "\n"
	c, err := Parse("x.conf", []byte(in), nil)
	if err != nil {
		t.Fatal(err)
	}
	out := Render(c, []byte(in))
	if !strings.HasPrefix(string(out), "\nproc-title-template \"{unixsocket}\"\n\nsentinel myid") {
		t.Fatalf("rewrite:\n%s", out)
	}
	if _, err := Parse("x.conf", out, nil); !unixsocketTemplateRewrite(err, in) {
		t.Fatalf("reload: %v", err)
	}
}

// unixsocketTemplateRewrite tells whether err is the one refusal a rewrite
// may bring to a file that loaded (see TestRewriteOfUnixsocketTemplateAsRedis).
func unixsocketTemplateRewrite(err error, input string) bool {
	return err != nil && strings.Contains(err.Error(), errProcTitleTemplate) &&
		strings.Contains(input, "unixsocket") && strings.Contains(input, "proc-title-template")
}
