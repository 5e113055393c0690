package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/x0tta6bl4/gosentinel/internal/peer"
	"github.com/x0tta6bl4/gosentinel/quorum"
	"github.com/x0tta6bl4/gosentinel/sentinel"
)

const (
	// commandLeaderWait bounds how long a command from a client (MONITOR,
	// REMOVE, FAILOVER, ...) waits for the group: for a leader after a
	// restart or a leader's loss (an election takes well under a second),
	// or for the group to form or be joined. redis-sentinel applies these
	// commands at once, so its users (and the official suite) send them
	// right after (re)starting sentinels.
	commandLeaderWait = 5 * time.Second
	// leaderRetryEvery is the pause between attempts while there is no
	// leader to send a proposal to.
	leaderRetryEvery = 50 * time.Millisecond
	// applyCatchUpWait bounds how long a follower waits to apply the index
	// its forwarded command was committed at.
	applyCatchUpWait = 2 * time.Second
)

type proposeRequest struct {
	Command []byte `json:"command"`
}

// proposeResponse carries the commit index also with the FSM's verdict,
// so that the forwarding follower can catch up to it before answering.
// The verdict travels as its peer code (and its text, for an unregistered
// one), like the RPC's own errors.
type proposeResponse struct {
	Index       uint64 `json:"index"`
	Verdict     string `json:"verdict,omitempty"`
	VerdictText string `json:"verdict_text,omitempty"`
}

func (c *cluster) handlePropose(ctx context.Context, body json.RawMessage) (any, error) {
	var req proposeRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, fmt.Errorf("bad propose request: %w", err)
	}
	cmd, err := quorum.Decode(req.Command)
	if err != nil {
		return nil, err
	}
	st := c.getStore()
	if st == nil {
		return nil, quorum.ErrNotLeader
	}
	idx, err := st.ProposeIndexed(ctx, cmd)
	if err != nil && idx == 0 {
		return nil, err // not committed: not leader, timeout, shutdown
	}
	resp := proposeResponse{Index: idx}
	if err != nil {
		resp.Verdict, resp.VerdictText = peerCodes.Name(err), err.Error()
	}
	return resp, nil
}

// proposeRaft sends cmd to the leader (locally when leading, else
// forwarded) once; on a follower it returns only after applying the
// command's index, so the caller's next read sees its effect (or, for a
// refusal such as a duplicate MONITOR, the state that caused it).
func (c *cluster) proposeRaft(ctx context.Context, cmd *quorum.Command) error {
	st := c.getStore()
	if st == nil {
		return ErrNoLeader
	}
	if st.IsLeader() {
		return st.Propose(ctx, cmd)
	}
	addr := leaderTarget(st)
	if addr == "" {
		return ErrNoLeader
	}
	data, err := cmd.Encode()
	if err != nil {
		return err
	}
	cctx, cancel := context.WithTimeout(ctx, rpcTimeout)
	defer cancel()
	var resp proposeResponse
	err = c.rpc.Call(cctx, addr, "cluster.propose", proposeRequest{Command: data}, &resp)
	if err != nil {
		return forwardError(addr, err)
	}
	c.waitApplied(ctx, st, resp.Index)
	if resp.Verdict != "" || resp.VerdictText != "" {
		if v := peerCodes.Lookup(resp.Verdict); v != nil {
			return v
		}
		return errors.New(resp.VerdictText)
	}
	return nil
}

// forwardError classifies a failed forward to the leader at addr: one
// that proves the command never entered the log (the leader refused it as
// no longer leading, or it was never sent: the leader just died and its
// port refuses) is ErrNoLeader, which proposeCommand retries until a new
// leader takes it; any other may have committed and is not retried.
func forwardError(addr string, err error) error {
	switch {
	case errors.Is(err, quorum.ErrNotLeader) && !errors.Is(err, quorum.ErrLeadershipLost):
		return ErrNoLeader
	case errors.Is(err, peer.ErrNotSent):
		return fmt.Errorf("%w (%w)", ErrNoLeader, err)
	}
	return fmt.Errorf("failed to forward the command to the leader at %s: %w", addr, err)
}

// waitApplied polls until the local FSM applied index (bounded: a
// follower cut off right after the commit answers with what it has).
func (c *cluster) waitApplied(ctx context.Context, st *quorum.RaftStore, index uint64) {
	deadline := time.Now().Add(applyCatchUpWait)
	for st.AppliedIndex() < index && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(2 * time.Millisecond)
	}
}

// awaitGroup waits (up to commandLeaderWait) while this sentinel is
// forming or joining its group, or is a member from a previous run that
// has not caught up yet: MONITOR, REMOVE and FAILOVER must read and change
// the group's state, not the local one a sentinel serves until it is a
// member (docs/DESIGN.md, "Becoming a member, invisibly").
func (n *Node) awaitGroup() {
	if n.cl == nil {
		return
	}
	deadline := time.Now().Add(commandLeaderWait)
	for time.Now().Before(deadline) {
		if !n.cl.forming() {
			return
		}
		time.Sleep(leaderRetryEvery)
	}
}

// proposeCommand is the path of client commands into the replicated state:
// like propose, but while the group has no reachable leader (an election
// after a restart) it retries for up to commandLeaderWait before answering
// NOQUORUM.
func (n *Node) proposeCommand(c *quorum.Command) error {
	return n.retryForLeader(func(ctx context.Context) error { return n.propose(ctx, c) })
}

// proposeToGroup is proposeCommand for a change of gosentinel's own that
// only the group keeps (SENTINEL MAINTENANCE). With Raft on, the local
// state is kept nowhere: the pause is never written to sentinel.conf, and
// the group's state replaces the local one when this sentinel joins or
// rejoins it (a first-time member hands the group only its masters), so a
// pause applied to it was answered OK and then lost without a word. Until
// the group's state is this sentinel's it is refused: while the group
// forms, as a command that finds no leader (retried, then NOQUORUM); in a
// mixed set, whose failovers follow redis-sentinel's protocol, at once.
func (n *Node) proposeToGroup(c *quorum.Command) error {
	if n.cl == nil {
		return n.proposeCommand(c)
	}
	return n.retryForLeader(func(ctx context.Context) error {
		if n.cl.isActive() {
			return n.cl.proposeRaft(ctx, c)
		}
		if n.cl.isMixed() || n.cl.memberMode() != modeNone {
			return errNeedsGroupMixed
		}
		return ErrNoLeader
	})
}

// errNeedsGroupMixed answers a change only the group keeps while this
// sentinel decides failovers on its own state beside redis-sentinels.
var errNeedsGroupMixed = sentinel.ReplyError("NOQUORUM This Sentinel fails over by redis-sentinel's protocol beside sentinels that are not gosentinels: the pause needs the Raft group")

// retryForLeader runs propose until it succeeds, fails for good, or
// commandLeaderWait has passed while it found no leader (NOQUORUM).
func (n *Node) retryForLeader(propose func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), commandLeaderWait)
	defer cancel()
	for {
		err := propose(ctx)
		if err == nil || !isTransient(err) {
			return err
		}
		t := time.NewTimer(leaderRetryEvery)
		select {
		case <-ctx.Done():
			t.Stop()
			if err != ErrNoLeader {
				// The client sees NOQUORUM; the log keeps why (a leader
				// whose port refuses, or that refuses our secret).
				n.log.Warn("No leader took the command", "error", err)
			}
			return ErrNoLeader
		case <-t.C:
		}
	}
}

// isTransient tells the failures that prove the command never entered the
// log (no leader known, or the one asked was no longer leading), which are
// safe to retry, from verdicts and from outcomes that are not known (a
// forward that timed out may have committed).
func isTransient(err error) bool {
	if errors.Is(err, quorum.ErrLeadershipLost) {
		return false
	}
	return errors.Is(err, ErrNoLeader) || errors.Is(err, quorum.ErrNotLeader)
}
