package sentinel

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/internal/compat"
)

// Each profile's table is its version's: 7.0.15 lists 72 commands and
// subcommands and no CLIENT SETINFO (which still runs, unlisted); 8.0.2
// lists CLIENT SETINFO with its captured docs.
func TestProfileTables(t *testing.T) {
	t70, t80 := tableOf(compat.V70), tableOf(compat.V80)
	if len(t70.all) != 72 || t70.lookupFullName("client|setinfo") != nil || t70.setinfo == nil {
		t.Fatalf("7.0 table: %d entries, setinfo listed %v", len(t70.all), t70.lookupFullName("client|setinfo") != nil)
	}
	si := t80.lookupFullName("client|setinfo")
	if si == nil || si.docs[resp2] == nil || si.info[resp2] == nil || t80.setinfo != nil {
		t.Fatalf("8.0 table lacks a captured client|setinfo")
	}
	if si.proc == nil {
		t.Fatal("8.0 client|setinfo has no procedure")
	}
	for _, build := range tables {
		tbl := build()
		for _, cmd := range tbl.all {
			if cmd.proc == nil {
				t.Errorf("%s has no procedure", cmd.name)
			}
		}
		if tbl.maintenance == nil || tbl.lookupRunnable([]string{"SENTINEL", "MAINTENANCE"}) != tbl.maintenance {
			t.Error("SENTINEL MAINTENANCE not runnable")
		}
	}
}

// COMMAND LIST, COMMAND DOCS and INFO follow the server's profile.
func TestProfileSelectsTableAndVersion(t *testing.T) {
	for _, tc := range []struct {
		p       compat.Profile
		listed  bool
		version string
	}{{compat.V70, false, "7.0.15"}, {compat.V80, true, "8.0.2"}} {
		_, addr := startServer(t, Config{Backend: &fakeBackend{}, Compat: tc.p})
		rc := dialRaw(t, addr)
		list := string(rc.do("COMMAND", "LIST"))
		if got := strings.Contains(list, "$14\r\nclient|setinfo\r\n"); got != tc.listed {
			t.Errorf("%s: COMMAND LIST has client|setinfo: %v", tc.p, got)
		}
		docs := string(rc.do("COMMAND", "DOCS", "client|setinfo"))
		if empty := docs == "*0\r\n"; empty == tc.listed {
			t.Errorf("%s: COMMAND DOCS client|setinfo = %q", tc.p, docs)
		}
		if got := string(rc.do("CLIENT", "SETINFO", "lib-name", "x")); got != "+OK\r\n" {
			t.Errorf("%s: CLIENT SETINFO = %q", tc.p, got)
		}
		if info := string(rc.do("INFO", "server")); !strings.Contains(info, "redis_version:"+tc.version+"\r\n") {
			t.Errorf("%s: INFO lacks redis_version:%s", tc.p, tc.version)
		}
	}
}

// SENTINEL CONFIG: one parameter in 7.0 (anything else is 7.0.15's usage
// error), several in 8.0 (handed to the backend whole, with 8.0.2's
// usage and arity errors).
func TestConfigArgumentsPerProfile(t *testing.T) {
	var gotGet, gotSet []string
	fb := &fakeBackend{
		CfgGetFn: func(p []string) Fields { gotGet = append([]string(nil), p...); return Fields{{"announce-port", "1"}} },
		CfgSetFn: func(a []string) error { gotSet = append([]string(nil), a...); return nil },
	}
	const usage70 = "-ERR Only SENTINEL CONFIG GET <option> / SET <option> <value> are supported.\r\n"
	const usage80 = "-ERR Only SENTINEL CONFIG GET <param> [<param> <param> ...] / SET <param> <value> [<param> <value> ...] are supported.\r\n"
	for _, tc := range []struct {
		p    compat.Profile
		args []string
		want string
		get  []string
		set  []string
	}{
		{compat.V70, []string{"SET", "announce-port", "1"}, "+OK\r\n", nil, []string{"announce-port", "1"}},
		{compat.V70, []string{"SET", "announce-port", "1", "loglevel", "debug"}, usage70, nil, nil},
		{compat.V70, []string{"GET", "a", "b"}, usage70, nil, nil},
		{compat.V70, []string{"GET", "announce-port"}, "*2\r\n$13\r\nannounce-port\r\n$1\r\n1\r\n", []string{"announce-port"}, nil},
		{compat.V80, []string{"SET", "announce-port", "1", "loglevel", "debug"}, "+OK\r\n", nil, []string{"announce-port", "1", "loglevel", "debug"}},
		{compat.V80, []string{"SET", "announce-port", "1", "loglevel"}, "+OK\r\n", nil, []string{"announce-port", "1", "loglevel"}},
		{compat.V80, []string{"GET", "a", "b"}, "*2\r\n$13\r\nannounce-port\r\n$1\r\n1\r\n", []string{"a", "b"}, nil},
		{compat.V80, []string{"SET", "x"}, usage80, nil, nil},
		{compat.V80, []string{"NOPE", "x"}, usage80, nil, nil},
	} {
		gotGet, gotSet = nil, nil
		_, addr := startServer(t, Config{Backend: fb, Compat: tc.p})
		rc := dialRaw(t, addr)
		got := string(rc.do(append([]string{"SENTINEL", "CONFIG"}, tc.args...)...))
		name := fmt.Sprintf("%s CONFIG %v", tc.p, tc.args)
		if got != tc.want {
			t.Errorf("%s = %q, want %q", name, got, tc.want)
		}
		if !reflect.DeepEqual(gotGet, tc.get) || !reflect.DeepEqual(gotSet, tc.set) {
			t.Errorf("%s: backend got GET %q SET %q, want %q %q", name, gotGet, gotSet, tc.get, tc.set)
		}
	}
}

// Valkey 9's SENTINEL FAILOVER <name> COORDINATED is accepted in every
// profile; another word is refused with Valkey's text, after the master's
// existence; COMMAND keeps redis' arity.
func TestFailoverCoordinated(t *testing.T) {
	var failed []string
	fb := &fakeBackend{FailFn: func(name string) error { failed = append(failed, name); return nil }}
	for _, p := range compat.Profiles {
		failed = nil
		_, addr := startServer(t, Config{Backend: fb, Compat: p})
		rc := dialRaw(t, addr)
		for _, c := range []struct {
			args []string
			want string
		}{
			{[]string{"SENTINEL", "FAILOVER", "mymaster", "COORDINATED"}, "+OK\r\n"},
			{[]string{"SENTINEL", "failover", "mymaster", "coordinated"}, "+OK\r\n"},
			{[]string{"SENTINEL", "FAILOVER", "mymaster", "FORCE"}, "-ERR Unknown failover option specified\r\n"},
			{[]string{"SENTINEL", "FAILOVER", "nosuch", "FORCE"}, "-ERR No such master with that name\r\n"},
			{[]string{"SENTINEL", "FAILOVER", "mymaster", "COORDINATED", "x"}, "-ERR wrong number of arguments for 'sentinel|failover' command\r\n"},
			{[]string{"SENTINEL", "FAILOVER", "mymaster"}, "+OK\r\n"},
		} {
			if got := string(rc.do(c.args...)); got != c.want {
				t.Errorf("%s %v = %q, want %q", p, c.args, got, c.want)
			}
		}
		if want := []string{"mymaster", "mymaster", "mymaster"}; !reflect.DeepEqual(failed, want) {
			t.Errorf("%s: failovers started %q, want %q", p, failed, want)
		}
		if info := string(rc.do("COMMAND", "INFO", "sentinel|failover")); !strings.Contains(info, ":3\r\n") {
			t.Errorf("%s: COMMAND INFO sentinel|failover arity changed: %q", p, info)
		}
	}
}

// info80Fields are the fields of redis-sentinel 8.0.2's INFO server,
// clients, stats and cpu sections, in order (captured from the binary
// scripts/build-redis8.sh builds).
const info80Fields = "redis_version redis_git_sha1 redis_git_dirty redis_build_id redis_mode os arch_bits monotonic_clock multiplexing_api atomicvar_api gcc_version process_id process_supervised run_id tcp_port server_time_usec uptime_in_seconds uptime_in_days hz configured_hz lru_clock executable config_file io_threads_active listener0 connected_clients cluster_connections maxclients client_recent_max_input_buffer client_recent_max_output_buffer blocked_clients tracking_clients pubsub_clients watching_clients clients_in_timeout_table total_watched_keys total_blocking_keys total_blocking_keys_on_nokey total_connections_received total_commands_processed instantaneous_ops_per_sec total_net_input_bytes total_net_output_bytes total_net_repl_input_bytes total_net_repl_output_bytes instantaneous_input_kbps instantaneous_output_kbps instantaneous_input_repl_kbps instantaneous_output_repl_kbps rejected_connections sync_full sync_partial_ok sync_partial_err expired_subkeys expired_keys expired_stale_perc expired_time_cap_reached_count expire_cycle_cpu_milliseconds evicted_keys evicted_clients evicted_scripts total_eviction_exceeded_time current_eviction_exceeded_time keyspace_hits keyspace_misses pubsub_channels pubsub_patterns pubsubshard_channels latest_fork_usec total_forks migrate_cached_sockets slave_expires_tracked_keys active_defrag_hits active_defrag_misses active_defrag_key_hits active_defrag_key_misses total_active_defrag_time current_active_defrag_time tracking_total_keys tracking_total_items tracking_total_prefixes unexpected_error_replies total_error_replies dump_payload_sanitizations total_reads_processed total_writes_processed io_threaded_reads_processed io_threaded_writes_processed client_query_buffer_limit_disconnections client_output_buffer_limit_disconnections reply_buffer_shrinks reply_buffer_expands eventloop_cycles eventloop_duration_sum eventloop_duration_cmd_sum instantaneous_eventloop_cycles_per_sec instantaneous_eventloop_duration_usec acl_access_denied_auth acl_access_denied_cmd acl_access_denied_key acl_access_denied_channel used_cpu_sys used_cpu_user used_cpu_sys_children used_cpu_user_children used_cpu_sys_main_thread used_cpu_user_main_thread "

// INFO's fields are 8.0.2's in the 8.0 profile and 7.0.15's (none of
// those added since) in the 7.0 profile.
func TestInfoFieldsPerProfile(t *testing.T) {
	fieldsOf := func(p compat.Profile) []string {
		_, addr := startServer(t, Config{Backend: &fakeBackend{}, Compat: p, Port: 26379})
		rc := dialRaw(t, addr)
		v, _, err := scanRESP(rc.do("INFO", "server", "clients", "stats", "cpu"))
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, l := range strings.Split(v.str, "\r\n") {
			if k, _, ok := strings.Cut(l, ":"); ok {
				out = append(out, k)
			}
		}
		return out
	}
	if got, want := strings.Join(fieldsOf(compat.V80), " "), strings.TrimSpace(info80Fields); got != want {
		t.Errorf("8.0 INFO fields:\n%s\nwant (redis-sentinel 8.0.2):\n%s", got, want)
	}
	got70 := fieldsOf(compat.V70)
	for _, added := range []string{"listener0", "pubsub_clients", "expired_subkeys", "eventloop_cycles", "acl_access_denied_cmd"} {
		if slices.Contains(got70, added) {
			t.Errorf("7.0 INFO has %s", added)
		}
	}
}

// 8.0's acl_access_denied_* count denials; listener0 names the port.
func TestInfo80Values(t *testing.T) {
	_, addr := startServer(t, Config{Backend: &fakeBackend{}, Compat: compat.V80, Port: 26379,
		Users: [][]string{{"u", "on", "nopass", "-@all", "+auth"}}})
	rc := dialRaw(t, addr)
	rc.do("AUTH", "u", "x")
	rc.do("PING")
	rc.do("AUTH", "nosuch", "x")
	rc.do("AUTH", "default", "")
	info := string(rc.do("INFO", "server", "stats"))
	for _, want := range []string{"listener0:name=tcp,bind=*,bind=-::*,port=26379\r\n", "acl_access_denied_cmd:1\r\n", "acl_access_denied_auth:1\r\n"} {
		if !strings.Contains(info, want) {
			t.Errorf("INFO lacks %q:\n%s", want, info)
		}
	}
}

// A message published to a client while it runs a command precedes the
// command's reply in 7.0 and follows it in 8.0 (7.2's deferred pushes).
func TestOwnPushOrderPerProfile(t *testing.T) {
	for _, tc := range []struct {
		p     compat.Profile
		first string
	}{{compat.V70, ">3"}, {compat.V80, "+OK"}} {
		var srv *Server
		fb := &fakeBackend{SetFn: func(string, []string) error {
			srv.Publish("+set", "master mymaster 127.0.0.1 6379 quorum 2")
			return nil
		}}
		s, addr := startServer(t, Config{Backend: fb, Compat: tc.p})
		srv = s
		rc := dialRaw(t, addr)
		rc.do("HELLO", "3")
		rc.do("SUBSCRIBE", "+set")
		rc.send(encodeCommand("SENTINEL", "SET", "mymaster", "quorum", "2"))
		first, err := rc.reply(5 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		second, err := rc.reply(5 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(first), tc.first) || string(first) == string(second) {
			t.Errorf("%s: replies %q then %q, want %s first", tc.p, first, second, tc.first)
		}
	}
}

// 8.0's ACL LOG entries end with entry-id and the two timestamps; 7.0's do
// not; CLIENT INFO carries watch= and io-thread= in 8.0 only; a new user
// has sanitize-payload in 8.0 only.
func TestACLAndClientFieldsPerProfile(t *testing.T) {
	for _, p := range compat.Profiles {
		_, addr := startServer(t, Config{Backend: &fakeBackend{}, Compat: p})
		rc := dialRaw(t, addr)
		rc.do("AUTH", "nobody", "x")
		log := string(rc.do("ACL", "LOG"))
		info := string(rc.do("CLIENT", "INFO"))
		rc.do("ACL", "SETUSER", "alice")
		user := string(rc.do("ACL", "LIST"))
		is80 := p == compat.V80
		if got := strings.Contains(log, "entry-id") && strings.Contains(log, "timestamp-last-updated"); got != is80 {
			t.Errorf("%s: ACL LOG %q", p, log)
		}
		if got := strings.Contains(info, " multi=-1 watch=0 ") && strings.HasSuffix(strings.TrimSpace(info), " io-thread=0"); got != is80 {
			t.Errorf("%s: CLIENT INFO %q", p, info)
		}
		if got := strings.Contains(user, "user alice off sanitize-payload "); got != is80 {
			t.Errorf("%s: ACL LIST %q", p, user)
		}
	}
}

// The 8.0 profile answers ACL denials, ACL LOG's age-seconds and CLIENT
// KILL MAXAGE as redis-sentinel 8.0.2 does (compared byte for byte by the
// 8.0 differential review); the 7.0 profile as 7.0.15.
func TestProfileACLTextsDoublesAndMaxAge(t *testing.T) {
	for _, tc := range []struct {
		p                       compat.Profile
		noperm, channel, dryrun string
		maxAge, maxAgeZero      string
	}{
		{compat.V70,
			"-NOPERM this user has no permissions to run the 'info' command\r\n",
			"-NOPERM this user has no permissions to access one of the channels used as arguments\r\n",
			"This user has no permissions to run the 'info' command",
			"-ERR syntax error\r\n", "-ERR syntax error\r\n"},
		{compat.V80,
			"-NOPERM User lim has no permissions to run the 'info' command\r\n",
			"-NOPERM No permissions to access a channel\r\n",
			"User lim has no permissions to run the 'info' command",
			":0\r\n", "-ERR maxage should be greater than 0\r\n"},
	} {
		_, addr := startServer(t, Config{Backend: &fakeBackend{}, Compat: tc.p})
		admin := dialRaw(t, addr)
		if got := string(admin.do("ACL", "SETUSER", "lim", "on", "nopass", "+ping", "+subscribe", "+auth", "&ch*")); got != "+OK\r\n" {
			t.Fatalf("%s: ACL SETUSER = %q", tc.p, got)
		}
		lim := dialRaw(t, addr)
		if got := string(lim.do("AUTH", "lim", "x")); got != "+OK\r\n" {
			t.Fatalf("%s: AUTH = %q", tc.p, got)
		}
		if got := string(lim.do("INFO")); got != tc.noperm {
			t.Errorf("%s: INFO as lim = %q, want %q", tc.p, got, tc.noperm)
		}
		if got := string(lim.do("SUBSCRIBE", "other")); got != tc.channel {
			t.Errorf("%s: SUBSCRIBE other as lim = %q, want %q", tc.p, got, tc.channel)
		}
		want := fmt.Sprintf("$%d\r\n%s\r\n", len(tc.dryrun), tc.dryrun)
		if got := string(admin.do("ACL", "DRYRUN", "lim", "info")); got != want {
			t.Errorf("%s: ACL DRYRUN = %q, want %q", tc.p, got, want)
		}
		if got := string(admin.do("CLIENT", "KILL", "MAXAGE", "100")); got != tc.maxAge {
			t.Errorf("%s: CLIENT KILL MAXAGE 100 = %q, want %q", tc.p, got, tc.maxAge)
		}
		if got := string(admin.do("CLIENT", "KILL", "MAXAGE", "0")); got != tc.maxAgeZero {
			t.Errorf("%s: CLIENT KILL MAXAGE 0 = %q, want %q", tc.p, got, tc.maxAgeZero)
		}
	}
	for _, tc := range []struct {
		d        float64
		shortest bool
		want     string
	}{
		{0.605, false, "0.60499999999999998"}, {0.605, true, "0.605"}, {297.862, true, "297.862"}, {2, true, "2"},
		// fpconv's layout: no exponent within 7 places, an unpadded one
		// beyond; whole numbers as integers within double2ll's range.
		{1234567.8, true, "1234567.8"}, {1e6, true, "1000000"}, {1e-5, true, "0.00001"},
		{1e-7, true, "1e-7"}, {1e21, true, "1e+21"}, {1.5e300, true, "1.5e+300"}, {5e-324, true, "5e-324"},
		{123456789012.5, true, "123456789012.5"}, {-0.5, true, "-0.5"}, {math.Copysign(0, -1), true, "-0"},
		{math.Inf(-1), true, "-inf"}, {1e19, true, "1e+19"}, {4e18, true, "4000000000000000000"},
	} {
		if got := formatDouble(tc.d, tc.shortest); got != tc.want {
			t.Errorf("formatDouble(%v, %v) = %q, want %q", tc.d, tc.shortest, got, tc.want)
		}
	}
}

// INFO's tcp_port is the port, else the TLS port (server.c: port ? port :
// tls_port), in both profiles; 8.0 lists one listener line per kind open
// (0 tcp, 1 unix, 2 tls), as redis-sentinel 8.0.2 prints them (checked
// with port and unixsocket, and port 0 with unixsocket; 7.0.15 with port 0
// and tls-port prints the TLS port).
func TestInfoPortsAndListeners(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		want []string // the tcp_port and listener lines, in order
	}{
		{"port", Config{Port: 26379}, []string{"tcp_port:26379", "listener0:name=tcp,bind=*,bind=-::*,port=26379"}},
		{"port and unixsocket", Config{Port: 21501, Bind: []string{"127.0.0.1"}, UnixSocket: "/run/s.sock"},
			[]string{"tcp_port:21501", "listener0:name=tcp,bind=127.0.0.1,port=21501", "listener1:name=unix,bind=/run/s.sock"}},
		{"unixsocket alone", Config{UnixSocket: "/run/s.sock"}, []string{"tcp_port:0", "listener1:name=unix,bind=/run/s.sock"}},
		{"TLS only", Config{TLSPort: 26380}, []string{"tcp_port:26380", "listener2:name=tls,bind=*,bind=-::*,port=26380"}},
		{"both ports", Config{Port: 26379, TLSPort: 26380, Bind: []string{"127.0.0.1", "-::1"}},
			[]string{"tcp_port:26379", "listener0:name=tcp,bind=127.0.0.1,bind=-::1,port=26379", "listener2:name=tls,bind=127.0.0.1,bind=-::1,port=26380"}},
	} {
		for _, p := range []compat.Profile{compat.V70, compat.V80} {
			t.Run(tc.name+"/"+string(p), func(t *testing.T) {
				cfg := tc.cfg
				cfg.Backend, cfg.Compat = &fakeBackend{}, p
				srv, err := NewServer(cfg)
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, l := range strings.Split(srv.infoSection("server"), "\r\n") {
					if strings.HasPrefix(l, "tcp_port:") || strings.HasPrefix(l, "listener") {
						got = append(got, l)
					}
				}
				want := tc.want
				if p == compat.V70 {
					want = want[:1] // no listener lines before 7.2
				}
				if !slices.Equal(got, want) {
					t.Errorf("got %q, want %q", got, want)
				}
			})
		}
	}
}
