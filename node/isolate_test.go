package node

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"github.com/x0tta6bl4/gosentinel/internal/group"
	"github.com/x0tta6bl4/gosentinel/internal/peer"
	"github.com/x0tta6bl4/gosentinel/internal/redistest"
	"github.com/x0tta6bl4/gosentinel/quorum"
)

// restartedStore is a previous run's Raft state as the group sees it: this
// sentinel in the configuration, still catching up (Recovering), so Joined
// stays open; leader is the leader it knows ("" for none).
type restartedStore struct {
	self   quorum.Server
	leader atomic.Value // string
}

func (f *restartedStore) HasState() bool                  { return true }
func (f *restartedStore) Bootstrap([]quorum.Server) error { return nil }
func (f *restartedStore) Leader() (string, string) {
	id, _ := f.leader.Load().(string)
	if id == "" {
		return "", ""
	}
	return id, "127.0.0.1:1"
}
func (f *restartedStore) IsLeader() bool { return false }
func (f *restartedStore) Servers() ([]quorum.Server, error) {
	return []quorum.Server{f.self, {ID: "leaderid", Addr: "127.0.0.1:1"}, {ID: "redisrunid", Addr: "127.0.0.1:2"}}, nil
}
func (f *restartedStore) AddVoter(string, string) error            { return nil }
func (f *restartedStore) RemoveServer(string) error                { return nil }
func (f *restartedStore) AppliedIndex() uint64                     { return 1 }
func (f *restartedStore) Term() uint64                             { return 1 }
func (f *restartedStore) Recovering() bool                         { return true }
func (f *restartedStore) FollowerContact(string) (time.Time, bool) { return time.Time{}, false }

type noTransport struct{ group.Transport }

// restartedMember builds a member of a previous run that has not found its
// leader since it started: its group (restarted, catching up, so Joined
// stays open) on a restartedStore, and its Raft store opened on a log that
// holds the group's configuration then extra, none of it applied (no
// leader has told it the commit). vote asks it for the vote of a
// redis-sentinel's election in epoch.
func restartedMember(t *testing.T, extra []*quorum.Command) (*cluster, *quorum.RaftStore, *restartedStore, func(epoch uint64) string) {
	t.Helper()
	logger := slog.New(slog.DiscardHandler)
	dir := t.TempDir()
	myid := "0123456789abcdef0123456789abcdef01234567"
	n := unservedNode(t, dir, "dir "+dir+"\nsentinel myid "+myid+"\nsentinel monitor mymaster 127.0.0.1 6399 2\n")
	c := n.cl
	self := quorum.Server{ID: myid, Addr: "127.0.0.1:3"}
	fs := &restartedStore{self: self}
	fs.leader.Store("leaderid")
	g, err := group.New(group.Config{
		ID: myid, Addr: func() string { return self.Addr },
		Expect:    func(bool) group.Expectation { return group.Expectation{} },
		Peers:     func() []group.Peer { return nil },
		Transport: noTransport{},
		Open:      func(string, uint64) (group.Store, error) { return fs, nil },
		Existing:  true,
		Acceptor:  group.FilePersister{Path: filepath.Join(dir, "formation.json")},
		Tick:      10 * time.Millisecond,
		Logger:    logger,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); g.Run(ctx) }()
	redistest.Wait(t, 5*time.Second, "the group to open the previous run's state", func() error {
		if !g.Restarted() {
			return errors.New("not restarted yet")
		}
		return nil
	})
	cancel()
	<-done
	c.grp = g
	c.fsm = quorum.NewFSM(nil)
	c.dir = filepath.Join(dir, "raft")
	if err := os.MkdirAll(c.dir, 0o700); err != nil {
		t.Fatal(err)
	}
	logs := raft.NewInmemStore()
	conf := raft.Configuration{Servers: []raft.Server{
		{Suffrage: raft.Voter, ID: raft.ServerID(myid), Address: raft.ServerAddress(self.Addr)},
		{Suffrage: raft.Voter, ID: "leaderid", Address: "127.0.0.1:1"},
		{Suffrage: raft.Voter, ID: "redisrunid", Address: "127.0.0.1:2"},
	}}
	if err := logs.StoreLog(&raft.Log{Index: 1, Term: 1, Type: raft.LogConfiguration, Data: raft.EncodeConfiguration(conf)}); err != nil {
		t.Fatal(err)
	}
	for i, cmd := range extra {
		data, err := cmd.Encode()
		if err != nil {
			t.Fatal(err)
		}
		if err := logs.StoreLog(&raft.Log{Index: uint64(i + 2), Term: 1, Type: raft.LogCommand, Data: data}); err != nil {
			t.Fatal(err)
		}
	}
	if err := logs.SetUint64([]byte("CurrentTerm"), 1); err != nil {
		t.Fatal(err)
	}
	st, err := quorum.NewRaftStore(quorum.RaftConfig{ID: myid, Addr: self.Addr,
		Layer:    peer.NewLayer(c.raftGate.view(), c.raftDial),
		LogStore: logs, StableStore: logs, SnapshotStore: raft.NewInmemSnapshotStore()}, c.fsm)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c.mu.Lock()
	c.store = st
	c.mu.Unlock()
	vote := func(epoch uint64) string {
		_, leader, _ := n.IsMasterDownByAddr("127.0.0.1", 6399, epoch, "redisrunid")
		return leader
	}
	return c, st, fs, vote
}

// A member of a previous run that has not found its leader since it
// started (followIsolation): while its Raft is connected it votes for
// nobody; hearing a redis-sentinel, it cuts itself off only under cutOff's
// conditions (no leader known for isolateAfter, no failover the log
// decided), keeps the cut on disk, and then votes.
func TestRestartedMemberVotesOnlyCutOff(t *testing.T) {
	master := &quorum.Master{Name: "mymaster", Addr: quorum.Addr{Host: "127.0.0.1", Port: 6399},
		Settings: quorum.Settings{Quorum: 2, DownAfterMs: 30000, FailoverTimeoutMs: 180000, ParallelSyncs: 1}}
	c, st, fs, vote := restartedMember(t, []*quorum.Command{{Op: quorum.OpMonitor, At: 1, Master: master}})
	if leader := vote(5); leader != "*" {
		t.Fatalf("connected to Raft, it voted for %s", leader)
	}
	c.mixed.mu.Lock()
	c.mixed.foreign = []string{"redisrunid"}
	c.mixed.mu.Unlock()
	// A leader known: it waits for it.
	c.followIsolation()
	if st.Isolated() {
		t.Fatal("cut off while it knows a leader")
	}
	// No leader for isolateAfter, but a failover the log decided is in
	// its state.
	if err := c.fsm.Apply(&quorum.Command{Op: quorum.OpMonitor, At: 1, Master: master}); err != nil {
		t.Fatal(err)
	}
	if err := c.fsm.Apply(&quorum.Command{Op: quorum.OpFailoverBegin, Name: "mymaster",
		Addr: quorum.Addr{Host: "127.0.0.1", Port: 6400}, Leader: "leaderid", At: 2}); err != nil {
		t.Fatal(err)
	}
	fs.leader.Store("")
	c.mu.Lock()
	c.leaderSeenAt = time.Now().Add(-isolateAfter)
	c.mu.Unlock()
	c.followIsolation()
	if st.Isolated() {
		t.Fatalf("cut off with a failover the log decided in its state; then voted for %s", vote(6))
	}
	// The failover ended: it cuts itself off, keeps that on disk, votes.
	if err := c.fsm.Apply(&quorum.Command{Op: quorum.OpFailoverAbort, Name: "mymaster",
		Epoch: c.fsm.State().Masters["mymaster"].Failover.Epoch, At: 3}); err != nil {
		t.Fatal(err)
	}
	c.followIsolation()
	if !st.Isolated() {
		t.Fatal("not cut off: no leader for isolateAfter, a redis-sentinel heard, no failover")
	}
	if _, err := os.Stat(filepath.Join(c.dir, isolatedFile)); err != nil {
		t.Fatalf("the isolation is not on disk: %v", err)
	}
	if leader := vote(7); leader != "redisrunid" {
		t.Fatalf("cut off in a mixed set, it voted %s, want redisrunid", leader)
	}
}

// A restarted member applies nothing past its snapshot until a leader
// tells it the commit: a failover its unapplied log begins and ends is not
// one in progress, and does not keep it from cutting itself off (found by
// a review: it counted every begin in that log, and voted for nobody for
// good), while one its log begins and does not end does.
func TestRestartedMemberCutsOffPastAFailoverItsLogEnds(t *testing.T) {
	master := &quorum.Master{Name: "mymaster", Addr: quorum.Addr{Host: "127.0.0.1", Port: 6399},
		Settings: quorum.Settings{Quorum: 2, DownAfterMs: 30000, FailoverTimeoutMs: 180000, ParallelSyncs: 1}}
	begin := &quorum.Command{Op: quorum.OpFailoverBegin, Name: "mymaster", Addr: quorum.Addr{Host: "127.0.0.1", Port: 6399},
		Leader: "leaderid", Epoch: 1, At: 2}
	for _, tc := range []struct {
		name string
		log  []*quorum.Command
		cut  bool
	}{
		{"begun and switched", []*quorum.Command{{Op: quorum.OpMonitor, At: 1, Master: master}, begin,
			{Op: quorum.OpSwitchMaster, Name: "mymaster", Addr: quorum.Addr{Host: "127.0.0.1", Port: 6400}, Epoch: 1, At: 3}}, true},
		{"begun, not ended", []*quorum.Command{{Op: quorum.OpMonitor, At: 1, Master: master}, begin}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, st, fs, vote := restartedMember(t, tc.log)
			if c.fsm.FailoverInProgress() {
				t.Fatal("setup: the FSM applied the log")
			}
			c.mixed.mu.Lock()
			c.mixed.foreign = []string{"redisrunid"}
			c.mixed.mu.Unlock()
			fs.leader.Store("")
			c.mu.Lock()
			c.leaderSeenAt = time.Now().Add(-time.Hour)
			c.mu.Unlock()
			c.followIsolation()
			if st.Isolated() != tc.cut {
				t.Fatalf("cut off %v, want %v (it votes %q)", st.Isolated(), tc.cut, vote(9))
			}
		})
	}
}
