package sentinel

import (
	"math"
	"slices"
	"strings"
)

// commandRules describes the selector's command permissions
// (ACLDescribeSelectorCommandRules). Both versions start from +@all or
// -@all, as the selector can run future commands or not. 7.2 and later (the
// 8.0 profile) then list the rules as they were kept (keepCommandRule);
// 7.0 rebuilds them from the permissions: it greedily adds the categories
// that fit best, then fixes single commands.
func (s *aclSelector) commandRules() []string {
	additive := !s.allowed[s.futureBit()]
	if s.tbl.profile.ACLKeepsCommandRules() {
		start := "+@all"
		if additive {
			start = "-@all"
		}
		return append([]string{start}, s.cmdRules...)
	}
	fake := newSelector(s.tbl, false)
	var rules []string
	if additive {
		rules = append(rules, "-@all")
		_ = fake.setOp("-@all")
	} else {
		rules = append(rules, "+@all")
		_ = fake.setOp("+@all")
	}
	temp := &aclSelector{tbl: s.tbl, allowed: slices.Clone(s.allowed)}
	applied := make([]bool, len(aclCategoryNames))
	for {
		best, mindiff, maxsame := -1, math.MaxInt, 0
		for j := range aclCategoryNames {
			if applied[j] {
				continue
			}
			on, off := temp.countCategory(1 << j)
			diff, same := off, on
			if !additive {
				diff, same = on, off
			}
			if same > diff && (diff < mindiff || (diff == mindiff && same > maxsame)) {
				best, mindiff, maxsame = j, diff, same
			}
		}
		if best < 0 {
			break
		}
		sign, inv := "+@", "-@"
		if !additive {
			sign, inv = "-@", "+@"
		}
		fake.setCategory(1<<best, sign == "+@")
		temp.setCategory(1<<best, inv == "+@")
		rules = append(rules, sign+aclCategoryNames[best])
		applied[best] = true
	}
	return s.singleCommandRules(fake, rules, s.tbl.top)
}

func (s *aclSelector) singleCommandRules(fake *aclSelector, rules []string, cmds []*command) []string {
	for _, cmd := range cmds {
		userBit, fakeBit := s.allowed[cmd.id], fake.allowed[cmd.id]
		if userBit != fakeBit {
			if userBit {
				rules = append(rules, "+"+cmd.name)
			} else {
				rules = append(rules, "-"+cmd.name)
			}
			fake.changePerm(cmd, userBit)
		}
		if cmd.subs != nil {
			rules = s.singleCommandRules(fake, rules, cmd.subs)
		}
		if !userBit {
			for _, a := range s.firstArgs[cmd.id] {
				rules = append(rules, "+"+cmd.name+"|"+a)
			}
		}
	}
	return rules
}

// keyTokens renders the key patterns (ACLDescribeSelector).
func (s *aclSelector) keyTokens() []string {
	if s.allKeys {
		return []string{"~*"}
	}
	out := make([]string, 0, len(s.keys))
	for _, k := range s.keys {
		out = append(out, k.String())
	}
	return out
}

func (k keyPattern) String() string {
	switch k.flags {
	case keyRead:
		return "%R~" + k.pattern
	case keyWrite:
		return "%W~" + k.pattern
	case keyAll:
		return "~" + k.pattern
	}
	return "%~" + k.pattern // unreachable: patterns always have a permission
}

// describe renders a selector as rules (keys, channels, commands).
func (s *aclSelector) describe() []string {
	out := s.keyTokens()
	if s.allChannels {
		out = append(out, "&*")
	} else {
		out = append(out, "resetchannels")
		for _, ch := range s.channels {
			out = append(out, "&"+ch)
		}
	}
	return append(out, s.commandRules()...)
}

// describe renders the user as the rules after its name (ACLDescribeUser).
func (u *aclUser) describe() []string {
	var out []string
	for _, f := range userFlagNames {
		if u.flags&f.flag != 0 {
			out = append(out, f.name)
		}
	}
	for _, p := range u.passwords {
		out = append(out, "#"+p)
	}
	for i, s := range u.selectors {
		if i == 0 {
			out = append(out, s.describe()...)
		} else {
			out = append(out, "("+strings.Join(s.describe(), " ")+")")
		}
	}
	return out
}
