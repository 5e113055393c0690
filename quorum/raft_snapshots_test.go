package quorum

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
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

// TestFailedSnapshotClosesItsFile: a snapshot whose writes fail (a full
// disk) closes its state file. hashicorp/raft v1.7.3's FileSnapshotSink
// returned from Cancel and Close before closing it when the flush failed,
// and a write error makes every later flush fail: a descriptor leaked at
// every snapshot tried while the disk stayed full. The test points the
// sink's open state file at /dev/full, which fails every write with ENOSPC.
func TestFailedSnapshotClosesItsFile(t *testing.T) {
	for _, end := range []string{"Cancel", "Close"} {
		t.Run(end, func(t *testing.T) {
			dir := t.TempDir()
			store, err := raft.NewFileSnapshotStore(dir, 1, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			sink, err := store.Create(raft.SnapshotVersionMax, 42, 7, raft.Configuration{}, 1, nil)
			if err != nil {
				t.Fatal(err)
			}
			// FileSnapshotStore keeps its snapshots in dir/snapshots.
			fd := openFileFd(t, filepath.Join(dir, "snapshots", sink.ID()+tmpSuffix, "state.bin"))
			full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer full.Close()
			if err := syscall.Dup2(int(full.Fd()), fd); err != nil {
				t.Fatal(err)
			}
			if _, err := sink.Write([]byte("state")); err != nil {
				t.Fatal(err) // buffered: the error comes at the flush
			}
			if end == "Cancel" {
				err = sink.Cancel()
			} else {
				err = sink.Close()
			}
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("%s = %v, want ENOSPC", end, err)
			}
			if target, err := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", fd)); err == nil && target == "/dev/full" {
				t.Fatalf("%s left the state file open (fd %d)", end, fd)
			}
		})
	}
}

// openFileFd is the descriptor this process holds open on path.
func openFileFd(t *testing.T, path string) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if target, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil && target == path {
			fd, err := strconv.Atoi(e.Name())
			if err != nil {
				t.Fatal(err)
			}
			return fd
		}
	}
	t.Fatalf("no descriptor open on %s", path)
	return -1
}
