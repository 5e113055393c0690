package node

import (
	"context"
	"log/slog"
	"net"
	"strings"
	"testing"

	"github.com/x0tta6bl4/gosentinel/config"
	"github.com/x0tta6bl4/gosentinel/internal/redistest"
	"github.com/x0tta6bl4/gosentinel/quorum"
)

// TestRefusedRemovePublishesNoMinusMonitor: a REMOVE the group never took
// (its Raft gone: NOQUORUM) leaves the master monitored, and must not tell
// subscribers it is gone. -monitor went out before the proposal.
func TestRefusedRemovePublishesNoMinusMonitor(t *testing.T) {
	t.Parallel() // waits on a group of one forming and timers, seconds
	var logs redistest.LogBuffer
	n, _ := leadingGroupOfOne(t, writeConf(t, ""), &logs)
	n.cl.getStore().Close()
	if err := n.Remove("mymaster"); err == nil {
		t.Fatal("REMOVE succeeded with the group's Raft closed")
	}
	if _, ok := n.sm().Master("mymaster"); !ok {
		t.Fatal("the master was removed")
	}
	if strings.Contains(logs.String(), "-monitor") {
		t.Fatalf("-monitor published for a REMOVE refused:\n%s", logs.String())
	}
}

// TestMasterAddrFromThePromotion: once the promotion is committed the
// failover can only complete, and GET-MASTER-ADDR-BY-NAME names the
// promoted replica, as the hellos do and as redis-sentinel's
// sentinelGetCurrentMasterAddress does. It named the old master until the
// switch was committed, for as long as an election when the leader was
// lost in between.
func TestMasterAddrFromThePromotion(t *testing.T) {
	cfg, err := config.Load(writeConf(t, ""), nil)
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
	defer n.Close()
	st := n.localFSM.State()
	m := st.Masters["mymaster"]
	m.ConfigEpoch = 7
	replica := quorum.Addr{Host: "127.0.0.1", Port: 6400}
	m.Failover = &quorum.Failover{Epoch: 7, Replica: replica, From: m.Addr, Leader: "x"}
	n.localFSM.Replace(st)
	if _, port, ok := n.MasterAddr("mymaster"); !ok || port != "6399" {
		t.Fatalf("before the promotion: port %s (%v), want the master's 6399", port, ok)
	}
	m.Failover.Promoted = true
	n.localFSM.Replace(st)
	if _, port, ok := n.MasterAddr("mymaster"); !ok || port != "6400" {
		t.Fatalf("after the promotion: port %s (%v), want the promoted replica's 6400", port, ok)
	}
}

// TestFailoverWaitsForTheEngineOfTheRaftLeader: SENTINEL FAILOVER asked of
// the Raft leader while its failover engine is between terms (a term starts
// after the election's barrier, and again a second after one in doubt)
// waits as for an election. It answered the engine's internal "this
// sentinel is not the failover leader", which no client can act on.
func TestFailoverWaitsForTheEngineOfTheRaftLeader(t *testing.T) {
	t.Parallel() // waits on a group of one forming and timers, seconds
	var logs redistest.LogBuffer
	n, _ := leadingGroupOfOne(t, writeConf(t, ""), &logs)
	n.cl.stopTerm(context.Background())
	if !n.cl.getStore().IsLeader() {
		t.Fatal("not the Raft leader once the term stopped")
	}
	err := n.Failover("mymaster")
	if err != nil && strings.Contains(err.Error(), "not the failover leader") {
		t.Fatalf("FAILOVER on the Raft leader between terms answered %q", err)
	}
}
