package test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/bench/harness"
	"github.com/x0tta6bl4/gosentinel/bench/partition"
	"github.com/x0tta6bl4/gosentinel/internal/netlab"
	"github.com/x0tta6bl4/gosentinel/internal/redistest"
)

// TestNetlabSnapshotInstalledOnMember: a member cut off while the group
// fails its master over, and brought back after the leader compacted its
// log past what the member has, receives the group's state as a snapshot
// (raft's InstallSnapshot) while it is active. No command reports that
// change, so the node re-reads the state (RaftConfig.OnRestore): it
// announces the +switch-master it missed to its own subscribers (a client
// such as go-redis' FailoverClient listens to one sentinel only), and
// watches the new master. Raft snapshots every few entries here
// (GOSENTINEL_RAFT_SNAPSHOT_*), so that the failover's entries are enough.
func TestNetlabSnapshotInstalledOnMember(t *testing.T) {
	t.Setenv("GOSENTINEL_RAFT_SNAPSHOT_THRESHOLD", "4")
	t.Setenv("GOSENTINEL_RAFT_SNAPSHOT_INTERVAL_MS", "100")
	t.Setenv("GOSENTINEL_RAFT_TRAILING_LOGS", "1")
	d, err := partition.Start(t, partition.Options{Bin: candidateBin(t), Raft: true, DownAfter: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	hd := &harness.Deployment{Sentinels: d.Sentinels}
	leader, err := hd.WaitRaftLeader(30 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	member := (leader + 1) % len(d.Sentinels)
	m := d.Sentinels[member]
	defer harness.LogRunsIfFailed(t, d.Sentinels)

	// The test process is the lab's observer: a cut leaves its links up.
	sub := m.Dial(t)
	defer sub.Close()
	if err := sub.Send("SUBSCRIBE", "+switch-master"); err != nil {
		t.Fatal(err)
	}
	if _, err := sub.Read(); err != nil {
		t.Fatal(err)
	}
	raftInfo := func(s *redistest.Sentinel, field string) (uint64, error) {
		r, err := s.Do("INFO", "raft")
		if err != nil {
			return 0, err
		}
		v, ok := redistest.ParseInfo(r.Text())[field]
		if !ok {
			return 0, fmt.Errorf("INFO raft has no %s", field)
		}
		return strconv.ParseUint(v, 10, 64)
	}
	cutAt, err := raftInfo(m, "raft_last_log_index")
	if err != nil {
		t.Fatal(err)
	}

	if err := d.Lab.Cut([]*netlab.Host{d.SentinelHosts[member]}, d.AllBut(d.SentinelHosts[member])); err != nil {
		t.Fatal(err)
	}
	old := d.Nodes[0]
	if _, err := d.Sentinels[leader].Do("SENTINEL", "FAILOVER", harness.MasterName); err != nil {
		t.Fatalf("SENTINEL FAILOVER on the leader: %v", err)
	}
	var to string
	redistest.Wait(t, 30*time.Second, "the leader's switch", func() error {
		r, err := d.Sentinels[leader].Do("SENTINEL", "GET-MASTER-ADDR-BY-NAME", harness.MasterName)
		if err != nil {
			return err
		}
		a, err := r.Strings()
		if err != nil || len(a) != 2 {
			return fmt.Errorf("reply %v", r)
		}
		if a[1] == strconv.Itoa(old.Port()) && a[0] == old.Host() {
			return fmt.Errorf("still %s:%s", a[0], a[1])
		}
		to = a[0] + " " + a[1]
		return nil
	})
	// More entries than a snapshot threshold, whatever the failover wrote:
	// masters monitored and removed while the member is away.
	for i := 0; i < 4; i++ {
		name := "passing" + strconv.Itoa(i)
		if _, err := d.Sentinels[leader].Do("SENTINEL", "MONITOR", name, old.Host(), strconv.Itoa(old.Port()), "2"); err != nil {
			t.Fatalf("MONITOR %s: %v", name, err)
		}
		if _, err := d.Sentinels[leader].Do("SENTINEL", "REMOVE", name); err != nil {
			t.Fatalf("REMOVE %s: %v", name, err)
		}
	}
	// Everything the member has must be gone from the leader's log: it
	// can then only catch up from a snapshot.
	redistest.Wait(t, 30*time.Second, "a snapshot on the leader past the member's log", func() error {
		snap, err := raftInfo(d.Sentinels[leader], "raft_last_snapshot_index")
		if err != nil {
			return err
		}
		if snap < cutAt+2 {
			return fmt.Errorf("leader's last snapshot at %d, member's log ends at %d", snap, cutAt)
		}
		return nil
	})
	if err := d.Lab.Heal(); err != nil {
		t.Fatal(err)
	}

	// The member announces the switch it missed.
	want := harness.MasterName + " " + old.Host() + " " + strconv.Itoa(old.Port()) + " " + to
	got := make(chan string, 1)
	go func() {
		for {
			r, err := sub.Read()
			if err != nil {
				got <- "error: " + err.Error()
				return
			}
			if a, err := r.Strings(); err == nil && len(a) == 3 && a[0] == "message" {
				got <- a[2]
				return
			}
		}
	}()
	select {
	case msg := <-got:
		if msg != want {
			t.Errorf("the member published +switch-master %q, want %q", msg, want)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("the member published no +switch-master within 30 s of the heal (want %q)", want)
	}
	if n := strings.Count(harness.RunLog(m.Process), "replaced by a snapshot"); n == 0 {
		t.Errorf("the member did not log that a snapshot replaced its state")
	}
	// And it watches the new master: it sees it as a master with the old
	// one among its replicas.
	redistest.Wait(t, 30*time.Second, "the member's view of the new master", func() error {
		mm, err := m.Master(harness.MasterName)
		if err != nil {
			return err
		}
		if mm["ip"]+" "+mm["port"] != to || mm["role-reported"] != "master" || strings.Contains(mm["flags"], "down") {
			return fmt.Errorf("SENTINEL MASTER on the member: ip %s port %s role-reported %s flags %s", mm["ip"], mm["port"], mm["role-reported"], mm["flags"])
		}
		return nil
	})
}
