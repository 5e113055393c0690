package quorum

import (
	"fmt"
	"strconv"
)

// Settings are a master's per-sentinel settings: what sentinel.conf's
// per-master lines, SENTINEL MONITOR and SENTINEL SET give a sentinel
// (quorum, times, scripts, credentials, renamed commands). Master and
// config.Master embed them, so that one table (Options) reads and writes
// them wherever they live. The JSON names are the replicated record's.
type Settings struct {
	Quorum               int         `json:"quorum"`
	DownAfterMs          int64       `json:"down_after_ms"`
	FailoverTimeoutMs    int64       `json:"failover_timeout_ms"`
	ParallelSyncs        int         `json:"parallel_syncs"`
	NotificationScript   string      `json:"notification_script,omitempty"`
	ClientReconfigScript string      `json:"client_reconfig_script,omitempty"`
	AuthPass             string      `json:"auth_pass,omitempty"`
	AuthUser             string      `json:"auth_user,omitempty"`
	RebootDownAfterMs    int64       `json:"reboot_down_after_ms,omitempty"`
	RenameCommands       [][2]string `json:"rename_commands,omitempty"`
}

// Clone is a deep copy.
func (s Settings) Clone() Settings {
	s.RenameCommands = append([][2]string(nil), s.RenameCommands...)
	return s
}

// OptionKind says what values an option takes; each reader (the config
// parser, SENTINEL SET, the FSM, the config rewrite) applies its own
// redis rules per kind.
type OptionKind int

const (
	// OptMillis is a time in milliseconds, greater than 0; 0 in a Settings
	// means "not set" (the sentinel's default applies).
	OptMillis OptionKind = iota
	// OptMillisOrZero is a time in milliseconds; 0 turns it off.
	OptMillisOrZero
	// OptCount is a number greater than 0 for SENTINEL SET; sentinel.conf
	// takes any word as redis' atoi reads it.
	OptCount
	// OptScript is the path of an executable; SENTINEL SET also takes ""
	// (none) and is refused under deny-scripts-reconfig.
	OptScript
	// OptString is any word.
	OptString
	// OptSecret is any word, never shown (SENTINEL SET's +set event masks it).
	OptSecret
	// OptRename is a list of {command, new name} pairs, one line each in
	// sentinel.conf, rendered after the known-replica and known-sentinel
	// lines as redis does.
	OptRename
)

// Option is one per-master setting.
type Option struct {
	// Name is its name in sentinel.conf, SENTINEL SET and a Param's Key.
	Name string
	Kind OptionKind
	// Directive is whether sentinel.conf has a line of its own for it,
	// `sentinel <Name> <master> <value>...`; quorum is the last word of the
	// monitor line instead.
	Directive bool
	// ScriptError is the complaint about a path that is not an executable
	// (OptScript): sentinel.conf ends it with a period, SENTINEL SET
	// prefixes it with ERR.
	ScriptError string

	num   func(*Settings) *int64
	count func(*Settings) *int
	str   func(*Settings) *string
}

// Options are the per-master settings, in the order redis' config rewrite
// writes them (sentinel.c:rewriteConfigSentinelOption). Adding an option
// is one row here: the config parser, SENTINEL SET, the FSM and the config
// rewrite all read this table (node's TestOptionsRoundTrip checks each row
// through all four).
var Options = []Option{
	{Name: "quorum", Kind: OptCount, count: func(s *Settings) *int { return &s.Quorum }},
	{Name: "down-after-milliseconds", Kind: OptMillis, Directive: true, num: func(s *Settings) *int64 { return &s.DownAfterMs }},
	{Name: "failover-timeout", Kind: OptMillis, Directive: true, num: func(s *Settings) *int64 { return &s.FailoverTimeoutMs }},
	{Name: "parallel-syncs", Kind: OptCount, Directive: true, count: func(s *Settings) *int { return &s.ParallelSyncs }},
	{Name: "notification-script", Kind: OptScript, Directive: true,
		ScriptError: "Notification script seems non existing or non executable",
		str:         func(s *Settings) *string { return &s.NotificationScript }},
	{Name: "client-reconfig-script", Kind: OptScript, Directive: true,
		ScriptError: "Client reconfiguration script seems non existing or non executable",
		str:         func(s *Settings) *string { return &s.ClientReconfigScript }},
	{Name: "auth-pass", Kind: OptSecret, Directive: true, str: func(s *Settings) *string { return &s.AuthPass }},
	{Name: "auth-user", Kind: OptString, Directive: true, str: func(s *Settings) *string { return &s.AuthUser }},
	{Name: "master-reboot-down-after-period", Kind: OptMillisOrZero, Directive: true, num: func(s *Settings) *int64 { return &s.RebootDownAfterMs }},
	{Name: "rename-command", Kind: OptRename, Directive: true},
}

// LookupOption finds an option by name, in any case.
func LookupOption(name string) (*Option, bool) {
	for i := range Options {
		if equalFold(Options[i].Name, name) {
			return &Options[i], true
		}
	}
	return nil, false
}

// Arity is how many values one setting of the option takes.
func (o *Option) Arity() int {
	if o.Kind == OptRename {
		return 2
	}
	return 1
}

// Numeric is whether the option's value is a number.
func (o *Option) Numeric() bool { return o.num != nil || o.count != nil }

// Values are the option's settings in s, each as its words: one for most
// options, one per pair for rename-command.
func (o *Option) Values(s *Settings) [][]string {
	switch {
	case o.Kind == OptRename:
		out := make([][]string, len(s.RenameCommands))
		for i, rc := range s.RenameCommands {
			out[i] = []string{rc[0], rc[1]}
		}
		return out
	case o.num != nil:
		return [][]string{{strconv.FormatInt(*o.num(s), 10)}}
	case o.count != nil:
		return [][]string{{strconv.Itoa(*o.count(s))}}
	}
	return [][]string{{*o.str(s)}}
}

// SetNumber stores n (a numeric option).
func (o *Option) SetNumber(s *Settings, n int64) {
	if o.num != nil {
		*o.num(s) = n
	} else {
		*o.count(s) = int(n)
	}
}

// Number is the value of a numeric option.
func (o *Option) Number(s *Settings) int64 {
	if o.num != nil {
		return *o.num(s)
	}
	return int64(*o.count(s))
}

// Apply sets one already validated value (SENTINEL SET's, as the FSM
// applies it): a number in decimal, a word, or a rename pair, which
// replaces the command's earlier name and is dropped when it renames the
// command to itself (sentinel.c:sentinelSetCommand).
func (o *Option) Apply(s *Settings, v []string) error {
	if len(v) != o.Arity() {
		return fmt.Errorf("%s takes %d values, got %d", o.Name, o.Arity(), len(v))
	}
	switch {
	case o.Kind == OptRename:
		applyRename(s, v[0], v[1])
	case o.Numeric():
		n, err := strconv.ParseInt(v[0], 10, 64)
		if err != nil {
			return fmt.Errorf("bad value for %s: %w", o.Name, err)
		}
		o.SetNumber(s, n)
	default:
		*o.str(s) = v[0]
	}
	return nil
}

// IsDefault is whether s holds the option's default, given the defaults of
// this sentinel (d): the config rewrite leaves such options out, as redis
// does. An OptMillis of 0 is "not set" and is left out too.
func (o *Option) IsDefault(s, d *Settings) bool {
	switch {
	case o.Kind == OptRename:
		return len(s.RenameCommands) == 0
	case o.Numeric():
		v := o.Number(s)
		return v == o.Number(d) || (o.Kind == OptMillis && v == 0)
	}
	return *o.str(s) == *o.str(d)
}

// applyRename records cmd -> newname; renaming a command to itself removes
// the mapping (sentinel.c sentinelSetCommand). Names compare as redis'
// strcasecmp does, ASCII only.
func applyRename(s *Settings, cmd, newname string) {
	out := s.RenameCommands[:0]
	for _, rc := range s.RenameCommands {
		if !equalFold(rc[0], cmd) {
			out = append(out, rc)
		}
	}
	s.RenameCommands = out
	if !equalFold(cmd, newname) {
		s.RenameCommands = append(s.RenameCommands, [2]string{cmd, newname})
	}
}

// equalFold is strcasecmp's equality: ASCII letters fold, nothing else.
func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
