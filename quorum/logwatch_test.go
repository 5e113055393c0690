package quorum

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"github.com/x0tta6bl4/gosentinel/internal/redistest"
)

// fullDisk is a log store that fails every append while full is set, as
// raft-boltdb does on a full disk (ENOSPC from its write).
type fullDisk struct {
	raft.LogStore
	full atomic.Bool
}

var errNoSpace = errors.New("write raft.db: no space left on device")

func (d *fullDisk) StoreLog(l *raft.Log) error {
	if d.full.Load() {
		return errNoSpace
	}
	return d.LogStore.StoreLog(l)
}

func (d *fullDisk) StoreLogs(logs []*raft.Log) error {
	if d.full.Load() {
		return errNoSpace
	}
	return d.LogStore.StoreLogs(logs)
}

// TestRaftStore_LogStoreErrorWhileAppendsFail: a follower whose disk is
// full keeps hearing the leader (heartbeats write nothing), so its last
// contact stays fresh while its applied state falls behind the group's;
// LogStoreError is what tells. It is set from the first failed append and
// cleared by the first that succeeds, after which the follower catches up.
func TestRaftStore_LogStoreErrorWhileAppendsFail(t *testing.T) {
	disk := &fullDisk{LogStore: raft.NewInmemStore()}
	d := newInmemDisk()
	d.logs = disk
	a, b := newInmemNode(t, "a", 0), newInmemNode(t, "b", 0)
	c := openInmemNode(t, "c", 0, d, false)
	connectAll(a, b, c)
	bootstrapLed(t, a, b, c)
	propose := func(name string) uint64 { return proposeMonitor(t, a, name) }
	applied := func(idx uint64) {
		t.Helper()
		redistest.Wait(t, 10*time.Second, "c applies", func() error {
			if got := c.store.AppliedIndex(); got < idx {
				return fmt.Errorf("c applied %d, want %d", got, idx)
			}
			return nil
		})
	}
	applied(propose("m1"))
	if err := c.store.LogStoreError(); err != nil {
		t.Fatalf("LogStoreError %v after appends that succeeded", err)
	}

	disk.full.Store(true)
	idx := propose("m2") // committed by a and b
	redistest.Wait(t, 10*time.Second, "c's failed append", func() error {
		if c.store.LogStoreError() == nil {
			return errors.New("no error yet")
		}
		return nil
	})
	if err := c.store.LogStoreError(); !errors.Is(err, errNoSpace) {
		t.Fatalf("LogStoreError %v, want the store's error", err)
	}
	// The premise: heard from the leader lately, yet behind.
	if since := time.Since(c.store.LastContact()); since > time.Second || c.store.AppliedIndex() >= idx {
		t.Fatalf("c heard the leader %v ago and applied %d of %d: want fresh contact and behind", since, c.store.AppliedIndex(), idx)
	}

	disk.full.Store(false)
	applied(idx)
	redistest.Wait(t, 10*time.Second, "the error cleared", func() error {
		if err := c.store.LogStoreError(); err != nil {
			return err
		}
		return nil
	})
}

// TestRaftStore_SnapshotClearsLogStoreError: a follower whose appends
// failed long enough that the leader compacted the entries it lacks is
// caught up with a snapshot. It has the group's state then, and with
// nothing proposed after the snapshot no append follows to clear the
// error: the restore clears it, or the member would stop vouching until
// the next commit, however long an idle set waits for one.
func TestRaftStore_SnapshotClearsLogStoreError(t *testing.T) {
	var mu sync.Mutex
	disks := map[string]*fullDisk{}
	nodes := newBootstrappedTrio(t, "secret", func(c *RaftConfig) {
		d := &fullDisk{LogStore: raft.NewInmemStore()}
		mu.Lock()
		disks[c.ID] = d
		mu.Unlock()
		c.LogStore, c.StableStore, c.SnapshotStore = d, raft.NewInmemStore(), raft.NewInmemSnapshotStore()
		c.SnapshotThreshold, c.TrailingLogs = 4, 1
	})
	leader := waitLeader(t, nodes...)
	var f *raftNode
	for _, n := range nodes {
		if n != leader {
			f = n
			break
		}
	}
	mu.Lock()
	disk := disks[f.id]
	mu.Unlock()
	disk.full.Store(true)
	ctx := context.Background()
	for i := range 10 {
		if err := leader.store.Propose(ctx, monitorCmd(fmt.Sprintf("m%02d", i), 6000+i, int64(i+1))); err != nil {
			t.Fatal(err)
		}
	}
	redistest.Wait(t, 10*time.Second, "the follower's failed append", func() error {
		if f.store.LogStoreError() == nil {
			return errors.New("no error yet")
		}
		return nil
	})
	// The leader snapshots its last entry and keeps one: the follower
	// lacks entries only the snapshot holds.
	if err := leader.store.Snapshot(); err != nil {
		t.Fatal(err)
	}
	disk.full.Store(false)
	waitState(t, leader.fsm.State(), nodes...)
	if f.restores.Load() == 0 {
		t.Fatal("the follower caught up without a snapshot")
	}
	if err := f.store.LogStoreError(); err != nil {
		t.Fatalf("LogStoreError %v after the snapshot caught the follower up", err)
	}
}
