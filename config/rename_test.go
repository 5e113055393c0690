package config

import (
	"maps"
	"testing"
)

// TestCommandRenames: rename-command lines, applied in order over the
// sentinel's command table as redis applies them to its dictionary.
func TestCommandRenames(t *testing.T) {
	for _, tc := range []struct {
		name, lines string
		want        map[string]string
	}{
		{"none", "", nil},
		{"removed", `rename-command ping ""`, map[string]string{"ping": ""}},
		{"renamed", "rename-command SENTINEL mysentinel", map[string]string{"sentinel": "", "mysentinel": "sentinel"}},
		{"chained", "rename-command ping p1\nrename-command p1 p2", map[string]string{"ping": "", "p2": "ping"}},
		{"swapped through a third", "rename-command ping tmp\nrename-command info ping\nrename-command tmp info",
			map[string]string{"ping": "info", "info": "ping"}},
	} {
		c, err := Parse("x.conf", []byte(tc.lines+"\n"), nil)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := CommandRenames(c); !maps.Equal(got, tc.want) || (got == nil) != (tc.want == nil) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
