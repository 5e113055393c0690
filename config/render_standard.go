package config

import (
	"strconv"
	"strings"

	"github.com/x0tta6bl4/gosentinel/internal/redisargs"
)

// rewriteStandard rewrites every standard redis config (the loop over `configs` in
// config.c:rewriteConfig). Redis walks a hash table with a per-process random seed, so the
// order of appended lines varies between runs; we use the static_configs table order.
func (c *Config) rewriteStandard(st *rewriteState) {
	for i := range standardConfigs {
		sc := &standardConfigs[i]
		if isModeled(sc.name) {
			c.rewriteModeled(st, sc)
			continue
		}
		c.rewriteGeneric(st, sc)
	}
}

// rewriteModeled writes a standard config gosentinel keeps in a Config field.
func (c *Config) rewriteModeled(st *rewriteState, sc *stdConfig) {
	switch sc.name {
	case "dir":
		if c.Dir == "" {
			st.markProcessed("dir")
			return
		}
		st.rewriteLine("dir", "dir "+repr(c.Dir), true)
	case "bind":
		if c.Bind == nil || equalStrings(c.Bind, DefaultBind) {
			st.markProcessed("bind")
			return
		}
		addrs := `""`
		if len(c.Bind) > 0 {
			// word() keeps ordinary addresses raw, as redis writes them, and
			// quotes the ones that would not read back (an empty one).
			words := make([]string, len(c.Bind))
			for i, b := range c.Bind {
				words[i] = word(b)
			}
			addrs = strings.Join(words, " ")
		}
		st.rewriteLine("bind", "bind "+addrs, true)
	case "port":
		writeNumeric(st, sc, int64(c.Port))
	case "tls-port":
		writeNumeric(st, sc, int64(c.TLSPort))
	case "protected-mode":
		writeBool(st, sc, c.ProtectedMode)
	case "daemonize":
		writeBool(st, sc, c.Daemonize)
	case "tls-replication":
		writeBool(st, sc, c.TLSReplication)
	case "loglevel":
		writeEnum(st, sc, orDefault(c.LogLevel, sc.def))
	case "tls-auth-clients":
		writeEnum(st, sc, orDefault(c.TLSAuthClients, sc.def))
	case "logfile":
		writeString(st, sc, c.LogFile, true)
	case "aclfile":
		writeString(st, sc, c.ACLFile, true)
	case "pidfile":
		writeString(st, sc, c.PidFile, c.PidFile != "")
	case "requirepass":
		writeString(st, sc, c.RequirePass, c.HasRequirePass)
	case "tls-cert-file":
		writeString(st, sc, c.TLSCertFile, c.TLSCertFile != "")
	case "tls-key-file":
		writeString(st, sc, c.TLSKeyFile, c.TLSKeyFile != "")
	case "tls-ca-cert-file":
		writeString(st, sc, c.TLSCACertFile, c.TLSCACertFile != "")
	}
}

func writeNumeric(st *rewriteState, sc *stdConfig, v int64) {
	st.rewriteLine(sc.name, sc.name+" "+sc.formatNumeric(v), v != sc.ndef)
}

func writeBool(st *rewriteState, sc *stdConfig, v bool) {
	s := yesNoWord(v)
	st.rewriteLine(sc.name, sc.name+" "+s, s != sc.def)
}

func writeEnum(st *rewriteState, sc *stdConfig, v string) {
	v = redisargs.Lower(v)
	st.rewriteLine(sc.name, sc.name+" "+v, v != sc.def)
}

// writeString is rewriteConfigStringOption; set=false stands for a NULL value.
func writeString(st *rewriteState, sc *stdConfig, v string, set bool) {
	if !set {
		st.markProcessed(sc.name)
		return
	}
	st.rewriteLine(sc.name, sc.name+" "+repr(v), !(sc.hasDef && v == sc.def))
}

// genericArgs returns the argument lists of every Generic directive for sc, in order, with
// multi-arg values given as one word split like the loader does.
func (c *Config) genericArgs(sc *stdConfig) [][]string {
	var out [][]string
	for _, d := range c.Generic {
		// Names are lower-case already (the loader keeps them so): this runs
		// for every standard config at every rewrite, and lower-casing here
		// made a rewrite cost configs x name bytes (a 4 KB module-config name
		// stalled the fuzzer for minutes).
		if d.Name != sc.name && (sc.alias == "" || d.Name != sc.alias) {
			continue
		}
		args := d.Args
		if sc.multiArg && len(args) == 1 && args[0] != "" {
			split, err := splitArgs(args[0])
			if err != nil {
				split = nil
			}
			args = split
		}
		out = append(out, args)
	}
	return out
}

// rewriteGeneric writes a standard config kept in Config.Generic from its last valid value
// (its default when there is none).
func (c *Config) rewriteGeneric(st *rewriteState, sc *stdConfig) {
	occ := c.genericArgs(sc)
	// Values added programmatically may be invalid; like CONFIG SET, an invalid one is ignored.
	var lastVal stdValue
	found := false
	for _, a := range occ {
		if !sc.multiArg && len(a) != 1 {
			continue
		}
		v, msg := sc.parse(a)
		if msg != "" {
			continue
		}
		lastVal, found = v, true
	}
	switch sc.name {
	case "save":
		st.markProcessed("save") // never rewritten in sentinel mode
		return
	case "client-output-buffer-limit":
		c.rewriteObuf(st, occ)
		return
	case "replicaof":
		if !found || lastVal.null {
			st.markProcessed("replicaof")
			return
		}
		st.rewriteLine("replicaof", "replicaof "+lastVal.canonical, true)
		return
	case "latency-tracking-info-percentiles":
		v := "50 99 99.9"
		if found {
			v = lastVal.canonical
		}
		st.rewriteLine(sc.name, sc.name+" "+v, true)
		return
	case "oom-score-adj-values":
		if !found {
			lastVal = stdValue{canonical: "0 200 800", isDefault: true}
		}
	case "hz":
		// The applied values, as redis' rewrite prints them.
		v := int64(c.Hz())
		lastVal = stdValue{canonical: itoa64(v), isDefault: v == sc.ndef}
	case "watchdog-period":
		v := c.WatchdogPeriod()
		lastVal = stdValue{canonical: itoa64(v), isDefault: v == sc.ndef}
	case "notify-keyspace-events":
		if !found {
			lastVal = stdValue{canonical: `""`, isDefault: true}
		}
	default:
		if !found {
			switch sc.kind {
			case kindNumeric:
				lastVal = stdValue{canonical: sc.formatNumeric(sc.ndef), isDefault: true}
			case kindString:
				if !sc.hasDef {
					st.markProcessed(sc.name)
					return
				}
				lastVal = stdValue{canonical: repr(sc.def), isDefault: true}
			default:
				lastVal = stdValue{canonical: sc.def, isDefault: true}
			}
		}
	}
	if lastVal.null {
		st.markProcessed(sc.name)
		return
	}
	st.rewriteLine(sc.name, sc.name+" "+lastVal.canonical, !lastVal.isDefault)
}

// rewriteObuf is rewriteConfigClientOutputBufferLimitOption: one line per client class.
func (c *Config) rewriteObuf(st *rewriteState, occ [][]string) {
	cur := make([]obufLimit, len(obufClasses))
	for i, cl := range obufClasses {
		cur[i] = cl.def
	}
	for _, a := range occ {
		set, msg := parseClientOutputBufferLimit(a)
		if msg != "" {
			continue
		}
		for k, v := range set {
			cur[k] = v
		}
	}
	for i, cl := range obufClasses {
		v := cur[i]
		line := "client-output-buffer-limit " + cl.name + " " + formatMemory(v.hard) + " " +
			formatMemory(v.soft) + " " + strconv.FormatInt(v.seconds, 10)
		st.rewriteLine("client-output-buffer-limit", line, v != cl.def)
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// orDefault treats an unset ("") enum field of a hand-built Config as the default.
func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
