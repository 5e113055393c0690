package sentinel

import (
	"embed"
	"fmt"
	"strings"
	"sync"

	"github.com/x0tta6bl4/gosentinel/internal/compat"
	"github.com/x0tta6bl4/gosentinel/internal/redisargs"
)

//go:generate go run ./internal/gen -out captured/7.0
//go:generate bash internal/gen/capture-8.0.sh

// capturedFS holds replies of the real redis-sentinel of each
// compatibility profile (captured/<profile>: 7.0.15, Debian 12's, and
// 8.0.2, built from Debian 13's source package), captured by internal/gen:
// COMMAND and COMMAND DOCS in both protocols and the HELP texts. Each
// profile's command table (names, arities, flags, ACL categories, order)
// is derived from them, and COMMAND INFO/DOCS replay them byte for byte.
//
//go:embed captured
var capturedFS embed.FS

// Protocol indexes of per-protocol data.
const (
	resp2 = 0
	resp3 = 1
)

// aclCategoryNames lists the ACL categories in redis' order (acl.c), which
// is the order of ACL CAT, of COMMAND INFO categories and of the greedy
// rule description.
var aclCategoryNames = []string{
	"keyspace", "read", "write", "set", "sortedset", "list", "hash", "string",
	"bitmap", "hyperloglog", "geo", "stream", "pubsub", "admin", "fast",
	"slow", "blocking", "dangerous", "connection", "transaction", "scripting",
}

// categoryFlag returns the bit of an ACL category (case-insensitive), or 0.
func categoryFlag(name string) uint64 {
	for i, n := range aclCategoryNames {
		if redisargs.EqualFold(n, name) {
			return 1 << i
		}
	}
	return 0
}

// command is one command or subcommand of the table.
type command struct {
	name     string // full name: "ping", "client|kill"
	arity    int
	noAuth   bool // may run before authentication (AUTH, HELLO)
	cats     uint64
	id       int // index in table.all, the ACL bitmap position
	parent   *command
	subs     []*command
	subIndex map[string]*command // lower-case subcommand name
	info     [2][]byte           // COMMAND INFO entry per protocol
	docs     [2][]byte           // COMMAND DOCS value per protocol
	proc     func(c *client, argv []string)
	channels channelSpec // which arguments are channels, for ACL
	// lendsArgs: the procedure is done with argv when it returns (argsLentBy).
	lendsArgs bool
	// mayReplicate: a WRITE pause holds it back, as an ALL pause does
	// every command.
	mayReplicate bool
}

// channelSpec says which arguments of a command are pub/sub channels.
type channelSpec int

const (
	channelsNone      channelSpec = iota
	channelsPublish               // argv[1]
	channelsSubscribe             // argv[1:]
	channelsPattern               // argv[1:], patterns
)

// commandTable is the sentinel command table.
type commandTable struct {
	profile compat.Profile
	top     []*command          // COMMAND order
	byName  map[string]*command // lower-case top-level names
	all     []*command          // COMMAND LIST order: each command then its subcommands
	help    map[string][]byte   // raw HELP reply per container command
	// Runnable but not listed (lookupRunnable): CLIENT SETINFO where the
	// table lacks it (nil where it has it), SENTINEL MAINTENANCE.
	setinfo, maintenance *command
}

// tables holds each profile's command table, built from its captured
// data the first time the profile is asked for (tableOf): a sentinel runs
// one profile, and a table is about 190 KB of live heap.
// (Set by init rather than by its declaration: building a table wires its
// procedures, some of which read tables.)
var tables map[compat.Profile]func() *commandTable

func init() {
	tables = map[compat.Profile]func() *commandTable{}
	for _, p := range compat.Profiles {
		tables[p] = sync.OnceValue(func() *commandTable {
			t, err := buildTable(string(p))
			if err != nil {
				panic(fmt.Sprintf("sentinel: captured command data of %s is corrupt: %v", p, err))
			}
			t.profile = p
			wireTable(t)
			return t
		})
	}
}

// tableOf returns profile p's command table, nil for an unknown profile.
func tableOf(p compat.Profile) *commandTable {
	build, ok := tables[p]
	if !ok {
		return nil
	}
	return build()
}

func readCaptured(dir, name string) ([]byte, error) {
	b, err := capturedFS.ReadFile("captured/" + dir + "/" + name)
	if err != nil {
		return nil, fmt.Errorf("read captured %s: %w", name, err)
	}
	return b, nil
}

func scanCaptured(dir, name string) (respValue, error) {
	b, err := readCaptured(dir, name)
	if err != nil {
		return respValue{}, err
	}
	v, n, err := scanRESP(b)
	if err != nil {
		return respValue{}, fmt.Errorf("parse %s: %w", name, err)
	}
	if n != len(b) {
		return respValue{}, fmt.Errorf("parse %s: %d trailing bytes", name, len(b)-n)
	}
	return v, nil
}

func buildTable(dir string) (*commandTable, error) {
	t := &commandTable{byName: map[string]*command{}, help: map[string][]byte{}}
	info2, err := scanCaptured(dir, "command.resp2")
	if err != nil {
		return nil, err
	}
	info3, err := scanCaptured(dir, "command.resp3")
	if err != nil {
		return nil, err
	}
	if len(info2.children) != len(info3.children) {
		return nil, fmt.Errorf("COMMAND captures differ in length")
	}
	for i := range info2.children {
		cmd, err := t.addCommand(info2.children[i], info3.children[i], nil)
		if err != nil {
			return nil, err
		}
		t.top = append(t.top, cmd)
		t.byName[cmd.name] = cmd
	}
	for p, file := range []string{"docs.resp2", "docs.resp3"} {
		docs, err := scanCaptured(dir, file)
		if err != nil {
			return nil, err
		}
		if err := t.attachDocs(docs, p); err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
	}
	for _, name := range []string{"sentinel", "client", "acl", "command"} {
		b, err := readCaptured(dir, "help-"+name+".resp")
		if err != nil {
			return nil, err
		}
		t.help[name] = b
	}
	return t, nil
}

// addCommand registers one COMMAND INFO entry (and its subcommands).
func (t *commandTable) addCommand(v2, v3 respValue, parent *command) (*command, error) {
	if len(v2.children) < 10 || len(v3.children) < 10 {
		return nil, fmt.Errorf("COMMAND entry with %d fields", len(v2.children))
	}
	arity, ok := string2ll(v2.children[1].str)
	if !ok {
		return nil, fmt.Errorf("bad arity %q", v2.children[1].str)
	}
	cmd := &command{
		name:   v2.children[0].str,
		arity:  int(arity),
		id:     len(t.all),
		parent: parent,
		info:   [2][]byte{v2.raw, v3.raw},
	}
	if cmd.name != v3.children[0].str {
		return nil, fmt.Errorf("COMMAND captures disagree: %q vs %q", cmd.name, v3.children[0].str)
	}
	for _, f := range v2.children[2].children {
		if f.str == "no_auth" {
			cmd.noAuth = true
		}
	}
	for _, c := range v2.children[6].children {
		flag := categoryFlag(strings.TrimPrefix(c.str, "@"))
		if flag == 0 {
			return nil, fmt.Errorf("%s: unknown ACL category %q", cmd.name, c.str)
		}
		cmd.cats |= flag
	}
	t.all = append(t.all, cmd)
	subs2, subs3 := v2.children[9].children, v3.children[9].children
	if len(subs2) != len(subs3) {
		return nil, fmt.Errorf("%s: subcommand captures differ", cmd.name)
	}
	if len(subs2) > 0 {
		cmd.subIndex = map[string]*command{}
	}
	for i := range subs2 {
		sub, err := t.addCommand(subs2[i], subs3[i], cmd)
		if err != nil {
			return nil, err
		}
		cmd.subs = append(cmd.subs, sub)
		cmd.subIndex[strings.TrimPrefix(sub.name, cmd.name+"|")] = sub
	}
	return cmd, nil
}

// attachDocs stores the COMMAND DOCS value of every command for protocol p.
func (t *commandTable) attachDocs(docs respValue, p int) error {
	for _, kv := range docs.pairs() {
		cmd := t.lookupFullName(kv[0].str)
		if cmd == nil {
			return fmt.Errorf("docs for unknown command %q", kv[0].str)
		}
		cmd.docs[p] = kv[1].raw
		for _, field := range kv[1].pairs() {
			if field[0].str != "subcommands" {
				continue
			}
			if err := t.attachDocs(field[1], p); err != nil {
				return err
			}
		}
	}
	return nil
}

// lookupFullName finds "name" or "container|sub" (lookupCommandBySds: a
// container name alone is found, more than one '|' is not).
func (t *commandTable) lookupFullName(full string) *command {
	parts := strings.Split(full, "|")
	if full == "" || len(parts) > 2 {
		return nil
	}
	base := t.byName[redisargs.Lower(parts[0])]
	if base == nil {
		return nil
	}
	if len(parts) == 1 {
		return base
	}
	if base.subIndex == nil {
		return nil
	}
	return base.subIndex[redisargs.Lower(parts[1])]
}

// lookupArgv finds the command a request runs (lookupCommand): the
// subcommand when the base command has subcommands and there is an
// argument, the base command otherwise.
func (t *commandTable) lookupArgv(argv []string) *command {
	base := lookupFold(t.byName, argv[0])
	if base == nil || len(argv) == 1 || base.subIndex == nil {
		return base
	}
	return lookupFold(base.subIndex, argv[1])
}

// lookupFold is m[redisargs.Lower(name)] without lowerASCII's allocation for
// names no longer than any command's: every request looks its command up.
func lookupFold(m map[string]*command, name string) *command {
	var buf [32]byte
	if len(name) > len(buf) {
		return m[redisargs.Lower(name)]
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	return m[string(buf[:len(name)])] // the conversion in an index does not allocate
}

// isContainer reports whether name is a command with subcommands.
func (t *commandTable) isContainer(name string) bool {
	base := t.byName[redisargs.Lower(name)]
	return base != nil && base.subIndex != nil
}

// arityOK applies redis' arity rule (positive: exact, negative: minimum).
func (cmd *command) arityOK(argc int) bool {
	if cmd.arity > 0 {
		return argc == cmd.arity
	}
	return argc >= -cmd.arity
}

// root returns the top-level command.
func (cmd *command) root() *command {
	if cmd.parent != nil {
		return cmd.parent
	}
	return cmd
}
