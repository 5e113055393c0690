package metrics

import (
	"slices"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// kind is a family's Prometheus type.
type kind int

const (
	gauge kind = iota
	counter
	histogram
)

// family is one metric family gosentinel exports: its name, HELP text,
// type and label names. The table below is the one list of them; the
// collector, the event counters and FamilyNames all read it.
type family struct {
	name   string
	help   string
	kind   kind
	labels []string
}

// Label names shared by several families.
const (
	lMaster   = "master_name"
	lAddress  = "master_address"
	lNode     = "node"
	lRole     = "role"
	lOutcome  = "outcome"
	lPhase    = "phase"
	lProtocol = "protocol"
	lReason   = "reason"
	lState    = "state"
	lKind     = "kind"
	lStatus   = "master_status"
	lMessage  = "message"
	lVersion  = "version"
	lRedisVer = "redis_version"
)

// Families of redis_exporter's sentinel metrics: the same names, label
// names and values redis_exporter (exporter/sentinels.go) derives from
// INFO's # Sentinel section and SENTINEL MASTERS / CKQUORUM / SENTINELS /
// SLAVES of the same sentinel, so dashboards and alerts written for the
// exporter's sidecar work unchanged.
var (
	fSentinelMasters      = family{"redis_sentinel_masters", "Number of masters this sentinel monitors (INFO sentinel_masters).", gauge, nil}
	fSentinelTilt         = family{"redis_sentinel_tilt", "1 while the sentinel is in TILT mode (INFO sentinel_tilt): the process stalled (its timer ran more than 2 s late), and until it settles it marks no master o_down and starts no failover.", gauge, nil}
	fSentinelRunning      = family{"redis_sentinel_running_scripts", "Notification and reconfiguration scripts running now (INFO sentinel_running_scripts).", gauge, nil}
	fSentinelQueue        = family{"redis_sentinel_scripts_queue_length", "Scripts waiting to run (INFO sentinel_scripts_queue_length).", gauge, nil}
	fSentinelSimFailure   = family{"redis_sentinel_simulate_failure_flags", "SENTINEL SIMULATE-FAILURE flags set (INFO sentinel_simulate_failure_flags).", gauge, nil}
	fMasterStatus         = family{"redis_sentinel_master_status", "1 when the master's status in INFO's masterN line is ok, 0 when sdown or odown (the status is the master_status label).", gauge, []string{lMaster, lAddress, lStatus}}
	fMasterSlaves         = family{"redis_sentinel_master_slaves", "Replicas this sentinel knows for the master (INFO masterN slaves=).", gauge, []string{lMaster, lAddress}}
	fMasterSentinels      = family{"redis_sentinel_master_sentinels", "Sentinels watching the master, this one included (INFO masterN sentinels=).", gauge, []string{lMaster, lAddress}}
	fMasterCKQuorum       = family{"redis_sentinel_master_ckquorum_status", "1 when SENTINEL CKQUORUM succeeds, 0 when it fails; its reply text is the message label.", gauge, []string{lMaster, lMessage}}
	fMasterQuorum         = family{"redis_sentinel_master_setting_ckquorum", "The master's quorum (SENTINEL MASTER quorum).", gauge, []string{lMaster, lAddress}}
	fMasterFailoverTO     = family{"redis_sentinel_master_setting_failover_timeout", "The master's failover-timeout in milliseconds.", gauge, []string{lMaster, lAddress}}
	fMasterParallelSyncs  = family{"redis_sentinel_master_setting_parallel_syncs", "The master's parallel-syncs.", gauge, []string{lMaster, lAddress}}
	fMasterDownAfter      = family{"redis_sentinel_master_setting_down_after_milliseconds", "The master's down-after-milliseconds.", gauge, []string{lMaster, lAddress}}
	fMasterConfigEpoch    = family{"redis_sentinel_master_config_epoch", "The master's config epoch (SENTINEL MASTER config-epoch): the number of the last failover.", gauge, []string{lMaster, lAddress}}
	fMasterLastOKPing     = family{"redis_sentinel_master_last_ok_ping_reply_seconds", "Seconds since the master last answered PING validly (SENTINEL MASTER last-ok-ping-reply / 1000).", gauge, []string{lMaster, lAddress}}
	fMasterOKSentinels    = family{"redis_sentinel_master_ok_sentinels", "Sentinels of the master not s_down or o_down in this sentinel's view, this one included (1 + SENTINEL SENTINELS without those flags).", gauge, []string{lMaster, lAddress}}
	fMasterOKSlaves       = family{"redis_sentinel_master_ok_slaves", "Replicas of the master not s_down or o_down in this sentinel's view (SENTINEL REPLICAS without those flags).", gauge, []string{lMaster, lAddress}}
	fSentinelSentinels    = family{"redis_sentinel_sentinels", "Sentinels of the set that watches the master, this one included (1 + SENTINEL SENTINELS, whatever their flags). Not a redis_exporter family.", gauge, []string{lMaster}}
	exporterFamilies      = []family{fSentinelMasters, fSentinelTilt, fSentinelRunning, fSentinelQueue, fSentinelSimFailure, fMasterStatus, fMasterSlaves, fMasterSentinels, fMasterCKQuorum, fMasterQuorum, fMasterFailoverTO, fMasterParallelSyncs, fMasterDownAfter, fMasterConfigEpoch, fMasterLastOKPing, fMasterOKSentinels, fMasterOKSlaves}
	sentinelOnlyFamilies  = []family{fSentinelSentinels}
	nodeLabels            = []string{lMaster, lNode, lRole}
	fRedisUp              = family{"redis_up", "1 when the data node answers PING within the master's down-after (not s_down in this sentinel's view), 0 otherwise.", gauge, nodeLabels}
	fRedisUptime          = family{"redis_uptime_in_seconds", "The data node's uptime_in_seconds, from the last INFO this sentinel read.", gauge, nodeLabels}
	fRedisClients         = family{"redis_connected_clients", "The data node's connected_clients, from the last INFO.", gauge, nodeLabels}
	fRedisBlocked         = family{"redis_blocked_clients", "The data node's blocked_clients, from the last INFO.", gauge, nodeLabels}
	fRedisConnectedSlaves = family{"redis_connected_slaves", "The data node's connected_slaves (replicas attached to it), from the last INFO.", gauge, nodeLabels}
	fRedisMemUsed         = family{"redis_memory_used_bytes", "The data node's used_memory in bytes, from the last INFO.", gauge, nodeLabels}
	fRedisMemMax          = family{"redis_memory_max_bytes", "The data node's maxmemory in bytes (0: no limit), from the last INFO.", gauge, nodeLabels}
	fRedisCommands        = family{"redis_commands_processed_total", "The data node's total_commands_processed, from the last INFO.", counter, nodeLabels}
	fRedisConnsReceived   = family{"redis_connections_received_total", "The data node's total_connections_received, from the last INFO.", counter, nodeLabels}
	fRedisNetIn           = family{"redis_net_input_bytes_total", "The data node's total_net_input_bytes, from the last INFO.", counter, nodeLabels}
	fRedisNetOut          = family{"redis_net_output_bytes_total", "The data node's total_net_output_bytes, from the last INFO.", counter, nodeLabels}
	fRedisExpired         = family{"redis_expired_keys_total", "The data node's expired_keys, from the last INFO.", counter, nodeLabels}
	fRedisEvicted         = family{"redis_evicted_keys_total", "The data node's evicted_keys, from the last INFO.", counter, nodeLabels}
	fRedisHits            = family{"redis_keyspace_hits_total", "The data node's keyspace_hits, from the last INFO.", counter, nodeLabels}
	fRedisMisses          = family{"redis_keyspace_misses_total", "The data node's keyspace_misses, from the last INFO.", counter, nodeLabels}
	fRedisMasterOffset    = family{"redis_master_repl_offset", "The data node's master_repl_offset (its replication stream position), from the last INFO.", gauge, nodeLabels}
	fRedisSlaveOffset     = family{"redis_slave_repl_offset", "A replica's slave_repl_offset, from the last INFO (replicas only).", gauge, nodeLabels}
	fRedisMasterLinkUp    = family{"redis_master_link_up", "A replica's master_link_status (1 up, 0 down), from the last INFO (replicas only).", gauge, nodeLabels}
	// nodeInfoFields maps a per-node family to the INFO field it reads.
	nodeInfoFields = []struct {
		f     family
		field string
	}{
		{fRedisUptime, "uptime_in_seconds"},
		{fRedisClients, "connected_clients"},
		{fRedisBlocked, "blocked_clients"},
		{fRedisConnectedSlaves, "connected_slaves"},
		{fRedisMemUsed, "used_memory"},
		{fRedisMemMax, "maxmemory"},
		{fRedisCommands, "total_commands_processed"},
		{fRedisConnsReceived, "total_connections_received"},
		{fRedisNetIn, "total_net_input_bytes"},
		{fRedisNetOut, "total_net_output_bytes"},
		{fRedisExpired, "expired_keys"},
		{fRedisEvicted, "evicted_keys"},
		{fRedisHits, "keyspace_hits"},
		{fRedisMisses, "keyspace_misses"},
		{fRedisMasterOffset, "master_repl_offset"},
		{fRedisSlaveOffset, "slave_repl_offset"},
	}
)

// gosentinel's own families.
var (
	fFailovers          = family{"gosentinel_failovers_total", "Failovers this sentinel drove to an end as the Raft leader, by outcome: success (switch committed, replicas repointed), aborted (the promotion did not happen in time, or a switchover's replica did not catch up), timeout (switched, but repointing the replicas outlasted failover-timeout).", counter, []string{lMaster, lOutcome}}
	fFailoverDuration   = family{"gosentinel_failover_duration_seconds", "Duration of the failovers this sentinel drove, from the committed decision to the end, by outcome.", histogram, []string{lOutcome}}
	fFailoverPhase      = family{"gosentinel_failover_phase_seconds", "Duration of each phase of the failovers this sentinel drove: decide (from the leader's attempt, on ODOWN or SENTINEL FAILOVER, to the committed decision), catch_up (a switchover's wait for the replica to reach the paused master's offset), promote (from the decision, or the end of catch_up, to the replica reporting role:master), reconfigure (from the promotion to the end).", histogram, []string{lPhase}}
	fNotStarted         = family{"gosentinel_failovers_not_started_total", "Times a failover of a down master was due but not started, at most once per second per master and reason: no_quorum (s_down here but not o_down, or the Raft group has no leader; counted on every sentinel), no_good_replica, lag_cap, paused, backoff (within 2x failover-timeout of the previous attempt), not_elected (redis-sentinel's election in a mixed set elected another or nobody), commit_failed (the decision could not be committed); the others are counted on the leader.", counter, []string{lMaster, lReason}}
	fRaftState          = family{"gosentinel_raft_state", "1 for this sentinel's current Raft state (leader, follower, candidate, shutdown), 0 for the others; all 0 while it has no Raft group yet or runs without Raft.", gauge, []string{lState}}
	fRaftTerm           = family{"gosentinel_raft_term", "This sentinel's current Raft term (0 without a Raft group).", gauge, nil}
	fRaftCommit         = family{"gosentinel_raft_commit_index", "The Raft commit index this sentinel knows.", gauge, nil}
	fRaftApplied        = family{"gosentinel_raft_applied_index", "The Raft index this sentinel's state machine applied last.", gauge, nil}
	fRaftLeader         = family{"gosentinel_raft_leader", "1 when this sentinel knows a Raft leader (itself or another member), 0 otherwise.", gauge, nil}
	fRaftLeaderChanges  = family{"gosentinel_raft_leader_changes_total", "Times the Raft leader this sentinel knows changed to a different sentinel, observed every 100 ms.", counter, nil}
	fRaftVoters         = family{"gosentinel_raft_voters", "Voters in the Raft configuration this sentinel knows.", gauge, nil}
	fFailoverProtocol   = family{"gosentinel_failover_protocol", "1 for the protocol that decides this sentinel's failovers (raft: the Raft group's leader; sentinel: redis-sentinel's election, while a sentinel that is not a gosentinel is in the set; none: waiting for a group, or quiet until the group decides again), 0 for the others.", gauge, []string{lProtocol}}
	fForeignSentinels   = family{"gosentinel_foreign_sentinels", "Sentinels heard in hellos that are not gosentinels (redis-sentinel during a roll): while above 0, failovers follow redis-sentinel's protocol.", gauge, nil}
	fGroupPhase         = family{"gosentinel_group_phase", "1 for this sentinel's phase in its Raft group (alone, forming, joining, member), 0 for the others; all 0 without Raft.", gauge, []string{lPhase}}
	fStateFresh         = family{"gosentinel_state_fresh", "1 when this sentinel vouches for its state (alone; or a member whose Raft log accepts appends and that leads, heard from the leader within the stale bound, or knows the others provably dead), 0 when it answers GET-MASTER-ADDR-BY-NAME with null.", gauge, nil}
	fLinkLatency        = family{"gosentinel_link_latency_seconds", "Round trip of the last valid PING reply of each linked instance (kind master, replica or sentinel); absent until it answered once.", gauge, []string{lMaster, lNode, lKind}}
	fFailoversPaused    = family{"gosentinel_failovers_paused", "1 while automatic failovers of the master are paused (SENTINEL MAINTENANCE), group-wide or for that master.", gauge, []string{lMaster}}
	fFailoversPausedAll = family{"gosentinel_failovers_paused_all", "1 while automatic failovers are paused group-wide.", gauge, nil}
	fBuildInfo          = family{"gosentinel_build_info", "Always 1: gosentinel's version and the Redis version it reports.", gauge, []string{lVersion, lRedisVer}}
)

// Values of the enumerated labels.
var (
	raftStates  = []string{"leader", "follower", "candidate", "shutdown"}
	groupPhases = []string{"alone", "forming", "joining", "member"}
	// failoverProtocols are gosentinel_failover_protocol's label values.
	failoverProtocols = []string{"raft", "sentinel", "none"}
)

// families is every family of ours, in exposition order.
func families() []family {
	out := slices.Clone(exporterFamilies)
	out = append(out, sentinelOnlyFamilies...)
	out = append(out, fRedisUp, fRedisMasterLinkUp)
	for _, f := range nodeInfoFields {
		out = append(out, f.f)
	}
	return append(out, fFailovers, fFailoverDuration, fFailoverPhase, fNotStarted, fRaftState, fRaftTerm,
		fRaftCommit, fRaftApplied, fRaftLeader, fRaftLeaderChanges, fRaftVoters, fGroupPhase, fFailoverProtocol, fForeignSentinels, fStateFresh,
		fLinkLatency, fFailoversPaused, fFailoversPausedAll, fBuildInfo)
}

// ExporterFamilyNames lists the families that are redis_exporter's own,
// with its names and label names (what the comparison with the exporter
// checks).
func ExporterFamilyNames() []string {
	out := make([]string, len(exporterFamilies))
	for i, f := range exporterFamilies {
		out[i] = f.name
	}
	return out
}

var runtimeNames = sync.OnceValue(func() []string {
	r := prometheus.NewRegistry()
	r.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	mfs, err := r.Gather()
	if err != nil {
		return nil
	}
	out := make([]string, 0, len(mfs))
	for _, mf := range mfs {
		out = append(out, mf.GetName())
	}
	return out
})

// FamilyNames lists every metric family /metrics exports, sorted: ours and
// those of the Go and process collectors. A histogram is listed by its
// family name; its series are name_bucket, name_sum and name_count.
func FamilyNames() []string {
	var out []string
	for _, f := range families() {
		out = append(out, f.name)
	}
	out = append(out, runtimeNames()...)
	slices.Sort(out)
	return slices.Compact(out)
}

// Exports tells whether a series name (as a PromQL query names it) is
// exported: a family name, or a histogram's _bucket, _sum or _count.
func Exports(series string) bool {
	names := FamilyNames()
	if _, ok := slices.BinarySearch(names, series); ok {
		return true
	}
	for _, suf := range []string{"_bucket", "_sum", "_count"} {
		base, ok := strings.CutSuffix(series, suf)
		if !ok {
			continue
		}
		for _, f := range families() {
			if f.name == base && f.kind == histogram {
				return true
			}
		}
	}
	return false
}

// Labels returns the label names of the series (as a PromQL query names
// it: a family, or a histogram's _bucket, _sum or _count, whose _bucket has
// "le" too), and whether gosentinel exports it. The Go and process
// collectors' series have no labels of ours.
func Labels(series string) ([]string, bool) {
	if !Exports(series) {
		return nil, false
	}
	for _, f := range families() {
		if f.name == series {
			return slices.Clone(f.labels), true
		}
	}
	for _, suf := range []string{"_bucket", "_sum", "_count"} {
		base, ok := strings.CutSuffix(series, suf)
		if !ok {
			continue
		}
		for _, f := range families() {
			if f.name == base && f.kind == histogram {
				out := slices.Clone(f.labels)
				if suf == "_bucket" {
					out = append(out, "le")
				}
				return out, true
			}
		}
	}
	return nil, true
}

// desc builds the family's Prometheus descriptor.
func (f family) desc() *prometheus.Desc {
	if d, ok := descs[f.name]; ok {
		return d
	}
	return prometheus.NewDesc(f.name, f.help, f.labels, nil)
}

// valueType is the family's const-metric value type.
func (f family) valueType() prometheus.ValueType {
	if f.kind == counter {
		return prometheus.CounterValue
	}
	return prometheus.GaugeValue
}
