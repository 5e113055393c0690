package sentinel

import (
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/x0tta6bl4/gosentinel/internal/redisargs"
)

// infoSections are the sections sentinel's INFO knows, in output order.
var infoSections = []string{"server", "clients", "stats", "cpu", "sentinel"}

// INFO [section ...]: sentinelInfoCommand. Unknown sections are ignored;
// "default", "all" and "everything" select all five. Sections of our own
// (the backend's InfoSection, e.g. "raft") follow, only when named: the
// default output stays redis-sentinel's. Always a bulk string (also in
// RESP3).
func cmdInfo(c *client, argv []string) {
	want := map[string]bool{}
	var named []string
	all := len(argv) == 1
	for _, a := range argv[1:] {
		switch sec := redisargs.Lower(a); sec {
		case "default", "all", "everything":
			all = true
		default:
			if !want[sec] {
				named = append(named, sec)
			}
			want[sec] = true
		}
	}
	var sections []string
	for _, sec := range infoSections {
		if all || want[sec] {
			sections = append(sections, c.srv.infoSection(sec))
		}
	}
	for _, sec := range named {
		if slices.Contains(infoSections, sec) {
			continue
		}
		if text, ok := c.srv.cfg.Backend.InfoSection(sec); ok {
			sections = append(sections, text)
		}
	}
	c.addBulk(strings.Join(sections, "\r\n"))
}

func (s *Server) infoSection(name string) string {
	var b strings.Builder
	fields := infoFields[s.cfg.Compat]
	line := func(k string, v any) {
		if f, ok := fields.replace[k]; ok {
			v = f(s)
		}
		fmt.Fprintf(&b, "%s:%v\r\n", k, v)
		for _, f := range fields.after[k] {
			fmt.Fprintf(&b, "%s:%v\r\n", f.name, f.value(s))
		}
		if f := fields.linesAfter[k]; f != nil {
			for _, l := range f(s) {
				b.WriteString(l + "\r\n")
			}
		}
	}
	now := time.Now()
	switch name {
	case "server":
		uptime := int64(now.Sub(s.started) / time.Second)
		b.WriteString("# Server\r\n")
		line("redis_version", s.cfg.Compat.RedisVersion())
		line("redis_git_sha1", "00000000")
		line("redis_git_dirty", 0)
		line("redis_build_id", buildID(s.cfg.Compat.RedisVersion()))
		line("redis_mode", "sentinel")
		line("os", osString())
		line("arch_bits", strconv.IntSize)
		line("monotonic_clock", "POSIX clock_gettime")
		line("multiplexing_api", multiplexingAPI())
		line("atomicvar_api", "c11-builtin")
		line("gcc_version", "0.0.0")
		line("process_id", os.Getpid())
		line("process_supervised", "no")
		line("run_id", s.cfg.RunID)
		line("tcp_port", s.tcpPort())
		line("server_time_usec", now.UnixMicro())
		line("uptime_in_seconds", uptime)
		line("uptime_in_days", uptime/86400)
		// Sentinel re-randomises hz every tick (10..19).
		line("hz", 10+rand.IntN(10))
		configuredHz := s.cfg.ConfiguredHz
		if configuredHz == 0 {
			configuredHz = 10
		}
		line("configured_hz", configuredHz)
		line("lru_clock", now.Unix()&(1<<24-1))
		line("executable", s.cfg.Executable)
		line("config_file", s.cfg.ConfigFile)
		line("io_threads_active", 0)
	case "clients":
		s.mu.Lock()
		connected, blocked := len(s.clients), 0
		for _, c := range s.clients {
			if c.blocked {
				blocked++
			}
		}
		tracking := s.trackingClients
		s.mu.Unlock()
		maxIn := 0
		if connected > 0 {
			maxIn = queryBufAlloc + 6
		}
		b.WriteString("# Clients\r\n")
		line("connected_clients", connected)
		line("cluster_connections", 0)
		line("maxclients", s.maxClients)
		line("client_recent_max_input_buffer", maxIn)
		line("client_recent_max_output_buffer", 0)
		line("blocked_clients", blocked)
		line("tracking_clients", tracking)
		line("clients_in_timeout_table", 0)
	case "stats":
		st := s.Stats()
		ops, inKbps, outKbps := s.ops.rates(now)
		b.WriteString("# Stats\r\n")
		line("total_connections_received", st.TotalConnections)
		line("total_commands_processed", st.TotalCommands)
		line("instantaneous_ops_per_sec", ops)
		line("total_net_input_bytes", st.NetInputBytes)
		line("total_net_output_bytes", st.NetOutputBytes)
		line("total_net_repl_input_bytes", 0)
		line("total_net_repl_output_bytes", 0)
		line("instantaneous_input_kbps", fmt.Sprintf("%.2f", inKbps))
		line("instantaneous_output_kbps", fmt.Sprintf("%.2f", outKbps))
		line("instantaneous_input_repl_kbps", "0.00")
		line("instantaneous_output_repl_kbps", "0.00")
		line("rejected_connections", st.RejectedConnections)
		for _, k := range []string{"sync_full", "sync_partial_ok", "sync_partial_err", "expired_keys"} {
			line(k, 0)
		}
		line("expired_stale_perc", "0.00")
		for _, k := range []string{"expired_time_cap_reached_count", "expire_cycle_cpu_milliseconds",
			"evicted_keys", "evicted_clients", "total_eviction_exceeded_time",
			"current_eviction_exceeded_time", "keyspace_hits", "keyspace_misses"} {
			line(k, 0)
		}
		line("pubsub_channels", st.PubsubChannels)
		line("pubsub_patterns", st.PubsubPatterns)
		for _, k := range []string{"pubsubshard_channels", "latest_fork_usec", "total_forks",
			"migrate_cached_sockets", "slave_expires_tracked_keys", "active_defrag_hits",
			"active_defrag_misses", "active_defrag_key_hits", "active_defrag_key_misses",
			"total_active_defrag_time", "current_active_defrag_time", "tracking_total_keys",
			"tracking_total_items", "tracking_total_prefixes", "unexpected_error_replies"} {
			line(k, 0)
		}
		line("total_error_replies", st.TotalErrorReplies)
		line("dump_payload_sanitizations", 0)
		line("total_reads_processed", s.stats.reads.Load())
		line("total_writes_processed", s.stats.writes.Load())
		for _, k := range []string{"io_threaded_reads_processed", "io_threaded_writes_processed",
			"reply_buffer_shrinks", "reply_buffer_expands"} {
			line(k, 0)
		}
	case "cpu":
		self, children := cpuUsage()
		b.WriteString("# CPU\r\n")
		line("used_cpu_sys", self.sys)
		line("used_cpu_user", self.user)
		line("used_cpu_sys_children", children.sys)
		line("used_cpu_user_children", children.user)
		// Go has no main thread; the process figures stand in for it.
		line("used_cpu_sys_main_thread", self.sys)
		line("used_cpu_user_main_thread", self.user)
	case "sentinel":
		b.WriteString("# Sentinel\r\n")
		for _, l := range s.cfg.Backend.InfoSentinel() {
			b.WriteString(l + "\r\n")
		}
	}
	return b.String()
}

// buildID is a stable 16-hex-digit identifier of this build.
func buildID(version string) string {
	h := uint64(14695981039346656037)
	for _, b := range []byte(version + runtime.Version() + runtime.GOARCH) {
		h = (h ^ uint64(b)) * 1099511628211
	}
	return fmt.Sprintf("%016x", h)
}

func multiplexingAPI() string {
	switch runtime.GOOS {
	case "linux":
		return "epoll"
	case "darwin", "freebsd", "netbsd", "openbsd", "dragonfly":
		return "kqueue"
	}
	return "select"
}

// cpuTimes are getrusage figures rendered like redis ("%ld.%06ld").
type cpuTimes struct{ sys, user string }

func formatTimeval(sec, usec int64) string { return fmt.Sprintf("%d.%06d", sec, usec) }

// opsSampler computes INFO's instantaneous_* metrics like redis'
// trackInstantaneousMetric: a rate sampled every 100 ms, averaged over the
// last 16 samples.
type opsSampler struct {
	mu      sync.Mutex
	last    time.Time
	lastOps int64
	lastIn  int64
	lastOut int64
	samples [16][3]float64
	idx     int
}

const opsSamplePeriod = 100 * time.Millisecond

// tick records the counters, taking a sample when a period has passed.
func (o *opsSampler) tick(now time.Time, ops, in, out int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.sampleLocked(now, ops, in, out)
}

func (o *opsSampler) sampleLocked(now time.Time, ops, in, out int64) {
	if o.last.IsZero() {
		o.last, o.lastOps, o.lastIn, o.lastOut = now, ops, in, out
		return
	}
	el := now.Sub(o.last)
	if el < opsSamplePeriod {
		return
	}
	// Idle periods count as zero samples.
	periods := int(el / opsSamplePeriod)
	secs := el.Seconds()
	rate := [3]float64{float64(ops-o.lastOps) / secs, float64(in-o.lastIn) / secs, float64(out-o.lastOut) / secs}
	for i := 0; i < min(periods, 16); i++ {
		if i == 0 {
			o.samples[o.idx] = rate
		} else {
			o.samples[o.idx] = [3]float64{}
		}
		o.idx = (o.idx + 1) % 16
	}
	o.last, o.lastOps, o.lastIn, o.lastOut = now, ops, in, out
}

// rates returns ops/sec and input/output KB/s.
func (o *opsSampler) rates(now time.Time) (ops int64, inKbps, outKbps float64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var sum [3]float64
	for _, s := range o.samples {
		for i := range sum {
			sum[i] += s[i]
		}
	}
	if !o.last.IsZero() && now.Sub(o.last) > 16*opsSamplePeriod {
		return 0, 0, 0
	}
	return int64(sum[0] / 16), sum[1] / 16 / 1024, sum[2] / 16 / 1024
}
