package config

import (
	"errors"
	"sort"
	"strings"

	"github.com/x0tta6bl4/gosentinel/internal/aclsyntax"
)

// This file validates `user` lines like redis' ACLAppendUserForLoading and renders users back
// like ACLDescribeUser. Command rules are not checked against a command table (redis ignores
// unknown command errors at load too) and are rendered as given after the +@all/-@all base,
// which matches redis for the usual "+@all", "-@all +cmd ..." and "+@all -@cat" forms but not
// for every combination its bitmap-based describer could produce.

// ACL errors (acl.c:ACLSetUserStringError).
var (
	errACLSyntax      = errors.New("Syntax error")
	errACLKeysAll     = errors.New("Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns")
	errACLChannelsAll = errors.New("Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels")
	errACLNoPassword  = errors.New("The password you are trying to remove from the user does not exist")
	errACLBadHash     = errors.New("The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters")
	errACLDuplicate   = errors.New("Duplicate user found. A user can only be defined once in config files")
	// errACLUnknown is what redis reports for an unterminated "(" selector at load: errno is
	// left at ENOENT by the time ACLSetUserStringError reads it.
	errACLUnknown = errors.New("Unknown command or category name in ACL")
)

// aclSelector is the key/channel/command part of a user (root or "(...)" selector).
type aclSelector struct {
	allKeys     bool
	keys        []string // rendered patterns, e.g. "~foo", "%R~bar"
	allChannels bool
	channels    []string
	allCommands bool
	rules       []string // command rules after the base, lower-cased
}

// aclUser is the part of a redis user that ACLDescribeUser prints.
type aclUser struct {
	enabled, nopass bool
	sanitize        int // 0 unset, 1 sanitize-payload, 2 skip-sanitize-payload
	passwords       []string
	root            aclSelector
	selectors       []aclSelector
}

func newACLUser() *aclUser { return &aclUser{} }

// newDefaultACLUser is ACLCreateDefaultUser: "+@all ~* &* on nopass".
func newDefaultACLUser() *aclUser {
	return &aclUser{enabled: true, nopass: true,
		root: aclSelector{allKeys: true, allChannels: true, allCommands: true}}
}

func (u *aclUser) reset() {
	*u = aclUser{}
}

func (u *aclUser) removePassword(h string) error {
	for i, p := range u.passwords {
		if p == h {
			u.passwords = append(u.passwords[:i], u.passwords[i+1:]...)
			return nil
		}
	}
	return errACLNoPassword
}

// apply is ACLSetUser for one (already selector-merged) op.
func (u *aclUser) apply(op string) error {
	lop := strings.ToLower(op)
	switch {
	case lop == "on":
		u.enabled = true
	case lop == "off":
		u.enabled = false
	case lop == "skip-sanitize-payload":
		u.sanitize = 2
	case lop == "sanitize-payload":
		u.sanitize = 1
	case lop == "nopass":
		u.nopass = true
		u.passwords = nil
	case lop == "resetpass":
		u.nopass = false
		u.passwords = nil
	case lop == "clearselectors":
		u.selectors = nil
	case lop == "reset":
		u.reset()
	case strings.HasPrefix(op, ">"):
		h := aclsyntax.HashPassword(op[1:])
		_ = u.removePassword(h)
		u.passwords = append(u.passwords, h)
		u.nopass = false
	case strings.HasPrefix(op, "#"):
		if !aclsyntax.ValidHash(op[1:]) {
			return errACLBadHash
		}
		_ = u.removePassword(op[1:])
		u.passwords = append(u.passwords, op[1:])
		u.nopass = false
	case strings.HasPrefix(op, "<"):
		return u.removePassword(aclsyntax.HashPassword(op[1:]))
	case strings.HasPrefix(op, "!"):
		if !aclsyntax.ValidHash(op[1:]) {
			return errACLBadHash
		}
		return u.removePassword(op[1:])
	case strings.HasPrefix(op, "(") && strings.HasSuffix(op, ")"):
		var s aclSelector
		words, err := splitArgs(op[1 : len(op)-1])
		if err != nil {
			return errACLSyntax
		}
		for _, w := range words {
			if err := s.apply(w); err != nil {
				return err
			}
		}
		u.selectors = append(u.selectors, s)
	default:
		return u.root.apply(op)
	}
	return nil
}

// apply is ACLSetSelector for one op.
func (s *aclSelector) apply(op string) error {
	lop := strings.ToLower(op)
	switch {
	case lop == "allkeys" || op == "~*":
		s.allKeys, s.keys = true, nil
	case lop == "resetkeys":
		s.allKeys, s.keys = false, nil
	case lop == "allchannels" || op == "&*":
		s.allChannels, s.channels = true, nil
	case lop == "resetchannels":
		s.allChannels, s.channels = false, nil
	case lop == "allcommands" || lop == "+@all":
		s.allCommands, s.rules = true, nil
	case lop == "nocommands" || lop == "-@all":
		s.allCommands, s.rules = false, nil
	case strings.HasPrefix(op, "~") || strings.HasPrefix(op, "%"):
		flags, pat := "RW", op[1:]
		if op[0] == '%' {
			i := strings.IndexByte(op, '~')
			if i < 0 {
				return errACLSyntax
			}
			f := strings.ToUpper(op[1:i])
			read, write := strings.Contains(f, "R"), strings.Contains(f, "W")
			if strings.Trim(f, "RW") != "" || (!read && !write) {
				return errACLSyntax
			}
			flags = map[bool]string{true: "R", false: ""}[read] + map[bool]string{true: "W", false: ""}[write]
			pat = op[i+1:]
		}
		if s.allKeys {
			return errACLKeysAll
		}
		if flags == "RW" && pat == "*" {
			s.allKeys, s.keys = true, nil
			return nil
		}
		r := "~" + pat
		if flags != "RW" {
			r = "%" + flags + "~" + pat
		}
		for _, k := range s.keys {
			if k == r {
				return nil
			}
		}
		s.keys = append(s.keys, r)
	case strings.HasPrefix(op, "&"):
		if s.allChannels {
			return errACLChannelsAll
		}
		for _, c := range s.channels {
			if c == op[1:] {
				return nil
			}
		}
		s.channels = append(s.channels, op[1:])
	case strings.HasPrefix(op, "+") || strings.HasPrefix(op, "-"):
		if len(op) == 1 {
			return errACLSyntax
		}
		s.rules = append(s.rules, lop)
	default:
		return errACLSyntax
	}
	return nil
}

// describe is ACLDescribeSelector.
func (s *aclSelector) describe() string {
	var parts []string
	if s.allKeys {
		parts = append(parts, "~*")
	} else {
		for _, k := range s.keys {
			parts = append(parts, word(k))
		}
	}
	if s.allChannels {
		parts = append(parts, "&*")
	} else {
		parts = append(parts, "resetchannels")
		for _, c := range s.channels {
			parts = append(parts, word("&"+c))
		}
	}
	if s.allCommands {
		parts = append(parts, "+@all")
	} else {
		parts = append(parts, "-@all")
	}
	for _, r := range s.rules {
		parts = append(parts, word(r))
	}
	return strings.Join(parts, " ")
}

// describe is ACLDescribeUser.
func (u *aclUser) describe() string {
	var parts []string
	if u.enabled {
		parts = append(parts, "on")
	} else {
		parts = append(parts, "off")
	}
	if u.nopass {
		parts = append(parts, "nopass")
	}
	switch u.sanitize {
	case 1:
		parts = append(parts, "sanitize-payload")
	case 2:
		parts = append(parts, "skip-sanitize-payload")
	}
	for _, p := range u.passwords {
		parts = append(parts, "#"+p)
	}
	parts = append(parts, u.root.describe())
	out := strings.Join(parts, " ")
	for _, s := range u.selectors {
		// Redis writes " (rules)"; a selector whose words needed quoting only survives a
		// reload as one quoted word (its inside is split again with sdssplitargs).
		inner := s.describe()
		sel := "(" + inner + ")"
		if strings.ContainsAny(inner, "\"'()") {
			sel = repr(sel)
		}
		out += " " + sel
	}
	return out
}

// checkUserLine validates one `user` line (args after "user") like ACLAppendUserForLoading
// and returns redis' error text, or "".
func checkUserLine(args []string, seen map[string]bool) string {
	// argv in redis' message is the whole line ("user", name, rules...) while argc_err indexes
	// the rules; we reproduce that quirk.
	argv := append([]string{"user"}, args...)
	fail := func(idx int, err error) string {
		w := ""
		if idx >= 0 && idx < len(argv) {
			w = argv[idx]
		}
		return "Error in user declaration '" + w + "': " + err.Error()
	}
	if seen[args[0]] {
		return fail(1, errACLDuplicate)
	}
	ops, bad := aclsyntax.MergeSelectorArgs(args[1:])
	if bad >= 0 {
		return fail(bad, errACLUnknown)
	}
	u := newACLUser()
	for j, op := range ops {
		if err := u.apply(op); err != nil {
			return fail(j, err)
		}
	}
	seen[args[0]] = true
	return ""
}

// userLines returns the `user` lines the rewrite writes: every configured user plus the
// default user, sorted by name (redis keeps users in a rax).
func (c *Config) userLines() []string {
	users := map[string]*aclUser{}
	def := newDefaultACLUser()
	if c.HasRequirePass {
		def.passwords = []string{aclsyntax.HashPassword(c.RequirePass)}
		def.nopass = false
	}
	users["default"] = def
	for _, line := range c.Users {
		if len(line) == 0 {
			continue
		}
		u := newACLUser()
		if line[0] == "default" {
			u = def
			u.reset()
		}
		ops, bad := aclsyntax.MergeSelectorArgs(line[1:])
		if bad < 0 {
			for _, op := range ops {
				_ = u.apply(op) // lines were validated at load; skip what fails like redis would refuse
			}
		}
		users[line[0]] = u
	}
	names := make([]string, 0, len(users))
	for n := range users {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = "user " + word(n) + " " + users[n].describe()
	}
	return out
}

// UserPasswordHashes returns the password hashes (SHA-256, hex) of every enabled user that the
// `user` lines give at least one password, by user name: what protects the sentinel port
// besides requirepass (node derives the peer secret from it when nothing else is set).
func (c *Config) UserPasswordHashes() map[string][]string {
	out := map[string][]string{}
	for _, line := range c.Users {
		if len(line) == 0 {
			continue
		}
		u := newACLUser()
		ops, bad := aclsyntax.MergeSelectorArgs(line[1:])
		if bad >= 0 {
			continue // refused at load
		}
		for _, op := range ops {
			_ = u.apply(op) // lines were validated at load
		}
		if u.enabled && !u.nopass && len(u.passwords) > 0 {
			out[line[0]] = append([]string(nil), u.passwords...)
		}
	}
	return out
}
