package quorum

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/internal/mux"
	"github.com/x0tta6bl4/gosentinel/internal/peer"
	"github.com/x0tta6bl4/gosentinel/internal/redistest"
)

// raftNode is one in-process sentinel's Raft side, wired as the node wires
// it: a TCP listener on loopback, the first-byte mux, the authenticated peer
// listener and dialer, a RaftStore over them.
type raftNode struct {
	t                     *testing.T
	id, addr, dir, secret string
	tune                  func(*RaftConfig)

	fsm      *FSM
	store    *RaftStore
	mux      *mux.Mux
	listener *peer.Listener
	running  bool

	restores atomic.Int32 // OnRestore calls since the last start
	// applyHook, if set, runs after each command is applied (a test
	// holds a follower's applies behind its log with it).
	applyHook atomic.Pointer[func(*Command)]
	mu        sync.Mutex
	replays   []bool // Recovering() seen by each ApplyFunc call since the last start
}

// newRaftNode picks a kernel port for the node; it keeps it across restarts
// because its address is in the Raft configuration.
func newRaftNode(t *testing.T, id, secret string, tune func(*RaftConfig)) *raftNode {
	t.Helper()
	n := &raftNode{t: t, id: id, dir: t.TempDir(), secret: secret, tune: tune, addr: "127.0.0.1:0"}
	n.start()
	t.Cleanup(n.stop)
	return n
}

func testRaftLogger() *slog.Logger {
	if os.Getenv("GOSENTINEL_RAFT_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// start opens the store over a fresh FSM and the node's directory.
func (n *raftNode) start() {
	n.t.Helper()
	ln, err := net.Listen("tcp", n.addr)
	if err != nil {
		n.t.Fatalf("%s: listen: %v", n.id, err)
	}
	n.addr = ln.Addr().String()
	n.mux = mux.New(ln)
	sub, err := n.mux.Listen(peer.HeaderRaft)
	if err != nil {
		n.t.Fatal(err)
	}
	// It states its id, as a node's does, so that a dial naming the id
	// (peer.TargetAddr, which a DialAddress may give) reaches it.
	id, addr := n.id, n.addr
	n.listener = peer.NewListener(sub, peer.HeaderRaft, peer.NewSecretKeys(n.secret),
		peer.WithIdentity(func() peer.Identity { return peer.Identity{ID: id, Addr: addr} }))
	go n.mux.Serve()

	n.restores.Store(0)
	n.mu.Lock()
	n.replays = nil
	n.mu.Unlock()
	n.fsm = NewFSM(func(c *Command, err error) {
		n.mu.Lock()
		n.replays = append(n.replays, n.store.Recovering())
		n.mu.Unlock()
		if h := n.applyHook.Load(); h != nil {
			(*h)(c)
		}
	})
	cfg := RaftConfig{
		ID:        n.id,
		Addr:      n.addr,
		Dir:       n.dir,
		Layer:     peer.NewLayer(n.listener, peer.NewDialer(peer.HeaderRaft, peer.NewSecretKeys(n.secret))),
		Logger:    testRaftLogger().With("node", n.id),
		OnRestore: func(*State) { n.restores.Add(1) },
	}
	if n.tune != nil {
		n.tune(&cfg)
	}
	n.store, err = NewRaftStore(cfg, n.fsm)
	if err != nil {
		n.t.Fatal(err)
	}
	if err := n.store.Open(); err != nil {
		n.t.Fatalf("%s: open: %v", n.id, err)
	}
	n.running = true
}

// stop closes the store (which closes the transport, the peer listener and
// the mux) like a sentinel shutting down.
func (n *raftNode) stop() {
	if !n.running {
		return
	}
	n.running = false
	if err := n.store.Close(); err != nil {
		n.t.Errorf("%s: close: %v", n.id, err)
	}
	n.mux.Close()
}

func (n *raftNode) server() Server { return Server{ID: n.id, Addr: n.addr} }

// newBootstrappedTrio starts s1, s2 and s3 with secret (each tuned by
// tune) and has s1 bootstrap a configuration of all three; the others join
// by voting.
func newBootstrappedTrio(t *testing.T, secret string, tune func(*RaftConfig)) []*raftNode {
	t.Helper()
	nodes := []*raftNode{
		newRaftNode(t, "s1", secret, tune),
		newRaftNode(t, "s2", secret, tune),
		newRaftNode(t, "s3", secret, tune),
	}
	servers := []Server{nodes[0].server(), nodes[1].server(), nodes[2].server()}
	if err := nodes[0].store.Bootstrap(servers); err != nil {
		t.Fatal(err)
	}
	return nodes
}

// waitLeader waits until exactly one of the running nodes leads and every
// running node names it, and returns it.
func waitLeader(t *testing.T, nodes ...*raftNode) *raftNode {
	t.Helper()
	var leader *raftNode
	redistest.Wait(t, 15*time.Second, "one raft leader", func() error {
		leader = nil
		for _, n := range nodes {
			if n.running && n.store.IsLeader() {
				if leader != nil {
					return fmt.Errorf("two leaders: %s and %s", leader.id, n.id)
				}
				leader = n
			}
		}
		if leader == nil {
			return fmt.Errorf("no leader")
		}
		for _, n := range nodes {
			if !n.running {
				continue
			}
			if id, addr := n.store.Leader(); id != leader.id || addr != leader.addr {
				return fmt.Errorf("%s thinks the leader is %q at %q, not %s", n.id, id, addr, leader.id)
			}
		}
		return nil
	})
	return leader
}

// waitState waits until every running node's FSM holds want.
func waitState(t *testing.T, want *State, nodes ...*raftNode) {
	t.Helper()
	redistest.Wait(t, 15*time.Second, "equal replicated state", func() error {
		for _, n := range nodes {
			if !n.running {
				continue
			}
			if got := n.fsm.State(); !reflect.DeepEqual(got, want) {
				return fmt.Errorf("%s has %d masters, epoch %d; want %d, %d", n.id,
					len(got.Masters), got.CurrentEpoch, len(want.Masters), want.CurrentEpoch)
			}
		}
		return nil
	})
}

func monitorCmd(name string, port int, at int64) *Command {
	return &Command{Op: OpMonitor, At: at, Master: &Master{
		Name: name, Addr: Addr{Host: "127.0.0.1", Port: port},
		Settings: Settings{Quorum: 2, DownAfterMs: 30000, FailoverTimeoutMs: 180000, ParallelSyncs: 1},
	}}
}

// proposeOnLeader proposes c on whichever node leads, again on the next
// leader if leadership moves meanwhile (as the node's forwarding does): a
// starved CI machine can make a leader miss its lease. A command that may
// have applied before leadership was lost is accepted as applied when it
// comes back as a duplicate.
func proposeOnLeader(t *testing.T, c *Command, nodes ...*raftNode) *raftNode {
	t.Helper()
	var leader *raftNode
	lost := false
	redistest.Wait(t, 20*time.Second, fmt.Sprintf("command %d committed", c.Op), func() error {
		leader = waitLeader(t, nodes...)
		err := leader.store.Propose(context.Background(), c)
		switch {
		case err == nil:
			return nil
		case lost && errors.Is(err, ErrDuplicateMaster):
			return nil
		case errors.Is(err, ErrLeadershipLost):
			lost = true
			return err
		case errors.Is(err, ErrNotLeader):
			return err
		}
		t.Fatalf("propose on %s: %v", leader.id, err)
		return nil
	})
	return leader
}
