package node

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/x0tta6bl4/gosentinel/config"
	"github.com/x0tta6bl4/gosentinel/internal/peer"
	"github.com/x0tta6bl4/gosentinel/monitor"
	"github.com/x0tta6bl4/gosentinel/quorum"
	"github.com/x0tta6bl4/gosentinel/replication"
	"github.com/x0tta6bl4/gosentinel/sentinel"
)

// nodeView is the replication engine's window on the node: the replicated
// masters, the monitor's live view and this sentinel's ODOWN verdicts.
type nodeView struct{ n *Node }

func (v nodeView) Master(name string) (*quorum.Master, bool) { return v.n.master(name) }
func (v nodeView) Names() []string                           { return v.n.MasterNames() }
func (v nodeView) Revision() replication.Revision {
	return v.n.revision()
}
func (v nodeView) Status(name string) (monitor.MasterStatus, bool) {
	return v.n.mon.Status(name)
}
func (v nodeView) GroupStatus(name string) (monitor.MasterStatus, bool) {
	return v.n.mon.GroupStatus(name)
}
func (v nodeView) FailoversPaused(name string) bool { return v.n.FailoversPaused(name) }
func (v nodeView) Tilted() bool                     { tilt, _ := v.n.mon.Tilt(); return tilt }
func (v nodeView) ObjectivelyDown(name string) bool {
	v.n.mu.Lock()
	defer v.n.mu.Unlock()
	l := v.n.local[name]
	return l != nil && l.odown
}

// newEngine builds the failover engine over the node's store and view.
func (n *Node) newEngine() *replication.Engine {
	n.redis = replication.NewController(n.clientTLS())
	// The fence's reads and writes ride on the monitor's links.
	n.redis.UseLink(n.mon.Call)
	return replication.New(replication.Config{
		MyID:     n.myid,
		Proposer: n,
		View:     nodeView{n},
		Redis:    n.redis,
		Emit:     n.emitReplication,
		Timing: func() replication.Timing {
			return replication.Timing{
				PingPeriod:         n.timing.dur("PING-PERIOD"),
				InfoPeriod:         n.timing.dur("INFO-PERIOD"),
				SlaveReconfTimeout: n.timing.dur("SLAVE-RECONF-TIMEOUT"),
				ElectionTimeout:    n.timing.dur("ELECTION-TIMEOUT"),
			}
		},
		Logger:        n.log, // the engine names its component
		Observer:      n.observer(),
		AfterElected:  func(string) { n.simulatedCrash(1, "after election") },
		AfterPromoted: func(string) { n.simulatedCrash(2, "after promotion") },
		Fence:         fenceEnabled(),
		IsMember:      n.isMember,
		Elect:         n.elect,
		VotedAt:       n.votedAt,
		Mixed:         n.inMixedSet,
	})
}

// isMember tells whether sentinel id is a voter of this sentinel's active
// Raft group.
func (n *Node) isMember(id string) bool {
	if n.cl == nil || !n.cl.isActive() {
		return false
	}
	st := n.cl.getStore()
	if st == nil {
		return false
	}
	servers, err := st.Servers()
	if err != nil {
		return false
	}
	for _, s := range servers {
		if s.ID == id {
			return true
		}
	}
	return false
}

// fenceEnabled reads GOSENTINEL_FENCE: fencing is on unless it says off
// (docs/DESIGN.md, "Fencing the cut-off master"). It must be the same on
// every member: the leader's promotion counts on a cut-off member's pause.
func fenceEnabled() bool {
	switch v := strings.ToLower(strings.TrimSpace(os.Getenv(config.EnvFence))); v {
	case "off", "0", "no", "false":
		return false
	}
	return true
}

// emitReplication publishes an engine event, and runs the leader's
// client-reconfig-script at +promoted-slave as redis-sentinel does.
func (n *Node) emitReplication(level monitor.Level, typ string, ref *monitor.Ref, text string) {
	master, msg := replication.FormatEvent(n.announcedRef(ref), text)
	n.emitMsg(level, typ, master, msg)
	if typ != "+promoted-slave" || ref == nil {
		return
	}
	m, ok := n.master(master)
	if !ok || m.Failover == nil {
		return
	}
	f := m.Failover
	n.mu.Lock()
	if l := n.local[master]; l != nil {
		l.ledEpoch = f.Epoch
	}
	n.mu.Unlock()
	if m.ClientReconfigScript == "" {
		return
	}
	from, to := monitor.Addr(f.From), monitor.Addr(f.Replica)
	n.scripts.schedule([]string{m.ClientReconfigScript, m.Name, "leader", "start",
		n.hostAsAnnounced(master, from), strconv.Itoa(from.Port), n.hostAsAnnounced(master, to), strconv.Itoa(to.Port)})
}

// simulatedCrash implements SENTINEL SIMULATE-FAILURE: exit(99) at the
// flagged point, like sentinel.c.
func (n *Node) simulatedCrash(bit int, where string) {
	n.mu.Lock()
	on := n.globals.simFailure&bit != 0
	n.mu.Unlock()
	if on {
		n.log.Warn("Simulated failure: crash " + where)
		os.Exit(99)
	}
}

// Failover answers SENTINEL FAILOVER <name>: on the leader through the
// engine, on a follower forwarded to the leader. While this sentinel is
// forming or joining its group it waits for it (up to commandLeaderWait)
// rather than refuse: nobody fails a master over alone, but a group that
// is forming is seconds, not minutes, away.
func (n *Node) Failover(name string) error {
	if _, ok := n.sm().Master(name); !ok {
		return sentinel.ErrNoSuchMaster
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := n.failover(ctx, name); err != nil {
		return replyError(err)
	}
	n.log.Warn("Executing user requested FAILOVER of '" + name + "'")
	return nil
}

// failover runs or forwards a user requested failover and returns the
// outcome as a value (replication's, quorum's, or ErrNoLeader); the RESP
// text is chosen once, by replyError.
func (n *Node) failover(ctx context.Context, name string) error {
	if n.cl != nil && !n.localVoteMode() {
		n.awaitGroup()
	}
	if n.cl == nil || n.localVoteMode() {
		// Alone, or a mixed set and not a member: like redis-sentinel,
		// the sentinel asked runs it, no election needed (forced).
		return n.eng.Failover(ctx, name)
	}
	for {
		st := n.cl.getStore()
		if !n.cl.isActive() || st == nil {
			return ErrNoLeader
		}
		if st.IsLeader() {
			err := n.eng.Failover(ctx, name)
			if !errors.Is(err, replication.ErrNotLeader) {
				return err
			}
			// Raft's leader, but its engine is between terms (a term
			// starts after the election's barrier, and again a second
			// after one in doubt): nothing started. Wait as for an
			// election; the client got the engine's internal text.
		} else if _, addr := st.Leader(); addr != "" {
			// As in redis-sentinel, the sentinel asked leads the
			// failover: its events are in its own log, and SIMULATE-
			// FAILURE set on it fires. It takes Raft leadership first;
			// if the leader declines (a failover is running) or the
			// transfer fails, the leader runs it.
			if m, ok := n.sm().Master(name); ok && m.Failover != nil {
				return replication.ErrInProgress
			}
			if n.cl.takeLeadership(ctx) {
				continue // the leader's branch runs it
			}
			if err := n.cl.forwardFailover(ctx, name); !errors.Is(err, peer.ErrNotSent) {
				return err
			}
			// The leader is gone (its port refuses): wait for the next.
		}
		// An election (the group just formed, or lost its leader):
		// seconds away, like a forming group.
		t := time.NewTimer(leaderRetryEvery)
		select {
		case <-ctx.Done():
			t.Stop()
			return ErrNoLeader
		case <-t.C:
		}
	}
}
