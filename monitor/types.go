package monitor

import (
	"net"
	"strconv"
	"time"
)

// Addr is a Redis node or sentinel address as announced: an IP, or a
// hostname when announce-hostnames/resolve-hostnames are in use.
type Addr struct {
	Host string
	Port int
}

// String renders host:port ([v6]:port for IPv6), the form redis-sentinel uses
// as a replica's name.
func (a Addr) String() string { return net.JoinHostPort(a.Host, strconv.Itoa(a.Port)) }

// Kind is the kind of a monitored instance, as written in event payloads.
type Kind string

const (
	KindMaster   Kind = "master"
	KindReplica  Kind = "slave"
	KindSentinel Kind = "sentinel"
)

// Ref names an instance the way sentinel events do (the %@ prefix):
// "<kind> <name> <ip> <port>" plus " @ <master> <mip> <mport>" for
// replicas and sentinels.
type Ref struct {
	Kind       Kind
	Name       string // master: its name; replica: ip:port; sentinel: runid
	Addr       Addr
	Master     string // master name (also set for masters)
	MasterAddr Addr   // the master's address, for replicas and sentinels
}

// Level is the severity of an event, as sentinelEvent's levels.
type Level int

const (
	LevelDebug Level = iota
	LevelVerbose
	LevelNotice
	LevelWarning
)

// Event is something the monitor observed that redis-sentinel reports as an
// event: "+slave", "+sentinel", "+sdown", "-sdown", "+reboot",
// "+role-change", "-role-change", "+sentinel-address-switch",
// "+sentinel-invalid-addr", "-cmd-link-reconnection", ...
// The receiver formats "<Type> <Ref> <Text>" and publishes it.
type Event struct {
	Level Level
	Type  string
	Ref   *Ref   // nil for events without an instance
	Text  string // appended after the ref, e.g. "new reported role is master"
}

// Hello is a parsed hello message (8 comma separated fields) that names a
// master we monitor. The monitor handles sentinel discovery itself; epochs
// and master addresses are passed on to the receiver, which owns them.
type Hello struct {
	SentinelAddr      Addr
	SentinelID        string
	CurrentEpoch      uint64
	Master            string
	MasterAddr        Addr
	MasterConfigEpoch uint64

	// Sentinel is the sender as a known sentinel of Master (for
	// "+config-update-from %@"). FromKnownSentinel is false when the
	// sender's address was invalid and it could not be added: redis then
	// skips the config-epoch step (§6.3 step 3) but still adopts the epoch;
	// the node adopts neither unless FromConfirmedSentinel.
	Sentinel          Ref
	FromKnownSentinel bool
	// FromConfirmedSentinel: the sender is known and our own link to its
	// address answered SENTINEL MYID with the runid it announces. Epochs
	// and master addresses are only taken from such a sender.
	FromConfirmedSentinel bool
	// MasterAddrUsable: MasterAddr is an IP, or a hostname and
	// resolve-hostnames is on (createSentinelAddr's rule).
	MasterAddrUsable bool
}

// Timing holds the process-wide periods (SENTINEL DEBUG can change them).
type Timing struct {
	PingPeriod             time.Duration // 1000 ms
	InfoPeriod             time.Duration // 10000 ms
	AskPeriod              time.Duration // 1000 ms
	PublishPeriod          time.Duration // 2000 ms
	MinLinkReconnectPeriod time.Duration // 15000 ms
	// TiltTrigger and TiltPeriod are SENTINEL DEBUG's TILT-TRIGGER and
	// TILT-PERIOD (tilt.go).
	TiltTrigger time.Duration // 2000 ms
	TiltPeriod  time.Duration // 30000 ms
}

// DefaultTiming returns redis-sentinel 7.0's defaults.
func DefaultTiming() Timing {
	return Timing{
		PingPeriod:             time.Second,
		InfoPeriod:             10 * time.Second,
		AskPeriod:              time.Second,
		PublishPeriod:          2 * time.Second,
		MinLinkReconnectPeriod: 15 * time.Second,
		TiltTrigger:            2 * time.Second,
		TiltPeriod:             30 * time.Second,
	}
}

// SentinelRef is a known other sentinel of a master.
type SentinelRef struct {
	Addr  Addr
	RunID string
}

// MasterSpec is what the monitor needs to know about a monitored master.
// The node owns these settings (they are replicated state) and pushes them
// with Watch whenever they change.
type MasterSpec struct {
	Name            string
	Addr            Addr
	DownAfter       time.Duration
	AuthUser        string
	AuthPass        string
	RenameCommands  map[string]string // upper-case original -> new name
	RebootDownAfter time.Duration     // master-reboot-down-after-period; 0 = off
	// FastInfo makes replicas of this master be polled every second
	// (master ODOWN or failover in progress).
	FastInfo bool
	// KnownReplicas and KnownSentinels seed the topology (from the config
	// file); they are only used when the master is first watched.
	KnownReplicas  []Addr
	KnownSentinels []SentinelRef
}

// InstanceStatus is the monitor's live view of one instance, the raw
// material for SENTINEL MASTER/REPLICAS/SENTINELS maps. Times are absolute;
// zero means never.
type InstanceStatus struct {
	Ref   Ref
	RunID string // INFO run_id; for sentinels their myid
	// IP is the resolved address when Ref.Addr.Host is a hostname
	// (resolve-hostnames), the host itself for IPs, "" if not resolved yet.
	IP           string
	Disconnected bool
	SDown        bool
	SDownSince   time.Time
	// ScriptKillSent: SCRIPT KILL was sent on -BUSY while SDOWN (flag
	// script_kill_sent, cleared with -sdown).
	ScriptKillSent bool
	// MasterReboot: run_id changed with master-reboot-down-after-period set
	// and no +PONG since (7.2's master_reboot flag).
	MasterReboot      bool
	MasterRebootSince time.Time

	LinkPendingCommands int
	LinkRefcount        int
	// The PING clocks start at link creation (and at RESET), as in redis,
	// so they are never zero: last-ok-ping-reply of an instance that never
	// answered counts from when it was added.
	PingPendingSince time.Time // oldest unanswered PING; zero if none
	LastOKPingReply  time.Time // last PONG, -LOADING or -MASTERDOWN
	LastPingReply    time.Time // last reply of any kind
	// PingRTT is the round trip of the last valid PING reply (0 before
	// the first one).
	PingRTT   time.Duration
	DownAfter time.Duration

	// Masters and replicas: from INFO.
	InfoRefresh      time.Time // last INFO reply; zero if never
	Info             InfoText  // cached INFO reply (Empty if never)
	RoleReported     string    // "master" or "slave"
	RoleReportedTime time.Time
	// SlaveConfChangeTime is when master_host/master_port last changed or
	// the role turned to slave (for +fix-slave-config's wait).
	SlaveConfChangeTime time.Time
	MasterLinkDownTime  time.Duration
	MasterLinkUp        bool
	MasterHost          string // "?" if unknown
	MasterPort          int
	SlavePriority       int
	SlaveReplOffset     int64
	ReplicaAnnounced    bool
	MasterReplOffset    int64 // master_repl_offset of a master

	// Sentinels.
	LastHello time.Time
	// HelloReceived is when the sentinel's last hello arrived; zero until
	// one does (LastHello starts at the sentinel's discovery, as redis').
	HelloReceived       time.Time
	LastMasterDownReply time.Time // last valid is-master-down-by-addr reply
	MasterDown          bool      // last is-master-down-by-addr reply said 1
	VotedLeader         string    // "" if none or expired
	VotedLeaderEpoch    uint64
	// IDConfirmed: our own link to the sentinel's announced address
	// answered SENTINEL MYID with the runid its hellos announce. Only then
	// is it asked is-master-down-by-addr and its vote counted for ODOWN.
	IDConfirmed bool
	// Declined: on the current connection (or the last that answered) the
	// sentinel answered SENTINEL
	// MAINTENANCE STATUS (gosentinel's own subcommand) with redis'
	// unknown-subcommand error: positive evidence of a sentinel that is
	// not a gosentinel (redis-sentinel, Valkey's), which no network fault
	// can forge. Kept when the connection closes, until a new one answers.
	Declined bool
}

// MasterStatus is a master with its replicas and sentinels.
type MasterStatus struct {
	Master    InstanceStatus
	Replicas  []InstanceStatus
	Sentinels []InstanceStatus
}

// MasterView is what SENTINEL MASTER shows of a master: its own status and
// how many replicas and sentinels it has.
type MasterView struct {
	Master              InstanceStatus
	Replicas, Sentinels int
}

// View is st as SENTINEL MASTER shows it.
func (st *MasterStatus) View() MasterView {
	return MasterView{Master: st.Master, Replicas: len(st.Replicas), Sentinels: len(st.Sentinels)}
}
