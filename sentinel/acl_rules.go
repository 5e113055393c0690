package sentinel

import (
	"slices"
	"strings"

	"github.com/x0tta6bl4/gosentinel/internal/aclsyntax"
	"github.com/x0tta6bl4/gosentinel/internal/redisargs"
)

// setOp applies one user rule (ACLSetUser).
func (u *aclUser) setOp(op string) error {
	if op == "" {
		return nil
	}
	switch {
	case redisargs.EqualFold(op, "on"):
		u.flags = (u.flags | userOn) &^ userOff
	case redisargs.EqualFold(op, "off"):
		u.flags = (u.flags | userOff) &^ userOn
	case redisargs.EqualFold(op, "skip-sanitize-payload"):
		u.flags = (u.flags | userSkipSanitize) &^ userSanitize
	case redisargs.EqualFold(op, "sanitize-payload"):
		u.flags = (u.flags | userSanitize) &^ userSkipSanitize
	case redisargs.EqualFold(op, "nopass"):
		u.flags |= userNopass
		u.passwords = nil
	case redisargs.EqualFold(op, "resetpass"):
		u.flags &^= userNopass
		u.passwords = nil
	case op[0] == '>' || op[0] == '#':
		var h string
		if op[0] == '>' {
			h = aclsyntax.HashPassword(op[1:])
		} else {
			if !aclsyntax.ValidHash(op[1:]) {
				return aclErrBadHash
			}
			h = op[1:]
		}
		if !slices.Contains(u.passwords, h) {
			u.passwords = append(u.passwords, h)
		}
		u.flags &^= userNopass
	case op[0] == '<' || op[0] == '!':
		var h string
		if op[0] == '<' {
			h = aclsyntax.HashPassword(op[1:])
		} else {
			if !aclsyntax.ValidHash(op[1:]) {
				return aclErrBadHash
			}
			h = op[1:]
		}
		i := slices.Index(u.passwords, h)
		if i < 0 {
			return aclErrNoPass
		}
		u.passwords = slices.Delete(u.passwords, i, i+1)
	case op[0] == '(' && op[len(op)-1] == ')':
		sel := newSelector(u.tbl, false)
		// A rule list with unbalanced quotes splits into nothing, leaving
		// an empty selector (sdssplitargs returns NULL, argc 0).
		ops, _ := splitArgs([]byte(op[1 : len(op)-1]))
		for _, o := range ops {
			if err := sel.setOp(o); err != nil {
				return err
			}
		}
		u.selectors = append(u.selectors, sel)
	case redisargs.EqualFold(op, "clearselectors"):
		u.selectors = u.selectors[:1]
	case redisargs.EqualFold(op, "reset"):
		for _, o := range []string{"resetpass", "resetkeys", "resetchannels", "off", "sanitize-payload", "clearselectors", "-@all"} {
			_ = u.setOp(o)
		}
	default:
		return u.selectors[0].setOp(op)
	}
	return nil
}

// setOp applies one selector rule (ACLSetSelector). Unlike a user rule, an
// empty selector rule (from "(\"\")") is a syntax error.
func (s *aclSelector) setOp(op string) error {
	if op == "" {
		return aclErrSyntax
	}
	switch {
	case redisargs.EqualFold(op, "allkeys"), redisargs.EqualFold(op, "~*"):
		s.allKeys = true
		s.keys = nil
	case redisargs.EqualFold(op, "resetkeys"):
		s.allKeys = false
		s.keys = nil
	case redisargs.EqualFold(op, "allchannels"), redisargs.EqualFold(op, "&*"):
		s.allChannels = true
		s.channels = nil
	case redisargs.EqualFold(op, "resetchannels"):
		s.allChannels = false
		s.channels = nil
	case redisargs.EqualFold(op, "allcommands"), redisargs.EqualFold(op, "+@all"):
		for i := range s.allowed {
			s.allowed[i] = true
		}
		s.allCommands = true
		s.firstArgs = nil
		s.cmdRules = nil
	case redisargs.EqualFold(op, "nocommands"), redisargs.EqualFold(op, "-@all"):
		for i := range s.allowed {
			s.allowed[i] = false
		}
		s.allCommands = false
		s.firstArgs = nil
		s.cmdRules = nil
	case op[0] == '~' || op[0] == '%':
		return s.addKeyPattern(op)
	case op[0] == '&':
		if s.allChannels {
			return aclErrChanStar
		}
		if hasSpaces(op[1:]) {
			return aclErrSyntax
		}
		if !slices.Contains(s.channels, op[1:]) {
			s.channels = append(s.channels, op[1:])
		}
		s.allChannels = false
	case op[0] == '+' && at(op, 1) != '@':
		return s.allowCommand(op[1:])
	case op[0] == '-' && at(op, 1) != '@':
		cmd := s.tbl.lookupFullName(op[1:])
		if cmd == nil {
			return aclErrNoEntry
		}
		s.changePerm(cmd, false)
		s.keepCommandRule("-", cmd.name)
	case (op[0] == '+' || op[0] == '-') && at(op, 1) == '@':
		flag := categoryFlag(op[2:])
		if flag == 0 {
			return aclErrNoEntry
		}
		s.setCategory(flag, op[0] == '+')
		s.keepCommandRule(op[:1], op[1:])
	default:
		return aclErrSyntax
	}
	return nil
}

func (s *aclSelector) addKeyPattern(op string) error {
	if s.allKeys {
		return aclErrKeyStar
	}
	flags, offset := 0, 1
	if op[0] == '%' {
		for ; offset < len(op); offset++ {
			switch {
			case redisargs.Upper(op[offset:offset+1]) == "R" && flags&keyRead == 0:
				flags |= keyRead
			case redisargs.Upper(op[offset:offset+1]) == "W" && flags&keyWrite == 0:
				flags |= keyWrite
			case op[offset] == '~':
				offset++
				goto done
			default:
				return aclErrSyntax
			}
		}
	done:
		if flags == 0 {
			// The packaged 7.0.15 refuses a bare "%" (its source would
			// store a pattern without permissions).
			return aclErrSyntax
		}
	} else {
		flags = keyAll
	}
	pat := op[offset:]
	if hasSpaces(pat) {
		return aclErrSyntax
	}
	if i := slices.IndexFunc(s.keys, func(k keyPattern) bool { return k.pattern == pat }); i >= 0 {
		s.keys[i].flags |= flags
	} else {
		s.keys = append(s.keys, keyPattern{pattern: pat, flags: flags})
	}
	s.allKeys = false
	return nil
}

// allowCommand handles "+cmd", "+container|sub" and "+cmd|firstarg".
func (s *aclSelector) allowCommand(name string) error {
	bar := strings.LastIndexByte(name, '|')
	if bar < 0 {
		cmd := s.tbl.lookupFullName(name)
		if cmd == nil {
			return aclErrNoEntry
		}
		s.changePerm(cmd, true)
		s.keepCommandRule("+", cmd.name)
		return nil
	}
	cmd := s.tbl.lookupFullName(name[:bar])
	if cmd == nil {
		return aclErrNoEntry
	}
	if cmd.parent != nil {
		return aclErrSubFirst
	}
	sub := name[bar+1:]
	if sub == "" || strings.IndexByte(sub, 0) == 0 {
		return aclErrSyntax
	}
	if cmd.subs != nil {
		full := s.tbl.lookupFullName(name)
		if full == nil {
			return aclErrNoEntry
		}
		s.changePerm(full, true)
	} else if !slices.ContainsFunc(s.firstArgs[cmd.id], func(a string) bool { return redisargs.EqualFold(a, sub) }) {
		// "+cmd|arg": allow the command only with that first argument (a
		// deprecated 7.0 feature kept for compatibility).
		if s.firstArgs == nil {
			s.firstArgs = map[int][]string{}
		}
		s.firstArgs[cmd.id] = append(s.firstArgs[cmd.id], cstr(sub))
	}
	// Kept as typed, not as the table spells it (ACLSetSelector passes
	// op+1), even when the first argument was allowed already.
	s.keepCommandRule("+", cstr(name))
	return nil
}

// keepCommandRule records a command or category rule that was applied
// (ACLUpdateCommandRules): lower-cased, it replaces an earlier rule for the
// same name and any rule for one of its subcommands or first arguments
// ("+client" drops "-client|setname"), and goes last. The rule is kept in
// every profile; the 8.0 profile describes it (commandRules).
func (s *aclSelector) keepCommandRule(sign, name string) {
	name = redisargs.Lower(name)
	s.cmdRules = slices.DeleteFunc(s.cmdRules, func(r string) bool {
		r = r[1:]
		return r == name || (len(r) > len(name) && r[len(name)] == '|' && r[:len(name)] == name)
	})
	s.cmdRules = append(s.cmdRules, sign+name)
}
