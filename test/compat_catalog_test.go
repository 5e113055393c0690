package test

import (
	"strings"

	"github.com/x0tta6bl4/gosentinel/internal/redistest"
)

// where selects the sentinel pair a case runs on.
type where int

const (
	onBoth  where = iota // the plain trio and the password-protected single
	onPlain              // only the plain trio (no requirepass)
	onAuth               // only the sentinel with requirepass
)

// compatCase is one entry of the catalog: a sequence of steps on one fresh
// connection. Unless raw is set, the connection first switches protocol
// (RESP3 runs start with HELLO 3) and authenticates on the password-protected
// sentinel; both preamble replies are compared too.
type compatCase struct {
	name  string
	steps []step
	where where
	// raw cases run once on a fresh, unauthenticated RESP2 connection.
	raw bool
	// proto, if set, restricts the case to "RESP2" or "RESP3" (for cases
	// whose number of replies depends on the protocol).
	proto string
}

// st is a command step with one reply.
func st(args ...string) step { return step{cmd: args, replies: 1} }

// rawStep writes bytes as they are and reads n replies.
func rawStep(b string, n int) step { return step{raw: b, replies: n} }

// n sets how many replies the step produces.
func (s step) n(k int) step { s.replies = k; return s }

// with adds relaxing rules to the step.
func (s step) with(rules ...[]redistest.Rule) step {
	for _, r := range rules {
		s.rules = append(s.rules, r...)
	}
	return s
}

// one is a case made of a single command.
func one(args ...string) compatCase {
	s := st(args...)
	return compatCase{name: s.label(), steps: []step{s}}
}

// seq is a case made of several steps on one connection.
func seq(name string, steps ...step) compatCase { return compatCase{name: name, steps: steps} }

// with adds rules to every step of the case.
func (c compatCase) with(rules ...[]redistest.Rule) compatCase {
	for i := range c.steps {
		c.steps[i] = c.steps[i].with(rules...)
	}
	return c
}

func (c compatCase) on(w where) compatCase { c.where = w; return c }

// only restricts the case to one protocol.
func (c compatCase) only(proto string) compatCase { c.proto = proto; return c }

// unauth marks a case that runs on a fresh connection without preamble.
func (c compatCase) unauth() compatCase { c.raw = true; return c }

func rulesAt(path string, check redistest.Check, why string) []redistest.Rule {
	return []redistest.Rule{{Path: path, Check: check, Why: why}}
}

// intIfInt relaxes an int reply's value but compares anything else exactly
// (CLIENT ID inside SUBSCRIBE is an int in RESP3 and an error in RESP2).
func intIfInt(ref, got *redistest.Reply) string {
	if ref.Kind == redistest.KindInt {
		return redistest.AnyInt(ref, got)
	}
	return redistest.Diff(ref, got, redistest.DiffOptions{})
}

var (
	hashOrder      = "dict iteration order is randomised per process"
	unorderedRoot  = rulesAt("", redistest.Unordered(), hashOrder)
	clientIDRule   = rulesAt("", redistest.AnyInt, "connection counter")
	commandEntries = rulesAt("", redistest.Unordered(
		redistest.Rule{Path: "9", Check: redistest.Unordered(), Why: hashOrder}, // subcommands
	), hashOrder)
	commandDocsAll = rulesAt("", redistest.UnorderedPairs(
		redistest.Rule{Path: "1/subcommands", Check: redistest.UnorderedPairs(), Why: hashOrder},
	), hashOrder)
	infoCacheRules = append(
		anyIntAt("age of the cached INFO in ms", "1/*/0"),
		redistest.Rule{Path: "1/*/1", Check: nodeInfoText, Why: "INFO text of a redis-server (data node), see nodeInfoText"},
	)
	aclLogRules = append(
		rulesAt("*/age-seconds", redistest.AnyValue, "seconds since the entry, an integer or a double"),
		redistest.Rule{Path: "*/timestamp-created", Check: redistest.AnyValue, Why: "clock (8.0's entries)"},
		redistest.Rule{Path: "*/timestamp-last-updated", Check: redistest.AnyValue, Why: "clock (8.0's entries)"},
		redistest.Rule{Path: "*/client-info", Check: clientLines, Why: "client list line, see clientLines"},
	)
	masterMapRules    = instanceRules("", masterTimingFields)
	mastersRules      = instanceRules("*", masterTimingFields)
	replicasRules     = instanceRules("*", replicaTimingFields)
	sentinelsRules    = instanceRules("*", sentinelTimingFields)
	longArg           = strings.Repeat("x", 150)
	subscribedChannel = "+switch-master"
)

// catalog returns every case of the compatibility test.
func catalog() []compatCase {
	return []compatCase{
		// Connection and protocol.
		one("PING"),
		one("PING", "hello"),
		one("ping", "a", "b"),
		one("ECHO", "hi"),
		seq("inline PING", rawStep("PING\r\n", 1)),
		seq("inline PING with quoted arg", rawStep("PING \"hello world\"\r\n", 1)),
		seq("inline empty lines then PING (harness probe)", rawStep("\r\n\nPING\r\n\n", 1)),
		seq("pipelined PING hi + PING", rawStep("*2\r\n$4\r\nPING\r\n$2\r\nhi\r\n*1\r\n$4\r\nPING\r\n", 2)),
		seq("inline unbalanced quotes", rawStep("PING \"unbalanced\r\n", 1)),
		seq("bad bulk length", rawStep("*1\r\n$abc\r\n", 1)),
		seq("bad multibulk length", rawStep("*abc\r\n", 1)),
		seq("multibulk without bulk", rawStep("*1\r\n+PING\r\n", 1)),
		seq("null bulk in a request", rawStep("*2\r\n$4\r\nPING\r\n$-1\r\n", 1)),
		seq("empty multibulk is ignored", rawStep("*0\r\n*1\r\n$4\r\nPING\r\n", 1)),
		seq("HTTP POST (security attack check)", rawStep("POST / HTTP/1.1\r\n", 0)),
		seq("HTTP Host: header (security attack check)", rawStep("Host: example\r\n", 0)),

		// INFO and ROLE.
		one("INFO").with(infoRules),
		one("INFO", "sentinel").with(infoRules),
		one("INFO", "SENTINEL").with(infoRules),
		one("INFO", "server", "sentinel", "replication").with(infoRules),
		one("INFO", "all").with(infoRules),
		one("INFO", "everything").with(infoRules),
		one("INFO", "default").with(infoRules),
		one("INFO", "clients").with(infoRules),
		one("INFO", "keyspace").with(infoRules),
		one("INFO", "server", "clients").with(infoRules),
		one("INFO", "sentinel", "sentinel").with(infoRules),
		one("ROLE"),
		one("ROLE", "x"),

		// HELLO.
		one("HELLO").with(helloRules),
		one("HELLO", "2").with(helloRules),
		one("HELLO", "3").with(helloRules),
		one("HELLO", "4"),
		one("HELLO", "x"),
		one("HELLO", "3", "foo"),
		one("HELLO", "3", "AUTH"),
		one("HELLO", "3", "AUTH", "default", "{pw}").with(helloRules),
		one("HELLO", "2", "AUTH", "default", "{pw}").with(helloRules),
		one("HELLO", "3", "AUTH", "default", "wrongpw").with(helloRules),
		seq("HELLO 3 SETNAME + CLIENT GETNAME", st("HELLO", "3", "SETNAME", "compat").with(helloRules), st("CLIENT", "GETNAME")),

		// AUTH.
		one("AUTH", "{pw}"),
		one("AUTH", "default", "{pw}"),
		one("AUTH", "wrongpw"),
		one("AUTH", "default", "wrongpw"),
		one("AUTH", "nosuchuser", "{pw}"),
		one("AUTH", "a", "b", "c"),
		one("AUTH"),

		// CLIENT.
		seq("CLIENT SETNAME + GETNAME", st("CLIENT", "SETNAME", "compat"), st("CLIENT", "GETNAME")),
		one("CLIENT", "GETNAME"),
		one("CLIENT", "SETNAME", "a b"),
		one("CLIENT", "ID").with(clientIDRule),
		one("CLIENT", "LIST").with(clientRules),
		one("CLIENT", "INFO").with(clientRules),
		one("CLIENT", "KILL", "127.0.0.1:1"),
		one("CLIENT", "KILL", "ID", "999999"),
		one("CLIENT", "KILL", "ADDR", "127.0.0.1:1", "SKIPME", "yes"),
		one("CLIENT", "KILL", "USER", "nosuch"),
		one("CLIENT", "KILL", "ID", "abc"),
		// MAXAGE is 7.4's: a syntax error in 7.0.15, a filter in 8.0.2.
		one("CLIENT", "KILL", "MAXAGE", "100000"),
		one("CLIENT", "KILL", "MAXAGE", "0"),
		one("CLIENT", "KILL", "MAXAGE", "abc"),
		// The texts of ACL denials (they name the user from 7.2 on).
		// The user is gone again at the end: later rows list the users.
		seq("ACL DRYRUN denials of a restricted user",
			st("ACL", "SETUSER", "compat-lim", "on", "nopass", "+ping", "+subscribe", "+auth", "&ch*"),
			st("ACL", "DRYRUN", "compat-lim", "info"),
			st("ACL", "DRYRUN", "compat-lim", "subscribe", "other"),
		),
		seq("NOPERM denials of a restricted user",
			st("AUTH", "compat-lim", "x"),
			st("INFO"),
			st("SUBSCRIBE", "other"),
		),
		one("ACL", "DELUSER", "compat-lim"),
		one("CLIENT", "SETINFO", "LIB-NAME", "compat").with(setinfoAccepted),
		one("CLIENT", "GETREDIR"),
		one("CLIENT", "TRACKINGINFO"),
		one("CLIENT", "NO-EVICT", "on"),
		one("CLIENT", "REPLY", "ON"),
		one("CLIENT", "HELP"),
		one("CLIENT", "foo"),
		one("CLIENT"),

		// COMMAND.
		one("COMMAND", "COUNT"),
		one("COMMAND", "COUNT", "extra"),
		one("COMMAND", "INFO").with(commandEntries),
		one("COMMAND", "LIST").with(unorderedRoot),
		one("COMMAND", "INFO", "ping"),
		one("COMMAND", "INFO", "sentinel").with(rulesAt("0/9", redistest.Unordered(), hashOrder)),
		one("COMMAND", "INFO", "get"),
		one("COMMAND", "DOCS", "ping"),
		one("COMMAND", "DOCS", "get"),
		one("COMMAND").with(commandEntries),
		one("COMMAND", "DOCS").with(commandDocsAll),
		one("COMMAND", "GETKEYS", "ping"),
		one("COMMAND", "HELP"),
		one("COMMAND", "foo"),

		// ACL.
		one("ACL", "WHOAMI"),
		one("ACL", "USERS"),
		one("ACL", "LIST"),
		one("ACL", "GETUSER", "default"),
		one("ACL", "CAT"),
		one("ACL", "CAT", "connection").with(unorderedRoot),
		one("ACL", "GENPASS").with(rulesAt("", sameLength, "random")),
		one("ACL", "HELP"),
		seq("ACL LOG after a failed AUTH",
			st("ACL", "LOG", "RESET"),
			st("AUTH", "nobody", "wrongpw"),
			st("ACL", "LOG").with(aclLogRules),
			st("ACL", "LOG", "RESET"),
			st("ACL", "LOG"),
		),
		one("ACL", "foo"),
		// How ACL GETUSER and ACL LIST describe command rules: 7.0 rebuilds
		// them from the permissions, 7.2 on keeps them as given (each rule
		// as last given). Every description here has at most one single
		// command in 7.0's form, whose order would follow 7.0.15's
		// per-process dict order.
		seq("ACL command rules described after SETUSER",
			st("ACL", "SETUSER", "compat-rules", "+@all", "-@dangerous", "+acl|whoami"),
			st("ACL", "GETUSER", "compat-rules"),
			st("ACL", "LIST"),
			st("ACL", "SETUSER", "compat-rules", "-@all", "+ping", "-ping"),
			st("ACL", "GETUSER", "compat-rules"),
			st("ACL", "SETUSER", "compat-rules", "+@connection", "-@connection"),
			st("ACL", "GETUSER", "compat-rules"),
			st("ACL", "SETUSER", "compat-rules", "reset", "-ping", "+ping|foo", "+PING|BAR", "+ping|foo"),
			st("ACL", "GETUSER", "compat-rules"),
			st("ACL", "SETUSER", "compat-rules", "(+ping -ping)", "(+@all +@all -@admin)"),
			st("ACL", "LIST"),
			st("ACL", "DELUSER", "compat-rules"),
		),

		// Pub/sub.
		seq("SUBSCRIBE, PING inside, UNSUBSCRIBE",
			st("SUBSCRIBE", subscribedChannel, "+odown").n(2),
			st("PING"),
			st("PING", "x"),
			st("CLIENT", "ID").with(rulesAt("", intIfInt, "connection counter")),
			st("SENTINEL", "MASTERS").with(mastersRules),
			st("QUIT"),
			st("UNSUBSCRIBE", subscribedChannel, "+odown").n(2),
		),
		seq("PSUBSCRIBE, PING inside, PUNSUBSCRIBE",
			st("PSUBSCRIBE", "+switch*", "xx*").n(2),
			st("PING"),
			st("PUNSUBSCRIBE", "+switch*", "xx*").n(2),
		),
		seq("SUBSCRIBE same channel twice", st("SUBSCRIBE", "a").n(1), st("SUBSCRIBE", "a").n(1), st("UNSUBSCRIBE").n(1)),
		seq("events: SUBSCRIBE, MONITOR, REMOVE (pushes)",
			st("SUBSCRIBE", "+monitor", "-monitor").n(2),
			st("PSUBSCRIBE", "*monitor").n(1),
			st("SENTINEL", "MONITOR", "compat-ev", "127.0.0.1", "1", "1").n(3),
			st("SENTINEL", "REMOVE", "compat-ev").n(3),
			st("UNSUBSCRIBE", "+monitor", "-monitor").n(2),
			st("PUNSUBSCRIBE", "*monitor").n(1),
		).only("RESP3"),
		seq("events: SUBSCRIBE +set, SENTINEL SET (push before +OK)",
			st("SUBSCRIBE", "+set").n(1),
			st("SENTINEL", "SET", "mymaster", "parallel-syncs", "1").n(2),
			st("UNSUBSCRIBE", "+set").n(1),
		).only("RESP3"),
		one("UNSUBSCRIBE"),
		one("PUNSUBSCRIBE"),
		one("SUBSCRIBE"),
		one("PUBLISH", "foo", "bar"),
		one("PUBLISH", "__sentinel__:hello", "garbage"),
		one("PUBLISH", "x"),

		// SENTINEL: reading state.
		one("SENTINEL", "MASTERS").with(mastersRules),
		one("sentinel", "masters").with(mastersRules),
		one("SENTINEL", "MASTERS", "extra"),
		one("SENTINEL", "MASTER", "mymaster").with(masterMapRules),
		one("SENTINEL", "MASTER", "nosuch"),
		one("SENTINEL", "MASTER"),
		one("SENTINEL", "REPLICAS", "mymaster").with(replicasRules),
		one("SENTINEL", "SLAVES", "mymaster").with(replicasRules),
		one("SENTINEL", "REPLICAS", "nosuch"),
		one("SENTINEL", "SENTINELS", "mymaster").with(sentinelsRules),
		one("SENTINEL", "SENTINELS", "nosuch"),
		one("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster"),
		one("SENTINEL", "get-master-addr-by-name", "nosuch"),
		one("SENTINEL", "GET-MASTER-ADDR-BY-NAME"),
		one("SENTINEL", "IS-MASTER-DOWN-BY-ADDR", "127.0.0.1", "{mport}", "0", "*"),
		one("SENTINEL", "IS-MASTER-DOWN-BY-ADDR", "127.0.0.1", "1", "0", "*"),
		one("SENTINEL", "IS-MASTER-DOWN-BY-ADDR", "127.0.0.1", "{mport}", "0", "0123456789012345678901234567890123456789"),
		one("SENTINEL", "IS-MASTER-DOWN-BY-ADDR", "127.0.0.1", "abc", "0", "*"),
		one("SENTINEL", "IS-MASTER-DOWN-BY-ADDR", "127.0.0.1", "{mport}", "abc", "*"),
		one("SENTINEL", "IS-MASTER-DOWN-BY-ADDR", "a", "b", "c"),
		one("SENTINEL", "CKQUORUM", "mymaster"),
		one("SENTINEL", "CKQUORUM", "nosuch"),
		one("SENTINEL", "MYID"),
		one("SENTINEL", "MYID", "x"),
		one("SENTINEL", "INFO-CACHE", "mymaster").with(infoCacheRules),
		one("SENTINEL", "INFO-CACHE", "nosuch"),
		one("SENTINEL", "INFO-CACHE"),
		one("SENTINEL", "PENDING-SCRIPTS"),
		one("SENTINEL", "CONFIG", "GET", "*"),
		one("SENTINEL", "CONFIG", "GET", "announce-*"),
		one("SENTINEL", "CONFIG", "GET", "nomatch"),
		one("SENTINEL", "CONFIG", "GET", "ANNOUNCE-*"),
		one("SENTINEL", "CONFIG", "GET"),
		one("SENTINEL", "CONFIG", "foo", "x"),
		one("SENTINEL", "CONFIG"),
		one("SENTINEL", "DEBUG"),
		one("SENTINEL", "HELP"),
		one("SENTINEL", "foo"),
		one("SENTINEL"),

		// SENTINEL: changing state (errors, or no-op changes).
		one("SENTINEL", "CONFIG", "SET", "foo", "bar"),
		one("SENTINEL", "CONFIG", "SET", "announce-port", "abc"),
		one("SENTINEL", "CONFIG", "SET", "resolve-hostnames", "maybe"),
		one("SENTINEL", "CONFIG", "SET", "resolve-hostnames", "no"),
		one("SENTINEL", "SET", "nosuch", "quorum", "2"),
		one("SENTINEL", "SET", "mymaster", "quorum", "abc"),
		one("SENTINEL", "SET", "mymaster", "quorum", "0"),
		one("SENTINEL", "SET", "mymaster", "down-after-milliseconds", "-5"),
		one("SENTINEL", "SET", "mymaster", "foo", "1"),
		one("SENTINEL", "SET", "mymaster", "quorum"),
		one("SENTINEL", "SET", "mymaster", "notification-script", "/bin/true"),
		one("SENTINEL", "SET", "mymaster", "parallel-syncs", "1"),
		one("SENTINEL", "SET", "mymaster", "parallel-syncs", "1", "quorum", "abc"),
		one("SENTINEL", "MONITOR", "compat-new", "127.0.0.1", "abc", "abc"),
		one("SENTINEL", "MONITOR", "compat-new", "127.0.0.1", "abc", "2"),
		one("SENTINEL", "MONITOR", "compat-new", "127.0.0.1", "6379", "0"),
		one("SENTINEL", "MONITOR", "compat-new", "not-an-ip", "6379", "2"),
		one("SENTINEL", "MONITOR", "mymaster", "127.0.0.1", "6379", "2"),
		one("SENTINEL", "MONITOR", "compat-new", "127.0.0.1", "70000", "2"),
		one("SENTINEL", "MONITOR", "compat-new", "127.0.0.1", "-1", "2"),
		one("SENTINEL", "MONITOR", "compat-new", "127.0.0.1", "6379"),
		// Numbers as redis reads arguments (string2ll): no '+', no leading
		// zeros, no "-0"; refused, the state unchanged.
		one("SENTINEL", "MONITOR", "compat-new", "127.0.0.1", "+6379", "2"),
		one("SENTINEL", "MONITOR", "compat-new", "127.0.0.1", "06379", "2"),
		one("SENTINEL", "MONITOR", "compat-new", "127.0.0.1", "6379", "02"),
		one("SENTINEL", "SET", "mymaster", "quorum", "+1"),
		one("SENTINEL", "SET", "mymaster", "down-after-milliseconds", "05000"),
		one("SENTINEL", "SET", "mymaster", "master-reboot-down-after-period", "00"),
		one("SENTINEL", "SET", "mymaster", "master-reboot-down-after-period", "-0"),
		one("SENTINEL", "CONFIG", "SET", "announce-port", "+0"),
		one("SENTINEL", "CONFIG", "SET", "announce-port", "00"),
		one("SENTINEL", "DEBUG", "ping-period", "01000"),
		one("SENTINEL", "DEBUG", "ping-period", "+5"),
		// The address is checked before the name: a known name with a bad
		// port is an invalid port, not a duplicate.
		one("SENTINEL", "MONITOR", "mymaster", "127.0.0.1", "65536", "2"),
		one("SENTINEL", "MONITOR", "mymaster", "127.0.0.1", "-1", "2"),
		seq("SENTINEL MONITOR + REMOVE",
			st("SENTINEL", "MONITOR", "compat-tmp", "127.0.0.1", "1", "1"),
			st("SENTINEL", "MONITOR", "compat-tmp", "127.0.0.1", "1", "1"),
			st("SENTINEL", "REMOVE", "compat-tmp"),
			st("SENTINEL", "REMOVE", "compat-tmp"),
		),
		// createSentinelAddr keeps a numeric address as inet_ntop prints
		// it, in every form getaddrinfo takes.
		seq("SENTINEL MONITOR of numeric addresses in other forms",
			st("SENTINEL", "MONITOR", "compat-ip", "127.1", "1", "1"),
			st("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "compat-ip"),
			st("SENTINEL", "REMOVE", "compat-ip"),
			st("SENTINEL", "MONITOR", "compat-ip", "0x7f.0.0.1", "1", "1"),
			st("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "compat-ip"),
			st("SENTINEL", "REMOVE", "compat-ip"),
			st("SENTINEL", "MONITOR", "compat-ip", "0:0:0:0:0:0:0:1", "1", "1"),
			st("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "compat-ip"),
			st("SENTINEL", "REMOVE", "compat-ip"),
			st("SENTINEL", "MONITOR", "compat-ip", "2001:DB8:0:0:0:0:0:1", "1", "1"),
			st("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "compat-ip"),
			st("SENTINEL", "REMOVE", "compat-ip"),
			st("SENTINEL", "MONITOR", "compat-ip", "::FFFF:7f00:1", "1", "1"),
			st("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "compat-ip"),
			st("SENTINEL", "REMOVE", "compat-ip"),
			st("SENTINEL", "MONITOR", "compat-ip", "fe80::1%lo", "1", "1"),
			st("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "compat-ip"),
			st("SENTINEL", "REMOVE", "compat-ip"),
		),
		one("SENTINEL", "REMOVE", "nosuch"),
		one("SENTINEL", "RESET", "nomatch*"),
		// redis' stringmatch: '*' crosses '/', a pattern is never malformed.
		seq("SENTINEL RESET of a name with a slash",
			st("SENTINEL", "MONITOR", "compat/slash", "127.0.0.1", "1", "1"),
			st("SENTINEL", "RESET", "compat*"),
			st("SENTINEL", "RESET", "compat\\/sl[a-c]sh"),
			st("SENTINEL", "RESET", "[compat"),
			st("SENTINEL", "REMOVE", "compat/slash"),
		),
		one("SENTINEL", "RESET"),
		one("SENTINEL", "FAILOVER", "nosuch"),
		one("SENTINEL", "FLUSHCONFIG"),
		seq("SENTINEL SIMULATE-FAILURE set, INFO, clear",
			st("SENTINEL", "SIMULATE-FAILURE", "crash-after-election", "CRASH-AFTER-PROMOTION"),
			st("INFO", "sentinel").with(infoRules),
			st("SENTINEL", "SIMULATE-FAILURE", "help"),
			st("INFO", "sentinel").with(infoRules),
		),
		one("SENTINEL", "SIMULATE-FAILURE", "foo"),
		one("SENTINEL", "SIMULATE-FAILURE"),
		one("SENTINEL", "DEBUG", "info-period", "10000"),
		one("SENTINEL", "DEBUG", "foo", "1"),
		one("SENTINEL", "DEBUG", "info-period", "abc"),
		one("SENTINEL", "DEBUG", "info-period"),

		// Commands a sentinel does not have.
		one("QUIT"),
		one("SELECT", "0"),
		one("CONFIG", "GET", "*"),
		one("GET", "foo"),
		one("MULTI"),
		one("RESET"),
		one("FOO", longArg, "b"),

		// Before authentication (sentinel with requirepass only).
		one("PING").unauth().on(onAuth),
		one("SENTINEL", "MASTERS").unauth().on(onAuth),
		one("HELLO").unauth().on(onAuth),
		one("HELLO", "3").unauth().on(onAuth),
		seq("HELLO 3 AUTH default pw, then SENTINEL GET-MASTER-ADDR-BY-NAME",
			st("HELLO", "3", "AUTH", "default", "{pw}").with(helloRules),
			st("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster"),
		).unauth().on(onAuth),
		one("HELLO", "3", "AUTH", "default", "wrongpw").unauth().on(onAuth),
		one("HELLO", "2", "AUTH", "default", "{pw}").with(helloRules).unauth().on(onAuth),
		seq("AUTH wrong, then PING", st("AUTH", "wrongpw"), st("PING")).unauth().on(onAuth),
		seq("AUTH default wrong, then PING", st("AUTH", "default", "wrongpw"), st("PING")).unauth().on(onAuth),
		seq("AUTH pw, then PING", st("AUTH", "{pw}"), st("PING")).unauth().on(onAuth),
		seq("AUTH default pw, then PING", st("AUTH", "default", "{pw}"), st("PING")).unauth().on(onAuth),
		one("AUTH", "nosuchuser", "{pw}").unauth().on(onAuth),
		one("CLIENT", "SETNAME", "x").unauth().on(onAuth),
		one("SUBSCRIBE", "x").unauth().on(onAuth),
		seq("inline PING before AUTH", rawStep("PING\r\n", 1)).unauth().on(onAuth),
		one("QUIT").unauth().on(onAuth),
		one("PING", "a", "b").unauth().on(onAuth),
		one("SENTINEL").unauth().on(onAuth),
		one("SENTINEL", "foo").unauth().on(onAuth),
	}
}
