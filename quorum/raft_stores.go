package quorum

import (
	"errors"
	"fmt"
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
	if err := os.MkdirAll(s.cfg.Dir, 0o700); err != nil {
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
	snaps, err := raft.NewFileSnapshotStoreWithLogger(s.cfg.Dir, retainSnapshots, hlog.Named("snapshot"))
	if err != nil {
		bolt.Close()
		return raftStores{}, fmt.Errorf("failed to create raft snapshot store: %w", err)
	}
	return raftStores{logs: logs, stable: bolt, snaps: snaps, close: bolt.Close}, nil
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
