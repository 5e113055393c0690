package quorum

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Op identifies a command type. It is the first byte of an encoded command.
// Ops with the IgnorableFlag bit set may be skipped by an older FSM that does
// not know them (hashicorp/consul's IgnoreUnknownTypeFlag); any other
// unknown op stops the process rather than letting states diverge.
type Op byte

// IgnorableFlag marks an op that older versions may safely skip.
const IgnorableFlag Op = 128

const (
	// OpMonitor adds a master (SENTINEL MONITOR, or a sentinel monitor line
	// of the config file seeding an empty state).
	OpMonitor Op = 1
	// OpRemove removes a master (SENTINEL REMOVE).
	OpRemove Op = 2
	// OpSet changes settings of a master (SENTINEL SET), already validated.
	OpSet Op = 3
	// OpSwitchMaster records a new master address with its config epoch
	// (end of a failover, or a newer config learnt from a peer).
	OpSwitchMaster Op = 4
	// OpObserveEpoch raises the current epoch to at least Epoch.
	OpObserveEpoch Op = 5
	// OpSetConfigEpoch raises a master's config epoch without moving it.
	OpSetConfigEpoch Op = 6
	// OpFailoverBegin commits the decision to fail a master over to the
	// replica in Addr. The FSM assigns the failover epoch (current epoch +
	// 1), so two concurrent decisions can never share an epoch; it fails
	// with ErrFailoverInProgress if one is already recorded. A decision
	// won in redis-sentinel's vote (never in the Raft log) names its
	// epoch instead: not below the current epoch (ErrStaleFailover).
	OpFailoverBegin Op = 7
	// OpFailoverPromoted records that the chosen replica confirmed
	// role:master (Epoch must match the failover in progress).
	OpFailoverPromoted Op = 8
	// OpFailoverAbort drops the failover in progress of Epoch.
	OpFailoverAbort Op = 9
	// OpMaintenance pauses (Paused) or resumes automatic failovers
	// (SENTINEL MAINTENANCE ON|OFF): of the masters in Names, or, with no
	// names, of the whole set (a group-wide flag that also covers masters
	// added later; OFF clears every pause). Not ignorable: an older member
	// that skipped it would run failovers the group paused.
	OpMaintenance Op = 10
	// OpProtocol records how the group's failovers are decided
	// (docs/DESIGN.md, "A group in a mixed set"). Mixed: by redis-sentinel's
	// election, a sentinel that is not a gosentinel being in the set; the
	// generation (MixedGen) goes up by one each time. Not Mixed, with Epoch
	// the generation it ends: by Raft again, refused if the generation
	// moved on meanwhile (ErrStaleProtocol). Not ignorable: an older member
	// that skipped it would run Raft failovers beside the elections.
	OpProtocol Op = 11

	// maxOp is the highest op this version applies: ops are numbered
	// from 1 without gaps (TestKnownOpsApply holds FSM.apply to it).
	maxOp = OpProtocol
)

// known reports whether this version's FSM applies op, or may skip it.
func (op Op) known() bool {
	return op&IgnorableFlag != 0 || (op >= 1 && op <= maxOp)
}

// Param is one option=value pair of a SET command.
type Param struct {
	Key   string   `json:"k"`
	Value []string `json:"v"`
}

// Command is the decoded form of every op; only the fields of the op are
// set. One struct keeps the codec trivial and the log readable.
type Command struct {
	Op     Op      `json:"-"`
	Master *Master `json:"master,omitempty"`
	Name   string  `json:"name,omitempty"`
	Params []Param `json:"params,omitempty"`
	Addr   Addr    `json:"addr,omitempty"`
	// From is the address being replaced by OpSwitchMaster, so that every
	// sentinel can announce "+switch-master <name> <from> <to>" on apply
	// (apply sets it to the address the state held, the ApplyFunc sees that);
	// in OpFailoverBegin, the master address the decision was made
	// against (empty in logs written before it was: not checked).
	From  Addr   `json:"from,omitempty"`
	Epoch uint64 `json:"epoch,omitempty"`
	// Leader is the id of the sentinel that decided a failover; Forced
	// marks SENTINEL FAILOVER.
	Leader string `json:"leader,omitempty"`
	Forced bool   `json:"forced,omitempty"`
	// Names and Paused are OpMaintenance's masters and direction.
	Names  []string `json:"names,omitempty"`
	Paused bool     `json:"paused,omitempty"`
	// Mixed is OpProtocol's direction.
	Mixed bool `json:"mixed,omitempty"`
	// At is the proposer's wall clock in ms since the epoch: the only
	// notion of time Apply may use.
	At int64 `json:"at"`
}

// Encode serialises c as one op byte followed by JSON, its strings
// escaped (EscapeStrings) so that any bytes read back the same.
func (c *Command) Encode() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte(byte(c.Op))
	if err := json.NewEncoder(&b).Encode(EscapeStrings(c)); err != nil {
		return nil, fmt.Errorf("failed to encode command %d: %w", c.Op, err)
	}
	return b.Bytes(), nil
}

// ErrEmptyCommand is returned when decoding zero bytes.
var ErrEmptyCommand = errors.New("empty command")

// ErrUnknownOp refuses to propose an op this version's FSM would stop at: a
// newer member's command forwarded to an older leader during a roll. Once
// committed, it would stop every member of this version, again at each
// restart's replay.
var ErrUnknownOp = errors.New("unknown command op: a newer version's, which this member cannot apply")

// Decode parses what Encode wrote.
func Decode(data []byte) (*Command, error) {
	if len(data) == 0 {
		return nil, ErrEmptyCommand
	}
	c := &Command{Op: Op(data[0])}
	dec := json.NewDecoder(bytes.NewReader(data[1:]))
	if c.Op >= 1 && c.Op <= maxOp {
		// A field this version does not know, in an op it applies, is a
		// newer version's meaning it would drop: as for an unknown op,
		// refusing (and so stopping at its apply) is safer than applying
		// it otherwise than its proposer meant. Nothing was ever removed
		// from Command or State, so every older entry decodes.
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(c); err != nil {
		return nil, fmt.Errorf("failed to decode command %d: %w", data[0], err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("failed to decode command %d: data after the command", data[0])
	}
	if err := UnescapeStrings(c); err != nil {
		return nil, fmt.Errorf("failed to decode command %d: %w", data[0], err)
	}
	c.Op = Op(data[0])
	return c, nil
}
