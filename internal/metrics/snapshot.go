package metrics

import "time"

// Source is what the metrics and health endpoints read: the node
// implements it (node/metrics.go). Snapshot is called once per scrape or
// request and must not block for long; everything after it works on the
// copy. It fills what d asks for: a scrape reads every master's replies and
// INFO, a readiness probe only the pauses, and at 1000 masters the whole
// snapshot is tens of milliseconds of a core and megabytes of allocation,
// which a probe every 5 s would pay for nothing.
type Source interface {
	Snapshot(d Detail) *Snapshot
}

// Detail is how much of each master a Snapshot holds.
type Detail int

const (
	// DetailPauses: each master's Name and Paused (/readyz).
	DetailPauses Detail = iota
	// DetailNodes: and Down, ODown and the data nodes without their INFO
	// (/primary, /replica).
	DetailNodes
	// DetailAll: everything, InfoSentinel included (/metrics).
	DetailAll
)

// Snapshot is a sentinel's state as its command surface shows it, taken
// at one moment, with the masters' Detail asked for.
type Snapshot struct {
	// InfoSentinel is INFO's # Sentinel section, one "key:value" line each.
	InfoSentinel []string
	// Masters in the order SENTINEL MASTERS lists them.
	Masters []Master
	// Raft is nil when the sentinel runs without Raft (GOSENTINEL_RAFT=off).
	Raft *Raft
	// Fresh: this sentinel vouches for its state (node/vouch.go).
	Fresh bool
	// PausedAll: automatic failovers are paused group-wide.
	PausedAll bool
	// AnnounceIP is sentinel announce-ip ("" when unset): the host the
	// co-located data node is looked for first.
	AnnounceIP string
}

// Master is one monitored master as this sentinel sees it.
type Master struct {
	Name string
	// Fields, CKQuorum, CKQuorumOK, ReplicaFlags, SentinelFlags, Links
	// and the nodes' Info are filled with DetailAll only.

	// Fields is SENTINEL MASTER <name>'s reply.
	Fields map[string]string
	// CKQuorum is SENTINEL CKQUORUM's reply text (the error text when it
	// fails); CKQuorumOK tells which.
	CKQuorum   string
	CKQuorumOK bool
	// ReplicaFlags and SentinelFlags are the flags field of each entry of
	// SENTINEL REPLICAS and SENTINELS, the one field read of them.
	ReplicaFlags, SentinelFlags []string
	// Down: the master is s_down here; ODown: o_down here.
	Down, ODown bool
	// Paused: automatic failovers of this master are paused.
	Paused bool
	// Nodes are the data nodes: the current master first, then the
	// replicas the monitor knows (DetailNodes and DetailAll).
	Nodes []DataNode
	// Links are the monitor's links to the master, replicas and sentinels.
	Links []Link
}

// DataNode is one Redis data node of a master set.
type DataNode struct {
	// Addr is "host:port" as SENTINEL REPLICAS names it.
	Addr string
	// Host is the host part of Addr; IP is its resolved address if known.
	Host, IP string
	// Master: this is the set's current master (the replicated address).
	Master bool
	// Role is the role the node last reported in INFO ("master"/"slave"),
	// or "" before the first INFO.
	Role string
	// Down: s_down in this sentinel's view.
	Down bool
	// MasterLinkUp: a replica's master_link_status is up.
	MasterLinkUp bool
	// Info is the node's last INFO reply (nil if none yet).
	Info InfoText
}

// InfoText is an INFO reply: AppendTo appends its text to dst. The
// monitor keeps replies in a compact form (monitor.InfoText), and a scrape
// reads them one after the other into one buffer.
type InfoText interface {
	AppendTo(dst []byte) []byte
}

// Link is the monitor's link to one instance.
type Link struct {
	Node string // "host:port"
	Kind string // master, replica, sentinel
	// RTT is the last valid PING reply's round trip; 0 before the first.
	RTT time.Duration
}

// Raft is the Raft group as this sentinel sees it.
type Raft struct {
	// Phase is internal/group's phase: alone, forming, joining, member.
	Phase string
	// State is hashicorp/raft's state lower-cased (leader, follower,
	// candidate, shutdown), or "" before a Raft store is open.
	State        string
	Term         uint64
	CommitIndex  uint64
	AppliedIndex uint64
	// LeaderID is the leader this sentinel knows ("" if none).
	LeaderID string
	Voters   int
	// FailoverProtocol is INFO raft's raft_failover_protocol (raft,
	// sentinel or none); Foreign counts raft_foreign_sentinels.
	FailoverProtocol string
	Foreign          int
	// LogStoreError is the last append to the Raft log's error ("" if it
	// succeeded): a full disk. The state is not fresh while it lasts.
	LogStoreError string
}
