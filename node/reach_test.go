package node

import (
	"testing"
	"time"
)

func TestReachesMajority(t *testing.T) {
	now := time.Now()
	ago := func(d time.Duration) time.Time { return now.Add(-d) }
	up := reached{lastOK: ago(300 * time.Millisecond)}
	pinging := reached{pendingSince: ago(100 * time.Millisecond), lastOK: ago(time.Second)}
	cut := reached{pendingSince: ago(time.Second), lastOK: ago(2 * time.Second)}
	silent := reached{lastOK: ago(2 * time.Second)} // no PING pending, but no reply for 2 s
	down := reached{disconnected: true, lastOK: ago(100 * time.Millisecond)}
	never := reached{}
	for _, tc := range []struct {
		name  string
		known map[string]reached
		want  bool
	}{
		{"alone", nil, true},
		{"three, both others up", map[string]reached{"a": up, "b": up}, true},
		{"three, one up", map[string]reached{"a": up, "b": cut}, true},
		{"three, one answering its PING now", map[string]reached{"a": pinging, "b": cut}, true},
		// The chaos campaign's violation: cut off with the master.
		{"three, both cut", map[string]reached{"a": cut, "b": cut}, false},
		{"three, one silent, one cut", map[string]reached{"a": silent, "b": cut}, false},
		{"three, one disconnected, one never answered", map[string]reached{"a": down, "b": never}, false},
		{"two: the other must answer", map[string]reached{"a": cut}, false},
		{"two, the other up", map[string]reached{"a": up}, true},
		{"five, two up", map[string]reached{"a": up, "b": up, "c": cut, "d": cut}, true},
		{"five, one up", map[string]reached{"a": up, "b": cut, "c": cut, "d": cut}, false},
		{"four, one up: not a majority", map[string]reached{"a": up, "b": cut, "c": cut}, false},
	} {
		if got := reachesMajority(now, tc.known); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
