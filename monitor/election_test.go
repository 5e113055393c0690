package monitor

import (
	"fmt"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/internal/redistest"
)

// fakeVoter is a fake sentinel that votes for whoever asks with a run id,
// at the epoch asked, as a redis-sentinel that has not voted in it.
func fakeVoter(t *testing.T, myid string) *fakeServer {
	return fakeSentinelAnswering(t, func() string { return fmt.Sprintf("$%d\r\n%s\r\n", len(myid), myid) },
		func(args []string) string {
			if len(args) != 6 || args[5] == "*" {
				return "*3\r\n:1\r\n$1\r\n*\r\n:0\r\n"
			}
			return fmt.Sprintf("*3\r\n:1\r\n$%d\r\n%s\r\n:%s\r\n", len(args[5]), args[5], args[4])
		})
}

// TestElectionAsksForVotes: while an election runs (SetElection), the
// is-master-down-by-addr asks carry this sentinel's run id and the
// election's epoch, the first one at once rather than after the ask period,
// and the replies are recorded as votes; once it ends, asks go back to "*".
func TestElectionAsksForVotes(t *testing.T) {
	const peerID = "dddddddd44444444444444444444444444444444"
	voter := fakeVoter(t, peerID)
	timing := func() Timing {
		t := fastTiming()
		t.AskPeriod = time.Hour // only a forced ask can go out
		return t
	}
	rec := &recorder{}
	m := startMonitor(t, rec.config(idA, Config{Timing: timing}))
	m.Watch(MasterSpec{Name: "m", Addr: Addr{Host: "127.0.0.1", Port: freePort(t)}, DownAfter: 200 * time.Millisecond})
	rec.waitEvent(t, 3*time.Second, "+sdown", kind(KindMaster))
	m.ProcessHello(fmt.Sprintf("127.0.0.1,%d,%s,0,m,127.0.0.1,6379,0", voter.port(), peerID))
	redistest.Until(t, 3*time.Second, "the voter's id confirmed", func() bool {
		for _, s := range status(t, m, "m").Sentinels {
			if s.RunID == peerID {
				return s.IDConfirmed
			}
		}
		return false
	})
	if asks := downAsks(voter); len(asks) != 0 {
		t.Fatalf("asked %q before any election with a one-hour ask period", asks)
	}

	m.SetElection("m", 7)
	redistest.Until(t, 2*time.Second, "the vote for us at epoch 7", func() bool {
		for _, s := range status(t, m, "m").Sentinels {
			if s.RunID == peerID {
				return s.VotedLeader == idA && s.VotedLeaderEpoch == 7
			}
		}
		return false
	})
	asks := downAsks(voter)
	if len(asks) != 1 {
		t.Fatalf("asks = %q, want exactly the forced one", asks)
	}
	if got := asks[0]; got[4] != "7" || got[5] != idA {
		t.Fatalf("ask %q, want epoch 7 and run id %s", got, idA)
	}

}
