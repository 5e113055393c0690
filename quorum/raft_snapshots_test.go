package quorum

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/raft"
)

// failingSnapshots fails as FileSnapshotStore fails on a full disk: Create
// after making its directory, and its sink's Cancel before removing it.
type failingSnapshots struct {
	raft.SnapshotStore
	dir        string
	failCreate bool
}

func (f *failingSnapshots) Create(_ raft.SnapshotVersion, index, term uint64, _ raft.Configuration, _ uint64, _ raft.Transport) (raft.SnapshotSink, error) {
	name := "7-42-1700000000000"
	if err := os.MkdirAll(filepath.Join(f.dir, name+tmpSuffix), 0o700); err != nil {
		return nil, err
	}
	if f.failCreate {
		return nil, errDiskFull
	}
	return &failingSink{id: name}, nil
}

type failingSink struct {
	raft.SnapshotSink
	id string
}

func (s *failingSink) ID() string    { return s.id }
func (s *failingSink) Cancel() error { return errDiskFull }

// TestPrivateSnapshotsLeaveNoTemporaryDirectory: a snapshot that fails on
// a full disk leaves no directory behind; FileSnapshotStore left one at
// every try (31 within seconds at a short interval in the review), each
// logged as "found temporary snapshot" at every listing.
func TestPrivateSnapshotsLeaveNoTemporaryDirectory(t *testing.T) {
	dir := t.TempDir()
	tmp := filepath.Join(dir, "7-42-1700000000000"+tmpSuffix)
	for _, failCreate := range []bool{true, false} {
		inner := &failingSnapshots{dir: dir, failCreate: failCreate}
		p := privateSnapshots{SnapshotStore: inner, dir: dir}
		sink, err := p.Create(1, 42, 7, raft.Configuration{}, 1, nil)
		if failCreate {
			if !errors.Is(err, errDiskFull) {
				t.Fatalf("Create: %v", err)
			}
		} else {
			if err != nil {
				t.Fatal(err)
			}
			if err := sink.Cancel(); !errors.Is(err, errDiskFull) {
				t.Fatalf("Cancel: %v", err)
			}
		}
		if _, err := os.Stat(tmp); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("failed create %v: %s left behind (%v)", failCreate, tmp, err)
		}
	}
}
