package node

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/config"
	"github.com/x0tta6bl4/gosentinel/internal/redistest"
	"github.com/x0tta6bl4/gosentinel/quorum"
)

func TestOtherRecord(t *testing.T) {
	at := func(epoch uint64) *quorum.Master { return &quorum.Master{Name: "m", ConfigEpoch: epoch} }
	for _, tc := range []struct {
		name         string
		known, group *quorum.Master
		recreated    bool
		want         bool
	}{
		{"moved by a failover", at(3), at(4), false, false},
		{"moved by the failover whose promotion this sentinel knew", at(3), at(3), false, false},
		{"recreated, its epoch back to 0", at(3), at(0), false, true},
		{"neither failed over, at two addresses", at(0), at(0), false, true},
		{"a lower epoch than known", at(5), at(3), false, true},
		{"recreated and failed over since, told by the log", at(3), at(7), true, true},
	} {
		if got := otherRecord(tc.known, tc.group, tc.recreated); got != tc.want {
			t.Errorf("%s: otherRecord = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestCatchUpRecreates: of the commands a returning member applies beyond
// its own log, a MONITOR recreates a record only after a REMOVE of that
// name. Counting every MONITOR took every failover missed by a member that
// lost its Raft directory (it catches up from the first entry) for a
// recreated record.
func TestCatchUpRecreates(t *testing.T) {
	monitor := func(name string) *quorum.Command {
		return &quorum.Command{Op: quorum.OpMonitor, Master: &quorum.Master{Name: name}}
	}
	remove := func(name string) *quorum.Command { return &quorum.Command{Op: quorum.OpRemove, Name: name} }
	var u catchUp
	for _, c := range []*quorum.Command{monitor("a"), monitor("b"), remove("b"), monitor("b"), remove("c"), {Op: quorum.OpObserveEpoch}} {
		u.note(c)
	}
	if want := map[string]bool{"b": true}; !maps.Equal(u.recreated, want) {
		t.Fatalf("recreated %v, want %v", u.recreated, want)
	}
}

func TestRecreatedRecords(t *testing.T) {
	state := func(created map[string]int64) *quorum.State {
		s := quorum.NewState()
		for name, at := range created {
			s.Masters[name] = &quorum.Master{Name: name, CreatedAt: at}
		}
		return s
	}
	before := state(map[string]int64{"same": 1, "again": 2, "gone": 3})
	after := state(map[string]int64{"same": 1, "again": 5, "new": 6})
	if got := recreatedRecords(before, after); !slices.Equal(got, []string{"again"}) {
		t.Fatalf("recreatedRecords = %v, want [again]", got)
	}
	if got := recreatedRecords(nil, after); got != nil {
		t.Fatalf("with nothing before: %v", got)
	}
}

// writeConf writes a sentinel.conf monitoring mymaster at 127.0.0.1:6399,
// with the lines extra, in a directory of its own, and returns its path.
func writeConf(t *testing.T, extra string) string {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "sentinel.conf")
	if err := os.WriteFile(path, []byte("dir "+dir+"\nsentinel monitor mymaster 127.0.0.1 6399 2\n"+extra), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// leadingGroupOfOne serves the node of path as a group of one and waits
// until it is active and its failover engine leads.
func leadingGroupOfOne(t *testing.T, path string, logs *redistest.LogBuffer) (*Node, func()) {
	t.Helper()
	return serveUntil(t, path, logs, "the group leads", func(n *Node) error {
		if !n.cl.isActive() || !n.eng.Leading() {
			return errors.New("not yet")
		}
		return nil
	})
}

// serveUntil starts a node of a one-member group on path and waits until
// ready holds; the node is stopped when the test ends, or by the caller.
func serveUntil(t *testing.T, path string, logs *redistest.LogBuffer, what string, ready func(*Node) error) (*Node, func()) {
	t.Helper()
	cfg, err := config.Load(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	n, err := New(cfg, Options{Listeners: []net.Listener{ln}, Logger: slog.New(slog.NewTextHandler(logs, nil)),
		Cluster: ClusterOptions{Size: 1}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Serve(ctx) }()
	var once sync.Once
	stop := func() { once.Do(func() { cancel(); <-done; n.Close() }) }
	t.Cleanup(stop)
	redistest.Wait(t, 15*time.Second, what, func() error { return ready(n) })
	return n, stop
}

// TestRemonitorMissedWhileAwayIsNotASwitch: while a member was away, the
// group removed mymaster (at 6399) and monitored another node under that
// name (at 6400). The returning member took the new record for a failover
// of the old one: +switch-master, and 6399, a node the group no longer
// monitors, listed as a replica of the new master, which a leader then
// reconfigures to replicate it (SLAVEOF, its data replaced).
func TestRemonitorMissedWhileAwayIsNotASwitch(t *testing.T) {
	t.Parallel() // waits on a group of one forming and timers, seconds
	path := writeConf(t, "sentinel myid 0123456789abcdef0123456789abcdef01234567\n")
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// The group (of one here; in life this member was down) recreates
	// mymaster elsewhere.
	var logs1 redistest.LogBuffer
	n1, stop1 := leadingGroupOfOne(t, path, &logs1)
	if err := n1.Remove("mymaster"); err != nil {
		t.Fatal(err)
	}
	if err := n1.Monitor("mymaster", "127.0.0.1", "6400", "2"); err != nil {
		t.Fatal(err)
	}
	stop1()
	// The member comes back with its file as it was.
	if err := os.WriteFile(path, orig, 0o644); err != nil {
		t.Fatal(err)
	}
	var logs2 redistest.LogBuffer
	n2, _ := serveUntil(t, path, &logs2, "the member active", func(n *Node) error {
		if !strings.Contains(logs2.String(), "Sentinel Raft group active") {
			return errors.New("not active yet")
		}
		return nil
	})
	if a, ok := n2.sm().MasterAddr("mymaster"); !ok || a.Port != 6400 {
		t.Fatalf("the group's mymaster: %v, %v", a, ok)
	}
	if strings.Contains(logs2.String(), "+switch-master") {
		t.Errorf("a switch was announced:\n%s", logs2.String())
	}
	ms, ok := n2.mon.Status("mymaster")
	if !ok || ms.Master.Ref.Addr.Port != 6400 {
		t.Fatalf("the monitor watches mymaster at %v (%v)", ms.Master.Ref.Addr, ok)
	}
	for _, r := range ms.Replicas {
		if r.Ref.Addr.Port == 6399 {
			t.Errorf("6399, no longer monitored by the group, is a replica of the new mymaster")
		}
	}
}
