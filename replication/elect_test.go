package replication

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/quorum"
)

// In a mixed set (Config.Elect), an automatic failover is decided by
// redis-sentinel's election: not elected, nothing is committed and no
// side effect is sent, and the next attempt waits 2×failover-timeout, as
// after a start; elected, the decision carries the election's epoch and
// the opening events it already published are not repeated.
func TestElectionDecidesAutomaticFailover(t *testing.T) {
	h := autoScenario(t, 3000)
	var calls atomic.Int32
	h.eng.cfg.Elect = func(ctx context.Context, m *quorum.Master) (uint64, error) {
		calls.Add(1)
		return 0, errors.New("not elected")
	}
	h.start()
	poll(t, 2*time.Second, "an election", func() bool { return calls.Load() == 1 })
	h.waitTicks(10)
	if n := calls.Load(); n != 1 {
		t.Fatalf("%d elections inside 2×failover-timeout of the first", n)
	}
	if len(h.redis.callList()) != 0 || h.fsm.CurrentEpoch() != 0 || len(h.rec.list()) != 0 {
		t.Fatalf("not elected, yet side effects %q, epoch %d, events %q", h.redis.callList(), h.fsm.CurrentEpoch(), h.rec.list())
	}

	h2 := autoScenario(t, 3000)
	h2.eng.cfg.Elect = func(ctx context.Context, m *quorum.Master) (uint64, error) {
		// The node's election observes its epoch before asking for votes.
		return 5, h2.prop.Propose(ctx, &quorum.Command{Op: quorum.OpObserveEpoch, Epoch: 5})
	}
	h2.start()
	h2.waitEvent("+failover-end", 1, 5*time.Second)
	if m := h2.master(); m.Addr != toQuorum(r2Addr) || m.ConfigEpoch != 5 || h2.fsm.CurrentEpoch() != 5 {
		t.Fatalf("elected at epoch 5: %+v, current epoch %d", m, h2.fsm.CurrentEpoch())
	}
	if h2.rec.count("+new-epoch") != 0 || h2.rec.count("+try-failover") != 0 || h2.rec.count("+elected-leader") != 1 {
		t.Fatalf("events: %q", h2.rec.list())
	}
}

// A vote for another sentinel's election holds off this sentinel's own
// automatic failover of the master for 2×failover-timeout.
func TestVoteForAnotherHoldsOffOwnFailover(t *testing.T) {
	h := autoScenario(t, 3000)
	voted := time.Now()
	h.eng.cfg.VotedAt = func(string) time.Time { return voted }
	h.start()
	h.waitTicks(10)
	if len(h.redis.callList()) != 0 || h.fsm.CurrentEpoch() != 0 {
		t.Fatalf("failed over right after voting for another: %q, epoch %d", h.redis.callList(), h.fsm.CurrentEpoch())
	}
}
