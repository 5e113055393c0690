package config

import (
	"os"
	"strings"
)

// Extension is one setting of gosentinel's own, beyond redis-sentinel's
// directives: a config directive, an environment variable, or both. The
// table below is the one place that names them; `gosentinel --help` prints
// it and a test checks that every GOSENTINEL_ variable the code reads is in
// it.
type Extension struct {
	Directive string // as written in sentinel.conf ("" for environment only)
	Env       string // environment variable ("" for directive only)
	Default   string
	Meaning   string
}

// The environment variables of gosentinel's own.
const (
	EnvRaft          = "GOSENTINEL_RAFT"
	EnvClusterSize   = "GOSENTINEL_CLUSTER_SIZE"
	EnvClusterSecret = "GOSENTINEL_CLUSTER_SECRET"
	EnvPeers         = "GOSENTINEL_PEERS"
	EnvStaleAfterMs  = "GOSENTINEL_STALE_AFTER_MS"
	EnvSettleMs      = "GOSENTINEL_SETTLE_MS"
	EnvMemberTimeout = "GOSENTINEL_MEMBER_TIMEOUT_MS"
	EnvMetricsAddr   = "GOSENTINEL_METRICS_ADDR"
	EnvFence         = "GOSENTINEL_FENCE"
	EnvPprof         = "GOSENTINEL_PPROF"
	EnvCompat        = "GOSENTINEL_COMPAT"

	EnvRaftSnapshotThreshold  = "GOSENTINEL_RAFT_SNAPSHOT_THRESHOLD"
	EnvRaftSnapshotIntervalMs = "GOSENTINEL_RAFT_SNAPSHOT_INTERVAL_MS"
	EnvRaftTrailingLogs       = "GOSENTINEL_RAFT_TRAILING_LOGS"
)

// Extensions lists gosentinel's own settings, in the order --help shows
// them. Where a setting has both forms, the environment wins.
var Extensions = []Extension{
	{Directive: "sentinel cluster-size <n>", Env: EnvClusterSize, Default: "derived",
		Meaning: "how many sentinels the set has; the Raft group forms with a majority of it. Derived when unset: the largest of 2*quorum-1, 1 + the sentinels known, 1 + the seeds, and 2"},
	{Directive: "sentinel cluster-secret <secret>", Env: EnvClusterSecret, Default: "sentinel-pass, else requirepass, else the ACL users' passwords",
		Meaning: "the secret Raft peers prove they hold (the log names its source, never its value); after a change (CONFIG SET sentinel-pass, or a restart with another secret) the previous one stays accepted for an hour, so a rolling change keeps the group"},
	{Directive: "sentinel cluster-peers <host:port> ...", Env: EnvPeers, Default: "none",
		Meaning: "seed sentinels besides those found through hellos (the variable is comma-separated)"},
	{Directive: "metrics-addr <host:port>", Env: EnvMetricsAddr, Default: "off",
		Meaning: "the HTTP listener of /metrics (Prometheus) and the health endpoints /healthz, /readyz, /primary and /replica"},
	{Directive: "compat-version <7.0|8.0>", Env: EnvCompat, Default: "7.0",
		Meaning: "the redis-sentinel version to behave as: 7.0 is redis-sentinel 7.0.15 byte for byte (COMMAND tables, HELP texts, SENTINEL CONFIG with one parameter); 8.0 is redis-sentinel 8.0.2 (COMMAND lists CLIENT SETINFO, SENTINEL CONFIG GET/SET take several parameters and loglevel, INFO reports 8.0.2)"},
	{Env: EnvRaft, Default: "on",
		Meaning: "off: run alone and decide failovers locally, without a Raft group"},
	{Env: EnvStaleAfterMs, Default: "2000",
		Meaning: "how long a member cut off from the leader keeps vouching for its state (GET-MASTER-ADDR-BY-NAME answers null after it)"},
	{Env: EnvSettleMs, Default: "2000",
		Meaning: "how long a majority of the expected sentinels waits for the rest before forming the group"},
	{Env: EnvMemberTimeout, Default: "300000",
		Meaning: "how long a member may be gone on every channel before the leader removes it from the group"},
	{Env: EnvFence, Default: "on",
		Meaning: "off: do not fence a cut-off master. On: a member cut off from the group with a master but none of its replicas pauses the master's writes (CLIENT PAUSE WRITE, a lease), and the leader keeps min-replicas-to-write 1 / min-replicas-max-lag 1 on masters with two healthy replicas (never lowering the user's); an automatic promotion waits until the old master must have stopped writing"},
	{Env: EnvRaftSnapshotThreshold, Default: "8192",
		Meaning: "how many Raft log entries since the last snapshot make the next snapshot check take one (as Consul's raft_snapshot_threshold)"},
	{Env: EnvRaftSnapshotIntervalMs, Default: "120000",
		Meaning: "how often Raft checks whether to take a snapshot (each check waits a random 1 to 2 intervals)"},
	{Env: EnvRaftTrailingLogs, Default: "10240",
		Meaning: "how many Raft log entries a snapshot leaves behind, so that a member that fell less far behind catches up from the log; one further behind is sent the snapshot"},
	{Env: EnvPprof, Default: "off",
		Meaning: "on: the metrics listener also serves Go's profiles under /debug/pprof/ (CPU, heap, goroutines, mutex and block contention), for finding where time and memory go; they reveal internals, so keep it off where the metrics port is reachable by others"},
}

// ProfilesOn tells whether GOSENTINEL_PPROF asks for Go's profiles.
func ProfilesOn() bool {
	return strings.EqualFold(strings.TrimSpace(os.Getenv(EnvPprof)), "on")
}
