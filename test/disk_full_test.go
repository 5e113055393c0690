package test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/bench/harness"
	"github.com/x0tta6bl4/gosentinel/internal/redistest"
)

// TestDiskFullMemberStopsVouching: a member whose disk fills up cannot
// append what the leader sends, yet it keeps hearing the leader's
// heartbeats (they write nothing), so its last contact stayed fresh. After
// a failover it answered GET-MASTER-ADDR-BY-NAME with the old master for
// as long as its disk stayed full. It now answers null while its appends
// fail (INFO raft names the error), and the new master once the disk has
// room again and the leader's next append catches it up. redis-sentinel
// keeps its state in memory and only fails to rewrite its config file.
// Then, full again, the member lives through its group's next election,
// and restarts with its Raft state opened.
func TestDiskFullMemberStopsVouching(t *testing.T) {
	t.Parallel() // mostly waiting: see parallelTests in main_test.go
	bin := candidateBin(t)
	tp := redistest.StartTopology(t, 2, redistest.RedisOptions{})
	d := &harness.Deployment{
		Opts:     harness.Options{Bin: bin, Raft: true, Settle: failoverSettle, Sentinels: 3, Replicas: 2, Quorum: 2, DownAfter: failoverDownAfter, FailoverTimeout: 10 * time.Second},
		Topology: tp,
		Nodes:    append([]*redistest.Redis{tp.Master}, tp.Replicas...),
	}
	// Each sentinel's dir (its Raft state) on a small disk of its own.
	disks := make([]string, 3)
	for i := range disks {
		disks[i] = mountTmpfs(t, "4m")
		o := d.SentinelOptions()
		o.Extra = append(o.Extra, "dir "+disks[i])
		d.Sentinels = append(d.Sentinels, redistest.StartSentinel(t, o))
	}
	redistest.WaitDiscovered(t, d.Sentinels, tp, groupDeadline)
	if err := d.WaitGroupActive(d.Sentinels, groupDeadline); err != nil {
		t.Fatal(err)
	}
	leader, err := d.WaitRaftLeader(groupDeadline)
	if err != nil {
		t.Fatal(err)
	}
	full := d.Sentinels[(leader+1)%3]
	fill(t, filepath.Join(disks[(leader+1)%3], "fill"))

	old := tp.Master.Port()
	if r, err := d.Sentinels[leader].Do("SENTINEL", "FAILOVER", harness.MasterName); err != nil || r.Str != "OK" {
		t.Fatalf("SENTINEL FAILOVER: %v %v", r, err)
	}
	// The two others agree on the new master.
	var next int
	err = redistest.PollErr(switchDeadline, 20*time.Millisecond, func() error {
		next = 0
		for _, s := range d.Sentinels {
			if s == full {
				continue
			}
			p, err := harness.MasterPort(s)
			if err != nil || p == 0 || p == old || next != 0 && p != next {
				return fmt.Errorf("%s: master %d, %v", s.Name(), p, err)
			}
			next = p
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	switched := time.Now()
	// The full member answers null, not the old master.
	err = redistest.PollErr(5*time.Second, 20*time.Millisecond, func() error {
		p, err := harness.MasterPort(full)
		switch {
		case err != nil:
			return err
		case p == 0:
			return nil
		case p == next:
			return redistest.Abort(fmt.Errorf("%s answers the new master %d with a full disk", full.Name(), p))
		}
		return fmt.Errorf("%s answers master %d", full.Name(), p)
	})
	if err != nil {
		t.Fatalf("%v %v after the others switched", err, time.Since(switched).Round(time.Millisecond))
	}
	info, err := raftInfo(full)
	if err != nil {
		t.Fatal(err)
	}
	if info["raft_vouching"] != "0" || info["raft_log_store_error"] == "" {
		t.Fatalf("%s with a full disk: raft_vouching %q, raft_log_store_error %q; want 0 and the error", full.Name(), info["raft_vouching"], info["raft_log_store_error"])
	}
	t.Logf("%s with a full disk answers null %v after the others switched: %s", full.Name(), time.Since(switched).Round(time.Millisecond), info["raft_log_store_error"])

	// Room again: it catches up.
	if err := os.Remove(filepath.Join(disks[(leader+1)%3], "fill")); err != nil {
		t.Fatal(err)
	}
	freed := time.Now()
	err = redistest.PollErr(10*time.Second, 20*time.Millisecond, func() error {
		p, err := harness.MasterPort(full)
		if err != nil || p != next {
			return fmt.Errorf("%s: master %d, %v; want %d", full.Name(), p, err, next)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s answers the new master %d %v after its disk had room again", full.Name(), next, time.Since(freed).Round(time.Millisecond))

	// Full again, and the leader dies: the two left stand for a new term
	// with the full member's disk still full. Saving a term writes one
	// small bolt transaction, which fails only when bolt's file has no free
	// page left for it (here it mostly finds one and the term is saved);
	// when it failed, hashicorp/raft panicked ("failed to save current
	// term") and the process exited. quorum's
	// TestRaftStore_UnsavedTermIsRefusedNotFatal forces that failure; this
	// checks the member keeps running through its group's elections on a
	// real full disk, and that the two elect a leader once it has room.
	fullDisk := filepath.Join(disks[(leader+1)%3], "fill")
	fill(t, fullDisk)
	if err := d.Sentinels[leader].Kill(); err != nil {
		t.Fatal(err)
	}
	other := d.Sentinels[(leader+2)%3]
	term := func(s *redistest.Sentinel) (uint64, error) {
		info, err := raftInfo(s)
		if err != nil {
			return 0, err
		}
		return strconv.ParseUint(info["raft_term"], 10, 64)
	}
	fullTerm, err := term(full)
	if err != nil {
		t.Fatal(err)
	}
	err = redistest.PollErr(groupDeadline, 50*time.Millisecond, func() error {
		if !full.Running() {
			return redistest.Abort(fmt.Errorf("%s exited with a full disk while %s stood for a new term", full.Name(), other.Name()))
		}
		if _, err := term(full); err != nil {
			return err
		}
		ot, err := term(other)
		if err != nil {
			return err
		}
		if ot <= fullTerm {
			return fmt.Errorf("%s at term %d, not past %d yet", other.Name(), ot, fullTerm)
		}
		return nil
	})
	if err != nil {
		harness.LogRunsIfFailed(t, d.Sentinels)
		t.Fatal(err)
	}
	if err := os.Remove(fullDisk); err != nil {
		t.Fatal(err)
	}
	freed = time.Now()
	err = redistest.PollErr(groupDeadline, 20*time.Millisecond, func() error {
		for _, s := range []*redistest.Sentinel{full, other} {
			if info, err := raftInfo(s); err == nil && info["raft_state"] == "leader" {
				return nil
			}
		}
		return fmt.Errorf("no leader among %s and %s", full.Name(), other.Name())
	})
	if err != nil {
		t.Fatal(err)
	}
	ft, _ := term(full)
	t.Logf("%s kept running with a full disk while %s stood for a new term (its term went from %d to %d); a leader %v after it had room", full.Name(), other.Name(), fullTerm, ft, time.Since(freed).Round(time.Millisecond))

	// Restarted with its disk full, it starts and opens its Raft state:
	// the start used to exit 1 ("failed to save the peer keys"), and then
	// the advertised address, rewritten at every open, kept the state from
	// opening (raft_state none, raft_phase alone) for as long as the disk
	// stayed full. Whether it is caught up depends on what the leader
	// appended before the disk filled again, which it cannot store.
	fill(t, fullDisk)
	if err := full.Stop(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	if err := full.Start(); err != nil {
		t.Fatalf("%s restarted with a full disk: %v", full.Name(), err)
	}
	err = redistest.PollErr(groupDeadline, 50*time.Millisecond, func() error {
		info, err := raftInfo(full)
		if err != nil {
			return err
		}
		if phase := info["raft_phase"]; info["raft_state"] == "none" || phase != "member" && phase != "joining" {
			return fmt.Errorf("%s restarted with a full disk: raft_state %s, raft_phase %s", full.Name(), info["raft_state"], phase)
		}
		return nil
	})
	if err != nil {
		harness.LogRunsIfFailed(t, d.Sentinels)
		t.Fatal(err)
	}
	t.Logf("%s restarted with a full disk and opened its Raft state", full.Name())
}

// mountTmpfs mounts a tmpfs of size on a new directory (root, as the
// network lab needs) and unmounts it once the test's processes stopped.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Fatalf("mount a tmpfs on %s (needs root): %v: %s", dir, err, out)
	}
	// Registered before the processes using it start: cleanups run last in
	// first out, so this runs after they are stopped.
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// fill writes path until the file system has no room left.
func fill(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	for {
		if _, err := f.Write(buf); err != nil {
			if errors.Is(err, syscall.ENOSPC) {
				return
			}
			t.Fatal(err)
		}
	}
}
