package config

import (
	"os"
	"testing"
)

func TestUnixSocket(t *testing.T) {
	for _, tc := range []struct {
		text string
		path string
		perm os.FileMode
	}{
		{"", "", 0},
		{"unixsocket /run/s.sock\n", "/run/s.sock", 0},
		{"unixsocket /run/s.sock\nunixsocketperm 700\n", "/run/s.sock", 0o700},
		{"unixsocket /a\nunixsocket /b\nunixsocketperm 777\nunixsocketperm 640\n", "/b", 0o640},
		{"unixsocket /a\nunixsocket \"\"\n", "", 0},
	} {
		c, err := Parse("u.conf", []byte(tc.text), nil)
		if err != nil {
			t.Fatalf("%q: %v", tc.text, err)
		}
		if path, perm := c.UnixSocket(); path != tc.path || perm != tc.perm {
			t.Errorf("%q: %q %o, want %q %o", tc.text, path, perm, tc.path, tc.perm)
		}
	}
}
