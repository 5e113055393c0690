package fakefleet

import (
	"fmt"
	"strings"
	"time"
)

// RedisVersion is the version every fake master reports.
const RedisVersion = "7.0.15"

// infoState is what one INFO reply is rendered from.
type infoState struct {
	port      int
	pid       int
	runID     string // 40 hex characters, fixed for the master's life
	replID    string // 40 hex characters
	started   time.Time
	now       time.Time
	clients   int
	replicaOf string // "host:port" after REPLICAOF, "" for a master
}

// infoSections are the sections of a default INFO, in redis' order.
var infoSections = []string{"server", "clients", "memory", "persistence", "stats", "replication", "cpu", "modules", "errorstats", "cluster", "keyspace"}

// renderInfo renders INFO [section] as redis 7.0.15 would for a fresh
// empty master (or a replica whose link never came up, after REPLICAOF).
// sentinelRefreshInstanceInfo reads run_id, role, the slave<N> lines,
// master_repl_offset and, on a replica, master_host, master_port,
// master_link_status, master_link_down_since_seconds, slave_priority,
// slave_repl_offset and replica_announced.
func renderInfo(st infoState, section string) string {
	section = strings.ToLower(section)
	var want []string
	switch section {
	case "", "default", "all", "everything":
		want = infoSections
	default:
		want = []string{section}
	}
	var b strings.Builder
	for _, s := range want {
		body := infoSection(st, s)
		if body == "" && s != "keyspace" && s != "modules" && s != "errorstats" {
			continue
		}
		if b.Len() > 0 {
			b.WriteString("\r\n")
		}
		b.WriteString("# " + strings.ToUpper(s[:1]) + s[1:] + "\r\n")
		b.WriteString(body)
	}
	return b.String()
}

func infoSection(st infoState, section string) string {
	up := int64(st.now.Sub(st.started) / time.Second)
	var lines []string
	switch section {
	case "server":
		lines = []string{
			"redis_version:" + RedisVersion,
			"redis_git_sha1:00000000",
			"redis_git_dirty:0",
			"redis_build_id:3e9dbd45ef2b29e0",
			"redis_mode:standalone",
			"os:Linux 6.1.0-fakefleet x86_64",
			"arch_bits:64",
			"monotonic_clock:POSIX clock_gettime",
			"multiplexing_api:epoll",
			"atomicvar_api:c11-builtin",
			"gcc_version:12.2.0",
			fmt.Sprintf("process_id:%d", st.pid),
			"process_supervised:no",
			"run_id:" + st.runID,
			fmt.Sprintf("tcp_port:%d", st.port),
			fmt.Sprintf("server_time_usec:%d", st.now.UnixMicro()),
			fmt.Sprintf("uptime_in_seconds:%d", up),
			fmt.Sprintf("uptime_in_days:%d", up/86400),
			"hz:10",
			"configured_hz:10",
			fmt.Sprintf("lru_clock:%d", st.now.Unix()&(1<<24-1)),
			"executable:/usr/bin/redis-server",
			"config_file:",
			"io_threads_active:0",
		}
	case "clients":
		lines = []string{
			fmt.Sprintf("connected_clients:%d", st.clients),
			"cluster_connections:0",
			"maxclients:10000",
			"client_recent_max_input_buffer:20480",
			"client_recent_max_output_buffer:0",
			"blocked_clients:0",
			"tracking_clients:0",
			"clients_in_timeout_table:0",
		}
	case "memory":
		lines = []string{
			"used_memory:1021208",
			"used_memory_human:997.27K",
			"used_memory_rss:7340032",
			"used_memory_rss_human:7.00M",
			"used_memory_peak:1021208",
			"used_memory_peak_human:997.27K",
			"maxmemory:0",
			"maxmemory_human:0B",
			"maxmemory_policy:noeviction",
			"mem_fragmentation_ratio:7.36",
			"mem_allocator:jemalloc-5.3.0",
		}
	case "persistence":
		lines = []string{
			"loading:0",
			"async_loading:0",
			"rdb_changes_since_last_save:0",
			"rdb_bgsave_in_progress:0",
			fmt.Sprintf("rdb_last_save_time:%d", st.started.Unix()),
			"rdb_last_bgsave_status:ok",
			"aof_enabled:0",
			"aof_rewrite_in_progress:0",
		}
	case "stats":
		lines = []string{
			"total_connections_received:0",
			"total_commands_processed:0",
			"instantaneous_ops_per_sec:0",
			"rejected_connections:0",
			"sync_full:0",
			"sync_partial_ok:0",
			"sync_partial_err:0",
			"expired_keys:0",
			"evicted_keys:0",
			"keyspace_hits:0",
			"keyspace_misses:0",
			"pubsub_channels:0",
			"pubsub_patterns:0",
		}
	case "replication":
		// Both roles end with the master side of replication: nobody
		// replicates from a fake.
		ownSide := []string{
			"connected_slaves:0",
			"master_failover_state:no-failover",
			"master_replid:" + st.replID,
			"master_replid2:0000000000000000000000000000000000000000",
			"master_repl_offset:0",
			"second_repl_offset:-1",
			"repl_backlog_active:0",
			"repl_backlog_size:1048576",
			"repl_backlog_first_byte_offset:0",
			"repl_backlog_histlen:0",
		}
		if st.replicaOf == "" {
			lines = append([]string{"role:master"}, ownSide...)
			break
		}
		host, port, _ := strings.Cut(st.replicaOf, ":")
		lines = append([]string{
			"role:slave",
			"master_host:" + host,
			"master_port:" + port,
			"master_link_status:down",
			"master_last_io_seconds_ago:-1",
			"master_sync_in_progress:0",
			"slave_read_repl_offset:0",
			"slave_repl_offset:0",
			"master_link_down_since_seconds:-1",
			"slave_priority:100",
			"slave_read_only:1",
			"replica_announced:1",
		}, ownSide...)
	case "cpu":
		lines = []string{
			"used_cpu_sys:0.000000",
			"used_cpu_user:0.000000",
			"used_cpu_sys_children:0.000000",
			"used_cpu_user_children:0.000000",
		}
	case "cluster":
		lines = []string{"cluster_enabled:0"}
	}
	if len(lines) == 0 {
		return ""
	}
	return strings.Join(lines, "\r\n") + "\r\n"
}
