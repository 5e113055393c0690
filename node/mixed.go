package node

// Mixed sets (docs/DESIGN.md, "Mixed sets"): while a sentinel that is not a
// gosentinel (redis-sentinel, Valkey's sentinel) is in the set, failovers
// follow redis-sentinel's protocol, in which gosentinels take full part.
// This file tells gosentinels from the others, keeps the list of the
// others, and runs the failover engine of a sentinel that is not a group
// member in that protocol (elections, node/elect.go).

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/x0tta6bl4/gosentinel/internal/beat"
	"github.com/x0tta6bl4/gosentinel/internal/group"
	"github.com/x0tta6bl4/gosentinel/internal/peer"
)

const (
	// foreignGone is how long after its last hello a sentinel that is not
	// a gosentinel stops counting: five hello periods, so that a
	// redis-sentinel that is merely slow (a loaded node, a stalled hello)
	// keeps the set mixed, while one that left frees it ten seconds later.
	foreignGone = 10 * time.Second
	// proofSlack: a sentinel is a gosentinel when it answered our peer
	// channel, with its id, no earlier than this before its last hello.
	// A sentinel that declined gosentinel's subcommand is probed every
	// kindProbeEvery (kindRecord.probeDue), so such a gosentinel's proof
	// is never older than its last hello by more than a failed probe or
	// two; a gosentinel replaced by a redis-sentinel with the same id (a
	// rollback) keeps sending hellos but declines on our new link and
	// never answers a probe.
	proofSlack     = 3 * time.Second
	kindProbeEvery = time.Second
	kindProbeLimit = 500 * time.Millisecond
	mixedTick      = 100 * time.Millisecond
	// mixedViewAge: the rounds' peer view may be that old. What they do
	// happens over seconds (kindProbeEvery, proofSlack, foreignGone), and
	// building the view walks every sentinel of every master: asked fresh
	// ten times a second it was about 5 % of a follower's CPU at 1000
	// masters. Until this sentinel is a member the group's rounds keep it
	// fresher (peerViewTTL).
	mixedViewAge = 500 * time.Millisecond
)

// foreignMisses is how many probes in a row, each begun after a hello
// heard while the sentinel's proof was stale, must get no answer before it
// counts as foreign: one miss may be a peer connection that died in a
// partition and is redialled, or a probe sent just before a heal.
const foreignMisses = 2

// kindRecord is what the probes told of one sentinel.
type kindRecord struct {
	proof time.Time // last answer on the peer channel; zero: none
	// stale is the first hello heard while the proof was older than
	// proofSlack before it; zero while the proof is fresh. Only probes
	// begun at or after it count as misses: a probe begun while a
	// partition cut the sentinel off says nothing of what answers once the
	// hellos come back.
	stale  time.Time
	misses int       // probes begun at or after stale that got no answer
	probed time.Time // last probe begun
	// declined: our command link to it answered SENTINEL MAINTENANCE
	// STATUS with redis' unknown-subcommand error (monitor's
	// InstanceStatus.Declined), the only positive evidence of a sentinel
	// that is not a gosentinel. Failed probes alone are what packet loss
	// or a partition also produce; they never make a sentinel foreign.
	declined bool
}

// provenAt reports whether the proof is fresh for a hello heard at h: no
// older than slack before it.
func (k kindRecord) provenAt(h time.Time, slack time.Duration) bool {
	return !k.proof.IsZero() && !k.proof.Before(h.Add(-slack))
}

// heard records the sentinel's latest hello h: the first one heard while
// its proof is stale starts the count of misses.
func (k *kindRecord) heard(h time.Time, slack time.Duration) {
	if h.IsZero() || k.provenAt(h, slack) || !k.stale.IsZero() {
		return
	}
	k.stale, k.misses = h, 0
}

// answered records a probe begun at start: answered or not.
func (k *kindRecord) answered(start, at time.Time, ok bool) {
	switch {
	case ok:
		k.proof, k.stale, k.misses = at, time.Time{}, 0
	case !k.stale.IsZero() && !start.Before(k.stale):
		k.misses++
	}
}

// probeDue reports whether to probe the sentinel now: every kindProbeEvery
// once it declined gosentinel's subcommand, never before. Only a sentinel
// that declined can be foreign (foreignSentinels), so a probe of any other
// would decide nothing, and each is a TCP connection and a handshake on
// both sides: every second to each peer, about ten goroutine wake-ups a
// second on each side of an idle set.
func (k kindRecord) probeDue(now time.Time) bool {
	return k.declined && now.Sub(k.probed) >= kindProbeEvery
}

// foreignSentinels lists, sorted, the sentinels whose last hello arrived
// within gone of now, that did not prove themselves gosentinels at or
// after slack before it, whose last foreignMisses probes, begun after
// a hello heard while the proof was stale, got no answer, and that
// declined gosentinel's own subcommand on our command link. A gosentinel
// heard for the first time is not foreign while its first probes are under
// way, nor one heard again after a partition while its probes get through.
// hellos and kinds are keyed by run id; a zero hello time means none
// arrived.
func foreignSentinels(now time.Time, hellos map[string]time.Time, kinds map[string]kindRecord, gone, slack time.Duration) []string {
	var out []string
	for id, h := range hellos {
		if h.IsZero() || now.Sub(h) >= gone {
			continue
		}
		k := kinds[id]
		if k.provenAt(h, slack) || k.misses < foreignMisses || !k.declined {
			continue
		}
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

// mixedSet is the cluster's view of the set's kinds.
type mixedSet struct {
	mu      sync.Mutex
	kinds   map[string]kindRecord // run id -> what its probes told
	foreign []string
	// The local engine: the failover engine of a sentinel that is not a
	// member, run while the set is mixed.
	localCancel context.CancelFunc
	localDone   chan struct{}
	noLocal     bool // a member now: never again
}

func newMixedSet() *mixedSet {
	return &mixedSet{kinds: map[string]kindRecord{}}
}

// foreign lists the sentinels in the set that are not gosentinels.
func (c *cluster) foreign() []string {
	if c.mixed == nil {
		return nil
	}
	c.mixed.mu.Lock()
	defer c.mixed.mu.Unlock()
	return slices.Clone(c.mixed.foreign)
}

// isMixed tells whether the set holds a sentinel that is not a gosentinel.
func (c *cluster) isMixed() bool {
	if c.mixed == nil {
		return false
	}
	c.mixed.mu.Lock()
	defer c.mixed.mu.Unlock()
	return len(c.mixed.foreign) > 0
}

// runMixed proves peers, keeps the foreign list and runs the local engine
// while the set is mixed and this sentinel is not a member.
func (c *cluster) runMixed(ctx context.Context) {
	t := beat.NewTicker(mixedTick)
	defer t.Stop()
	defer c.stopLocalEngine(false)
	for {
		c.mixedRound(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (c *cluster) mixedRound(ctx context.Context) {
	ms := c.mixed
	ms.mu.Lock()
	settled := len(ms.foreign) == 0
	ms.mu.Unlock()
	// Only a sentinel that declined gosentinel's subcommand can become
	// foreign (foreignSentinels), and none did: there is nothing to
	// decide, so the peer view, which walks every sentinel record of
	// every master, is not asked for (at 500 masters it was 5-10 % of a
	// sentinel's CPU). A sentinel that declines later is handled from the
	// next round on, as before: its kind record starts at the hello heard
	// then, and only probes begun after that count.
	if settled && !c.n.mon.AnyDeclined() {
		c.followVoteMode(ctx)
		return
	}
	now := time.Now()
	v := c.viewWithin(mixedViewAge)
	ms.mu.Lock()
	for _, p := range v.peers {
		h := v.hello[p.ID]
		if p.ID == "" || h.IsZero() || now.Sub(h) >= foreignGone {
			continue
		}
		k := ms.kinds[p.ID]
		k.heard(h, proofSlack)
		k.declined = v.declined[p.ID]
		if k.probeDue(now) {
			k.probed = now
			go c.prove(ctx, p, now)
		}
		ms.kinds[p.ID] = k
	}
	for id, k := range ms.kinds {
		if now.Sub(k.probed) > 2*foreignGone && now.Sub(v.hello[id]) > foreignGone {
			delete(ms.kinds, id)
		}
	}
	foreign := foreignSentinels(now, v.hello, ms.kinds, foreignGone, proofSlack)
	was := ms.foreign
	ms.foreign = foreign
	ms.mu.Unlock()

	switch {
	case len(foreign) > 0 && len(was) == 0:
		c.n.log.Warn("A sentinel that is not a gosentinel is in the set: failovers follow redis-sentinel's protocol",
			"sentinels", strings.Join(foreign, ","))
	case len(foreign) == 0 && len(was) > 0:
		c.n.log.Warn("Only gosentinels are left in the set", "gone", strings.Join(was, ","), "after", foreignGone.String())
	case !slices.Equal(foreign, was):
		c.n.log.Info("Sentinels that are not gosentinels", "sentinels", strings.Join(foreign, ","))
	}
	c.followVoteMode(ctx)
}

// followVoteMode runs the local failover engine while this sentinel votes
// as redis-sentinel does (localVoteMode), and stops it otherwise.
func (c *cluster) followVoteMode(ctx context.Context) {
	c.followIsolation()
	if c.n.localVoteMode() {
		c.startLocalEngine(ctx)
	} else {
		c.stopLocalEngine(false)
	}
}

// prove opens a peer channel to sentinel p naming its id: only a
// gosentinel that holds the secret and that id completes the handshake
// (docs/DESIGN.md, "Transport"). The handshake alone is the proof: the
// status call used before read Raft's configuration, which can wait on a
// member that is starting or electing, and its timeout counted as a miss.
// start is when the round decided to probe.
func (c *cluster) prove(ctx context.Context, p group.Peer, start time.Time) {
	pctx, cancel := context.WithTimeout(ctx, kindProbeLimit)
	defer cancel()
	conn, err := c.rpcDial.DialContext(pctx, peer.TargetAddr(p.Addr, p.ID))
	if err == nil {
		conn.Close()
	}
	c.mixed.mu.Lock()
	defer c.mixed.mu.Unlock()
	k, ok := c.mixed.kinds[p.ID]
	if !ok {
		return // forgotten meanwhile
	}
	k.answered(start, time.Now(), err == nil)
	c.mixed.kinds[p.ID] = k
}

// startLocalEngine runs the failover engine on the local state, unless it
// runs already or this sentinel became a member.
func (c *cluster) startLocalEngine(ctx context.Context) {
	ms := c.mixed
	ms.mu.Lock()
	defer ms.mu.Unlock()
	if ms.noLocal || ms.localCancel != nil {
		return
	}
	ectx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	ms.localCancel, ms.localDone = cancel, done
	c.n.log.Info("Running failovers by redis-sentinel's protocol (not a group member)")
	go func() {
		defer close(done)
		c.n.eng.Run(ectx)
	}()
}

// stopLocalEngine stops the local engine and waits for it; forever: it is
// never started again (the sentinel became a member).
func (c *cluster) stopLocalEngine(forever bool) {
	ms := c.mixed
	if ms == nil {
		return
	}
	ms.mu.Lock()
	if forever {
		ms.noLocal = true
	}
	cancel, done := ms.localCancel, ms.localDone
	ms.localCancel, ms.localDone = nil, nil
	ms.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}

// localVoteMode tells whether this sentinel decides failovers by
// redis-sentinel's protocol: the set is mixed and it is not a member, or
// it is a member detached while the group's failovers follow that protocol
// (protocol.go; not while quiet).
func (n *Node) localVoteMode() bool {
	if n.cl == nil {
		return false
	}
	switch n.cl.memberMode() {
	case modeNone:
		return !n.cl.isActive() && n.cl.isMixed() && !n.cl.raftConnected()
	case modeLocal:
		return true
	}
	return false
}

// inMixedSet tells whether the set holds a sentinel that is not a gosentinel.
func (n *Node) inMixedSet() bool { return n.cl != nil && n.cl.isMixed() }
