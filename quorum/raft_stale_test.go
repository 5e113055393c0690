package quorum

import (
	"testing"
	"time"
)

func TestIsStale(t *testing.T) {
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name        string
		lastContact time.Time
		bound       time.Duration
		want        bool
	}{
		{"just heard", now, time.Second, false},
		{"within bound", now.Add(-999 * time.Millisecond), time.Second, false},
		{"exactly at bound", now.Add(-time.Second), time.Second, false},
		{"past bound", now.Add(-time.Second - time.Millisecond), time.Second, true},
		{"never heard", time.Time{}, time.Second, true},
		{"check disabled", now.Add(-time.Hour), 0, false},
		{"check disabled, never heard", time.Time{}, -1, false},
		{"contact in the future (clock step)", now.Add(time.Minute), time.Second, false},
	} {
		if got := IsStale(tc.lastContact, now, tc.bound); got != tc.want {
			t.Errorf("%s: IsStale = %v, want %v", tc.name, got, tc.want)
		}
	}
}
