package quorum

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

// inmemNode is a RaftStore on raft's in-memory transport and stores (the
// group simulation's wiring).
type inmemNode struct {
	id    string
	trans *raft.InmemTransport
	store *RaftStore

	mu      sync.Mutex
	configs [][]Server // OnConfiguration calls, in order
}

func newInmemNode(t *testing.T, id string, abstainTerm uint64) *inmemNode {
	t.Helper()
	addr, trans := raft.NewInmemTransport(raft.ServerAddress(id + "-addr"))
	n := &inmemNode{id: id, trans: trans}
	st, err := NewRaftStore(RaftConfig{
		ID: id, Addr: string(addr), Transport: trans,
		LogStore: raft.NewInmemStore(), StableStore: raft.NewInmemStore(), SnapshotStore: raft.NewInmemSnapshotStore(),
		HeartbeatTimeout: 50 * time.Millisecond, ElectionTimeout: 50 * time.Millisecond,
		LeaderLeaseTimeout: 50 * time.Millisecond, CommitTimeout: 5 * time.Millisecond,
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
	a, b, c := newInmemNode(t, "a", 0), newInmemNode(t, "b", 0), newInmemNode(t, "c", 0)
	connectAll(a, b, c)
	if err := a.store.Bootstrap([]Server{a.server()}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "a leads", func() error {
		if !a.store.IsLeader() {
			return fmt.Errorf("not yet")
		}
		return nil
	})
	for _, n := range []*inmemNode{b, c} {
		if err := a.store.AddVoter(n.id, string(n.trans.LocalAddr())); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []*inmemNode{a, b, c} {
		n := n
		waitFor(t, 5*time.Second, n.id+" sees three voters", func() error {
			if got := n.lastConfig(); len(got) != 3 {
				return fmt.Errorf("%s: last configuration %v", n.id, got)
			}
			return nil
		})
	}
	if _, failing := a.store.FollowerContact("b"); failing {
		t.Fatal("b answers heartbeats but is reported failing")
	}
	cut := time.Now()
	a.trans.Disconnect(c.trans.LocalAddr())
	waitFor(t, 5*time.Second, "c failing", func() error {
		last, failing := a.store.FollowerContact("c")
		if !failing {
			return fmt.Errorf("c not reported failing yet")
		}
		if last.After(cut) {
			return fmt.Errorf("c's last contact %v is after it was cut off at %v", last, cut)
		}
		return nil
	})
	a.trans.Connect(c.trans.LocalAddr(), c.trans)
	waitFor(t, 5*time.Second, "c back", func() error {
		if _, failing := a.store.FollowerContact("c"); failing {
			return fmt.Errorf("c still failing")
		}
		return nil
	})
}
