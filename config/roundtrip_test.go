package config

import (
	"bytes"
	"testing"
)

// TestRoundTripOddInputs runs the fuzz property on inputs chosen to hit quoting corners.
func TestRoundTripOddInputs(t *testing.T) {
	inputs := []string{
		"user \"a b\" on \"~x y\" \"&c d\" \"+get\"\n",
		"user u on \"(~a b\" ~c)\n",
		"user u on \"(~x)\" (&y +get)\n",
		"sentinel monitor \"m x\" 127.0.0.1 6379 2\nsentinel auth-pass \"m x\" \"\"\nsentinel auth-user \"m x\" \"\\x00\"\n",
		"sentinel monitor \"\" ::1 6379 2\nsentinel rename-command \"\" \"a b\" \"\"\n",
		"save \"900 1 300 10\"\nbind \"127.0.0.1 ::1\"\nlatency-tracking-info-percentiles \"\"\n",
		"client-output-buffer-limit normal 1mb 2 3 pubsub 0 0 0\nclient-output-buffer-limit slave 1 1 1\n",
		"notify-keyspace-events AKEm\noom-score-adj-values \"1 2 3\"\nreplicaof no one\nslaveof 10.0.0.1 6379\n",
		"\vport 5\n\x00sentinel\nport 7\x00junk\n",
		"maxmemory-clients 50%\nunixsocketperm 700\nshutdown-on-sigint NOW save\n",
		"sentinel announce-ip \"a\\\"b\"\nsentinel myid \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa \\n\"\n",
	}
	for _, in := range inputs {
		c, err := Parse("x.conf", []byte(in), nil)
		if err != nil {
			t.Logf("%q: %v", in, err)
			continue
		}
		out := Render(c, []byte(in))
		c2, err := Parse("x.conf", out, nil)
		if err != nil {
			t.Errorf("%q: rendered config does not load: %v\n%s", in, err, out)
			continue
		}
		if a, b := Render(c, nil), Render(c2, nil); !bytes.Equal(a, b) {
			t.Errorf("%q: round trip changed\n%s\n---\n%s", in, a, b)
		}
	}
}
