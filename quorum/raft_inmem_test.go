package quorum

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"github.com/x0tta6bl4/gosentinel/internal/redistest"
)

// inmemNode is a RaftStore on raft's in-memory transport and stores (the
// group simulation's wiring).
type inmemNode struct {
	id    string
	trans *raft.InmemTransport
	// counted, when set, is what raft sends through: trans with a count of
	// the RPCs in flight to each peer.
	counted *countedTransport
	store   *RaftStore
	disk    *inmemDisk

	mu      sync.Mutex
	configs [][]Server // OnConfiguration calls, in order
}

// inmemDisk is what survives a restart of an inmemNode.
type inmemDisk struct {
	logs   raft.LogStore
	stable raft.StableStore
	snaps  *raft.InmemSnapshotStore
}

func newInmemNode(t *testing.T, id string, abstainTerm uint64) *inmemNode {
	return openInmemNode(t, id, abstainTerm, newInmemDisk(), false)
}

// newCountedInmemNode is a node whose RPCs go through a countedTransport.
func newCountedInmemNode(t *testing.T, id string) *inmemNode {
	return openInmemNode(t, id, 0, newInmemDisk(), true)
}

func newInmemDisk() *inmemDisk {
	return &inmemDisk{logs: raft.NewInmemStore(), stable: raft.NewInmemStore(), snaps: raft.NewInmemSnapshotStore()}
}

// testTiming is the Raft timing of the in-memory tests: ten times faster
// than a sentinel's.
var testTiming = raftTiming{heartbeat: 50 * time.Millisecond, election: 50 * time.Millisecond,
	lease: 50 * time.Millisecond, commit: 5 * time.Millisecond}

// raftTiming is the part of RaftConfig a test may change.
type raftTiming struct{ heartbeat, election, lease, commit time.Duration }

func openInmemNode(t *testing.T, id string, abstainTerm uint64, d *inmemDisk, counted bool) *inmemNode {
	t.Helper()
	return openTimedInmemNode(t, id, abstainTerm, d, counted, testTiming)
}

func openTimedInmemNode(t *testing.T, id string, abstainTerm uint64, d *inmemDisk, counted bool, tm raftTiming) *inmemNode {
	t.Helper()
	addr, trans := raft.NewInmemTransport(raft.ServerAddress(id + "-addr"))
	n := &inmemNode{id: id, trans: trans, disk: d}
	var sendVia raft.Transport = trans
	if counted {
		n.counted = &countedTransport{InmemTransport: trans, inflight: map[raft.ServerAddress]int{}}
		sendVia = n.counted
	}
	st, err := NewRaftStore(RaftConfig{
		ID: id, Addr: string(addr), Transport: sendVia,
		LogStore: d.logs, StableStore: d.stable, SnapshotStore: d.snaps,
		HeartbeatTimeout: tm.heartbeat, ElectionTimeout: tm.election,
		LeaderLeaseTimeout: tm.lease, CommitTimeout: tm.commit,
		AbstainTerm: abstainTerm,
		OnConfiguration: func(_ uint64, voters []Server) {
			n.mu.Lock()
			n.configs = append(n.configs, voters)
			n.mu.Unlock()
		},
		Logger: testRaftLogger().With("node", id),
	}, NewFSM(nil))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Open(); err != nil {
		t.Fatal(err)
	}
	n.store = st
	t.Cleanup(func() { st.Close() })
	return n
}

func (n *inmemNode) server() Server { return Server{ID: n.id, Addr: string(n.trans.LocalAddr())} }

func (n *inmemNode) lastConfig() []Server {
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.configs) == 0 {
		return nil
	}
	return n.configs[len(n.configs)-1]
}

// countedTransport is an in-memory transport that counts the AppendEntries
// and InstallSnapshot RPCs it has in flight to each peer (the RPCs whose
// replies raft counts as a follower's contact). Disconnect only stops new
// RPCs: one already handed to the peer completes, and its reply still
// counts as contact (a heartbeat in flight landed 60 µs after the cut in
// CI). It refuses pipelines, so that every AppendEntries goes through the
// count.
type countedTransport struct {
	*raft.InmemTransport
	mu       sync.Mutex
	inflight map[raft.ServerAddress]int
	sent     map[raft.ServerAddress]*appendCounts
	// beats are the times heartbeats were sent, per peer.
	beats map[raft.ServerAddress][]time.Time
	// carrying counts the AppendEntries that carry entries, per peer.
	carrying map[raft.ServerAddress]carried
}

// carried is what the AppendEntries carrying entries to a peer were: how
// many, and the lowest log index they followed.
type carried struct {
	n          int
	lowestPrev uint64
}

// carriedTo is what was sent to target since the last call.
func (t *countedTransport) carriedTo(target raft.ServerAddress) carried {
	t.mu.Lock()
	defer t.mu.Unlock()
	c := t.carrying[target]
	delete(t.carrying, target)
	return c
}

// appendCounts are the AppendEntries sent to one peer, by kind.
type appendCounts struct {
	// heartbeats carry no log position; empty carry one but no entries
	// (what the leader sends a follower to tell it the commit index).
	heartbeats, empty int
}

func (t *countedTransport) AppendEntries(id raft.ServerID, target raft.ServerAddress, args *raft.AppendEntriesRequest, resp *raft.AppendEntriesResponse) error {
	t.add(target, 1)
	defer t.add(target, -1)
	t.count(target, args)
	return t.InmemTransport.AppendEntries(id, target, args, resp)
}

func (t *countedTransport) count(target raft.ServerAddress, args *raft.AppendEntriesRequest) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(args.Entries) > 0 {
		if t.carrying == nil {
			t.carrying = map[raft.ServerAddress]carried{}
		}
		c := t.carrying[target]
		if c.n == 0 || args.PrevLogEntry < c.lowestPrev {
			c.lowestPrev = args.PrevLogEntry
		}
		c.n++
		t.carrying[target] = c
		return
	}
	if t.sent == nil {
		t.sent = map[raft.ServerAddress]*appendCounts{}
	}
	c := t.sent[target]
	if c == nil {
		c = &appendCounts{}
		t.sent[target] = c
	}
	if args.PrevLogEntry == 0 && args.LeaderCommitIndex == 0 {
		c.heartbeats++
		if t.beats == nil {
			t.beats = map[raft.ServerAddress][]time.Time{}
		}
		t.beats[target] = append(t.beats[target], time.Now())
	} else {
		c.empty++
	}
}

// heartbeatTimes is when the heartbeats to target were sent.
func (t *countedTransport) heartbeatTimes(target raft.ServerAddress) []time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.beats[target])
}

// appended is what has been sent to target so far.
func (t *countedTransport) appended(target raft.ServerAddress) appendCounts {
	t.mu.Lock()
	defer t.mu.Unlock()
	if c := t.sent[target]; c != nil {
		return *c
	}
	return appendCounts{}
}

func (t *countedTransport) InstallSnapshot(id raft.ServerID, target raft.ServerAddress, args *raft.InstallSnapshotRequest, resp *raft.InstallSnapshotResponse, data io.Reader) error {
	t.add(target, 1)
	defer t.add(target, -1)
	return t.InmemTransport.InstallSnapshot(id, target, args, resp, data)
}

func (t *countedTransport) AppendEntriesPipeline(raft.ServerID, raft.ServerAddress) (raft.AppendPipeline, error) {
	return nil, raft.ErrPipelineReplicationNotSupported
}

func (t *countedTransport) add(target raft.ServerAddress, d int) {
	t.mu.Lock()
	t.inflight[target] += d
	t.mu.Unlock()
}

// inFlight is how many RPCs to target have been sent and not yet returned.
func (t *countedTransport) inFlight(target raft.ServerAddress) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.inflight[target]
}

// bootstrapLed bootstraps a group of leader and the others, and waits
// until leader leads it.
func bootstrapLed(t *testing.T, leader *inmemNode, others ...*inmemNode) {
	t.Helper()
	servers := []Server{leader.server()}
	for _, n := range others {
		servers = append(servers, n.server())
	}
	if err := leader.store.Bootstrap(servers); err != nil {
		t.Fatal(err)
	}
	redistest.Wait(t, 5*time.Second, leader.id+" leads", func() error {
		if !leader.store.IsLeader() {
			return fmt.Errorf("not yet")
		}
		return nil
	})
}

// proposeMonitor has leader n commit a SENTINEL MONITOR of name and
// returns the entry's index.
func proposeMonitor(t *testing.T, n *inmemNode, name string) uint64 {
	t.Helper()
	idx, err := n.store.ProposeIndexed(context.Background(), monitorCmd(name, 6379, 1))
	if err != nil {
		t.Fatal(err)
	}
	return idx
}

func connectAll(nodes ...*inmemNode) {
	for _, a := range nodes {
		for _, b := range nodes {
			if a != b {
				a.trans.Connect(b.trans.LocalAddr(), b.trans)
			}
		}
	}
}

// TestRaftStore_AbstainedTermRefusesVotes: a server that rejoins after
// losing its disk records the group's term as voted: it refuses every
// candidate of that term and older ones, and votes again from the next.
func TestRaftStore_AbstainedTermRefusesVotes(t *testing.T) {
	n := newInmemNode(t, "wiped", 7)
	if !n.store.HasState() {
		t.Fatal("an abstained term is Raft state: the server must never bootstrap")
	}
	if got := n.store.Term(); got != 7 {
		t.Fatalf("term = %d, want 7", got)
	}
	_, cand := raft.NewInmemTransport("cand-addr")
	cand.Connect(n.trans.LocalAddr(), n.trans)
	for _, tc := range []struct {
		term uint64
		want bool
	}{{5, false}, {7, false}, {8, true}} {
		req := &raft.RequestVoteRequest{
			RPCHeader: raft.RPCHeader{ProtocolVersion: raft.ProtocolVersionMax, ID: []byte("cand"), Addr: []byte("cand-addr")},
			Term:      tc.term, LastLogIndex: 10, LastLogTerm: tc.term,
		}
		var resp raft.RequestVoteResponse
		if err := cand.RequestVote(raft.ServerID(n.id), n.trans.LocalAddr(), req, &resp); err != nil {
			t.Fatal(err)
		}
		if resp.Granted != tc.want {
			t.Errorf("vote request of term %d: granted = %v, want %v", tc.term, resp.Granted, tc.want)
		}
	}
}

// TestRaftStore_ConfigurationsAndFollowerContact: every server reports each
// committed configuration; the leader reports a follower it cannot reach
// as failing since its last contact, and a reachable one as not failing.
func TestRaftStore_ConfigurationsAndFollowerContact(t *testing.T) {
	a, b, c := newCountedInmemNode(t, "a"), newInmemNode(t, "b", 0), newInmemNode(t, "c", 0)
	connectAll(a, b, c)
	if err := a.store.Bootstrap([]Server{a.server()}); err != nil {
		t.Fatal(err)
	}
	redistest.Wait(t, 5*time.Second, "a leads", func() error {
		if !a.store.IsLeader() {
			return fmt.Errorf("not yet")
		}
		return nil
	})
	adding := time.Now() // a sends nothing to b or c before they are added
	for _, n := range []*inmemNode{b, c} {
		if err := a.store.AddVoter(n.id, string(n.trans.LocalAddr())); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []*inmemNode{a, b, c} {
		n := n
		redistest.Wait(t, 5*time.Second, n.id+" sees three voters", func() error {
			if got := n.lastConfig(); len(got) != 3 {
				return fmt.Errorf("%s: last configuration %v", n.id, got)
			}
			return nil
		})
	}
	if _, failing := a.store.FollowerContact("b"); failing {
		t.Fatal("b answers heartbeats but is reported failing")
	}
	// c is cut off once no reply from it can still arrive: after the
	// disconnect, when the RPCs already handed to it have returned (every
	// later one fails), and raft has had a poll interval to record the last
	// replies (it does so right after they return).
	a.trans.Disconnect(c.trans.LocalAddr())
	var cut time.Time
	returned := false
	redistest.Wait(t, 5*time.Second, "RPCs in flight to c returned", func() error {
		if n := a.counted.inFlight(c.trans.LocalAddr()); n > 0 {
			returned = false
			return fmt.Errorf("%d in flight", n)
		}
		if !returned {
			returned = true
			return fmt.Errorf("none in flight: giving raft a poll interval to record their replies")
		}
		cut = time.Now()
		return nil
	})
	var last time.Time
	redistest.Wait(t, 5*time.Second, "c failing", func() error {
		var failing bool
		if last, failing = a.store.FollowerContact("c"); !failing {
			return fmt.Errorf("c not reported failing yet")
		}
		return nil
	})
	if last.After(cut) || !last.After(adding) {
		t.Fatalf("c's last contact %v is not between its addition at %v and its cut at %v", last, adding, cut)
	}
	a.trans.Connect(c.trans.LocalAddr(), c.trans)
	redistest.Wait(t, 5*time.Second, "c back", func() error {
		if _, failing := a.store.FollowerContact("c"); failing {
			return fmt.Errorf("c still failing")
		}
		return nil
	})
}

// TestRaftStore_ReplacedTailEndsRecovery: a leader cut off with commands
// that never committed restarts; the new leader replaces that tail, and the
// restarted server stops "recovering" at once, although it applied less
// than its log held at Open (it used to stay silent about new commands
// until the log grew past the old tail).
func TestRaftStore_ReplacedTailEndsRecovery(t *testing.T) {
	a, b, c := newInmemNode(t, "a", 0), newInmemNode(t, "b", 0), newInmemNode(t, "c", 0)
	connectAll(a, b, c)
	if err := a.store.Bootstrap([]Server{a.server(), b.server(), c.server()}); err != nil {
		t.Fatal(err)
	}
	for _, n := range []*inmemNode{b, c} {
		if err := n.store.Bootstrap([]Server{a.server(), b.server(), c.server()}); err != nil {
			t.Fatal(err)
		}
	}
	var leader *inmemNode
	redistest.Wait(t, 5*time.Second, "a leader", func() error {
		for _, n := range []*inmemNode{a, b, c} {
			if n.store.IsLeader() {
				leader = n
				return nil
			}
		}
		return fmt.Errorf("none yet")
	})
	others := []*inmemNode{}
	for _, n := range []*inmemNode{a, b, c} {
		if n != leader {
			others = append(others, n)
		}
	}
	// Cut the leader off and let it append commands that cannot commit.
	for _, o := range others {
		leader.trans.Disconnect(o.trans.LocalAddr())
		o.trans.Disconnect(leader.trans.LocalAddr())
	}
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
			leader.store.Propose(ctx, &Command{Op: OpObserveEpoch, Epoch: uint64(100 + i), At: 1})
			cancel()
		}()
	}
	wg.Wait()
	leader.store.Close()
	tail, _, err := lastCommand(leader.disk.logs)
	if err != nil {
		t.Fatal(err)
	}
	// The others elect a leader and commit one command.
	var next *inmemNode
	redistest.Wait(t, 5*time.Second, "a new leader", func() error {
		for _, o := range others {
			if o.store.IsLeader() {
				next = o
				return nil
			}
		}
		return fmt.Errorf("none yet")
	})
	if err := next.store.Propose(context.Background(), &Command{Op: OpObserveEpoch, Epoch: 7, At: 1}); err != nil {
		t.Fatal(err)
	}
	back := openInmemNode(t, leader.id, 0, leader.disk, false)
	if !back.store.Recovering() {
		t.Fatal("a restarted server must recover its log first")
	}
	connectAll(append(others, back)...)
	redistest.Wait(t, 5*time.Second, "recovery over", func() error {
		if back.store.Recovering() {
			return fmt.Errorf("still recovering: applied %d", back.store.AppliedIndex())
		}
		return nil
	})
	if got := back.store.AppliedIndex(); got >= tail {
		t.Fatalf("applied %d, past the old tail at %d: the test did not make a replaced tail", got, tail)
	}
}

// TestRaftStore_IdleFollowersGetHeartbeatsOnly: once a follower holds every
// entry and the commit index, the leader sends it heartbeats and at most an
// AppendEntries a second (third_party/raft.patch: raft v1.7.3 sent one
// every CommitTimeout, as often as heartbeats, half of an
// idle group's RPCs). A new commit reaches the followers at once (the
// leader triggers replication on a new commit index), not at the next
// refresh a second later. Heartbeats are the clock: one every 5-10 ms here,
// so each bound holds on a slow machine too.
func TestRaftStore_IdleFollowersGetHeartbeatsOnly(t *testing.T) {
	a, b, c := newCountedInmemNode(t, "a"), newInmemNode(t, "b", 0), newInmemNode(t, "c", 0)
	connectAll(a, b, c)
	bootstrapLed(t, a, b, c)
	followers := []*inmemNode{b, c}
	propose := func(name string) uint64 { return proposeMonitor(t, a, name) }
	// appliedWithin fails unless every follower applies idx before the
	// leader has sent it more than beats heartbeats.
	appliedWithin := func(idx uint64, beats int) {
		t.Helper()
		for _, f := range followers {
			from := a.counted.appended(f.trans.LocalAddr()).heartbeats
			redistest.Wait(t, 10*time.Second, f.id+" applies", func() error {
				if f.store.AppliedIndex() >= idx {
					return nil
				}
				if n := a.counted.appended(f.trans.LocalAddr()).heartbeats - from; n > beats {
					t.Fatalf("%s has not applied entry %d after %d heartbeats", f.id, idx, n)
				}
				return fmt.Errorf("%s applied %d, want %d", f.id, f.store.AppliedIndex(), idx)
			})
		}
	}
	appliedWithin(propose("m1"), 1000)

	// Idle: count what the leader sends each follower over 60 heartbeats
	// (0.3-0.6 s, well under the patch's one-second refresh).
	for _, f := range followers {
		addr := f.trans.LocalAddr()
		from := a.counted.appended(addr)
		var got appendCounts
		redistest.Wait(t, 10*time.Second, "60 heartbeats to "+f.id, func() error {
			got = a.counted.appended(addr)
			if got.heartbeats-from.heartbeats < 60 {
				return fmt.Errorf("%d heartbeats so far", got.heartbeats-from.heartbeats)
			}
			return nil
		})
		beats, empty := got.heartbeats-from.heartbeats, got.empty-from.empty
		if empty > beats/10 {
			t.Errorf("idle, the leader sent %s %d AppendEntries without entries beside %d heartbeats; want at most %d", f.id, empty, beats, beats/10)
		}
	}

	// A new commit reaches the followers at once, not at the refresh (a
	// second, over 100 heartbeats): an idle follower's replicate loop does
	// not look again before then (commitWait), so without the trigger on a
	// new commit index this fails.
	appliedWithin(propose("m2"), 40)
}

// TestRaftStore_HeartbeatsLeaveTogether: the leader sends its heartbeats to
// every follower at the same instants (third_party/raft.patch,
// heartbeatWait), so it wakes once for all of them; raft v1.7.3 waited a
// random HeartbeatTimeout/10 to twice that per follower. With a sentinel's
// timing (a heartbeat period of 75 ms), a heartbeat to b that has one to c
// within 3 ms happens by chance about 8 % of the time.
func TestRaftStore_HeartbeatsLeaveTogether(t *testing.T) {
	tm := raftTiming{heartbeat: DefaultHeartbeatTimeout, election: DefaultElectionTimeout,
		lease: DefaultLeaderLeaseTimeout, commit: DefaultCommitTimeout}
	a := openTimedInmemNode(t, "a", 0, newInmemDisk(), true, tm)
	b := openTimedInmemNode(t, "b", 0, newInmemDisk(), false, tm)
	c := openTimedInmemNode(t, "c", 0, newInmemDisk(), false, tm)
	connectAll(a, b, c)
	bootstrapLed(t, a, b, c)
	const n = 20
	bAddr, cAddr := b.trans.LocalAddr(), c.trans.LocalAddr()
	from := len(a.counted.heartbeatTimes(bAddr))
	redistest.Wait(t, 20*time.Second, fmt.Sprintf("%d heartbeats to b", n+1), func() error {
		if got := len(a.counted.heartbeatTimes(bAddr)) - from; got <= n {
			return fmt.Errorf("%d so far", got)
		}
		return nil
	})
	toB := a.counted.heartbeatTimes(bAddr)[from : from+n]
	toC := a.counted.heartbeatTimes(cAddr)
	together := 0
	for _, at := range toB {
		for _, ct := range toC {
			if d := at.Sub(ct); d > -3*time.Millisecond && d < 3*time.Millisecond {
				together++
				break
			}
		}
	}
	if together < n*3/4 {
		t.Fatalf("%d of %d heartbeats to b left within 3 ms of one to c, want at least %d", together, n, n*3/4)
	}
}

// A leader refuses to propose an op its own FSM would stop at (a newer
// member's, forwarded during a roll): committed, the entry would stop every
// member of this version, again at each restart's replay. An ignorable one
// it does not know commits and is skipped.
func TestProposeRefusesAnUnknownOp(t *testing.T) {
	a := newInmemNode(t, "a", 0)
	bootstrapLed(t, a)
	before := a.store.LastIndex()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := a.store.ProposeIndexed(ctx, &Command{Op: maxOp + 1, Name: "m", At: 1}); !errors.Is(err, ErrUnknownOp) {
		t.Fatalf("propose of op %d: %v, want ErrUnknownOp", maxOp+1, err)
	}
	if got := a.store.LastIndex(); got != before {
		t.Fatalf("the log grew from %d to %d: the refused op was appended", before, got)
	}
	if _, err := a.store.ProposeIndexed(ctx, &Command{Op: IgnorableFlag | (maxOp + 1), Name: "m", At: 1}); err != nil {
		t.Fatalf("propose of an ignorable unknown op: %v", err)
	}
}
