package node

import (
	"slices"
	"testing"
	"time"
)

func TestForeignSentinels(t *testing.T) {
	now := time.Now()
	ago := func(d time.Duration) time.Time { return now.Add(-d) }
	type times = map[string]time.Time
	for _, tc := range []struct {
		name                     string
		hellos, proofs, failures times
		want                     []string
	}{
		{"a redis-sentinel: hellos, probes fail", times{"r": ago(time.Second)}, nil, times{"r": ago(0)}, []string{"r"}},
		{"heard, its first probe under way", times{"r": ago(0)}, nil, nil, nil},
		{"a gosentinel: proved since its last hellos", times{"g": ago(2 * time.Second)}, times{"g": ago(time.Second)}, nil, nil},
		{"a gosentinel whose last probe failed", times{"g": ago(0)}, times{"g": ago(2 * time.Second)}, times{"g": ago(time.Second)}, nil},
		{"rolled back: hellos go on, the proofs stopped", times{"g": ago(0)}, times{"g": ago(4 * time.Second)}, times{"g": ago(0)}, []string{"g"}},
		{"an old failure before the last proof", times{"g": ago(0)}, times{"g": ago(4 * time.Second)}, times{"g": ago(5 * time.Second)}, nil},
		{"a gosentinel that died: hellos and proofs stopped together", times{"g": ago(9 * time.Second)}, times{"g": ago(9 * time.Second)}, times{"g": ago(0)}, nil},
		{"a redis-sentinel gone for the period", times{"r": ago(foreignGone)}, nil, times{"r": ago(0)}, nil},
		{"a sentinel never heard (known from the file only)", times{"k": {}}, nil, times{"k": ago(0)}, nil},
		{"sorted", times{"r2": ago(0), "r1": ago(0), "g": ago(0)}, times{"g": ago(0)}, times{"r1": ago(0), "r2": ago(0)}, []string{"r1", "r2"}},
	} {
		if got := foreignSentinels(now, tc.hellos, tc.proofs, tc.failures, foreignGone, proofSlack); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestElectionWinner(t *testing.T) {
	for _, tc := range []struct {
		name           string
		votes          map[string]string
		voters, quorum int
		want           string
	}{
		{"majority of three", map[string]string{"a": "a", "b": "a"}, 3, 2, "a"},
		{"one vote of three", map[string]string{"a": "a", "b": "b"}, 3, 2, ""},
		{"majority but below the quorum", map[string]string{"a": "a", "b": "a"}, 3, 3, ""},
		{"quorum but no majority", map[string]string{"a": "a", "b": "a"}, 5, 2, ""},
		{"run ids compare without case", map[string]string{"a": "ABC", "b": "abc"}, 3, 2, "abc"},
		{"no vote counts", map[string]string{"a": "*", "b": ""}, 3, 1, ""},
	} {
		if got := electionWinner(tc.votes, tc.voters, tc.quorum); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}
