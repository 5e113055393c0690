package sentinel

import (
	"slices"

	"github.com/x0tta6bl4/gosentinel/internal/aclsyntax"
	"github.com/x0tta6bl4/gosentinel/internal/redisargs"
)

// ACL check results (ACL_OK, ACL_DENIED_*), ordered by relevance.
type aclResult int

const (
	aclOK aclResult = iota
	aclDeniedCmd
	aclDeniedKey
	aclDeniedAuth
	aclDeniedChannel
)

// checkCommand is ACLCheckAllUserCommandPerm: the command is allowed if
// any selector allows it; otherwise the most relevant denial is returned
// with the position of the offending argument.
func (u *aclUser) checkCommand(cmd *command, argv []string) (aclResult, int) {
	relevant, lastIdx := aclDeniedCmd, 0
	for _, s := range u.selectors {
		res, idx := s.checkCommand(cmd, argv)
		if res == aclOK {
			return aclOK, 0
		}
		if res > relevant || (res == relevant && idx > lastIdx) {
			relevant, lastIdx = res, idx
		}
	}
	return relevant, lastIdx
}

func (s *aclSelector) checkCommand(cmd *command, argv []string) (aclResult, int) {
	if !s.allCommands && !cmd.noAuth && !s.allowed[cmd.id] {
		first := s.firstArgs[cmd.id]
		if len(argv) < 2 || first == nil {
			return aclDeniedCmd, 0
		}
		idx := 1
		if cmd.parent != nil {
			idx = 2
		}
		if idx >= len(argv) || !slices.ContainsFunc(first, func(a string) bool { return redisargs.EqualFold(argv[idx], a) }) {
			return aclDeniedCmd, 0
		}
	}
	if s.allChannels || cmd.channels == channelsNone {
		return aclOK, 0
	}
	from, to := 1, len(argv)
	if cmd.channels == channelsPublish {
		to = 2
	}
	for i := from; i < to; i++ {
		if !s.channelAllowed(argv[i], cmd.channels == channelsPattern) {
			return aclDeniedChannel, i
		}
	}
	return aclOK, 0
}

// channelAllowed matches a channel against the allowed channel patterns; a
// PSUBSCRIBE pattern must equal an allowed pattern literally.
func (s *aclSelector) channelAllowed(ch string, isPattern bool) bool {
	for _, p := range s.channels {
		if isPattern {
			if cstr(p) == cstr(ch) {
				return true
			}
		} else if globMatch(p, ch, false) {
			return true
		}
	}
	return false
}

// channelsAllowAll reports whether u may use any channel (some selector
// has allchannels).
func (u *aclUser) channelsAllowAll() bool {
	for _, s := range u.selectors {
		if s.allChannels {
			return true
		}
	}
	return false
}

// allChannelPatterns lists the channel patterns of every selector.
func (u *aclUser) allChannelPatterns() []string {
	var out []string
	for _, s := range u.selectors {
		out = append(out, s.channels...)
	}
	return out
}

// credentialsOK is ACLCheckUserCredentials.
func (u *aclUser) credentialsOK(password string) bool {
	if u.flags&userOff != 0 {
		return false
	}
	if u.flags&userNopass != 0 {
		return true
	}
	h := aclsyntax.HashPassword(password)
	return slices.Contains(u.passwords, h)
}
