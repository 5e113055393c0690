package replication

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/x0tta6bl4/gosentinel/monitor"
)

// Target is a Redis node of a master's group, with the credentials and
// command renames of that master (auth-user, auth-pass and rename-command
// apply to the master and all its replicas).
type Target struct {
	Addr     monitor.Addr
	AuthUser string
	AuthPass string
	// Rename maps an upper-case command name to the name to send.
	Rename map[string]string
}

// Redis controls data nodes. Every method is one short exchange with one
// node, bounded by ctx.
type Redis interface {
	// SlaveOf sends redis-sentinel's transaction: MULTI, SLAVEOF host port
	// (SLAVEOF NO ONE when master is nil), CONFIG REWRITE, CLIENT KILL TYPE
	// normal, CLIENT KILL TYPE pubsub, EXEC. Only a failure of SLAVEOF
	// itself (or of the exchange) is an error.
	SlaveOf(ctx context.Context, node Target, master *monitor.Addr) error
	// Replication reads INFO replication now.
	Replication(ctx context.Context, node Target) (Replication, error)
	// PauseWrites sends CLIENT PAUSE <d in ms> WRITE.
	PauseWrites(ctx context.Context, node Target, d time.Duration) error
	// Unpause sends CLIENT UNPAUSE.
	Unpause(ctx context.Context, node Target) error
	// Fence reads min-replicas-to-write and min-replicas-max-lag (CONFIG
	// GET).
	Fence(ctx context.Context, node Target) (FenceConfig, error)
	// SetFence sets them (CONFIG SET): max-lag first, then to-write, so the
	// fence never becomes active with a stale max-lag; with ToWrite 0 only
	// to-write is set, and persisted (CONFIG REWRITE, its failure ignored).
	SetFence(ctx context.Context, node Target, c FenceConfig) error
}

// Replication is a node's INFO replication section.
type Replication struct {
	Role string // "master" or "slave"
	// Replicas only.
	MasterHost         string
	MasterPort         int
	MasterLinkUp       bool
	MasterLinkDownTime time.Duration // master_link_down_since_seconds
	// MasterLastIO is master_last_io_seconds_ago (whole seconds), -1 s
	// when not reported.
	MasterLastIO    time.Duration
	SlavePriority   int // 100 when not reported
	SlaveReplOffset int64
	// MasterReplOffset is master_repl_offset (on a replica: what it has
	// received from its master).
	MasterReplOffset int64
	// Replicas are a master's connected replicas (slave<N> lines).
	Replicas []ReplicaInfo
}

// ReplicaInfo is one slave<N>: line of a master.
type ReplicaInfo struct {
	Addr   monitor.Addr
	State  string // "online", "wait_bgsave", ...
	Offset int64
}

// Offset is the replication offset the node has: slave_repl_offset on a
// replica, master_repl_offset on a master.
func (r Replication) Offset() int64 {
	if r.Role == "slave" {
		return r.SlaveReplOffset
	}
	return r.MasterReplOffset
}

// follows reports whether the node is a replica of a.
func (r Replication) follows(a monitor.Addr) bool {
	return r.Role == "slave" && strings.EqualFold(r.MasterHost, a.Host) && r.MasterPort == a.Port
}

// ParseReplication parses INFO (replication section or all of it).
func ParseReplication(text string) Replication {
	in := monitor.ParseInfo(text)
	r := Replication{
		Role:               in.Role,
		MasterHost:         in.MasterHost,
		MasterPort:         in.MasterPort,
		MasterLinkUp:       in.MasterLinkUp,
		MasterLinkDownTime: in.MasterLinkDownTime,
		SlavePriority:      100,
		MasterLastIO:       -time.Second,
		SlaveReplOffset:    in.SlaveReplOffset,
		MasterReplOffset:   in.MasterReplOffset,
	}
	if in.HasSlavePriority {
		r.SlavePriority = in.SlavePriority
	}
	for _, l := range strings.Split(text, "\r\n") {
		if v, ok := strings.CutPrefix(l, "master_last_io_seconds_ago:"); ok {
			if n, err := strconv.Atoi(v); err == nil {
				r.MasterLastIO = time.Duration(n) * time.Second
			}
			continue
		}
		if len(l) < 7 || !strings.HasPrefix(l, "slave") || l[5] < '0' || l[5] > '9' {
			continue
		}
		_, rest, ok := strings.Cut(l, ":")
		if !ok || !strings.Contains(rest, "ip=") {
			continue
		}
		var ri ReplicaInfo
		for _, kv := range strings.Split(rest, ",") {
			k, v, _ := strings.Cut(kv, "=")
			switch k {
			case "ip":
				ri.Addr.Host = v
			case "port":
				ri.Addr.Port, _ = strconv.Atoi(v)
			case "state":
				ri.State = v
			case "offset":
				ri.Offset, _ = strconv.ParseInt(v, 10, 64)
			}
		}
		r.Replicas = append(r.Replicas, ri)
	}
	return r
}
