package group

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/x0tta6bl4/gosentinel/internal/atomicfile"
)

// Persister keeps a sentinel's acceptor state. Save must be durable when it
// returns: answers that depend on the state are sent after it.
type Persister interface {
	Load() (AcceptorState, error)
	Save(AcceptorState) error
}

// FilePersister keeps the acceptor state in a JSON file, replaced
// atomically and durably (internal/atomicfile).
type FilePersister struct{ Path string }

// Load reads the state; a missing file is the zero state.
func (p FilePersister) Load() (AcceptorState, error) {
	var st AcceptorState
	b, err := os.ReadFile(p.Path)
	if errors.Is(err, os.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("failed to read %s: %w", p.Path, err)
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return st, fmt.Errorf("failed to decode %s: %w", p.Path, err)
	}
	return st, nil
}

// Save writes the state durably.
func (p FilePersister) Save(st AcceptorState) error {
	b, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("failed to encode the acceptor state: %w", err)
	}
	dir := filepath.Dir(p.Path)
	// The Raft directory: private, as Raft's state in it holds secrets.
	if err := atomicfile.PrivateDir(dir); err != nil {
		return fmt.Errorf("failed to create %s: %w", dir, err)
	}
	if err := atomicfile.Write(p.Path, b); err != nil {
		return fmt.Errorf("failed to write %s: %w", p.Path, err)
	}
	return nil
}

// MemPersister keeps the state in memory (the simulation's disks).
type MemPersister struct {
	mu sync.Mutex
	st AcceptorState
}

// Load returns the saved state.
func (p *MemPersister) Load() (AcceptorState, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.st.Clone(), nil
}

// Save replaces the saved state.
func (p *MemPersister) Save(st AcceptorState) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.st = st.Clone()
	return nil
}
