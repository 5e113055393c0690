package node

import (
	"slices"
	"testing"
	"time"
)

func TestForeignSentinels(t *testing.T) {
	now := time.Now()
	ago := func(d time.Duration) time.Time { return now.Add(-d) }
	for _, tc := range []struct {
		name           string
		hellos, proofs map[string]time.Time
		want           []string
	}{
		{"a redis-sentinel: hellos, never a proof", map[string]time.Time{"r": ago(time.Second)}, nil, []string{"r"}},
		{"a gosentinel: proved since its last hellos", map[string]time.Time{"g": ago(2 * time.Second)}, map[string]time.Time{"g": ago(time.Second)}, nil},
		{"a gosentinel whose last probe failed", map[string]time.Time{"g": ago(0)}, map[string]time.Time{"g": ago(2 * time.Second)}, nil},
		{"rolled back: hellos go on, the proofs stopped", map[string]time.Time{"g": ago(0)}, map[string]time.Time{"g": ago(4 * time.Second)}, []string{"g"}},
		{"a gosentinel that died: hellos and proofs stopped together", map[string]time.Time{"g": ago(9 * time.Second)}, map[string]time.Time{"g": ago(9 * time.Second)}, nil},
		{"a redis-sentinel gone for the period", map[string]time.Time{"r": ago(foreignGone)}, nil, nil},
		{"a sentinel never heard (known from the file only)", map[string]time.Time{"k": {}}, nil, nil},
		{"sorted", map[string]time.Time{"r2": ago(0), "r1": ago(0), "g": ago(0)}, map[string]time.Time{"g": ago(0)}, []string{"r1", "r2"}},
	} {
		if got := foreignSentinels(now, tc.hellos, tc.proofs, foreignGone, proofSlack); !slices.Equal(got, tc.want) {
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
