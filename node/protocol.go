package node

// A group in a mixed set (docs/DESIGN.md, "A group in a mixed set"): when a
// sentinel that is not a gosentinel appears beside a Raft group (a pod
// rolled back to redis-sentinel), the group commits that its failovers
// follow redis-sentinel's protocol (quorum.OpProtocol) and every member
// detaches: it decides on its own copy of the group's state, votes and runs
// elections like a sentinel that is not a member, so that losing members
// later (a pod restarting with its master) costs votes, not the set's
// ability to fail over. When no such sentinel has been heard for
// foreignGone, each member goes quiet (votes for nobody, starts nothing);
// once every voter is quiet the leader ends the protocol's generation and
// the members hand the group what they learnt and take its state again.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/x0tta6bl4/gosentinel/internal/beat"
	"github.com/x0tta6bl4/gosentinel/internal/peer"
	"github.com/x0tta6bl4/gosentinel/quorum"
	"github.com/x0tta6bl4/gosentinel/replication"
)

// memberMode is how a member takes part in failovers.
type memberMode int32

const (
	// modeNone: not a member (yet), or Raft is off.
	modeNone memberMode = iota
	// modeRaft: the group's state is the node's and its leader decides.
	modeRaft
	// modeDetaching: leaving modeRaft, the term's engine is stopping.
	modeDetaching
	// modeLocal: the group's failovers follow redis-sentinel's protocol;
	// this member decides on its own copy, votes and runs elections.
	modeLocal
	// modeQuiet: still detached, but no foreign sentinel heard for
	// foreignGone: it votes for nobody and starts nothing, waiting for the
	// group to end the protocol's generation it went quiet in.
	modeQuiet
)

func (m memberMode) String() string {
	switch m {
	case modeRaft:
		return "raft"
	case modeDetaching:
		return "detaching"
	case modeLocal:
		return "sentinel"
	case modeQuiet:
		return "quiet"
	}
	return "none"
}

// protocolView is what a member's next protocol step depends on.
type protocolView struct {
	mode            memberMode
	groupMixed      bool   // the group's state: failovers by election
	groupGen        uint64 // the generation of that protocol
	quietGen        uint64 // the generation this member went quiet in
	groupEnded      uint64 // the last generation the group ended
	failoverInGroup bool   // the group's state records a failover in progress
	foreign         bool   // this sentinel hears a foreign sentinel
	// localFor is how long ago it last entered modeLocal: it goes quiet
	// only foreignGone after that too, since a sentinel that has just
	// started (or detached) has not had the time to hear anyone.
	localFor  time.Duration
	localBusy bool // its own engine runs an election or a failover, or it voted lately
	// localFailover: its own engine runs an election or a failover now
	// (part of localBusy, without the votes' hold-off).
	localFailover bool
	// leaderKnown: this member knows a Raft leader, so the group can end
	// the generation once the members are quiet.
	leaderKnown bool
	// leaderlessFor: how long it has known no leader (0 while it knows one).
	leaderlessFor time.Duration
	// isolated: in modeLocal, it cut itself off from the group's Raft.
	isolated bool
	// failoverAfterLog: its state with its log past the state played on
	// it records a failover in progress (quorum.RaftStore.FailoverAfterLog).
	failoverAfterLog bool
}

// protocolAction is a member's next step.
type protocolAction int

const (
	protoNothing  protocolAction = iota
	protoEnter                   // propose OpProtocol (mixed)
	protoDetach                  // take a copy of the group's state and decide on it
	protoQuiet                   // stop voting and electing
	protoReattach                // hand the group what the copy learnt, take its state again
	protoWake                    // quiet to local, on its own state (kept up to date by hellos)
	protoIsolate                 // cut off from the group's Raft, then local on its own copy
	protoRejoin                  // connected to the group's Raft again, quiet until it reattaches
)

// isolateAfter is how long a member that hears a foreign sentinel waits
// for a leader to record it before it cuts itself off from the group's
// Raft to vote (ten heartbeat timeouts: an election takes one or two).
const isolateAfter = 5 * time.Second

// cutOff reports whether a member should isolate itself: it hears a
// foreign sentinel and no leader has been there to record it for
// isolateAfter, so it would vote for nobody until a majority returns; and
// no failover the log decided is in its state or its log (its copy would
// carry one without the leader that runs it, and one it acknowledged but
// has not applied yet would be missing from the copy it votes on).
func cutOff(v protocolView) bool {
	return v.foreign && !v.leaderKnown && v.leaderlessFor >= isolateAfter && !v.failoverAfterLog
}

// protocolStep decides a member's next step. A member detaches only once
// the group records no failover in progress (one the log decided before
// the protocol changed is finished by its leader first), goes quiet only
// foreignGone after it last heard a foreign sentinel and after it entered
// modeLocal, and only while it knows a leader (a quiet member waits for
// the group's end: with no leader to decide it, going quiet would only
// withdraw a vote, as when the other pods are redis-sentinels now or
// restarting), and leaves quiet only by applying a later entry, never on its
// own, so that the leader's count of quiet voters stays true until the end
// it decides is applied: the end of its generation (reattach), or a newer
// generation, after which it wakes on its own state, kept up to date by
// hellos while quiet, unless an end was applied in between (the log may
// have decided meanwhile: reattach, then detach again).
//
// A member whose group has no leader to record the mixed set (cutOff)
// isolates itself from the group's Raft before it votes, so that no entry
// is committed with its acknowledgement meanwhile, and connects again only
// under the conditions of going quiet (its votes can no longer lead a
// failover), quiet until a leader takes what its copy learnt.
func protocolStep(v protocolView) protocolAction {
	switch v.mode {
	case modeRaft:
		switch {
		case v.groupMixed && !v.failoverInGroup:
			return protoDetach
		case !v.groupMixed && cutOff(v) && !v.failoverInGroup:
			// Its copy would carry the group's failover record without
			// the leader that runs it, even one its unapplied log ends.
			return protoIsolate
		case !v.groupMixed && v.foreign:
			return protoEnter
		}
	case modeLocal:
		if v.isolated {
			// Its view of the group's state is frozen while it is cut off:
			// only the quiet conditions bring it back.
			if !v.foreign && !v.localBusy && v.localFor >= foreignGone {
				return protoRejoin
			}
			return protoNothing
		}
		switch {
		case !v.groupMixed && !v.localFailover:
			// The group ended the generation without this member (it
			// was not asked, or could not answer): a failover of its own
			// engine finishes first, since reattaching stops it, and a
			// promotion not yet switched would hand the group the old
			// address at the new epoch (mergeLocal).
			return protoReattach
		case !v.foreign && !v.localBusy && v.localFor >= foreignGone && v.leaderKnown:
			return protoQuiet
		}
	case modeQuiet:
		switch {
		case v.quietGen == 0 && !v.leaderKnown:
			// Reattaching (connected again after isolation, or a merge
			// that failed) needs a leader to hand the copy to.
			if cutOff(v) {
				return protoIsolate
			}
		case !v.groupMixed || v.groupEnded >= v.quietGen:
			return protoReattach
		case v.groupGen > v.quietGen:
			return protoWake
		case cutOff(v):
			return protoIsolate
		case v.foreign:
			return protoEnter
		}
	}
	return protoNothing
}

// quietMajority reports whether the leader may end generation gen: every
// voter that answered is quiet in it, and they are a majority. A voter
// that does not answer (its pod restarting with its master) cannot hold
// the group back: without the majority's votes no election can win, so it
// can start no failover beside the log's; and it applies the end when it
// returns, being a voter.
func quietMajority(voters []string, answers map[string]protocolStatus, gen uint64) bool {
	quiet := 0
	for _, id := range voters {
		a, ok := answers[id]
		if !ok {
			continue
		}
		if a.Mode != modeQuiet.String() || a.Gen != gen {
			return false
		}
		quiet++
	}
	return quiet > len(voters)/2
}

// protocolStatus is a member's answer to cluster.protocol.
type protocolStatus struct {
	Mode string `json:"mode"`
	Gen  uint64 `json:"gen,omitempty"` // the generation it is quiet in
}

const (
	// protocolTick paces the protocol's steps.
	protocolTick = 100 * time.Millisecond
	// protocolRetry paces proposals (enter, end) and the leader's census.
	protocolRetry = time.Second
)

// memberMode returns this member's mode.
func (c *cluster) memberMode() memberMode {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mode
}

// protocolStatus is what this member answers to cluster.protocol.
func (c *cluster) protocolStatus() protocolStatus {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := protocolStatus{Mode: c.mode.String()}
	if c.mode == modeQuiet {
		s.Gen = c.quietGen
	}
	return s
}

func (c *cluster) handleProtocol(_ context.Context, _ json.RawMessage) (any, error) {
	return c.protocolStatus(), nil
}

// runProtocol takes this member's protocol steps until ctx ends (from its
// activation on).
func (c *cluster) runProtocol(ctx context.Context) {
	t := beat.NewTicker(protocolTick)
	defer t.Stop()
	var lastPropose, lastCensus time.Time
	c.leaderlessFor(true) // the clock starts at the activation
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		mixed, gen, ended := c.fsm.Protocol()
		c.mu.Lock()
		mode, quietGen, localSince, isolated := c.mode, c.quietGen, c.localSince, c.isolated
		c.mu.Unlock()
		st := c.getStore()
		leaderID := ""
		if st != nil {
			leaderID, _ = st.Leader()
		}
		// Cut off, it waits for no leader: connected again, it waits
		// isolateAfter afresh.
		leaderless := c.leaderlessFor(leaderID != "" || isolated)
		v := protocolView{mode: mode, groupMixed: mixed, groupGen: gen, groupEnded: ended, quietGen: quietGen,
			failoverInGroup: c.fsm.FailoverInProgress(), foreign: c.isMixed(), localFor: time.Since(localSince),
			leaderKnown: leaderID != "", leaderlessFor: leaderless, isolated: isolated}
		v.failoverAfterLog = v.failoverInGroup
		if st != nil && v.foreign && !v.leaderKnown && v.leaderlessFor >= isolateAfter {
			// Read only when it matters: a failover it acknowledged and
			// has not applied, or one its unapplied log ends.
			v.failoverAfterLog = st.FailoverAfterLog()
		}
		if mode == modeLocal {
			// Only a detached member's step reads it, and it copies the
			// local state: not every tick on every member of a pure set.
			v.localBusy = c.n.localBusy()
			v.localFailover = c.n.localFailover()
		}
		switch protocolStep(v) {
		case protoEnter:
			if time.Since(lastPropose) >= protocolRetry {
				lastPropose = time.Now()
				go c.proposeProtocol(ctx, &quorum.Command{Op: quorum.OpProtocol, Mixed: true, At: nowMs()})
			}
		case protoDetach:
			c.detach(ctx, gen)
		case protoQuiet:
			c.quiet(gen)
		case protoWake:
			c.wake(gen)
		case protoIsolate:
			c.isolate(ctx, st, mode)
		case protoRejoin:
			c.rejoin(st)
		case protoReattach:
			if err := c.reattach(ctx); err != nil && ctx.Err() == nil {
				c.n.log.Info("failed to hand the group this sentinel's state; retrying", "error", err)
			}
		}
		if mixed && st != nil && st.IsLeader() && time.Since(lastCensus) >= protocolRetry {
			lastCensus = time.Now()
			go c.endProtocolIfQuiet(ctx, st, gen)
		}
	}
}

// proposeProtocol proposes an OpProtocol entry through the leader.
func (c *cluster) proposeProtocol(ctx context.Context, cmd *quorum.Command) {
	pctx, cancel := context.WithTimeout(ctx, rpcTimeout)
	defer cancel()
	err := c.proposeRaft(pctx, cmd)
	switch {
	case err == nil && cmd.Mixed:
		c.n.log.Warn("A sentinel that is not a gosentinel is in the set: the group's failovers now follow redis-sentinel's protocol")
	case err == nil:
		c.n.log.Warn("Every member is quiet and no sentinel that is not a gosentinel is left: the group decides failovers again", "generation", cmd.Epoch)
	case errors.Is(err, quorum.ErrStaleProtocol):
	default:
		c.n.log.Info("failed to record the group's failover protocol", "mixed", cmd.Mixed, "error", err)
	}
}

// endProtocolIfQuiet, on the leader, asks every voter for its mode and
// ends generation gen once quietMajority holds.
func (c *cluster) endProtocolIfQuiet(ctx context.Context, st *quorum.RaftStore, gen uint64) {
	servers, err := st.Servers()
	if err != nil {
		return
	}
	ids := make([]string, len(servers))
	for i, s := range servers {
		ids[i] = s.ID
	}
	answers := askVoters(ctx, servers, c.n.myid, c.protocolStatus(), func(ctx context.Context, s quorum.Server) (protocolStatus, error) {
		var a protocolStatus
		err := c.rpc.Call(ctx, peer.TargetAddr(s.Addr, s.ID), "cluster.protocol", struct{}{}, &a)
		return a, err
	})
	if quietMajority(ids, answers, gen) {
		c.proposeProtocol(ctx, &quorum.Command{Op: quorum.OpProtocol, Epoch: gen, At: nowMs()})
	}
}

// askVoters asks every voter but self for its protocol status, all at
// once and each within its own rpcTimeout, and returns the answers by id
// (self's is own). Asked in turn under one deadline, a voter that drops
// packets used it all up and the voters after it counted as not
// answering, so one that was busy could not hold the end back.
func askVoters(ctx context.Context, servers []quorum.Server, self string, own protocolStatus,
	ask func(context.Context, quorum.Server) (protocolStatus, error)) map[string]protocolStatus {
	answers := map[string]protocolStatus{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, s := range servers {
		if s.ID == self {
			answers[s.ID] = own
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			cctx, cancel := context.WithTimeout(ctx, rpcTimeout)
			defer cancel()
			if a, err := ask(cctx, s); err == nil {
				mu.Lock()
				answers[s.ID] = a
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return answers
}

// detach makes a copy of the group's state the node's and lets the local
// engine decide on it (mixed.go starts it): the term's engine stops first,
// so no two engines ever act on one state.
func (c *cluster) detach(ctx context.Context, gen uint64) {
	c.detachCopy(ctx)
	c.n.log.Warn("The group's failovers follow redis-sentinel's protocol: this sentinel votes and fails over on its own copy of the group's state",
		"generation", gen)
}

// detachCopy is detach's work: the term's engine stops, a copy of the
// group's state becomes the node's, and the local engine may run on it.
func (c *cluster) detachCopy(ctx context.Context) {
	n := c.n
	c.mu.Lock()
	c.mode = modeDetaching
	c.mu.Unlock()
	c.stopTerm(ctx)
	// The copy is this sentinel's own state from now on: its decisions
	// are elected (automatic) or its own (SENTINEL FAILOVER, as on
	// redis-sentinel), never refused as the log's would be.
	st := c.fsm.State()
	st.Mixed = false
	n.localFSM.Replace(st)
	c.mu.Lock()
	c.active = false
	c.mode, c.localSince = modeLocal, time.Now()
	c.mu.Unlock()
	n.setActiveFSM(n.localFSM)
	n.reconcileMonitor(c.wasRestarted())
	c.allowLocalEngine()
}

// isolate cuts this member off from the group's Raft (cutOff), and only
// then lets it vote and fail over on its own state: from modeRaft on a copy
// of the group's, from modeQuiet on the one it already decides on.
func (c *cluster) isolate(ctx context.Context, st *quorum.RaftStore, from memberMode) {
	if st == nil {
		return
	}
	if !c.cutOffRaftChecked(st) {
		return // retried at the next tick (warned at most every rejectLogEvery)
	}
	c.mu.Lock()
	c.isolated = true
	c.mu.Unlock()
	if from == modeRaft {
		c.detachCopy(ctx)
	} else {
		c.mu.Lock()
		c.mode, c.quietGen, c.localSince = modeLocal, 0, time.Now()
		c.mu.Unlock()
		c.allowLocalEngine()
	}
	c.n.log.Warn("A sentinel that is not a gosentinel is in the set and the group has no leader to record it: this sentinel cuts itself off from the group's Raft and votes and fails over on its own state",
		"after", isolateAfter.String())
}

// rejoin connects an isolated member to the group's Raft again, quiet
// (votes for nobody) until a leader takes what its copy learnt; as quiet
// does, it stays local if a vote or a failover landed meanwhile.
func (c *cluster) rejoin(st *quorum.RaftStore) {
	if st == nil {
		return
	}
	c.setModeStoppingVotes(modeQuiet, 0)
	c.stopLocalEngine(true)
	if c.n.localBusy() {
		c.mu.Lock()
		c.mode, c.localSince = modeLocal, time.Now()
		c.mu.Unlock()
		c.allowLocalEngine()
		return
	}
	if err := c.reconnectRaft(st); err != nil {
		c.n.log.Warn("failed to connect this sentinel to its group's Raft again", "error", err)
	}
	c.mu.Lock()
	c.isolated = false
	c.mu.Unlock()
	c.n.log.Warn("No sentinel that is not a gosentinel heard for a while: this sentinel connects to its group's Raft again and votes for nobody until a leader takes its state",
		"after", foreignGone.String())
}

// quiet stops this member's elections and votes in generation gen, unless
// its engine turns out to be running a failover (then it stays detached).
func (c *cluster) quiet(gen uint64) {
	c.setModeStoppingVotes(modeQuiet, gen)
	c.stopLocalEngine(true)
	if c.n.localBusy() {
		// A failover began, or a vote was given, between the decision and
		// the stop (a vote checked before the mode changed is recorded by
		// then: setModeStoppingVotes): finish it, or keep the vote's
		// hold-off, in modeLocal.
		c.mu.Lock()
		c.mode, c.quietGen, c.localSince = modeLocal, 0, time.Now()
		c.mu.Unlock()
		c.allowLocalEngine()
		return
	}
	c.n.log.Warn("No sentinel that is not a gosentinel heard for a while: this sentinel stops voting until the group decides again",
		"generation", gen, "after", foreignGone.String())
}

// setModeStoppingVotes sets a mode in which this member votes for nobody,
// under voteMu: a vote the handler checked before the change is recorded
// by the time it returns, so the caller's localBusy sees it.
func (c *cluster) setModeStoppingVotes(mode memberMode, quietGen uint64) {
	c.n.voteMu.Lock()
	defer c.n.voteMu.Unlock()
	c.mu.Lock()
	c.mode, c.quietGen = mode, quietGen
	c.mu.Unlock()
}

// wake makes a quiet member vote and elect again on its own state, in the
// newer generation gen.
func (c *cluster) wake(gen uint64) {
	c.mu.Lock()
	c.mode, c.quietGen, c.localSince = modeLocal, 0, time.Now()
	c.mu.Unlock()
	c.allowLocalEngine()
	c.n.log.Warn("A sentinel that is not a gosentinel is in the set again: this sentinel votes and fails over on its own state",
		"generation", gen)
}

// reattach hands the group what this member's copy learnt (mergeLocal) and
// makes the group's state the node's again. It votes for nobody meanwhile.
func (c *cluster) reattach(ctx context.Context) error {
	c.stopLocalEngine(true)
	c.mu.Lock()
	if c.mode == modeLocal {
		c.mode, c.quietGen = modeQuiet, 0
	}
	c.mu.Unlock()
	mctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := c.mergeAndSwitch(mctx, true, nil); err != nil {
		return fmt.Errorf("failed to merge this sentinel's state: %w", err)
	}
	c.n.log.Warn("The group decides failovers again: its state is this sentinel's")
	return nil
}

// localBusy reports whether the local engine runs an election or a
// failover, or this sentinel voted for another's election within twice
// that master's failover-timeout (the winner may still be failing it
// over: redis-sentinel holds its own failovers off as long).
func (n *Node) localBusy() bool {
	if n.localFailover() || n.cl != nil && n.cl.restartHeld() {
		return true
	}
	st := n.localFSM.State()
	for _, name := range st.Names() {
		if heldOffByVote(n.votedAt(name), time.Now(), replication.FailoverTimeout(st.Masters[name])) {
			return true
		}
	}
	return false
}

// localFailover reports whether the local engine runs an election or a
// failover now: from the claim of an attempt (before its election) to its
// end, so also between an election won and the failover it begins.
func (n *Node) localFailover() bool {
	return n.electing.Load() > 0 || n.localFSM.FailoverInProgress() || n.eng.Busy()
}

// allowLocalEngine lets mixed.go start the local engine again (a member
// detached: stopLocalEngine(true) had stopped it for good).
func (c *cluster) allowLocalEngine() {
	c.mixed.mu.Lock()
	c.mixed.noLocal = false
	c.mixed.mu.Unlock()
}
