package sentinel

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/internal/redistest"
)

// A compareCase is a request stream run on a fresh connection against the
// real redis-sentinel and against our server; the replies must match
// under the case's normalisation. A marker PING is appended, and replies
// are read up to its answer (or until the server closes the connection).
type compareCase struct {
	name string
	cmds [][]string
	raw  string // raw bytes sent after cmds
	norm normMode
	// ours, if set, gives our exact replies to the case's commands where
	// gosentinel deliberately differs from 7.0 (CLIENT SETINFO is accepted
	// as in 7.2); the real sentinel's replies are then only counted.
	ours func(v compareVariant) []string
	// live marks a read-only case whose replies report the state of the
	// sentinels' own links (flags' "disconnected"), which the two
	// redis-sentinels behind the comparison (the real one and the one our
	// server mirrors) each change on their own clock: it is run again
	// until the two agree, within liveSettle. See settleLive.
	live bool
}

func cmds(c ...[]string) [][]string { return c }

func cmd(args ...string) [][]string { return [][]string{args} }

const markerText = "END-OF-CASE"

// compareCatalog are the cases every protocol/auth variant runs.
var compareCatalog = []compareCase{
	// PING / generic errors / protocol
	{name: "ping", cmds: cmd("PING")},
	{name: "ping msg", cmds: cmd("PING", "hello world")},
	{name: "ping arity", cmds: cmd("PING", "a", "b")},
	{name: "ping lowercase", cmds: cmd("ping")},
	{name: "unknown command", cmds: cmd("FOO", "a", "b", "c")},
	{name: "unknown no args", cmds: cmd("foo")},
	{name: "unknown long args", cmds: cmd("FOO", strings.Repeat("x", 100), strings.Repeat("y", 100), "z")},
	{name: "unknown crlf nul", cmds: cmd("FOO", "a\x00b", "\r\n")},
	{name: "empty command name", cmds: cmd("")},
	{name: "nul hides inline newline", raw: "PING a\x00b\r\n" + strings.Repeat("x", 70000)},
	{name: "too big inline", raw: strings.Repeat("x", 70000)},
	{name: "too big mbulk count", raw: "*" + strings.Repeat("1", 70000)},
	{name: "too big bulk count", raw: "*1\r\n$" + strings.Repeat("1", 70000)},
	{name: "bulk too long", raw: "*1\r\n$536870913\r\n"},
	{name: "quit is unknown", cmds: cmd("QUIT")},
	{name: "reset is unknown", cmds: cmd("RESET")},
	{name: "select is unknown", cmds: cmd("SELECT", "0")},
	{name: "config is unknown", cmds: cmd("CONFIG", "GET", "*")},
	{name: "multi is unknown", cmds: cmd("MULTI")},
	{name: "inline ping", raw: "PING\r\n\n"},
	{name: "inline quotes", raw: "PING \"a b\\x41\\n\"\r\nPING 'it\\'s'\r\nPING a\"b c\"\r\n"},
	{name: "inline empty lines", raw: "\r\n\n   \r\nPING\r\n"},
	{name: "unbalanced quotes", raw: "PING \"abc\r\n"},
	{name: "quote not followed by space", raw: "PING \"a\"b\r\n"},
	{name: "invalid multibulk", raw: "*1\r\n$4\r\nPING\r\n*x\r\n"},
	{name: "multibulk zero and negative", raw: "*0\r\n*-1\r\n"},
	{name: "expected dollar", raw: "*2\r\n$4\r\nPING\r\n:1\r\n"},
	{name: "invalid bulk length", raw: "*2\r\n$4\r\nPING\r\n$-1\r\n"},
	{name: "bulk leading zero", raw: "*2\r\n$4\r\nPING\r\n$01\r\n"},
	{name: "lf only header", raw: "*1\n$4\r\nPING\r\n"},
	{name: "unchecked crlf", raw: "*1\r\n$4\rxPINGxx"},
	{name: "security POST", raw: "PING\r\nPOST / HTTP/1.1\r\n"},
	{name: "security Host", raw: "Host: example\r\n"},
	// ROLE / INFO / HELLO
	{name: "role", cmds: cmd("ROLE")},
	{name: "role arity", cmds: cmd("ROLE", "x")},
	{name: "info", cmds: cmd("INFO"), norm: nInfo},
	{name: "info all", cmds: cmd("INFO", "all"), norm: nInfo},
	{name: "info everything", cmds: cmd("INFO", "everything"), norm: nInfo},
	{name: "info default", cmds: cmd("INFO", "default"), norm: nInfo},
	{name: "info server", cmds: cmd("INFO", "server"), norm: nInfo},
	{name: "info sections", cmds: cmd("INFO", "CPU", "sentinel", "replication", "memory"), norm: nInfo},
	{name: "info clients stats", cmds: cmd("INFO", "clients", "stats"), norm: nInfo},
	{name: "info unknown", cmds: cmd("INFO", "keyspace")},
	{name: "info sentinel", cmds: cmd("INFO", "sentinel"), norm: nMask},
	{name: "hello bad version", cmds: cmd("HELLO", "x")},
	{name: "hello 4", cmds: cmd("HELLO", "4")},
	{name: "hello 1", cmds: cmd("HELLO", "1")},
	{name: "hello bad option", cmds: cmd("HELLO", "3", "FOO")},
	{name: "hello auth missing", cmds: cmd("HELLO", "3", "AUTH", "default")},
	{name: "hello any pass", cmds: cmds([]string{"HELLO", "2", "AUTH", "default", "whatever"}, []string{"CLIENT", "GETNAME"})},
	{name: "hello wrong pass", cmds: cmd("HELLO", "3", "AUTH", "nobody", "x")},
	{name: "hello setname bad", cmds: cmd("HELLO", "3", "SETNAME", "a b")},
	// AUTH
	{name: "auth arity", cmds: cmd("AUTH")},
	{name: "auth syntax", cmds: cmd("AUTH", "a", "b", "c")},
	{name: "auth wrong user", cmds: cmd("AUTH", "nobody", "x")},
	// CLIENT
	{name: "client arity", cmds: cmd("CLIENT")},
	{name: "client help", cmds: cmd("CLIENT", "HELP")},
	{name: "client help arity", cmds: cmd("CLIENT", "HELP", "x")},
	{name: "client setinfo", cmds: cmd("CLIENT", "SETINFO", "lib-name", "x"), ours: setinfoAccepted},
	{name: "client unknown sub", cmds: cmd("CLIENT", "FOO", "x")},
	// CLIENT SETINFO runs, but everything that lists or names commands
	// answers as 7.0, which has no such subcommand.
	{name: "client setinfo unlisted", cmds: cmds([]string{"COMMAND", "INFO", "client|setinfo"}, []string{"COMMAND", "DOCS", "client|setinfo"},
		[]string{"COMMAND", "GETKEYS", "CLIENT", "SETINFO", "lib-name", "x"}, []string{"ACL", "DRYRUN", "default", "CLIENT", "SETINFO", "lib-name", "x"},
		[]string{"ACL", "SETUSER", "u7", "+client|setinfo"}, []string{"ACL", "CAT", "connection"}), norm: nSorted},
	{name: "client maint", cmds: cmd("client", "maint_notifications", "on")},
	{name: "client setname getname", cmds: cmds([]string{"CLIENT", "SETNAME", "app1"}, []string{"CLIENT", "GETNAME"}, []string{"CLIENT", "SETNAME", ""}, []string{"CLIENT", "GETNAME"})},
	{name: "client setname bad", cmds: cmd("CLIENT", "SETNAME", "a\nb")},
	{name: "client id", cmds: cmd("CLIENT", "ID"), norm: nMask},
	{name: "client id arity", cmds: cmd("CLIENT", "ID", "x")},
	{name: "client info", cmds: cmd("CLIENT", "INFO"), norm: nMaskLib},
	{name: "client list type", cmds: cmd("CLIENT", "LIST", "TYPE", "master")},
	{name: "client list type bad", cmds: cmd("CLIENT", "LIST", "TYPE", "foo")},
	{name: "client list syntax", cmds: cmd("CLIENT", "LIST", "foo")},
	{name: "client list id bad", cmds: cmd("CLIENT", "LIST", "ID", "1", "x")},
	{name: "client list id none", cmds: cmd("CLIENT", "LIST", "ID", "99999")},
	{name: "client kill old", cmds: cmd("CLIENT", "KILL", "1.2.3.4:5")},
	{name: "client kill id bad", cmds: cmd("CLIENT", "KILL", "ID", "0")},
	{name: "client kill id none", cmds: cmd("CLIENT", "KILL", "ID", "99999")},
	{name: "client kill type bad", cmds: cmd("CLIENT", "KILL", "TYPE", "foo")},
	{name: "client kill user none", cmds: cmd("CLIENT", "KILL", "USER", "nobody")},
	{name: "client kill skipme bad", cmds: cmd("CLIENT", "KILL", "SKIPME", "maybe")},
	{name: "client kill syntax", cmds: cmd("CLIENT", "KILL", "ADDR", "1.2.3.4:5", "FOO")},
	{name: "client kill addr none", cmds: cmd("CLIENT", "KILL", "ADDR", "1.2.3.4:5", "SKIPME", "no")},
	{name: "client kill self", cmds: cmd("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "no")},
	{name: "client reply", raw: "CLIENT REPLY SKIP\r\nPING 1\r\nPING 2\r\nCLIENT REPLY SKIP\r\n\r\nPING 3\r\nCLIENT REPLY OFF\r\nPING 4\r\nCLIENT REPLY ON\r\nPING 5\r\n"},
	{name: "client reply bad", cmds: cmd("CLIENT", "REPLY", "maybe")},
	{name: "client no-evict", cmds: cmds([]string{"CLIENT", "NO-EVICT", "on"}, []string{"CLIENT", "NO-EVICT", "off"}, []string{"CLIENT", "NO-EVICT", "x"})},
	{name: "client pause bad", cmds: cmds([]string{"CLIENT", "PAUSE", "x"}, []string{"CLIENT", "PAUSE", "-1"}, []string{"CLIENT", "PAUSE", "10", "READ"})},
	{name: "client pause unpause", cmds: cmds([]string{"CLIENT", "PAUSE", "0"}, []string{"CLIENT", "UNPAUSE"})},
	{name: "client unblock", cmds: cmds([]string{"CLIENT", "UNBLOCK", "x"}, []string{"CLIENT", "UNBLOCK", "5", "foo"}, []string{"CLIENT", "UNBLOCK", "5", "ERROR"})},
	{name: "client tracking", cmds: cmds([]string{"CLIENT", "TRACKING", "on"}, []string{"CLIENT", "GETREDIR"}, []string{"CLIENT", "TRACKINGINFO"}, []string{"CLIENT", "CACHING", "yes"}, []string{"CLIENT", "TRACKING", "off"}, []string{"CLIENT", "TRACKINGINFO"}, []string{"CLIENT", "GETREDIR"})},
	{name: "client tracking errors", cmds: cmds([]string{"CLIENT", "TRACKING", "on", "PREFIX", "a"}, []string{"CLIENT", "TRACKING", "on", "BCAST", "OPTIN"}, []string{"CLIENT", "TRACKING", "on", "OPTIN", "OPTOUT"}, []string{"CLIENT", "TRACKING", "on", "REDIRECT", "99999"}, []string{"CLIENT", "TRACKING", "maybe"}, []string{"CLIENT", "TRACKING", "on", "FOO"})},
	{name: "client tracking bcast", cmds: cmds([]string{"CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "a", "PREFIX", "b"}, []string{"CLIENT", "TRACKINGINFO"}, []string{"CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "ab"}, []string{"CLIENT", "TRACKING", "on", "OPTIN"})},
	{name: "client tracking prefix quirk", cmds: cmds([]string{"CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "a", "PREFIX", "b", "PREFIX", "bc"}, []string{"CLIENT", "TRACKINGINFO"}, []string{"CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "aa"})},
	{name: "client caching not tracking", cmds: cmd("CLIENT", "CACHING", "yes")},
	{name: "client caching optin", cmds: cmds([]string{"CLIENT", "TRACKING", "on", "OPTIN"}, []string{"CLIENT", "CACHING", "no"}, []string{"CLIENT", "CACHING", "yes"}, []string{"CLIENT", "TRACKINGINFO"}, []string{"CLIENT", "TRACKINGINFO"})},
	// COMMAND
	{name: "command count", cmds: cmd("COMMAND", "COUNT")},
	{name: "command help", cmds: cmd("COMMAND", "HELP")},
	{name: "command list", cmds: cmd("COMMAND", "LIST"), norm: nSorted},
	{name: "command list filter", cmds: cmds([]string{"COMMAND", "LIST", "FILTERBY", "ACLCAT", "pubsub"}, []string{"COMMAND", "LIST", "FILTERBY", "PATTERN", "SENTINEL*"}, []string{"COMMAND", "LIST", "FILTERBY", "MODULE", "x"}, []string{"COMMAND", "LIST", "FILTERBY", "ACLCAT", "nope"}), norm: nSorted},
	{name: "command list syntax", cmds: cmds([]string{"COMMAND", "LIST", "FILTERBY", "FOO", "x"}, []string{"COMMAND", "LIST", "x"})},
	{name: "command", cmds: cmd("COMMAND"), norm: nSorted},
	{name: "command info", cmds: cmd("COMMAND", "INFO", "ping", "SENTINEL", "client|kill", "get", "acl|nope", "sentinel|get-master-addr-by-name"), norm: nSorted},
	{name: "command info all", cmds: cmd("COMMAND", "INFO"), norm: nSorted},
	{name: "command docs", cmds: cmd("COMMAND", "DOCS"), norm: nSorted},
	{name: "command docs some", cmds: cmd("COMMAND", "DOCS", "ping", "get", "client|list", "SENTINEL"), norm: nSorted},
	{name: "command getkeys", cmds: cmds([]string{"COMMAND", "GETKEYS", "PING"}, []string{"COMMAND", "GETKEYS", "GET", "x"}, []string{"COMMAND", "GETKEYSANDFLAGS", "sentinel", "masters"}, []string{"COMMAND", "GETKEYS"})},
	{name: "command info empty", cmds: cmd("COMMAND", "INFO", "", "|", "client|", "client|list|x")},
	{name: "command unknown sub", cmds: cmd("COMMAND", "FOO")},
	// ACL
	{name: "acl help", cmds: cmd("ACL", "HELP")},
	{name: "acl cat", cmds: cmd("ACL", "CAT")},
	{name: "acl cat admin", cmds: cmd("ACL", "CAT", "admin"), norm: nSorted},
	{name: "acl cat bad", cmds: cmd("ACL", "CAT", "nope")},
	{name: "acl whoami", cmds: cmd("ACL", "WHOAMI")},
	{name: "acl users", cmds: cmd("ACL", "USERS")},
	{name: "acl list", cmds: cmd("ACL", "LIST"), norm: nTokens},
	{name: "acl getuser default", cmds: cmd("ACL", "GETUSER", "default"), norm: nTokens},
	{name: "acl getuser none", cmds: cmd("ACL", "GETUSER", "nobody")},
	{name: "acl genpass", cmds: cmds([]string{"ACL", "GENPASS"}, []string{"ACL", "GENPASS", "5"}, []string{"ACL", "GENPASS", "0"}, []string{"ACL", "GENPASS", "x"}), norm: nShape},
	{name: "acl save load", cmds: cmds([]string{"ACL", "SAVE"}, []string{"ACL", "LOAD"}, []string{"ACL", "LOAD", "x"})},
	{name: "acl deluser default", cmds: cmd("ACL", "DELUSER", "default")},
	{name: "acl unknown", cmds: cmd("ACL", "FOO")},
	{name: "acl setuser lifecycle", cmds: cmds(
		[]string{"ACL", "SETUSER", "u1"}, []string{"ACL", "GETUSER", "u1"}, []string{"ACL", "LIST"},
		[]string{"ACL", "SETUSER", "u1", "on", ">p1", ">p2", "<p1", "+@all", "-sentinel|reset", "~*", "&chan*"},
		[]string{"ACL", "GETUSER", "u1"}, []string{"ACL", "LIST"},
		[]string{"ACL", "SETUSER", "u1", "reset"}, []string{"ACL", "LIST"},
		[]string{"ACL", "SETUSER", "u1", "nopass", "allcommands", "-@admin", "+sentinel|myid", "allkeys", "allchannels"}, []string{"ACL", "GETUSER", "u1"},
		[]string{"ACL", "SETUSER", "u1", "-@all", "+@pubsub", "+ping", "+client|id", "resetchannels", "&a", "&b"}, []string{"ACL", "GETUSER", "u1"},
		[]string{"ACL", "SETUSER", "u1", "nocommands", "+@connection", "-hello"}, []string{"ACL", "LIST"},
		[]string{"ACL", "SETUSER", "u1", "-@all", "+ping|x"}, []string{"ACL", "LIST"},
		[]string{"ACL", "DELUSER", "u1", "u2"}, []string{"ACL", "USERS"}), norm: nTokens},
	{name: "acl setuser selectors", cmds: cmds(
		[]string{"ACL", "SETUSER", "u3", "on", "nopass", "(+ping", "~a*)", "(&x +@all)"}, []string{"ACL", "GETUSER", "u3"}, []string{"ACL", "LIST"},
		[]string{"ACL", "SETUSER", "u3", "clearselectors", "%R~r*", "%W~w*", "%RW~rw"}, []string{"ACL", "GETUSER", "u3"},
		[]string{"ACL", "DELUSER", "u3"}), norm: nTokens},
	{name: "acl setuser errors", cmds: cmds(
		[]string{"ACL", "SETUSER", "u4", "+nope"}, []string{"ACL", "SETUSER", "u4", "+@nope"}, []string{"ACL", "SETUSER", "u4", "bogus"},
		[]string{"ACL", "SETUSER", "u4", "~*", "~a"}, []string{"ACL", "SETUSER", "u4", "&*", "&a"}, []string{"ACL", "SETUSER", "u4", "<nope"},
		[]string{"ACL", "SETUSER", "u4", "#abc"}, []string{"ACL", "SETUSER", "u4", "+client|id|x"}, []string{"ACL", "SETUSER", "u4", "+ping|"},
		[]string{"ACL", "SETUSER", "u4", "(+ping"}, []string{"ACL", "SETUSER", "u4", "(on)"}, []string{"ACL", "SETUSER", "a b"},
		[]string{"ACL", "SETUSER", "u4", `("")`}, []string{"ACL", "SETUSER", "u4", `("x)`, ""}, []string{"ACL", "SETUSER", "u4", "(", "+ping", ")"},
		[]string{"ACL", "SETUSER", "u4", "-client|nope"}, []string{"ACL", "SETUSER", "u4", "+get"}, []string{"ACL", "USERS"})},
	{name: "acl key pattern forms", cmds: cmds(
		[]string{"ACL", "SETUSER", "u7", "%"}, []string{"ACL", "SETUSER", "u7", "%x"}, []string{"ACL", "SETUSER", "u7", "%R"},
		[]string{"ACL", "SETUSER", "u7", "%W~"}, []string{"ACL", "SETUSER", "u7", "%R~a b"}, []string{"ACL", "GETUSER", "u7"},
		[]string{"ACL", "LIST"}, []string{"ACL", "DELUSER", "u7"})},
	{name: "acl dryrun", cmds: cmds(
		[]string{"ACL", "SETUSER", "u5", "on", "nopass", "+@all", "-sentinel|reset", "&chan*"},
		[]string{"ACL", "DRYRUN", "u5", "SENTINEL", "RESET", "x"}, []string{"ACL", "DRYRUN", "u5", "SENTINEL", "MYID"},
		[]string{"ACL", "DRYRUN", "u5", "PUBLISH", "other", "x"}, []string{"ACL", "DRYRUN", "u5", "PUBLISH", "chanx", "x"},
		[]string{"ACL", "DRYRUN", "u5", "PSUBSCRIBE", "chan*"}, []string{"ACL", "DRYRUN", "u5", "PSUBSCRIBE", "ch*"},
		[]string{"ACL", "DRYRUN", "nobody", "PING"}, []string{"ACL", "DRYRUN", "u5", "GET", "x"}, []string{"ACL", "DRYRUN", "u5", "PING", "a", "b"},
		[]string{"ACL", "DELUSER", "u5"})},
	{name: "acl log", cmds: cmds([]string{"ACL", "LOG", "RESET"}, []string{"ACL", "LOG"}, []string{"ACL", "LOG", "x"}, []string{"ACL", "LOG", "-5"}, []string{"AUTH", "nobody", "pw"}, []string{"ACL", "LOG", "1"}, []string{"ACL", "LOG", "RESET"}), norm: nMaskLib},
	{name: "acl perms in use", cmds: cmds(
		[]string{"ACL", "SETUSER", "u6", "on", ">pw", "+@all", "-sentinel|reset", "-role", "&chan*"},
		[]string{"AUTH", "u6", "pw"}, []string{"ACL", "WHOAMI"}, []string{"SENTINEL", "RESET", "x"}, []string{"ROLE"},
		[]string{"PUBLISH", "other", "x"}, []string{"SUBSCRIBE", "chan1", "other"}, []string{"PSUBSCRIBE", "chan*", "c*"},
		[]string{"UNSUBSCRIBE"}, []string{"PUNSUBSCRIBE"}, []string{"ACL", "LOG", "3"}, []string{"ACL", "LOG", "RESET"},
		[]string{"ACL", "DELUSER", "u6"}), norm: nMaskLib},
	// Pub/sub
	{name: "publish other", cmds: cmd("PUBLISH", "foo", "bar")},
	{name: "publish hello", cmds: cmd("PUBLISH", "__sentinel__:hello", "127.0.0.1,26379,x,0,mymaster,127.0.0.1,6379,0")},
	{name: "publish arity", cmds: cmd("PUBLISH", "x")},
	{name: "subscribe flow", cmds: cmds([]string{"SUBSCRIBE", "a", "b", "a"}, []string{"PSUBSCRIBE", "p*", "p*"}, []string{"PING"}, []string{"PING", "x"}, []string{"ROLE"}, []string{"UNSUBSCRIBE", "b", "zz"}, []string{"PUNSUBSCRIBE"}, []string{"UNSUBSCRIBE"}, []string{"UNSUBSCRIBE"}, []string{"PUNSUBSCRIBE"}, []string{"PING"})},
	{name: "reply off keeps pushes", raw: "CLIENT REPLY OFF\r\nPING\r\nSUBSCRIBE x\r\nUNSUBSCRIBE x\r\nCLIENT REPLY ON\r\nPING\r\n"},
	{name: "hello while subscribed", raw: "SUBSCRIBE a\r\nHELLO 3\r\nPING\r\nHELLO 2\r\nUNSUBSCRIBE\r\n"},
	{name: "subscribe arity", cmds: cmds([]string{"SUBSCRIBE"}, []string{"PSUBSCRIBE"})},
	// SHUTDOWN (errors only: a valid one stops the process)
	{name: "shutdown errors", cmds: cmds([]string{"SHUTDOWN", "FOO"}, []string{"SHUTDOWN", "SAVE", "NOSAVE"}, []string{"SHUTDOWN", "ABORT", "NOW"}, []string{"SHUTDOWN", "ABORT"})},
	// SENTINEL
	{name: "sentinel arity", cmds: cmd("SENTINEL")},
	{name: "sentinel help", cmds: cmd("SENTINEL", "HELP")},
	{name: "sentinel help lower", cmds: cmd("sentinel", "help")},
	{name: "sentinel unknown", cmds: cmd("SENTINEL", "FOO", "bar")},
	{name: "sentinel masters", live: true, cmds: cmd("SENTINEL", "MASTERS"), norm: nMask},
	{name: "sentinel masters arity", cmds: cmd("SENTINEL", "MASTERS", "x")},
	{name: "sentinel master", live: true, cmds: cmd("SENTINEL", "MASTER", "mymaster"), norm: nMask},
	{name: "sentinel master none", cmds: cmd("SENTINEL", "MASTER", "nope")},
	{name: "sentinel master arity", cmds: cmd("SENTINEL", "MASTER")},
	{name: "sentinel replicas", cmds: cmds([]string{"SENTINEL", "REPLICAS", "mymaster"}, []string{"SENTINEL", "SLAVES", "mymaster"}, []string{"SENTINEL", "SLAVES", "nope"})},
	{name: "sentinel sentinels", live: true, cmds: cmds([]string{"SENTINEL", "SENTINELS", "mymaster"}, []string{"SENTINEL", "SENTINELS", "nope"}), norm: nMask},
	{name: "sentinel get-master-addr", cmds: cmds([]string{"SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster"}, []string{"SENTINEL", "get-master-addr-by-name", "nope"}), norm: nMask},
	{name: "sentinel is-master-down", cmds: cmds([]string{"SENTINEL", "IS-MASTER-DOWN-BY-ADDR", "127.0.0.1", "1", "0", "*"}, []string{"SENTINEL", "IS-MASTER-DOWN-BY-ADDR", "127.0.0.1", "x", "0", "*"}, []string{"SENTINEL", "IS-MASTER-DOWN-BY-ADDR", "127.0.0.1", "1", "01", "*"}, []string{"SENTINEL", "IS-MASTER-DOWN-BY-ADDR", "127.0.0.1", "1", "0"})},
	{name: "sentinel reset", cmds: cmds([]string{"SENTINEL", "RESET", "nomatch*"}, []string{"SENTINEL", "RESET"})},
	{name: "sentinel failover", cmds: cmds([]string{"SENTINEL", "FAILOVER", "mymaster"}, []string{"SENTINEL", "FAILOVER", "nope"})},
	{name: "sentinel ckquorum", cmds: cmds([]string{"SENTINEL", "CKQUORUM", "mymaster"}, []string{"SENTINEL", "CKQUORUM", "nope"})},
	{name: "sentinel flushconfig", cmds: cmds([]string{"SENTINEL", "FLUSHCONFIG"}, []string{"SENTINEL", "FLUSHCONFIG", "x"})},
	{name: "sentinel monitor remove", cmds: cmds(
		[]string{"SENTINEL", "MONITOR", "m2", "127.0.0.1", "7777", "x"}, []string{"SENTINEL", "MONITOR", "m2", "127.0.0.1", "x", "2"},
		[]string{"SENTINEL", "MONITOR", "m2", "127.0.0.1", "7777", "0"}, []string{"SENTINEL", "MONITOR", "m2", "not-an-ip", "7777", "2"},
		[]string{"SENTINEL", "MONITOR", "m2", "127.0.0.1", "7777", "2"}, []string{"SENTINEL", "MONITOR", "m2", "127.0.0.1", "7777", "2"},
		[]string{"SENTINEL", "REMOVE", "m2"}, []string{"SENTINEL", "REMOVE", "m2"}, []string{"SENTINEL", "MONITOR", "m2"})},
	{name: "sentinel set", cmds: cmds(
		[]string{"SENTINEL", "SET", "mymaster", "quorum", "3"}, []string{"SENTINEL", "SET", "mymaster", "quorum", "x"},
		[]string{"SENTINEL", "SET", "mymaster", "nope", "1"}, []string{"SENTINEL", "SET", "nope", "quorum", "1"},
		[]string{"SENTINEL", "SET", "mymaster", "quorum"}, []string{"SENTINEL", "SET", "mymaster", "quorum", "2", "parallel-syncs"},
		[]string{"SENTINEL", "SET", "mymaster", "quorum", "2"})},
	{name: "sentinel config", cmds: cmds(
		[]string{"SENTINEL", "CONFIG", "GET", "*"}, []string{"SENTINEL", "CONFIG", "GET", "announce-*"}, []string{"SENTINEL", "CONFIG", "GET", "nope"},
		[]string{"SENTINEL", "CONFIG", "GET"}, []string{"SENTINEL", "CONFIG", "SET", "x"}, []string{"SENTINEL", "CONFIG", "FOO", "x"},
		[]string{"SENTINEL", "CONFIG", "SET", "nope", "1"}, []string{"SENTINEL", "CONFIG", "SET", "announce-port", "x"},
		[]string{"SENTINEL", "CONFIG"})},
	{name: "sentinel info-cache", cmds: cmds([]string{"SENTINEL", "INFO-CACHE", "mymaster"}, []string{"SENTINEL", "INFO-CACHE", "nope"}, []string{"SENTINEL", "INFO-CACHE"}), norm: nMask},
	{name: "sentinel myid", cmds: cmds([]string{"SENTINEL", "MYID"}, []string{"SENTINEL", "MYID", "x"}), norm: nMask},
	{name: "sentinel pending-scripts", cmds: cmds([]string{"SENTINEL", "PENDING-SCRIPTS"}, []string{"SENTINEL", "PENDING-SCRIPTS", "x"})},
	{name: "sentinel simulate-failure", cmds: cmds(
		[]string{"SENTINEL", "SIMULATE-FAILURE", "HELP"}, []string{"SENTINEL", "SIMULATE-FAILURE", "nope"},
		[]string{"SENTINEL", "SIMULATE-FAILURE", "crash-after-election", "CRASH-AFTER-PROMOTION"}, []string{"INFO", "sentinel"},
		[]string{"SENTINEL", "SIMULATE-FAILURE", "crash-after-election", "help"}, []string{"SENTINEL", "SIMULATE-FAILURE"})},
	{name: "sentinel debug", cmds: cmds([]string{"SENTINEL", "DEBUG"}, []string{"SENTINEL", "DEBUG", "nope", "1"}, []string{"SENTINEL", "DEBUG", "ping-period"}, []string{"SENTINEL", "DEBUG", "ping-period", "0"}, []string{"SENTINEL", "DEBUG", "ping-period", "1000"})},
}

// setinfoAccepted is our reply to CLIENT SETINFO LIB-NAME x, which 7.0
// does not know: +OK as on 7.2, NOAUTH before authentication.
func setinfoAccepted(v compareVariant) []string {
	if v.name == "noauth" {
		return []string{"-NOAUTH Authentication required.\r\n"}
	}
	return []string{"+OK\r\n"}
}

// compareVariant is a protocol/authentication setting for the catalog.
type compareVariant struct {
	name   string
	auth   bool     // the servers have requirepass
	prefix []string // sent first on every connection
}

var compareVariants = []compareVariant{
	{name: "resp2", auth: false},
	{name: "resp3", auth: false, prefix: []string{"HELLO", "3"}},
	{name: "resp2-auth", auth: true, prefix: []string{"AUTH", "secret"}},
	{name: "resp3-auth", auth: true, prefix: []string{"HELLO", "3", "AUTH", "default", "secret"}},
	{name: "noauth", auth: true},
}

// runStream sends the case and returns the replies up to the marker.
func runStream(t *testing.T, addr string, prefix []string, c compareCase) ([][]byte, bool) {
	t.Helper()
	rc := dialRaw(t, addr)
	var in bytes.Buffer
	if prefix != nil {
		in.Write(encodeCommand(prefix...))
	}
	for _, args := range c.cmds {
		in.Write(encodeCommand(args...))
	}
	in.WriteString(c.raw)
	// An unknown command is answered even before authentication and in
	// subscribed mode: it marks the end of the case's replies.
	in.Write(encodeCommand(markerText))
	rc.send(in.Bytes())
	defer rc.conn.Close()
	var replies [][]byte
	for {
		b, err := rc.reply(2 * time.Second)
		if err == errEOF {
			return replies, true
		}
		if err != nil {
			t.Fatalf("%s: %v (after %q)", c.name, err, replies)
		}
		if bytes.Contains(b, []byte(markerText)) {
			return replies, false
		}
		replies = append(replies, b)
	}
}

func TestCompareWithRealSentinel(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real redis-sentinel processes")
	}
	for _, auth := range []bool{false, true} {
		extra, pass := "", ""
		if auth {
			extra, pass = "requirepass secret", "secret"
		}
		masterPort := absentPort(t)
		real := startRealSentinel(t, extra, masterPort)
		mirrored := startRealSentinel(t, extra, masterPort)
		srv, ours := startServer(t, Config{
			Backend:     newMirrorBackend(t, mirrored, pass),
			RequirePass: pass, HasRequirePass: auth,
		})
		for _, v := range compareVariants {
			if v.auth != auth {
				continue
			}
			for _, c := range compareCatalog {
				t.Run(v.name+"/"+c.name, func(t *testing.T) {
					once := func() error { return compareOnce(t, real, ours, srv, v, c) }
					if err := settleLive(c, liveSettle, once); err != nil {
						t.Error(err)
					}
				})
			}
		}
	}
}

// compareOnce runs case c of variant v on a fresh connection to the real
// sentinel and to ours (whose Server is srv) and returns how the replies
// differ, or nil.
func compareOnce(t *testing.T, real, ours string, srv *Server, v compareVariant, c compareCase) error {
	t.Helper()
	want, wantClosed := runStream(t, real, v.prefix, c)
	got, gotClosed := runStream(t, ours, v.prefix, c)
	// The next case must not meet this one's connection: CLIENT KILL and
	// CLIENT LIST count every client, and our server unlists a closed one
	// on its own goroutine (a loaded clean-clone run counted 2 where
	// redis-sentinel, which unlists in its event loop before it accepts
	// the next connection, counted 1).
	waitNoClients(t, srv)
	if c.ours != nil {
		// Our exact replies replace the real sentinel's to the case (the
		// prefix's still count).
		ours := c.ours(v)
		want = want[:max(len(want)-len(ours), 0)]
		for _, r := range ours {
			want = append(want, []byte(r))
		}
	}
	err := replyDiff(c, want, got)
	if wantClosed != gotClosed {
		err = errors.Join(err, fmt.Errorf("connection closed: real %v, ours %v", wantClosed, gotClosed))
	}
	return err
}

// waitNoClients polls until srv lists no client.
func waitNoClients(t *testing.T, srv *Server) {
	t.Helper()
	redistest.Poll(t, 5*time.Second, time.Millisecond, func() error {
		srv.mu.Lock()
		defer srv.mu.Unlock()
		if n := len(srv.clients); n > 0 {
			return fmt.Errorf("%d clients still listed after the case closed its connection", n)
		}
		return nil
	})
}

// liveSettle bounds how long a live case is rerun. redis-sentinel retries
// a link at most once a ping period (1 s), and the window in which its
// flags lack "disconnected" closes within the same event-loop pass, so
// two runs seldom both fall into it; five seconds allow several.
const liveSettle = 5 * time.Second

// settleLive runs a case once, or, if it is live, until its replies agree
// or timeout has passed; it returns the last run's differences.
//
// Why a live case needs this: after a hello announces a sentinel at an
// address where nothing listens, each redis-sentinel, once a second, starts
// a connect (clearing "disconnected" and queueing AUTH, CLIENT SETNAME and
// PING) and handles the refusal in its next event-loop pass. A query read
// in that pass, ahead of the refusal, sees "sentinel" with 3 pending
// commands; any other sees "sentinel,disconnected". cc50 (a loaded clean
// clone) caught the mirrored sentinel in that pass and the real one out of
// it. A reply of ours that really differs differs in every run and still
// fails.
func settleLive(c compareCase, timeout time.Duration, once func() error) error {
	if !c.live {
		return once()
	}
	return redistest.PollErr(timeout, 50*time.Millisecond, once)
}

// replyDiff returns how got differs from want under the case's
// normalisation, or nil.
func replyDiff(c compareCase, want, got [][]byte) error {
	var errs []error
	n := max(len(want), len(got))
	for i := 0; i < n; i++ {
		var w, g []byte
		if i < len(want) {
			w = want[i]
		}
		if i < len(got) {
			g = got[i]
		}
		if !sameReply(w, g, c.norm) {
			errs = append(errs, fmt.Errorf("reply %d differs:\nreal: %q\nours: %q", i, clip(w), clip(g)))
		}
	}
	return errors.Join(errs...)
}

func sameReply(w, g []byte, mode normMode) bool {
	if w == nil || g == nil {
		return w == nil && g == nil
	}
	if mode == nExact && bytes.Contains(w, []byte("\r\nid\r\n")) {
		mode = nMask // HELLO: client ids differ
	}
	if mode == nExact {
		return bytes.Equal(w, g)
	}
	wv, _, err1 := scanRESP(w)
	gv, _, err2 := scanRESP(g)
	if err1 != nil || err2 != nil {
		return false
	}
	return canon(wv, mode) == canon(gv, mode)
}

func clip(b []byte) string {
	if len(b) > 3000 {
		return string(b[:3000]) + fmt.Sprintf("...(%d bytes)", len(b))
	}
	return string(b)
}

// TestLiveCaseSettles reproduces cc50's failure with two of our servers
// standing in for the two redis-sentinels: one lists sentinel x as
// "sentinel,disconnected", the other is caught mid-connect ("sentinel")
// for its first two answers, so two runs in a row differ. One run of the catalog's "sentinel sentinels"
// case differs; the case is live, so it is rerun until the two agree. A
// difference that persists still fails.
func TestLiveCaseSettles(t *testing.T) {
	var c compareCase
	for _, cc := range compareCatalog {
		if cc.name == "sentinel sentinels" {
			c = cc
		}
	}
	if !c.live {
		t.Fatal(`the catalog's "sentinel sentinels" case is not live`)
	}
	x := func(flags string) []Fields {
		return []Fields{{{"name", "x"}, {"ip", "127.0.0.1"}, {"port", "26379"}, {"flags", flags}}}
	}
	// lists answers SENTINEL SENTINELS with flags(n), n counting the
	// questions about mymaster (the case also asks about a master that
	// does not exist).
	lists := func(flags func(n int) string) *fakeBackend {
		var mu sync.Mutex
		n := 0
		return &fakeBackend{SentFn: func(name string) ([]Fields, error) {
			if name != "mymaster" {
				return nil, ErrNoSuchMaster
			}
			mu.Lock()
			defer mu.Unlock()
			n++
			return x(flags(n)), nil
		}}
	}
	_, real := startServer(t, Config{Backend: lists(func(int) string { return "sentinel,disconnected" })})
	srv, ours := startServer(t, Config{Backend: lists(func(n int) string {
		if n <= 2 {
			return "sentinel"
		}
		return "sentinel,disconnected"
	})})
	v := compareVariants[0]
	once := func() error { return compareOnce(t, real, ours, srv, v, c) }
	if err := once(); err == nil {
		t.Fatal("one run while a sentinel is mid-connect: no difference")
	}
	if err := settleLive(c, liveSettle, once); err != nil {
		t.Fatalf("after the link settled: %v", err)
	}

	srv, stuck := startServer(t, Config{Backend: lists(func(int) string { return "sentinel" })})
	once = func() error { return compareOnce(t, real, stuck, srv, v, c) }
	if err := settleLive(c, 300*time.Millisecond, once); err == nil {
		t.Fatal("a difference that persists passed")
	}
}
