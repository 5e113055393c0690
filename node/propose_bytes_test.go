package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/config"
	"github.com/x0tta6bl4/gosentinel/internal/mux"
	"github.com/x0tta6bl4/gosentinel/internal/peer"
	"github.com/x0tta6bl4/gosentinel/internal/redistest"
	"github.com/x0tta6bl4/gosentinel/quorum"
	"github.com/x0tta6bl4/gosentinel/replication"
)

// startProposalMember runs the part of a member that a proposal or a
// FAILOVER forwarded to the leader crosses, wired as setupCluster wires
// it: the port's mux, the authenticated Raft and peer RPC listeners, the
// Raft store, cluster.propose and cluster.failover (which runs on c.n). It is stopped at cleanup; its Raft server is returned
// for the group's bootstrap.
func startProposalMember(t *testing.T, id string) (*cluster, quorum.Server) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	m := mux.New(ln)
	raftLn, err := m.Listen(peer.HeaderRaft)
	if err != nil {
		t.Fatal(err)
	}
	rpcLn, err := m.Listen(peer.HeaderRPC)
	if err != nil {
		t.Fatal(err)
	}
	go m.Serve()
	keys := peer.NewSecretKeys("secret")
	self := func() peer.Identity { return peer.Identity{ID: id, Addr: addr} }

	c := &cluster{fsm: quorum.NewFSM(nil)}
	c.rpc = peer.NewClient(peer.NewDialer(peer.HeaderRPC, keys, peer.WithSelf(self)), peerCodes)
	c.rpcSrv = peer.NewServer(slog.New(slog.DiscardHandler), peerCodes)
	c.rpcSrv.Handle("cluster.propose", c.handlePropose)
	c.rpcSrv.Handle("cluster.failover", c.handleFailover)
	served := make(chan struct{})
	go func() {
		defer close(served)
		c.rpcSrv.Serve(peer.NewListener(rpcLn, peer.HeaderRPC, keys, peer.WithIdentity(self)))
	}()
	st, err := quorum.NewRaftStore(quorum.RaftConfig{ID: id, Addr: addr, Dir: t.TempDir(),
		Layer: peer.NewLayer(peer.NewListener(raftLn, peer.HeaderRaft, keys, peer.WithIdentity(self)),
			peer.NewDialer(peer.HeaderRaft, keys, peer.WithSelf(self)))}, c.fsm)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Open(); err != nil {
		t.Fatal(err)
	}
	c.store = st
	t.Cleanup(func() {
		st.Close()
		c.rpcSrv.Close()
		<-served
		c.rpc.Close()
		m.Close()
	})
	return c, quorum.Server{ID: id, Addr: addr}
}

// A master's name and auth-pass of bytes that are not UTF-8, proposed on a
// follower, reach the leader's state through cluster.propose as they were
// (MONITOR, then SET), and come back to the follower's through the log.
// Encoded as plain JSON, each bad byte arrived as U+FFFD.
func TestForwardedProposalKeepsEveryByte(t *testing.T) {
	a, b := forwardingPair(t)
	members := []*cluster{a, b}

	name, pass, newPass := "m\xff\xfe", "p\x80ss\xc3", "\xf8new\uFDD0"
	propose := func(cmd *quorum.Command) (leader *cluster) {
		redistest.Wait(t, 15*time.Second, fmt.Sprintf("op %d committed through a follower", cmd.Op), func() error {
			var follower *cluster
			leader = nil
			for _, c := range members {
				if c.store.IsLeader() {
					leader = c
				} else {
					follower = c
				}
			}
			if leader == nil || follower == nil {
				return errors.New("no leader yet")
			}
			err := follower.proposeRaft(context.Background(), cmd)
			if errors.Is(err, ErrNoLeader) {
				return err
			}
			if err != nil {
				t.Fatalf("forwarded op %d: %v", cmd.Op, err)
			}
			return nil
		})
		return leader
	}
	check := func(leader *cluster, want string) {
		t.Helper()
		m, ok := leader.fsm.Master(name)
		if !ok {
			t.Fatalf("the leader has no master %q: %q", name, leader.fsm.Names())
		}
		if m.AuthPass != want {
			t.Fatalf("the leader's auth-pass of %q is %q, want %q", name, m.AuthPass, want)
		}
		redistest.Wait(t, 5*time.Second, "the follower applied the same", func() error {
			for i, c := range members {
				if m, ok := c.fsm.Master(name); !ok || m.AuthPass != want {
					return fmt.Errorf("member %d: master %q found %v: %+v", i, name, ok, m)
				}
			}
			return nil
		})
	}

	leader := propose(&quorum.Command{Op: quorum.OpMonitor, At: 1, Master: &quorum.Master{Name: name,
		Addr: quorum.Addr{Host: "127.0.0.1", Port: 6399}, Settings: quorum.Settings{Quorum: 2, AuthPass: pass}}})
	check(leader, pass)
	leader = propose(&quorum.Command{Op: quorum.OpSet, At: 2, Name: name,
		Params: []quorum.Param{{Key: "auth-pass", Value: []string{newPass}}}})
	check(leader, newPass)
}

// forwardingPair starts a two-member group of startProposalMember and
// returns its leader and its follower once they agree.
func forwardingPair(t *testing.T) (leader, follower *cluster) {
	t.Helper()
	a, sa := startProposalMember(t, "s1")
	b, sb := startProposalMember(t, "s2")
	if err := a.store.Bootstrap([]quorum.Server{sa, sb}); err != nil {
		t.Fatal(err)
	}
	redistest.Wait(t, 15*time.Second, "a leader both members name", func() error {
		leader, follower = a, b
		if b.store.IsLeader() {
			leader, follower = b, a
		}
		if id, _ := follower.store.Leader(); !leader.store.IsLeader() || id == "" {
			return errors.New("no leader yet")
		}
		return nil
	})
	return leader, follower
}

// serveAlone serves a sentinel of conf's lines with Raft off, until
// cleanup, once its failover engine leads.
func serveAlone(t *testing.T, conf string) *Node {
	t.Helper()
	cfg, err := config.Load(writeConf(t, conf), nil)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	n, err := New(cfg, Options{Listeners: []net.Listener{ln}, Logger: slog.New(slog.DiscardHandler), Cluster: ClusterOptions{Disabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Serve(ctx) }()
	t.Cleanup(func() { cancel(); <-done; n.Close() })
	redistest.Wait(t, 10*time.Second, "the engine to lead", func() error {
		if !n.eng.Leading() {
			return errors.New("not yet")
		}
		return nil
	})
	return n
}

// A SENTINEL FAILOVER of a master named with bytes that are not UTF-8,
// forwarded by a follower, names the leader's master: the leader answers
// for it (no good replica: it has none), where the name used to arrive
// with U+FFFD and the leader answered that it had no such master.
func TestForwardedFailoverKeepsTheName(t *testing.T) {
	name := "m\xff\xfe"
	leader, follower := forwardingPair(t)
	// The leader's FAILOVER runs on a sentinel of its own that monitors
	// the master: what matters is the name it is asked for.
	leader.n = serveAlone(t, `sentinel monitor "m\xff\xfe" 127.0.0.1 6399 2`+"\n")
	follower.n = leader.n
	if _, ok := leader.n.sm().Master(name); !ok {
		t.Fatalf("the leader's sentinel does not monitor %q: %q", name, leader.n.sm().Names())
	}
	err := follower.forwardFailover(context.Background(), name)
	if !errors.Is(err, replication.ErrNoGoodSlave) {
		t.Fatalf("forwarded FAILOVER %q: %v, want the leader's answer for that master, %v", name, err, replication.ErrNoGoodSlave)
	}
}
