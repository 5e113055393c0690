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
		b.WriteString("# " + sectionTitle(s) + "\r\n")
		b.WriteString(body)
	}
	return b.String()
}

// sectionTitle is a section's header as redis writes it ("# CPU", not
// "# Cpu").
func sectionTitle(s string) string {
	if s == "cpu" {
		return "CPU"
	}
	return strings.ToUpper(s[:1]) + s[1:]
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
			"used_memory:916912",
			"used_memory_human:895.42K",
			"used_memory_rss:12025856",
			"used_memory_rss_human:11.47M",
			"used_memory_peak:916912",
			"used_memory_peak_human:895.42K",
			"used_memory_peak_perc:102.57%",
			"used_memory_overhead:876268",
			"used_memory_startup:876064",
			"used_memory_dataset:40644",
			"used_memory_dataset_perc:99.50%",
			"allocator_allocated:1690848",
			"allocator_active:1826816",
			"allocator_resident:4497408",
			"total_system_memory:8589934592",
			"total_system_memory_human:8.00G",
			"used_memory_lua:32768",
			"used_memory_vm_eval:32768",
			"used_memory_lua_human:32.00K",
			"used_memory_scripts_eval:0",
			"number_of_cached_scripts:0",
			"number_of_functions:0",
			"number_of_libraries:0",
			"used_memory_vm_functions:33792",
			"used_memory_vm_total:66560",
			"used_memory_vm_total_human:65.00K",
			"used_memory_functions:200",
			"used_memory_scripts:200",
			"used_memory_scripts_human:200B",
			"maxmemory:0",
			"maxmemory_human:0B",
			"maxmemory_policy:noeviction",
			"allocator_frag_ratio:1.08",
			"allocator_frag_bytes:135968",
			"allocator_rss_ratio:2.46",
			"allocator_rss_bytes:2670592",
			"rss_overhead_ratio:2.67",
			"rss_overhead_bytes:7528448",
			"mem_fragmentation_ratio:13.72",
			"mem_fragmentation_bytes:11149560",
			"mem_not_counted_for_evict:0",
			"mem_replication_backlog:4",
			"mem_total_replication_buffers:0",
			"mem_clients_slaves:0",
			"mem_clients_normal:0",
			"mem_cluster_links:0",
			"mem_aof_buffer:0",
			"mem_allocator:jemalloc-5.3.0",
			"active_defrag_running:0",
			"lazyfree_pending_objects:0",
			"lazyfreed_objects:0",
		}
	case "persistence":
		lines = []string{
			"loading:0",
			"async_loading:0",
			"current_cow_peak:0",
			"current_cow_size:0",
			"current_cow_size_age:0",
			"current_fork_perc:0.00",
			"current_save_keys_processed:0",
			"current_save_keys_total:0",
			"rdb_changes_since_last_save:0",
			"rdb_bgsave_in_progress:0",
			fmt.Sprintf("rdb_last_save_time:%d", st.started.Unix()),
			"rdb_last_bgsave_status:ok",
			"rdb_last_bgsave_time_sec:-1",
			"rdb_current_bgsave_time_sec:-1",
			"rdb_saves:0",
			"rdb_last_cow_size:0",
			"rdb_last_load_keys_expired:0",
			"rdb_last_load_keys_loaded:0",
			"aof_enabled:0",
			"aof_rewrite_in_progress:0",
			"aof_rewrite_scheduled:0",
			"aof_last_rewrite_time_sec:-1",
			"aof_current_rewrite_time_sec:-1",
			"aof_last_bgrewrite_status:ok",
			"aof_rewrites:0",
			"aof_rewrites_consecutive_failures:0",
			"aof_last_write_status:ok",
			"aof_last_cow_size:0",
			"module_fork_in_progress:0",
			"module_fork_last_cow_size:0",
		}
	case "stats":
		lines = []string{
			"total_connections_received:1",
			"total_commands_processed:0",
			"instantaneous_ops_per_sec:0",
			"total_net_input_bytes:6",
			"total_net_output_bytes:0",
			"total_net_repl_input_bytes:0",
			"total_net_repl_output_bytes:0",
			"instantaneous_input_kbps:0.00",
			"instantaneous_output_kbps:0.00",
			"instantaneous_input_repl_kbps:0.00",
			"instantaneous_output_repl_kbps:0.00",
			"rejected_connections:0",
			"sync_full:0",
			"sync_partial_ok:0",
			"sync_partial_err:0",
			"expired_keys:0",
			"expired_stale_perc:0.00",
			"expired_time_cap_reached_count:0",
			"expire_cycle_cpu_milliseconds:0",
			"evicted_keys:0",
			"evicted_clients:0",
			"total_eviction_exceeded_time:0",
			"current_eviction_exceeded_time:0",
			"keyspace_hits:0",
			"keyspace_misses:0",
			"pubsub_channels:0",
			"pubsub_patterns:0",
			"pubsubshard_channels:0",
			"latest_fork_usec:0",
			"total_forks:0",
			"migrate_cached_sockets:0",
			"slave_expires_tracked_keys:0",
			"active_defrag_hits:0",
			"active_defrag_misses:0",
			"active_defrag_key_hits:0",
			"active_defrag_key_misses:0",
			"total_active_defrag_time:0",
			"current_active_defrag_time:0",
			"tracking_total_keys:0",
			"tracking_total_items:0",
			"tracking_total_prefixes:0",
			"unexpected_error_replies:0",
			"total_error_replies:0",
			"dump_payload_sanitizations:0",
			"total_reads_processed:1",
			"total_writes_processed:0",
			"io_threaded_reads_processed:0",
			"io_threaded_writes_processed:0",
			"reply_buffer_shrinks:0",
			"reply_buffer_expands:0",
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
			"used_cpu_user:0.010907",
			"used_cpu_sys_children:0.000000",
			"used_cpu_user_children:0.000000",
			"used_cpu_sys_main_thread:0.000000",
			"used_cpu_user_main_thread:0.010866",
		}
	case "cluster":
		lines = []string{"cluster_enabled:0"}
	}
	if len(lines) == 0 {
		return ""
	}
	return strings.Join(lines, "\r\n") + "\r\n"
}
