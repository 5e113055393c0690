// Package quorum owns the replicated sentinel state: which masters are
// monitored, with which settings, at which address and config epoch, and the
// current epoch. Every change is a Command applied by the FSM in log order,
// deterministically (time comes from the command, never from the clock), so
// that the same sequence of commands gives the same state on every sentinel.
//
// Today the commands are applied by a single-node Local applier; the Raft
// store (hashicorp/raft) feeds the very same FSM from its log. Nothing above
// this package needs to change when Raft replaces Local: callers Propose
// commands and read State snapshots.
package quorum

import (
	"net"
	"sort"
	"strconv"
)

// Addr is a Redis node address as configured or announced.
type Addr struct {
	Host string `json:"host"`
	Port int    `json:"port"`
}

// String renders host:port.
func (a Addr) String() string { return net.JoinHostPort(a.Host, strconv.Itoa(a.Port)) }

// Master is the replicated part of one monitored master: its identity,
// operator settings and the outcome of failovers (address and config
// epoch). Volatile observations (links, INFO, SDOWN) are not here.
type Master struct {
	Name string `json:"name"`
	Addr Addr   `json:"addr"`
	// Settings are encoded inline, as they were before they had a type.
	Settings
	ConfigEpoch uint64 `json:"config_epoch"`
	// CreatedAt orders masters (ms since the epoch, from the command).
	CreatedAt int64 `json:"created_at"`
	// Origin is the id of the sentinel whose SENTINEL MONITOR (or config
	// file) added the master: the same MONITOR sent to another member of
	// the group adopts it instead of failing as a duplicate.
	Origin string `json:"origin,omitempty"`
	// Failover is the failover in progress, if any: committed before any
	// side effect, so a new leader can resume or abort it from the log.
	Failover *Failover `json:"failover,omitempty"`
	// FailoversPaused is set by SENTINEL MAINTENANCE ON <name>: no
	// automatic failover of this master is started (State.FailoversPaused
	// pauses every master). Absent from older snapshots: false.
	FailoversPaused bool `json:"failovers_paused,omitempty"`
}

// Failover is the committed decision to fail a master over: which epoch,
// which replica, started when and by whom. It exists from OpFailoverBegin
// until OpSwitchMaster (success) or OpFailoverAbort.
type Failover struct {
	Epoch     uint64 `json:"epoch"`
	Replica   Addr   `json:"replica"`
	From      Addr   `json:"from"`
	Leader    string `json:"leader"`
	Forced    bool   `json:"forced,omitempty"` // SENTINEL FAILOVER
	StartedAt int64  `json:"started_at"`       // ms, from the command
	// Promoted is set by OpFailoverPromoted once the replica confirmed
	// role:master; from then on the failover can only complete.
	Promoted bool `json:"promoted,omitempty"`
}

// CurrentAddr is where the master is for its clients and in hellos: the
// promoted replica from the failover's promotion on (the failover can then
// only complete), as redis-sentinel's sentinelGetCurrentMasterAddress;
// else Addr.
func (m *Master) CurrentAddr() Addr {
	if f := m.Failover; f != nil && f.Promoted {
		return f.Replica
	}
	return m.Addr
}

// Clone returns a deep copy.
func (m *Master) Clone() *Master {
	c := *m
	c.Settings = m.Settings.Clone()
	if m.Failover != nil {
		f := *m.Failover
		c.Failover = &f
	}
	return &c
}

// State is the whole replicated state. It is a value: State() hands out deep
// copies, so readers never race with Apply.
type State struct {
	CurrentEpoch uint64             `json:"current_epoch"`
	Masters      map[string]*Master `json:"masters"`
	// FailoversPaused is set by SENTINEL MAINTENANCE ON without names: no
	// automatic failover of any master, present or added later, is
	// started. Absent from older snapshots: false.
	FailoversPaused bool `json:"failovers_paused,omitempty"`
	// Mixed is set while the set holds a sentinel that is not a
	// gosentinel (OpProtocol): failovers are decided by redis-sentinel's
	// election, never by the log. MixedGen counts the times it was set.
	// Absent from older snapshots: false, 0.
	Mixed    bool   `json:"mixed,omitempty"`
	MixedGen uint64 `json:"mixed_gen,omitempty"`
	// MixedEnded is the last generation ended: a member quiet in an older
	// one knows the log may have decided meanwhile.
	MixedEnded uint64 `json:"mixed_ended,omitempty"`
}

// NewState returns an empty state.
func NewState() *State { return &State{Masters: map[string]*Master{}} }

// Clone returns a deep copy.
func (s *State) Clone() *State {
	c := &State{CurrentEpoch: s.CurrentEpoch, Masters: make(map[string]*Master, len(s.Masters)),
		FailoversPaused: s.FailoversPaused, Mixed: s.Mixed, MixedGen: s.MixedGen, MixedEnded: s.MixedEnded}
	for k, m := range s.Masters {
		c.Masters[k] = m.Clone()
	}
	return c
}

// Paused tells whether automatic failovers of the master are paused, by
// the group-wide flag or by its own.
func (s *State) Paused(name string) bool {
	if s.FailoversPaused {
		return true
	}
	m, ok := s.Masters[name]
	return ok && m.FailoversPaused
}

// Names returns the master names in a stable order (creation, then name).
func (s *State) Names() []string {
	names := make([]string, 0, len(s.Masters))
	for n := range s.Masters {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		a, b := s.Masters[names[i]], s.Masters[names[j]]
		if a.CreatedAt != b.CreatedAt {
			return a.CreatedAt < b.CreatedAt
		}
		return a.Name < b.Name
	})
	return names
}

// RenameMap is the master's rename-command table as the links use it:
// the upper-cased original name to the name to send (ASCII upper case, as
// redis' command lookup folds case), nil when nothing is renamed.
func (m *Master) RenameMap() map[string]string {
	if len(m.RenameCommands) == 0 {
		return nil
	}
	out := make(map[string]string, len(m.RenameCommands))
	for _, rc := range m.RenameCommands {
		b := []byte(rc[0])
		for i, c := range b {
			if 'a' <= c && c <= 'z' {
				b[i] = c - 'a' + 'A'
			}
		}
		out[string(b)] = rc[1]
	}
	return out
}
