package config

import (
	"strconv"
	"strings"

	"github.com/x0tta6bl4/gosentinel/internal/redisargs"
)

// stdKind is the type of a standard redis config (config.c: createBoolConfig, ...).
type stdKind int

const (
	kindBool stdKind = iota
	kindString
	kindEnum
	kindNumeric
	kindSpecial
)

// Numeric format flags (config.c: MEMORY_CONFIG, PERCENT_CONFIG, OCTAL_CONFIG).
const (
	numMemory = 1 << iota
	numPercent
	numOctal
)

// enumItem is one accepted enum word and the canonical word redis writes back for its value
// (the first name in the table with the same value, e.g. oom-score-adj relative -> yes).
type enumItem struct{ name, canon string }

// stdConfig describes one entry of redis' static_configs table.
type stdConfig struct {
	name, alias string
	kind        stdKind
	multiArg    bool

	def    string // canonical rendering of the default value (bool, string, enum)
	hasDef bool   // string/enum: def is meaningful (a NULL default string has none)

	emptyIsNull bool // string: "" means NULL (the option is then not written at all)
	enum        []enumItem

	lo       int64
	hiU      uint64
	ndef     int64
	nflags   int
	unsigned bool
}

var stdConfigIndex = func() map[string]*stdConfig {
	m := make(map[string]*stdConfig, 2*len(standardConfigs))
	for i := range standardConfigs {
		c := &standardConfigs[i]
		m[c.name] = c
		if c.alias != "" {
			m[c.alias] = c
		}
	}
	return m
}()

// lookupStdConfig finds a standard config by lower-case name or alias.
func lookupStdConfig(name string) *stdConfig {
	return stdConfigIndex[name]
}

// deprecatedConfigs are accepted and ignored by redis 7.0.15 (with exactly one argument).
var deprecatedConfigs = map[string]bool{
	"list-max-ziplist-entries": true,
	"list-max-ziplist-value":   true,
	"lua-replicate-commands":   true,
}

// stdValue is a parsed value of a standard config: canonical is what redis' rewrite prints
// after the name ("" with null=true for a NULL string), isDefault tells whether it equals the
// default (rewrite then only updates an existing line).
type stdValue struct {
	canonical string
	isDefault bool
	null      bool
}

// parseStd validates args for c exactly like the config's set function at load time and
// returns the canonical value. The error text is redis'.
func (c *stdConfig) parse(args []string) (stdValue, string) {
	switch c.kind {
	case kindBool:
		v, ok := yesNo(args[0])
		if !ok {
			return stdValue{}, "argument must be 'yes' or 'no'"
		}
		s := "no"
		if v {
			s = "yes"
		}
		return stdValue{canonical: s, isDefault: s == c.def}, ""
	case kindString:
		if args[0] == "" && c.emptyIsNull {
			return stdValue{null: true, isDefault: !c.hasDef}, ""
		}
		if msg := validateString(c.name, args[0]); msg != "" {
			return stdValue{}, msg
		}
		return stdValue{canonical: repr(args[0]), isDefault: c.hasDef && args[0] == c.def}, ""
	case kindEnum:
		return c.parseEnum(args)
	case kindNumeric:
		return c.parseNumeric(args[0])
	}
	return parseSpecial(c.name, args)
}

func (c *stdConfig) parseEnum(args []string) (stdValue, string) {
	if len(args) == 0 || (!c.multiArg && len(args) != 1) {
		return stdValue{}, c.enumError()
	}
	var words []string
	for _, a := range args {
		found := ""
		for _, it := range c.enum {
			if redisargs.EqualFold(a, it.name) {
				found = it.canon
				break
			}
		}
		if found == "" {
			return stdValue{}, c.enumError()
		}
		words = append(words, found)
	}
	if c.multiArg {
		// Bit-flag enums (shutdown-on-sig*): redis renders the set of flags in table order,
		// "default" standing for the empty set.
		if msg := validateShutdownFlags(words); msg != "" {
			return stdValue{}, msg
		}
		var out []string
		for _, it := range c.enum[1:] {
			for _, w := range words {
				if w == it.name {
					out = append(out, it.name)
					break
				}
			}
		}
		if len(out) == 0 {
			out = []string{c.enum[0].name}
		}
		s := strings.Join(out, " ")
		return stdValue{canonical: s, isDefault: s == c.def}, ""
	}
	return stdValue{canonical: words[0], isDefault: words[0] == c.def}, ""
}

func (c *stdConfig) enumError() string {
	names := make([]string, len(c.enum))
	for i, it := range c.enum {
		names[i] = it.name
	}
	return "argument(s) must be one of the following: " + strings.Join(names, ", ")
}

// validateShutdownFlags is config.c:isValidShutdownOnSigFlags.
func validateShutdownFlags(words []string) string {
	save, nosave := false, false
	for _, w := range words {
		save = save || w == "save"
		nosave = nosave || w == "nosave"
	}
	if save && nosave {
		return "shutdown options SAVE and NOSAVE can't be used simultaneously"
	}
	return ""
}

func (c *stdConfig) parseNumeric(s string) (stdValue, string) {
	var v int64
	parsed := false
	if c.nflags&numMemory != 0 {
		if u, ok := memtoull(s); ok {
			v, parsed = int64(u), true
		}
	}
	if !parsed && c.nflags&numPercent != 0 && len(s) > 1 && s[len(s)-1] == '%' {
		if p, ok := string2ll(s[:len(s)-1]); ok && p >= 0 {
			v, parsed = -p, true
		}
	}
	if !parsed && c.nflags&numOctal != 0 {
		if o, ok := parseOctal(s); ok {
			v, parsed = o, true
		}
	}
	if !parsed && c.nflags == 0 {
		v, parsed = string2ll(s)
	}
	if !parsed {
		switch {
		case c.nflags&numMemory != 0 && c.nflags&numPercent != 0:
			return stdValue{}, "argument must be a memory or percent value"
		case c.nflags&numMemory != 0:
			return stdValue{}, "argument must be a memory value"
		case c.nflags&numOctal != 0:
			return stdValue{}, "argument couldn't be parsed as an octal number"
		default:
			return stdValue{}, "argument couldn't be parsed into an integer"
		}
	}
	if msg := c.checkBounds(v); msg != "" {
		return stdValue{}, msg
	}
	return stdValue{canonical: c.formatNumeric(v), isDefault: v == c.ndef}, ""
}

func (c *stdConfig) checkBounds(v int64) string {
	if c.unsigned {
		u := uint64(v)
		if u > c.hiU || u < uint64(c.lo) {
			if c.nflags&numOctal != 0 {
				return "argument must be between " + strconv.FormatUint(uint64(c.lo), 8) +
					" and " + strconv.FormatUint(c.hiU, 8) + " inclusive"
			}
			return "argument must be between " + strconv.FormatUint(uint64(c.lo), 10) +
				" and " + strconv.FormatUint(c.hiU, 10) + " inclusive"
		}
		return ""
	}
	if c.nflags&numPercent != 0 && v < 0 {
		if v < c.lo {
			return "percentage argument must be less or equal to " + itoa64(-c.lo)
		}
		return ""
	}
	hi := int64(c.hiU) // signed types never have an upper bound above MaxInt64
	if v > hi || v < c.lo {
		return "argument must be between " + itoa64(c.lo) + " and " + itoa64(hi) + " inclusive"
	}
	return ""
}

// formatNumeric renders v like numericConfigRewrite.
func (c *stdConfig) formatNumeric(v int64) string {
	switch {
	case c.nflags&numPercent != 0 && v < 0:
		return itoa64(-v) + "%"
	case c.nflags&numMemory != 0 && c.unsigned:
		// Unlike redis, which formats through a long long and so writes
		// values above 2^63-1 as a negative size it then refuses to load
		// (found by FuzzParse), an unsigned size is written unsigned.
		return formatMemoryUnsigned(uint64(v))
	case c.nflags&numMemory != 0:
		return formatMemory(v)
	case c.nflags&numOctal != 0:
		return strconv.FormatUint(uint64(v), 8)
	}
	return itoa64(v)
}

// parseOctal is numericParseString's octal case (config.c): strtoll(s, &end, 8), accepted
// when errno stays 0 and *end is '\0'. The value is a C string there, so it ends at its first
// NUL; strtoll skips leading blanks and takes a sign, and when it reads no digit it leaves end
// at the start of s, so an empty value (or one that starts with a NUL) is 0 while " " or "-"
// is refused.
func parseOctal(s string) (int64, bool) {
	if i := strings.IndexByte(s, 0); i >= 0 {
		s = s[:i]
	}
	if s == "" {
		return 0, true
	}
	v, rest, ok, erange := strtoll(s, 8)
	if !ok || erange || rest != "" {
		return 0, false
	}
	return v, true
}

func itoa64(v int64) string { return strconv.FormatInt(v, 10) }

// validateString runs the few is_valid functions of string configs (config.c).
func validateString(name, v string) string {
	switch name {
	case "dbfilename":
		if strings.ContainsRune(v, '/') {
			return "dbfilename can't be a path, just a filename"
		}
	case "appendfilename":
		if v == "" {
			return "appendfilename can't be empty"
		}
		if strings.ContainsRune(v, '/') {
			return "appendfilename can't be a path, just a filename"
		}
	case "appenddirname":
		if v == "" {
			return "appenddirname can't be empty"
		}
		if strings.ContainsRune(v, '/') {
			return "appenddirname can't be a path, just a dirname"
		}
	case "cluster-announce-hostname":
		if len(v) >= 256 {
			return "Hostnames must be less than 256 characters"
		}
		for i := 0; i < len(v); i++ {
			c := v[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
				return "Hostnames may only contain alphanumeric characters, hyphens or dots"
			}
		}
	}
	return ""
}

// parseSpecial validates the special configs (config.c set functions) and renders their
// canonical rewrite value. dir is handled by the loader (it needs the working directory).
func parseSpecial(name string, args []string) (stdValue, string) {
	switch name {
	case "save":
		// Never rewritten in sentinel mode (rewriteConfigSaveOption), so only validate.
		a := args
		if len(a) == 1 && a[0] == "" {
			a = nil
		}
		if len(a)%2 == 1 {
			return stdValue{}, "Invalid save parameters"
		}
		for j, s := range a {
			v, rest, _ := strtol(s)
			if rest != "" || (j%2 == 0 && v < 1) || (j%2 == 1 && v < 0) {
				return stdValue{}, "Invalid save parameters"
			}
		}
		return stdValue{}, ""
	case "bind":
		if len(args) > 16 {
			return stdValue{}, "Too many bind addresses specified."
		}
		return stdValue{}, ""
	case "replicaof":
		if len(args) != 2 {
			return stdValue{}, "wrong number of arguments"
		}
		if redisargs.EqualFold(args[0], "no") && redisargs.EqualFold(args[1], "one") {
			return stdValue{null: true, isDefault: true}, ""
		}
		p, rest, _ := strtol(args[1])
		if p < 0 || p > 65535 || rest != "" {
			return stdValue{}, "Invalid master port"
		}
		return stdValue{canonical: args[0] + " " + itoa64(p)}, ""
	case "notify-keyspace-events":
		return parseKeyspaceEvents(args[0])
	case "client-output-buffer-limit":
		_, msg := parseClientOutputBufferLimit(args)
		return stdValue{}, msg
	case "oom-score-adj-values":
		if len(args) != 3 {
			return stdValue{}, "wrong number of arguments"
		}
		def := [3]int64{0, 200, 800}
		out := make([]string, 3)
		isDef := true
		for i, a := range args {
			v, rest, _ := strtol(a)
			if rest != "" || v < -2000 || v > 2000 {
				return stdValue{}, "Invalid oom-score-adj-values, elements must be between -2000 and 2000."
			}
			out[i] = itoa64(int64(int32(v)))
			isDef = isDef && v == def[i]
		}
		return stdValue{canonical: strings.Join(out, " "), isDefault: isDef}, ""
	case "latency-tracking-info-percentiles":
		return parsePercentiles(args)
	}
	return stdValue{}, ""
}

// keyspaceEventClasses maps notify-keyspace-events characters to redis' NOTIFY_* bits.
var keyspaceEventClasses = map[byte]int{
	'K': 1 << 0, 'E': 1 << 1, 'g': 1 << 2, '$': 1 << 3, 'l': 1 << 4, 's': 1 << 5, 'h': 1 << 6,
	'z': 1 << 7, 'x': 1 << 8, 'e': 1 << 9, 't': 1 << 10, 'm': 1 << 11, 'd': 1 << 13, 'n': 1 << 14,
}

// notifyAll is NOTIFY_ALL ('A').
const notifyAll = 1<<2 | 1<<3 | 1<<4 | 1<<5 | 1<<6 | 1<<7 | 1<<8 | 1<<9 | 1<<10 | 1<<13

// parseKeyspaceEvents is notify.c keyspaceEventsStringToFlags followed by
// keyspaceEventsFlagsToString (the rewrite form).
func parseKeyspaceEvents(s string) (stdValue, string) {
	flags := 0
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			break // C string
		}
		if s[i] == 'A' {
			flags |= notifyAll
			continue
		}
		b, ok := keyspaceEventClasses[s[i]]
		if !ok {
			return stdValue{}, "Invalid event class character. Use 'Ag$lshzxeKEtmdn'."
		}
		flags |= b
	}
	var out []byte
	if flags&notifyAll == notifyAll {
		out = append(out, 'A')
	} else {
		for _, c := range []byte("g$lshzxetdn") {
			if flags&keyspaceEventClasses[c] != 0 {
				out = append(out, c)
			}
		}
	}
	for _, c := range []byte("KEm") {
		if flags&keyspaceEventClasses[c] != 0 {
			out = append(out, c)
		}
	}
	return stdValue{canonical: repr(string(out)), isDefault: flags == 0}, ""
}

// obufLimit is one client class of client-output-buffer-limit.
type obufLimit struct{ hard, soft, seconds int64 }

// obufClasses are the rewritable classes in redis' order with their defaults.
var obufClasses = []struct {
	name string
	def  obufLimit
}{
	{"normal", obufLimit{0, 0, 0}},
	{"replica", obufLimit{256 << 20, 64 << 20, 60}},
	{"pubsub", obufLimit{32 << 20, 8 << 20, 60}},
}

// parseClientOutputBufferLimit is config.c:updateClientOutputBufferLimit; it returns the
// limits set per class index of obufClasses.
func parseClientOutputBufferLimit(args []string) (map[int]obufLimit, string) {
	if len(args)%4 != 0 {
		return nil, "Wrong number of arguments in buffer limit configuration."
	}
	out := make(map[int]obufLimit)
	for j := 0; j < len(args); j += 4 {
		class := -1
		switch redisargs.Lower(args[j]) {
		case "normal":
			class = 0
		case "slave", "replica":
			class = 1
		case "pubsub":
			class = 2
		}
		if class < 0 {
			return nil, "Invalid client class specified in buffer limit configuration."
		}
		hard, ok1 := memtoull(args[j+1])
		soft, ok2 := memtoull(args[j+2])
		secs, rest, _ := strtol(args[j+3])
		if !ok1 || !ok2 || secs < 0 || rest != "" {
			return nil, "Error in hard, soft or soft_seconds setting in buffer limit configuration."
		}
		out[class] = obufLimit{int64(hard), int64(soft), int64(int32(secs))}
	}
	return out, ""
}

// parsePercentiles is setConfigLatencyTrackingInfoPercentilesOutputOption; the canonical form
// is the rewrite's "%f" with trailing zeros trimmed, or "\"\"" for an empty list: a single ""
// or no argument at all (rewriteConfigLatencyTrackingInfoPercentilesOutputOption writes
// `""` whenever the list is empty).
func parsePercentiles(args []string) (stdValue, string) {
	if len(args) == 0 || len(args) == 1 && args[0] == "" {
		return stdValue{canonical: `""`}, ""
	}
	out := make([]string, len(args))
	for i, a := range args {
		f, ok := string2d(a)
		if !ok {
			return stdValue{}, "Invalid latency-tracking-info-percentiles parameters"
		}
		if f > 100.0 || f < 0.0 {
			return stdValue{}, "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]"
		}
		out[i] = trimDouble(strconv.FormatFloat(f, 'f', 6, 64))
	}
	return stdValue{canonical: strings.Join(out, " ")}, ""
}

// string2d is redis' util.c string2d: strtod reading the whole string, which does not start
// with a blank, without ERANGE on an overflow or a result of zero, and not NaN.
func string2d(s string) (float64, bool) {
	if s == "" || cIsSpace(s[0]) {
		return 0, false
	}
	f, erange, ok := strtod(s)
	if !ok || erange || f != f {
		return 0, false
	}
	return f, true
}

// trimDouble is util.c trimDoubleString: drop trailing zeros after the dot, then the dot.
func trimDouble(s string) string {
	if strings.IndexByte(s, '.') < 0 {
		return s
	}
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}
