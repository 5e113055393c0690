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
	type kinds = map[string]kindRecord
	for _, tc := range []struct {
		name   string
		hellos times
		kinds  kinds
		want   []string
	}{
		{"a redis-sentinel: hellos, probes fail, it declined our subcommand", times{"r": ago(time.Second)}, kinds{"r": {stale: ago(2 * time.Second), misses: 2, declined: true}}, []string{"r"}},
		// The chaos campaign's 30 % packet loss: every probe of a
		// gosentinel timed out, and the set ran redis-sentinel's protocol.
		{"packet loss: probes fail, nothing declined", times{"g": ago(0)}, kinds{"g": {proof: ago(4 * time.Second), stale: ago(2 * time.Second), misses: 3}}, nil},
		{"heard, its first probes under way", times{"r": ago(0)}, kinds{"r": {stale: ago(0), misses: 1}}, nil},
		{"a gosentinel: proved since its last hellos", times{"g": ago(2 * time.Second)}, kinds{"g": {proof: ago(time.Second)}}, nil},
		{"a gosentinel whose last probes failed", times{"g": ago(0)}, kinds{"g": {proof: ago(2 * time.Second), misses: 2}}, nil},
		{"rolled back: hellos go on, the proofs stopped, it declines", times{"g": ago(0)}, kinds{"g": {proof: ago(4 * time.Second), stale: ago(time.Second), misses: 3, declined: true}}, []string{"g"}},
		{"heard again after a partition, probes not yet through", times{"g": ago(0)}, kinds{"g": {proof: ago(5 * time.Second), stale: ago(0), misses: 1}}, nil},
		{"a gosentinel that died: hellos and proofs stopped together", times{"g": ago(9 * time.Second)}, kinds{"g": {proof: ago(9 * time.Second), misses: 5}}, nil},
		{"a redis-sentinel gone for the period", times{"r": ago(foreignGone)}, kinds{"r": {stale: ago(foreignGone), misses: 9}}, nil},
		{"a sentinel never heard (known from the file only)", times{"k": {}}, kinds{"k": {misses: 3}}, nil},
		{"sorted", times{"r2": ago(0), "r1": ago(0), "g": ago(0)}, kinds{"g": {proof: ago(0)}, "r1": {stale: ago(3 * time.Second), misses: 2, declined: true}, "r2": {stale: ago(3 * time.Second), misses: 2, declined: true}}, []string{"r1", "r2"}},
	} {
		if got := foreignSentinels(now, tc.hellos, tc.kinds, foreignGone, proofSlack); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestKindRecordAfterPartition replays what the probes of a gosentinel cut
// off by a partition tell: misses while cut off do not count, its first
// hello after the heal starts the count, the probe begun before that hello
// does not count, and one answer clears it. (A gosentinel heard again after
// a partition was once taken for a redis-sentinel until its next probe,
// which held the demotion of the returning master back: TestNetlabPartition.)
func TestKindRecordAfterPartition(t *testing.T) {
	t0 := time.Now()
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	var k kindRecord
	k.heard(at(0), proofSlack)
	k.answered(at(0), at(10), true) // proved before the cut
	k.heard(at(1000), proofSlack)   // last hello before the cut
	for ms := 2000; ms < 8000; ms += 1000 {
		k.answered(at(ms), at(ms+500), false) // cut off
	}
	if k.misses != 0 || !k.stale.IsZero() {
		t.Fatalf("misses during the cut counted: %+v", k)
	}
	k.heard(at(8200), proofSlack)         // the heal: a hello, the proof is 8 s old
	k.answered(at(8000), at(8500), false) // begun before that hello
	k.answered(at(8300), at(8800), false) // a dead pooled connection
	hellos := map[string]time.Time{"g": at(8200)}
	if got := foreignSentinels(at(8900), hellos, map[string]kindRecord{"g": k}, foreignGone, proofSlack); got != nil {
		t.Fatalf("foreign after one miss since the heal: %v (%+v)", got, k)
	}
	k.answered(at(9300), at(9310), true)
	k.heard(at(10200), proofSlack)
	if k.misses != 0 || !k.stale.IsZero() {
		t.Fatalf("an answer did not clear the count: %+v", k)
	}
	// A redis-sentinel now answers for that id: the proofs stop, and our
	// link to it hears the unknown-subcommand error.
	k.declined = true
	for ms := 14000; ms < 17000; ms += 1000 {
		k.heard(at(ms), proofSlack)
		k.answered(at(ms), at(ms+5), false)
	}
	hellos["g"] = at(16000)
	if got := foreignSentinels(at(16100), hellos, map[string]kindRecord{"g": k}, foreignGone, proofSlack); !slices.Equal(got, []string{"g"}) {
		t.Fatalf("a rolled-back sentinel is not foreign: %v (%+v)", got, k)
	}
}

func TestHeldOffByVote(t *testing.T) {
	now := time.Now()
	ft := 5 * time.Second
	for _, tc := range []struct {
		name    string
		votedAt time.Time
		want    bool
	}{
		{"never voted for another", time.Time{}, false},
		{"voted a moment ago (while waiting to start)", now.Add(-time.Millisecond), true},
		{"voted just inside 2×failover-timeout", now.Add(-2*ft + time.Millisecond), true},
		{"voted 2×failover-timeout ago", now.Add(-2 * ft), false},
	} {
		if got := heldOffByVote(tc.votedAt, now, ft); got != tc.want {
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

// TestProbeDue: only a sentinel that declined gosentinel's subcommand is
// probed, once every kindProbeEvery.
func TestProbeDue(t *testing.T) {
	now := time.Now()
	for _, tc := range []struct {
		name string
		k    kindRecord
		want bool
	}{
		{"never declined, never probed", kindRecord{}, false},
		{"never declined, proved long ago", kindRecord{proof: now.Add(-time.Hour)}, false},
		{"declined, never probed", kindRecord{declined: true}, true},
		{"declined, probed a second ago", kindRecord{declined: true, probed: now.Add(-kindProbeEvery)}, true},
		{"declined, probed just now", kindRecord{declined: true, probed: now.Add(-kindProbeEvery / 2)}, false},
	} {
		if got := tc.k.probeDue(now); got != tc.want {
			t.Errorf("%s: probeDue = %v, want %v", tc.name, got, tc.want)
		}
	}
}
