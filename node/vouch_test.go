package node

import (
	"context"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/quorum"
)

func TestOthersCouldCommit(t *testing.T) {
	for _, tc := range []struct {
		voters, alive int
		want          bool
	}{
		{5, 1, false}, // three of five dead: the survivors cannot commit
		{5, 2, false},
		{5, 3, true},
		{3, 1, false}, // one dead, one partitioned: it cannot commit alone
		{3, 2, true},
		{1, 0, false},
	} {
		if got := othersCouldCommit(tc.voters, tc.alive); got != tc.want {
			t.Errorf("othersCouldCommit(%d, %d) = %v, want %v", tc.voters, tc.alive, got, tc.want)
		}
	}
}

func TestDeathWatchEpisodes(t *testing.T) {
	w := newDeathWatch()
	t0 := time.Unix(100, 0)
	w.begin(t0)
	w.record("a", true)
	w.record("b", true)
	w.record("b", false) // answered once: possibly alive for the episode
	if !w.dead("a", t0) || w.dead("b", t0) || w.dead("c", t0) {
		t.Fatalf("episode 1: a dead=%v b dead=%v c dead=%v, want true false false",
			w.dead("a", t0), w.dead("b", t0), w.dead("c", t0))
	}
	// A leader was heard: the proof starts over.
	t1 := t0.Add(time.Second)
	if w.dead("a", t1) {
		t.Fatal("a proof from an earlier episode counted")
	}
	w.begin(t1)
	if w.dead("a", t1) {
		t.Fatal("proof survived a new episode")
	}
}

func TestProbeRefused(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if probeRefused(context.Background(), addr) {
		t.Fatal("a listening port counted as refused")
	}
	ln.Close()
	if !probeRefused(context.Background(), addr) {
		t.Fatal("a closed port did not count as refused")
	}
}

// TestProbeAddrs: a member is probed where its configuration says and,
// when it announced another address since (it moved while no leader could
// record it), there too; an entry moved aside is probed at its address
// part. Probed at its old address only, a moved member counted as dead.
func TestProbeAddrs(t *testing.T) {
	s := quorum.Server{ID: "b", Addr: "10.0.0.2:26379"}
	at := func(addr string) func(string) (string, bool) {
		return func(id string) (string, bool) { return addr, addr != "" }
	}
	for _, tc := range []struct {
		name string
		s    quorum.Server
		now  func(string) (string, bool)
		want []string
	}{
		{"no group yet", s, nil, []string{"10.0.0.2:26379"}},
		{"where its entry says", s, at("10.0.0.2:26379"), []string{"10.0.0.2:26379"}},
		{"nowhere announced", s, at(""), []string{"10.0.0.2:26379"}},
		{"moved: both", s, at("10.0.0.9:26379"), []string{"10.0.0.2:26379", "10.0.0.9:26379"}},
		// Moved aside: another sentinel holds 10.0.0.2 and answers there.
		{"moved aside: where it went", quorum.Server{ID: "b", Addr: "10.0.0.2:26379#b"}, at("10.0.0.1:26379"), []string{"10.0.0.1:26379"}},
		{"moved aside, nowhere announced: nothing to probe", quorum.Server{ID: "b", Addr: "10.0.0.2:26379#b"}, at(""), nil},
		{"moved aside, announced at the parked address", quorum.Server{ID: "b", Addr: "10.0.0.2:26379#b"}, at("10.0.0.2:26379#b"), nil},
	} {
		if got := probeAddrs(tc.s, tc.now); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestNothingToProbeProvesNothing: a member with no address to probe (its
// entry moved aside, nothing announced since) is never counted dead: every
// probe of none refused, which proved it dead.
func TestNothingToProbeProvesNothing(t *testing.T) {
	parked := quorum.Server{ID: "b", Addr: "10.0.0.2:26379#b"}
	if (&cluster{}).refusedEverywhere(context.Background(), parked) {
		t.Fatal("a member with no address to probe counted as dead")
	}
}
