package test

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/x0tta6bl4/gosentinel/internal/redistest"
)

// The normalisers of the compatibility test. Each relaxes named fields only,
// and each says why the value legitimately differs between two deployments
// started a few milliseconds apart. Ports, run ids and myids are not relaxed:
// they are replaced by symbolic tokens (see compatSide.tokens) and then
// compared exactly.

// anyIntAt relaxes integer values at the given paths: counters and
// millisecond ages that depend on when the command ran.
func anyIntAt(why string, paths ...string) []redistest.Rule {
	var rules []redistest.Rule
	for _, p := range paths {
		rules = append(rules, redistest.Rule{Path: p, Check: redistest.AnyInt, Why: why})
	}
	return rules
}

// Instance map fields (SENTINEL MASTER/MASTERS/REPLICAS/SENTINELS) that are
// ages in milliseconds or momentary link state.
var (
	masterTimingFields = []string{
		"link-pending-commands", // a PING/INFO may be in flight right now
		"last-ping-sent", "last-ok-ping-reply", "last-ping-reply",
		"info-refresh", "role-reported-time",
	}
	replicaTimingFields = append(slices.Clone(masterTimingFields),
		"slave-repl-offset", // advances with every replication ping
	)
	sentinelTimingFields = []string{
		"link-pending-commands",
		"last-ping-sent", "last-ok-ping-reply", "last-ping-reply",
		"last-hello-message",
	}
)

// instanceRules relaxes the timing fields of an instance map found at
// prefix ("" for a single map, "*" for an array of maps).
func instanceRules(prefix string, fields []string) []redistest.Rule {
	var paths []string
	for _, f := range fields {
		paths = append(paths, strings.TrimPrefix(prefix+"/"+f, "/"))
	}
	return anyIntAt("milliseconds since an event, or in-flight commands", paths...)
}

// helloRules relaxes HELLO's connection id.
var helloRules = anyIntAt("connection id depends on how many clients connected before", "id")

// infoVarying lists, per INFO field, why its value may differ. Every other
// field must have the same value (after token substitution), and all fields
// must come in the same order in the same sections.
var infoVarying = map[string]string{
	"redis_build_id":                  "build hash of the binary",
	"redis_git_dirty":                 "how the binary was built (8.0.2 from the source tarball says 1)",
	"listener0":                       "the port of the sentinel",
	"gcc_version":                     "compiler of the binary (redis itself prints 0.0.0 when not built by GCC)",
	"process_id":                      "pid",
	"server_time_usec":                "clock",
	"uptime_in_seconds":               "start time",
	"hz":                              "sentinel randomises hz every tick (10..19)",
	"lru_clock":                       "clock",
	"executable":                      "path of the binary",
	"config_file":                     "temp dir of the config",
	"connected_clients":               "peer and probe connections come and go",
	"client_recent_max_input_buffer":  "buffer sizes of recent clients",
	"client_recent_max_output_buffer": "buffer sizes of recent clients",
	"used_cpu_sys":                    "cpu time",
	"used_cpu_user":                   "cpu time",
	"used_cpu_sys_children":           "cpu time",
	"used_cpu_user_children":          "cpu time",
	"used_cpu_sys_main_thread":        "cpu time",
	"used_cpu_user_main_thread":       "cpu time",
}

// infoVaryingSections are sections whose every value is a traffic counter
// or rate (keys and order still compared).
var infoVaryingSections = map[string]string{
	"Stats": "connection, command and byte counters depend on traffic timing",
}

// infoText compares two INFO texts of sentinels line by line: same section
// headers, same keys in the same order, same values except the fields in
// infoVarying and sections in infoVaryingSections, where only the value's
// shape (integer, decimal or text) must agree.
func infoText(ref, got *redistest.Reply) string {
	return compareInfo(ref, got, func(section, key string) bool {
		_, varField := infoVarying[key]
		_, varSection := infoVaryingSections[section]
		return !varField && !varSection
	})
}

// nodeInfoText compares the INFO texts of a data node SENTINEL INFO-CACHE
// returns, as infoText does, with only redis_version and role compared by
// value: the same redis-server version answered both, and every other
// value changes from one INFO to the next (uptime, memory, counters).
// gosentinel keeps the text in a compact form of its own (monitor.InfoText):
// a line lost, split or renamed on the way shows here.
func nodeInfoText(ref, got *redistest.Reply) string {
	if !strings.Contains(ref.Str, "\r\nredis_version:") {
		return fmt.Sprintf("the reference's INFO is not a redis-server's: %.60q", ref.Str)
	}
	return compareInfo(ref, got, func(_, key string) bool { return key == "redis_version" || key == "role" })
}

// compareInfo compares two INFO texts line by line: same section headers,
// same keys in the same order, and the same values where exact says so;
// elsewhere only the value's shape (integer, decimal or text) must agree.
func compareInfo(ref, got *redistest.Reply, exact func(section, key string) bool) string {
	if m := redistest.AnyValue(ref, got); m != "" {
		return m
	}
	rl := strings.Split(ref.Str, "\r\n")
	gl := strings.Split(got.Str, "\r\n")
	section := ""
	for i := range max(len(rl), len(gl)) {
		if i >= len(rl) || i >= len(gl) {
			var r, g string
			if i < len(rl) {
				r = rl[i]
			}
			if i < len(gl) {
				g = gl[i]
			}
			return fmt.Sprintf("INFO line %d: expected %q got %q (ref has %d lines, got %d)", i+1, r, g, len(rl), len(gl))
		}
		r, g := rl[i], gl[i]
		if strings.HasPrefix(r, "# ") {
			section = r[2:]
		}
		rk, rv, rok := strings.Cut(r, ":")
		gk, gv, gok := strings.Cut(g, ":")
		if !rok || strings.HasPrefix(r, "#") {
			if r != g {
				return fmt.Sprintf("INFO line %d: expected %q got %q", i+1, r, g)
			}
			continue
		}
		if !gok || rk != gk {
			return fmt.Sprintf("INFO line %d: expected field %q got %q", i+1, r, g)
		}
		if !exact(section, rk) {
			if shape(rv) != shape(gv) {
				return fmt.Sprintf("INFO line %d: %s: expected a %s like %q got %q", i+1, rk, shape(rv), rv, gv)
			}
			continue
		}
		if rv != gv {
			return fmt.Sprintf("INFO line %d: %s: expected %q got %q", i+1, rk, rv, gv)
		}
	}
	return ""
}

// shape classifies a value as "integer", "decimal" or "text".
func shape(v string) string {
	if _, err := strconv.ParseInt(v, 10, 64); err == nil {
		return "integer"
	}
	if _, err := strconv.ParseFloat(v, 64); err == nil {
		return "decimal"
	}
	return "text"
}

var infoRules = []redistest.Rule{{Path: "", Check: infoText, Why: "INFO text, see infoText"}}

// clientVarying lists CLIENT LIST/INFO fields that identify the connection
// or describe buffer memory, which depends on the implementation's buffers.
var clientVarying = map[string]string{
	"id": "connection counter", "addr": "client's ephemeral port", "fd": "descriptor number",
	"age": "seconds since connect", "idle": "seconds since last command",
	"qbuf": "query buffer", "qbuf-free": "query buffer", "argv-mem": "memory",
	"multi-mem": "memory", "rbs": "read buffer", "rbp": "read buffer",
	"obl": "output buffer", "oll": "output list", "omem": "memory", "tot-mem": "memory",
}

// clientLines compares CLIENT LIST/CLIENT INFO text (and ACL LOG's
// client-info). Every line must have the reference's fields in the same
// order. The line describing the connection that ran the command
// (cmd=client|list or client|info, or the only line) is compared value by
// value, except clientVarying. How many other clients (peer sentinels) are
// connected right now is not compared.
func clientLines(ref, got *redistest.Reply) string {
	if m := redistest.AnyValue(ref, got); m != "" {
		return m
	}
	parse := func(line string) (keys []string, vals map[string]string) {
		vals = map[string]string{}
		for _, f := range strings.Fields(line) {
			k, v, _ := strings.Cut(f, "=")
			keys = append(keys, k)
			vals[k] = v
		}
		return keys, vals
	}
	own := func(text string) (string, []string) {
		var lines []string
		mine := ""
		for _, l := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
			lines = append(lines, l)
			if strings.Contains(l, " cmd=client|list ") || strings.Contains(l, " cmd=client|info ") {
				mine = l
			}
		}
		if len(lines) == 1 {
			mine = lines[0]
		}
		return mine, lines
	}
	rmine, rlines := own(ref.Str)
	// Deliberate in the 7.0 profile: the candidate's lines end with 7.2's
	// lib-name= lib-ver= fields (see setinfoAccepted); everything before
	// them is compared. In the 8.0 profile the reference has them too.
	gtext := got.Str
	if !compat80 {
		gtext = libFields.ReplaceAllString(gtext, "")
	}
	gmine, glines := own(gtext)
	refKeys, rv := parse(rmine)
	for _, l := range glines {
		if k, _ := parse(l); !slices.Equal(k, refKeys) {
			return fmt.Sprintf("client line fields: expected %v got %v (line %q)", refKeys, k, l)
		}
	}
	if gmine == "" {
		return fmt.Sprintf("no line for the calling connection in %q", clip(got.Str, 300))
	}
	_, gv := parse(gmine)
	for _, k := range refKeys {
		if _, ok := clientVarying[k]; ok {
			continue
		}
		if rv[k] != gv[k] {
			return fmt.Sprintf("own client line: %s: expected %q got %q", k, rv[k], gv[k])
		}
	}
	if strings.HasSuffix(ref.Str, "\n") != strings.HasSuffix(got.Str, "\n") || len(rlines) == 0 {
		return fmt.Sprintf("line termination: expected %q got %q", clip(ref.Str, 80), clip(got.Str, 80))
	}
	return ""
}

var clientRules = []redistest.Rule{{Path: "", Check: clientLines, Why: "client list text, see clientLines"}}

// sameLength accepts any text of the same kind and length (random values
// such as ACL GENPASS).
func sameLength(ref, got *redistest.Reply) string {
	if m := redistest.AnyValue(ref, got); m != "" {
		return m
	}
	if len(ref.Str) != len(got.Str) {
		return fmt.Sprintf("length: expected %d got %d", len(ref.Str), len(got.Str))
	}
	return ""
}

// Deliberate differences. gosentinel accepts CLIENT SETINFO as
// redis-sentinel 7.2 does, because current client libraries (go-redis,
// redis-py, ioredis, Jedis, Lettuce) send it on every connection
// (sentinel/cmd_client_setinfo.go). It is not listed anywhere (COMMAND,
// ACL CAT and CLIENT HELP are 7.0.15's), so only two things differ: the
// reply to CLIENT SETINFO, and the lib-name= lib-ver= fields that end the
// candidate's client lines (removed by clientLines).

// libFields matches the lib fields 7.2 appends to every client line.
var libFields = regexp.MustCompile(` lib-name=[^ \n]* lib-ver=[^ \n]*`)

// setinfoAccepted is the reply to CLIENT SETINFO itself: 7.0 does not know
// the subcommand, the candidate accepts it like 7.2.
var setinfoAccepted = rulesAt("", func(ref, got *redistest.Reply) string {
	if compat80 {
		// 8.0.2 has CLIENT SETINFO: the same reply is required.
		if ref.Kind != got.Kind || ref.Str != got.Str {
			return fmt.Sprintf("expected %s got %s", redistest.Short(ref), redistest.Short(got))
		}
		return ""
	}
	if ref.Kind != redistest.KindError || !strings.HasPrefix(ref.Str, "ERR unknown subcommand 'SETINFO'") {
		return fmt.Sprintf("reference %s is not 7.0's unknown subcommand (rule misapplied)", redistest.Short(ref))
	}
	if got.Kind != redistest.KindStatus || got.Str != "OK" {
		return fmt.Sprintf("expected +OK (as redis-sentinel 7.2) got %s", redistest.Short(got))
	}
	return ""
}, "CLIENT SETINFO is accepted as in redis-sentinel 7.2 (deliberate)")

// compat80 is set when the catalog runs the 8.0 profile against
// redis-sentinel 8.0.2 (GOSENTINEL_COMPAT=8.0 for the candidate,
// REFERENCE_SENTINEL the 8.0.2 binary; make compat does): the rules that
// describe 7.0.15's differences from 7.2 then require the same replies.
var compat80 = os.Getenv("GOSENTINEL_COMPAT") == "8.0"
