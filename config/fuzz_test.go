package config

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzParse checks that Parse never panics or hangs, that a failure is always a *FatalError,
// and that rewriting round-trips: the rendered file loads again into an equivalent Config
// (equivalence = the same rendering from scratch, which covers every persisted field). Seeds
// live in testdata/fuzz/FuzzParse (real configs: the harness template, Bitnami's file, the
// golden inputs and the error cases). An input holding a NUL is not taken round: redis' own
// rewrite does not keep what such a file meant (see below).
func FuzzParse(f *testing.F) {
	f.Add([]byte("sentinel monitor mymaster 127.0.0.1 6379 2\n"))
	// Shapes the corpus lacked (review): CRLF, tabs, single quotes with an
	// escaped quote, \" and \x escapes in double quotes, a NUL byte.
	f.Add([]byte("port 26379\r\nsentinel monitor m 127.0.0.1 6379 2\r\n"))
	f.Add([]byte("sentinel\tmonitor\tm\t127.0.0.1\t6379\t2\n"))
	f.Add([]byte("sentinel monitor m 127.0.0.1 6379 2\nsentinel auth-pass m 'it\\'s'\n"))
	f.Add([]byte("sentinel monitor m 127.0.0.1 6379 2\nsentinel auth-pass m \"a\\\"b\\x41\"\n"))
	f.Add([]byte("sentinel monitor m 127.0.0.1 6379 2\nlogfile \"\"\x00x\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("fuzz.conf", data, nil)
		if err != nil {
			var fe *FatalError
			if !errors.As(err, &fe) {
				t.Fatalf("Parse error is not a *FatalError: %v", err)
			}
			_ = fe.Error()
			return
		}
		out := Render(c, data)
		if bytes.IndexByte(data, 0) >= 0 {
			// The load reads the file in fgets pieces, where a NUL hides the rest of
			// its line and joins the next one to it; the rewrite reads it whole, where
			// a NUL stays in its line or is trimmed with the blanks (configText,
			// readOldConfig). A line the load did not see can then come back into
			// view ("#c\x00\nsentinel 0"), and redis-sentinel 7.0.15's rewrite writes
			// the same file: with a NUL, only the above is checked.
			_ = Render(c, nil)
			return
		}
		c2, err := Parse("fuzz.conf", out, nil)
		if unixsocketTemplateRewrite(err, string(data)) {
			return // redis' rewrite gives the same file, which it refuses too
		}
		if err != nil {
			t.Fatalf("rendered config does not load: %v\n--- input\n%q\n--- rendered\n%s", err, data, out)
		}
		if a, b := Render(c, nil), Render(c2, nil); !bytes.Equal(a, b) {
			t.Fatalf("round trip changed the config\n--- input\n%q\n--- first\n%s\n--- second\n%s", data, a, b)
		}
		d := c.Clone()
		if !bytes.Equal(Render(d, nil), Render(c, nil)) {
			t.Fatal("clone renders differently")
		}
	})
}
