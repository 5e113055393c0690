package quorum

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	"go.etcd.io/bbolt"
)

// raftStores are the three stores Raft runs on, and how to close them.
type raftStores struct {
	logs   raft.LogStore
	stable raft.StableStore
	snaps  raft.SnapshotStore
	close  func() error // nil for injected stores
}

// openStores opens the configured stores: the injected ones, or raft.db
// (bolt: log and stable store, behind a log cache) and snapshots/ under Dir.
func (s *RaftStore) openStores(hlog hclog.Logger) (raftStores, error) {
	if s.cfg.LogStore != nil {
		return raftStores{logs: s.cfg.LogStore, stable: s.cfg.StableStore, snaps: s.cfg.SnapshotStore}, nil
	}
	if err := privateDir(s.cfg.Dir); err != nil {
		return raftStores{}, fmt.Errorf("failed to create raft directory: %w", err)
	}
	bolt, err := raftboltdb.New(raftboltdb.Options{
		Path: filepath.Join(s.cfg.Dir, raftDBFile),
		// Fail instead of waiting forever when another process holds it.
		BoltOptions: &bbolt.Options{Timeout: time.Second},
	})
	if err != nil {
		return raftStores{}, fmt.Errorf("failed to open raft log store: %w", err)
	}
	logs, err := raft.NewLogCache(logCacheSize, bolt)
	if err != nil {
		bolt.Close()
		return raftStores{}, fmt.Errorf("failed to create raft log cache: %w", err)
	}
	files, err := raft.NewFileSnapshotStoreWithLogger(s.cfg.Dir, retainSnapshots, hlog.Named("snapshot"))
	if err != nil {
		bolt.Close()
		return raftStores{}, fmt.Errorf("failed to create raft snapshot store: %w", err)
	}
	snaps := privateSnapshots{SnapshotStore: files, dir: filepath.Join(s.cfg.Dir, snapshotsDir)}
	if err := snaps.tighten(); err != nil {
		bolt.Close()
		return raftStores{}, err
	}
	return raftStores{logs: logs, stable: bolt, snaps: snaps, close: bolt.Close}, nil
}

// The Raft directory holds the replicated state, auth-pass included, so
// everything under it is private to the sentinel's user: directories 0700,
// files 0600. raft.db is created 0600 by raft-boltdb; hashicorp/raft's
// FileSnapshotStore creates snapshots/ and each snapshot's directory 0755
// and meta.json and state.bin 0644 (with os.Create), and has no option for
// it, so privateSnapshots tightens them after each snapshot is written. A
// snapshot being written is already out of reach: its parents are 0700.

// snapshotsDir is the FileSnapshotStore's directory under Dir.
const snapshotsDir = "snapshots"

// privateDir creates dir 0700, or makes an existing one 0700 (a directory
// an older version created 0755).
func privateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return os.Chmod(dir, 0o700)
}

// privateSnapshots is a SnapshotStore whose snapshots end up 0600 files in
// 0700 directories.
type privateSnapshots struct {
	raft.SnapshotStore
	dir string // the snapshots directory
}

// Create starts a snapshot whose sink tightens the modes when it is closed.
func (p privateSnapshots) Create(version raft.SnapshotVersion, index, term uint64, configuration raft.Configuration,
	configurationIndex uint64, trans raft.Transport) (raft.SnapshotSink, error) {
	sink, err := p.SnapshotStore.Create(version, index, term, configuration, configurationIndex, trans)
	if err != nil {
		// FileSnapshotStore returns without removing the directory it
		// made (a full disk fails its first write): one more at every
		// snapshot tried, each logged at every listing.
		p.removeTemp(fmt.Sprintf("%d-%d-*%s", term, index, tmpSuffix))
		return nil, err
	}
	return privateSink{SnapshotSink: sink, store: p}, nil
}

// tmpSuffix ends the name of a snapshot being written (FileSnapshotStore's).
const tmpSuffix = ".tmp"

// removeTemp removes the snapshot directories being written that match
// pattern.
func (p privateSnapshots) removeTemp(pattern string) {
	dirs, _ := filepath.Glob(filepath.Join(p.dir, pattern))
	for _, d := range dirs {
		_ = os.RemoveAll(d)
	}
}

// tighten makes every directory under the snapshots directory 0700 and
// every file 0600.
func (p privateSnapshots) tighten() error {
	err := filepath.WalkDir(p.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // a snapshot reaped meanwhile
			}
			return err
		}
		mode := fs.FileMode(0o600)
		if d.IsDir() {
			mode = 0o700
		}
		if err := os.Chmod(path, mode); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("failed to make the raft snapshots private: %w", err)
	}
	return nil
}

type privateSink struct {
	raft.SnapshotSink
	store privateSnapshots
}

// Cancel drops the snapshot: FileSnapshotSink.Cancel returns before it
// removes its directory when its last flush fails (a full disk).
func (s privateSink) Cancel() error {
	err := s.SnapshotSink.Cancel()
	s.store.removeTemp(s.ID() + tmpSuffix)
	return err
}

// Close finishes the snapshot, then tightens the modes of what it wrote.
func (s privateSink) Close() error {
	if err := s.SnapshotSink.Close(); err != nil {
		return err
	}
	return s.store.tighten()
}

// The stable store keys hashicorp/raft keeps its term and vote under
// (raft.go: keyCurrentTerm, keyLastVoteTerm, keyLastVoteCand).
var (
	keyCurrentTerm  = []byte("CurrentTerm")
	keyLastVoteTerm = []byte("LastVoteTerm")
	keyLastVoteCand = []byte("LastVoteCand")
)

// abstainedCandidate is recorded as the vote of an abstained term: no
// candidate has this address, so raft grants no vote in that term.
var abstainedCandidate = []byte("abstained")

// abstain records term as the current term and as a term in which this
// server voted, when the stable store holds no term yet (a server that
// lost its disk, about to rejoin). Raft then ignores vote requests of
// older terms and refuses every candidate of that term, so the server
// cannot vote twice in a term its former self may have voted in. It does
// nothing when term is 0 or a term is recorded already.
func abstain(stable raft.StableStore, term uint64) error {
	if term == 0 {
		return nil
	}
	cur, err := stable.GetUint64(keyCurrentTerm)
	if err != nil && !isNotFound(err) {
		return fmt.Errorf("failed to read raft term: %w", err)
	}
	if cur != 0 {
		return nil
	}
	if err := stable.SetUint64(keyCurrentTerm, term); err != nil {
		return fmt.Errorf("failed to record raft term: %w", err)
	}
	if err := stable.SetUint64(keyLastVoteTerm, term); err != nil {
		return fmt.Errorf("failed to record raft vote term: %w", err)
	}
	if err := stable.Set(keyLastVoteCand, abstainedCandidate); err != nil {
		return fmt.Errorf("failed to record raft vote: %w", err)
	}
	return nil
}

// isNotFound matches the "not found" errors of raft's stable stores (bolt
// and in-memory both use that text; raft itself compares it so).
func isNotFound(err error) bool {
	return err != nil && (errors.Is(err, raftboltdb.ErrKeyNotFound) || err.Error() == "not found")
}
