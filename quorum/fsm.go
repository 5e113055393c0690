package quorum

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"
)

// Errors returned by Apply. Their texts are redis-sentinel's, so the RESP
// edge can forward them unchanged.
var (
	// ErrDuplicateMaster is returned by OpMonitor for a name already present.
	ErrDuplicateMaster = errors.New("ERR Duplicate master name.")
	// ErrNoSuchMaster is returned by ops naming an unknown master.
	ErrNoSuchMaster = errors.New("ERR No such master with that name")
	// ErrFailoverInProgress is returned by OpFailoverBegin while another
	// failover of the master is recorded.
	ErrFailoverInProgress = errors.New("INPROG Failover already in progress")
	// ErrStaleFailover is returned by failover ops whose epoch is not the
	// one in progress (a deposed leader acting on an old decision).
	ErrStaleFailover = errors.New("failover epoch is not the one in progress")
	// ErrStaleSwitch is returned by OpSwitchMaster whose epoch is not newer
	// than the master's config epoch: the switch is already recorded (a
	// follower that heard the leader's hello before applying the switch
	// proposes it a second time), or an older one lost the race.
	ErrStaleSwitch = errors.New("switch epoch is not newer than the master's config epoch")
	// ErrFailoversPaused is returned by an automatic OpFailoverBegin while
	// the master's failovers are paused (SENTINEL MAINTENANCE): the pause
	// holds in log order even against a leader that decided just before
	// applying it. SENTINEL FAILOVER (Forced) is not refused.
	ErrFailoversPaused = errors.New("failovers are paused (SENTINEL MAINTENANCE)")
	// ErrMixedProtocol is returned by an OpFailoverBegin the log decided
	// (no elected epoch) while the group's failovers follow
	// redis-sentinel's protocol (OpProtocol).
	ErrMixedProtocol = errors.New("failovers follow redis-sentinel's protocol: a sentinel that is not a gosentinel is in the set")
	// ErrStaleProtocol is returned by an OpProtocol that ends a generation
	// of the mixed protocol other than the current one.
	ErrStaleProtocol = errors.New("the mixed protocol's generation is not the one to end")
	// ErrPastPromotion is returned by an OpFailoverAbort of a failover that
	// promoted its replica: past promotion the only way out is forward.
	ErrPastPromotion = errors.New("the failover is past promotion and cannot be aborted")
	// ErrMasterMoved is returned by an OpFailoverBegin decided against a
	// master address (From) that is no longer the master's: a switch
	// applied meanwhile (a hello during the election), so the replica was
	// chosen among another master's replicas.
	ErrMasterMoved = errors.New("the master moved since the failover was decided")
)

// Verdict is one of Apply's refusals, with the name it crosses the peer
// RPC by.
type Verdict struct {
	Name string
	Err  error
}

// Verdicts are Apply's refusals of a command: a proposal that returns one
// was committed, and the state machine refused it. Anything else a
// proposal returns is a failure to commit it, which leaves the leader's
// standing in doubt. One list, so that the failover engine (which ends
// its term on such a failure) and the peer RPC (which carries a verdict
// back to a forwarding follower) cannot disagree on it: a refusal missing
// from the engine's own list ended the leader's term, and with it every
// failover it ran.
var Verdicts = []Verdict{
	{"duplicate-master", ErrDuplicateMaster},
	{"no-such-master", ErrNoSuchMaster},
	{"failover-in-progress", ErrFailoverInProgress},
	{"stale-failover", ErrStaleFailover},
	{"stale-switch", ErrStaleSwitch},
	{"failovers-paused", ErrFailoversPaused},
	{"mixed-protocol", ErrMixedProtocol},
	{"stale-protocol", ErrStaleProtocol},
	{"past-promotion", ErrPastPromotion},
	{"master-moved", ErrMasterMoved},
}

// IsVerdict reports whether err is one of Apply's refusals (Verdicts).
func IsVerdict(err error) bool {
	for _, v := range Verdicts {
		if errors.Is(err, v.Err) {
			return true
		}
	}
	return false
}

// ApplyFunc observes every applied command with its result; the node uses
// it to react (publish +switch-master, update monitors, rewrite the config).
// It runs synchronously inside Apply and must not call back into the FSM's
// write path.
type ApplyFunc func(c *Command, result error)

// FSM applies commands to State. Apply is deterministic; Snapshot and Restore
// serialise the whole state (it is small: settings of a few thousand masters
// at most).
type FSM struct {
	mu      sync.RWMutex
	state   *State
	onApply ApplyFunc
	// names caches state.Names() (nil: to be rebuilt), dropped by every
	// change of the state. The sort looks up two masters per comparison:
	// at 1000 masters, sorting on each of the engine's and the node's
	// listings (tens a second) was most of the leader's map lookups.
	names []string
	// rev identifies the state's current version (Revision).
	rev uint64
	// index is the Raft index of the last log entry in the state, when
	// Raft feeds it (ApplyBytesAt, RestoreAt, NoteIndex): StateAt reads
	// it with the state.
	index uint64
	// failing is FailoverInProgress's answer for a revision: rev<<1 | 1
	// if a failover is in progress. Readers set it under the read lock,
	// all with the same value for one revision.
	failing atomic.Uint64
}

// revisions numbers every version of every FSM's state in this process,
// so two versions never share a number, even of two FSMs (the node
// switches from its local store to the group's).
var revisions atomic.Uint64

// NewFSM returns an FSM over an empty state.
func NewFSM(onApply ApplyFunc) *FSM {
	return &FSM{state: NewState(), onApply: onApply, rev: revisions.Add(1)}
}

// Revision identifies the current version of the state: it changes with
// every command applied, restore and replacement, and no other version of
// this or any other FSM in the process had it. A reader that keeps copies
// of masters keeps them as long as the revision it copied them at holds.
func (f *FSM) Revision() uint64 {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.rev
}

// StateAt returns a deep copy of the current state and the Raft index of
// the last log entry in it, read together: an entry is in both or in
// neither.
func (f *FSM) StateAt() (*State, uint64) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.state.Clone(), f.index
}

// NoteIndex records that the log entries up to index are in the state (a
// configuration entry, which changes nothing in it; the snapshot Raft
// restored at its start).
func (f *FSM) NoteIndex(index uint64) {
	f.mu.Lock()
	f.index = max(f.index, index)
	f.mu.Unlock()
}

// State returns a deep copy of the current state.
func (f *FSM) State() *State {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.state.Clone()
}

// Names returns the master names in State.Names' order without copying
// the state: the node and the engine list the masters ten times a second,
// and a deep copy of 1000 masters each time was most of their cost.
func (f *FSM) Names() []string {
	f.mu.RLock()
	names := f.names
	f.mu.RUnlock()
	if names == nil {
		f.mu.Lock()
		if f.names == nil {
			f.names = f.state.Names()
		}
		names = f.names
		f.mu.Unlock()
	}
	return slices.Clone(names)
}

// Addrs returns every master's name and address, in Names' order, without
// copying the masters.
func (f *FSM) Addrs() []NamedAddr {
	names := f.Names()
	out := make([]NamedAddr, 0, len(names))
	f.mu.RLock()
	defer f.mu.RUnlock()
	for _, n := range names {
		if m, ok := f.state.Masters[n]; ok {
			out = append(out, NamedAddr{Name: n, Addr: m.Addr})
		}
	}
	return out
}

// NamedAddr is a master's name and current address.
type NamedAddr struct {
	Name string
	Addr Addr
}

// Master returns a copy of one master, if present.
func (f *FSM) Master(name string) (*Master, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	m, ok := f.state.Masters[name]
	if !ok {
		return nil, false
	}
	return m.Clone(), true
}

// ReadMaster calls read with one master, if present, under the state's
// read lock, without copying it: for the per-hello paths (a hello sent or
// received per master per sentinel every 2 s, 1,500 a second at 1000
// masters), where Master's deep copy was most of a follower's allocations.
// read must not modify m, keep it or anything it points to, or call back
// into the FSM.
func (f *FSM) ReadMaster(name string, read func(m *Master)) bool {
	f.mu.RLock()
	defer f.mu.RUnlock()
	m, ok := f.state.Masters[name]
	if ok {
		read(m)
	}
	return ok
}

// MasterAddr returns one master's recorded address (Addr), if present:
// Master without the copy.
func (f *FSM) MasterAddr(name string) (Addr, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	m, ok := f.state.Masters[name]
	if !ok {
		return Addr{}, false
	}
	return m.Addr, true
}

// CurrentMasterAddr returns one master's Master.CurrentAddr, if present,
// without the copy: SENTINEL GET-MASTER-ADDR-BY-NAME's answer.
func (f *FSM) CurrentMasterAddr(name string) (Addr, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	m, ok := f.state.Masters[name]
	if !ok {
		return Addr{}, false
	}
	return m.CurrentAddr(), true
}

// CurrentEpoch returns the current epoch.
func (f *FSM) CurrentEpoch() uint64 {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.state.CurrentEpoch
}

// ApplyBytes decodes and applies one encoded command. An undecodable entry or
// an unknown non-ignorable op panics: continuing would let this sentinel's
// state silently diverge from its peers'.
func (f *FSM) ApplyBytes(data []byte) error { return f.ApplyBytesAt(data, 0) }

// ApplyBytesAt is ApplyBytes of the Raft log entry at index.
func (f *FSM) ApplyBytesAt(data []byte, index uint64) error {
	c, err := Decode(data)
	if err != nil {
		panic(fmt.Sprintf("failed to apply command: %s", err))
	}
	return f.applyAt(c, index)
}

// Apply applies one decoded command and returns its result.
func (f *FSM) Apply(c *Command) error { return f.applyAt(c, 0) }

// applyAt applies c, the log entry at index (0: not from a log).
func (f *FSM) applyAt(c *Command, index uint64) error {
	f.mu.Lock()
	err := f.apply(c)
	f.names, f.rev = nil, revisions.Add(1)
	f.index = max(f.index, index)
	f.mu.Unlock()
	if f.onApply != nil {
		f.onApply(c, err)
	}
	return err
}

func (f *FSM) apply(c *Command) error {
	s := f.state
	switch c.Op {
	case OpMonitor:
		if c.Master == nil {
			return fmt.Errorf("monitor command without master")
		}
		if _, ok := s.Masters[c.Master.Name]; ok {
			return ErrDuplicateMaster
		}
		m := c.Master.Clone()
		if m.CreatedAt == 0 {
			m.CreatedAt = c.At
		}
		s.Masters[m.Name] = m
		if m.ConfigEpoch > s.CurrentEpoch {
			s.CurrentEpoch = m.ConfigEpoch
		}
	case OpRemove:
		if _, ok := s.Masters[c.Name]; !ok {
			return ErrNoSuchMaster
		}
		delete(s.Masters, c.Name)
	case OpSet:
		m, ok := s.Masters[c.Name]
		if !ok {
			return ErrNoSuchMaster
		}
		for _, p := range c.Params {
			if err := applyParam(m, p); err != nil {
				return err
			}
		}
	case OpSwitchMaster:
		m, ok := s.Masters[c.Name]
		if !ok {
			return ErrNoSuchMaster
		}
		if m.Failover != nil && c.Epoch < m.Failover.Epoch {
			return ErrStaleFailover
		}
		// The failover's own switch carries the epoch its promotion
		// already recorded as config epoch; any other switch must be newer.
		ownSwitch := m.Failover != nil && c.Epoch == m.Failover.Epoch
		if !ownSwitch && c.Epoch <= m.ConfigEpoch {
			return ErrStaleSwitch
		}
		// The switch replaces the address the state holds, whatever its
		// proposer saw: two switches proposed against one view (a
		// failover's, then a newer hello's) announce A->B, then B->C.
		c.From = m.Addr
		m.Addr = c.Addr
		m.Failover = nil
		if c.Epoch > m.ConfigEpoch {
			m.ConfigEpoch = c.Epoch
		}
		if c.Epoch > s.CurrentEpoch {
			s.CurrentEpoch = c.Epoch
		}
	case OpObserveEpoch:
		if c.Epoch > s.CurrentEpoch {
			s.CurrentEpoch = c.Epoch
		}
	case OpSetConfigEpoch:
		m, ok := s.Masters[c.Name]
		if !ok {
			return ErrNoSuchMaster
		}
		if c.Epoch > m.ConfigEpoch {
			m.ConfigEpoch = c.Epoch
		}
		if c.Epoch > s.CurrentEpoch {
			s.CurrentEpoch = c.Epoch
		}
	case OpFailoverBegin:
		m, ok := s.Masters[c.Name]
		if !ok {
			return ErrNoSuchMaster
		}
		if m.Failover != nil {
			return ErrFailoverInProgress
		}
		if !c.Forced && s.Paused(c.Name) {
			return ErrFailoversPaused
		}
		if c.From != (Addr{}) && c.From != m.Addr {
			return ErrMasterMoved
		}
		// A failover decided by redis-sentinel's vote (a mixed set,
		// docs/DESIGN.md) carries the epoch it was elected in, already
		// observed; one the log decides takes the next epoch.
		switch {
		case c.Epoch == 0 && s.Mixed:
			return ErrMixedProtocol
		case c.Epoch == 0:
			s.CurrentEpoch++
		case c.Epoch < s.CurrentEpoch:
			return ErrStaleFailover
		default:
			s.CurrentEpoch = c.Epoch
		}
		m.Failover = &Failover{Epoch: s.CurrentEpoch, Replica: c.Addr, From: m.Addr, Leader: c.Leader,
			Forced: c.Forced, StartedAt: c.At}
	case OpFailoverPromoted:
		m, ok := s.Masters[c.Name]
		if !ok {
			return ErrNoSuchMaster
		}
		if m.Failover == nil || m.Failover.Epoch != c.Epoch {
			return ErrStaleFailover
		}
		m.Failover.Promoted = true
		if c.Epoch > m.ConfigEpoch {
			m.ConfigEpoch = c.Epoch
		}
	case OpFailoverAbort:
		m, ok := s.Masters[c.Name]
		if !ok {
			return ErrNoSuchMaster
		}
		if m.Failover == nil || m.Failover.Epoch != c.Epoch {
			return ErrStaleFailover
		}
		if m.Failover.Promoted {
			// Past promotion the only way out is forward: a promoted
			// replica is a master now, aborting would leave two.
			return fmt.Errorf("failover of %s at epoch %d: %w", c.Name, c.Epoch, ErrPastPromotion)
		}
		m.Failover = nil
	case OpMaintenance:
		return applyMaintenance(s, c)
	case OpProtocol:
		switch {
		case c.Mixed:
			s.Mixed = true
			s.MixedGen++
		case !s.Mixed || c.Epoch != s.MixedGen:
			return ErrStaleProtocol
		default:
			s.Mixed = false
			s.MixedEnded = c.Epoch
		}
	default:
		if c.Op&IgnorableFlag != 0 {
			return nil
		}
		panic(fmt.Sprintf("failed to apply command: unknown op %d", c.Op))
	}
	return nil
}

// applyMaintenance applies OpMaintenance. With names, every name must
// exist or nothing changes (ErrNoSuchMaster); each master's own flag is set
// to Paused. Without names, ON sets the group-wide flag and OFF clears it
// and every master's own: the whole set runs automatic failovers again.
func applyMaintenance(s *State, c *Command) error {
	if len(c.Names) == 0 {
		s.FailoversPaused = c.Paused
		if !c.Paused {
			for _, m := range s.Masters {
				m.FailoversPaused = false
			}
		}
		return nil
	}
	for _, name := range c.Names {
		if _, ok := s.Masters[name]; !ok {
			return ErrNoSuchMaster
		}
	}
	for _, name := range c.Names {
		s.Masters[name].FailoversPaused = c.Paused
	}
	return nil
}

// Protocol reports whether the group's failovers follow redis-sentinel's
// protocol, with the generation of that protocol and the last generation
// ended.
func (f *FSM) Protocol() (mixed bool, gen, ended uint64) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.state.Mixed, f.state.MixedGen, f.state.MixedEnded
}

// FailoverInProgress reports whether any master has a failover recorded.
//
// The answer is kept for the revision: the group's protocol loop asks ten
// times a second, and a look at every master was 6 % of a follower's CPU
// at 1000 masters.
func (f *FSM) FailoverInProgress() bool {
	f.mu.RLock()
	defer f.mu.RUnlock()
	if c := f.failing.Load(); c>>1 == f.rev {
		return c&1 == 1
	}
	in := false
	for _, m := range f.state.Masters {
		if m.Failover != nil {
			in = true
			break
		}
	}
	c := f.rev << 1
	if in {
		c |= 1
	}
	f.failing.Store(c)
	return in
}

// FailoversPaused tells whether automatic failovers of the master are
// paused, group-wide or by name (read on every engine tick: no copy).
func (f *FSM) FailoversPaused(name string) bool {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.state.Paused(name)
}

// Maintenance returns the group-wide pause and the masters paused by name,
// in State.Names order.
func (f *FSM) Maintenance() (all bool, masters []string) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	for _, name := range f.state.Names() {
		if f.state.Masters[name].FailoversPaused {
			masters = append(masters, name)
		}
	}
	return f.state.FailoversPaused, masters
}

// applyParam sets one already validated SENTINEL SET option.
func applyParam(m *Master, p Param) error {
	o, ok := LookupOption(p.Key)
	if !ok {
		return fmt.Errorf("unknown parameter %q", p.Key)
	}
	return o.Apply(&m.Settings, p.Value)
}

// snapshotVersion heads every persisted snapshot, so a future format can be
// told apart.
const snapshotVersion = "gosentinel-state-v1"

type snapshotFile struct {
	Version string `json:"version"`
	State   *State `json:"state"`
}

// WriteSnapshot writes the state as versioned JSON.
func (f *FSM) WriteSnapshot(w io.Writer) error {
	if err := writeSnapshot(w, f.State()); err != nil {
		return fmt.Errorf("failed to write state snapshot: %w", err)
	}
	return nil
}

// writeSnapshot is the one writer of the snapshot format (FSM.WriteSnapshot,
// raftSnapshot.Persist), its strings escaped (EscapeStrings) so that any
// bytes read back the same.
func writeSnapshot(w io.Writer, st *State) error {
	return json.NewEncoder(w).Encode(snapshotFile{Version: snapshotVersion, State: EscapeStrings(st)})
}

// Restore replaces the whole state with the one read from r.
func (f *FSM) Restore(r io.Reader) error { return f.RestoreAt(r, 0) }

// RestoreAt is Restore of the Raft snapshot at index (0: not Raft's).
func (f *FSM) RestoreAt(r io.Reader, index uint64) error {
	var sf snapshotFile
	// Strict, as Decode: a field this version does not know is a newer
	// version's state it would drop (a pause, the mixed protocol).
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&sf); err != nil {
		return fmt.Errorf("failed to read state snapshot: %w", err)
	}
	if sf.Version != snapshotVersion {
		return fmt.Errorf("unsupported state snapshot version %q", sf.Version)
	}
	if err := UnescapeStrings(&sf); err != nil {
		return fmt.Errorf("failed to read state snapshot: %w", err)
	}
	if sf.State == nil {
		sf.State = NewState()
	}
	if sf.State.Masters == nil {
		sf.State.Masters = map[string]*Master{}
	}
	for name, m := range sf.State.Masters {
		if m == nil || m.Name != name {
			return fmt.Errorf("failed to read state snapshot: master %q has no record of that name", name)
		}
	}
	f.mu.Lock()
	f.state, f.names, f.rev = sf.State, nil, revisions.Add(1)
	if index > 0 {
		f.index = index
	}
	f.mu.Unlock()
	return nil
}

// Replace installs a copy of s as the whole state (a member detaching
// from its group takes a copy of the group's state, node/protocol.go).
func (f *FSM) Replace(s *State) {
	c := s.Clone()
	f.mu.Lock()
	f.state, f.names, f.rev = c, nil, revisions.Add(1)
	f.mu.Unlock()
}

// ApplyParam applies one SENTINEL SET parameter to m, as OpSet does: the
// node keeps each sentinel's own settings with the same rules.
func ApplyParam(m *Master, p Param) error { return applyParam(m, p) }
