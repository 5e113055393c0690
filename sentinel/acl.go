package sentinel

import (
	"fmt"
	"slices"
	"strings"
)

// User flags, in the order ACL LIST and ACL GETUSER show them.
const (
	userOn = 1 << iota
	userOff
	userNopass
	userSkipSanitize
	userSanitize
)

var userFlagNames = []struct {
	name string
	flag int
}{
	{"on", userOn}, {"off", userOff}, {"nopass", userNopass},
	{"skip-sanitize-payload", userSkipSanitize}, {"sanitize-payload", userSanitize},
}

// Key pattern permissions (%R~, %W~, ~).
const (
	keyRead  = 1
	keyWrite = 2
	keyAll   = keyRead | keyWrite
)

type keyPattern struct {
	pattern string
	flags   int
}

// aclSelector is a set of permissions: the root one of a user, or an
// additional "(...)" selector. allowed has one entry per command of the
// table plus a last one for "future commands" (set only by +@all), which
// decides whether a description starts with +@all or -@all.
type aclSelector struct {
	// tbl is the command table allowed indexes (the server's profile).
	tbl         *commandTable
	root        bool
	allKeys     bool
	allChannels bool
	allCommands bool
	allowed     []bool
	firstArgs   map[int][]string
	// cmdRules are the command and category rules as given, each as its
	// last occurrence ("+ping", "-@read", "+client|setname"), lower-case:
	// the 8.0 profile's description (keepCommandRule).
	cmdRules []string
	keys     []keyPattern
	channels []string
}

// aclUser is an ACL user. Users are shared by the clients authenticated
// with them; all access happens under Server.mu.
type aclUser struct {
	tbl       *commandTable
	name      string
	flags     int
	passwords []string // SHA-256 hex, in insertion order
	selectors []*aclSelector
}

// aclError is a failed ACL rule, rendered by ACLSetUserStringError.
type aclError string

const (
	aclErrNoEntry  aclError = "Unknown command or category name in ACL"
	aclErrSyntax   aclError = "Syntax error"
	aclErrKeyStar  aclError = "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns"
	aclErrChanStar aclError = "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels"
	aclErrNoPass   aclError = "The password you are trying to remove from the user does not exist"
	aclErrBadHash  aclError = "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters"
	aclErrDupUser  aclError = "Duplicate user found. A user can only be defined once in config files"
	aclErrSubFirst aclError = "Allowing first-arg of a subcommand is not supported"
)

func (e aclError) Error() string { return string(e) }

func newSelector(tbl *commandTable, root bool) *aclSelector {
	// acl-pubsub-default is resetchannels in 7.0: no channel permission.
	return &aclSelector{tbl: tbl, root: root, allowed: make([]bool, len(tbl.all)+1)}
}

func (s *aclSelector) futureBit() int { return len(s.tbl.all) }

func (s *aclSelector) clone() *aclSelector {
	n := *s
	n.allowed = slices.Clone(s.allowed)
	n.keys = slices.Clone(s.keys)
	n.channels = slices.Clone(s.channels)
	n.cmdRules = slices.Clone(s.cmdRules)
	n.firstArgs = nil
	for id, args := range s.firstArgs {
		if n.firstArgs == nil {
			n.firstArgs = map[int][]string{}
		}
		n.firstArgs[id] = slices.Clone(args)
	}
	return &n
}

func newUser(tbl *commandTable, name string) *aclUser {
	flags := userOff
	if tbl.profile.NewUserSanitizes() {
		flags |= userSanitize
	}
	return &aclUser{tbl: tbl, name: name, flags: flags, selectors: []*aclSelector{newSelector(tbl, true)}}
}

func (u *aclUser) clone() *aclUser {
	n := &aclUser{tbl: u.tbl, name: u.name, flags: u.flags, passwords: slices.Clone(u.passwords)}
	for _, s := range u.selectors {
		n.selectors = append(n.selectors, s.clone())
	}
	return n
}

// copyFrom replaces u's rules with src's, keeping the name (ACLCopyUser):
// clients holding u see the change.
func (u *aclUser) copyFrom(src *aclUser) {
	c := src.clone()
	u.flags, u.passwords, u.selectors = c.flags, c.passwords, c.selectors
}

// hasSpaces reports whether s contains isspace() characters or NUL.
func hasSpaces(s string) bool {
	for i := 0; i < len(s); i++ {
		if isCSpace(s[i]) || s[i] == 0 {
			return true
		}
	}
	return false
}

// setBit is ACLSetSelectorCommandBit: clearing any bit drops allcommands.
func (s *aclSelector) setBit(id int, v bool) {
	s.allowed[id] = v
	if !v {
		s.allCommands = false
	}
}

// changePerm allows or denies a command and, for a container, all of its
// subcommands (ACLChangeSelectorPerm).
func (s *aclSelector) changePerm(cmd *command, allow bool) {
	s.setBit(cmd.id, allow)
	delete(s.firstArgs, cmd.id)
	for _, sub := range cmd.subs {
		s.setBit(sub.id, allow)
	}
}

// setCategory applies +@cat/-@cat to every command and subcommand flagged
// with the category, in table order.
func (s *aclSelector) setCategory(flag uint64, allow bool) {
	var walk func([]*command)
	walk = func(cmds []*command) {
		for _, cmd := range cmds {
			if cmd.cats&flag != 0 {
				s.changePerm(cmd, allow)
			}
			walk(cmd.subs)
		}
	}
	walk(s.tbl.top)
}

func (s *aclSelector) countCategory(flag uint64) (on, off int) {
	for _, cmd := range s.tbl.all {
		if cmd.cats&flag == 0 {
			continue
		}
		if s.allowed[cmd.id] {
			on++
		} else {
			off++
		}
	}
	return on, off
}

// String is for debugging.
func (u *aclUser) String() string {
	return fmt.Sprintf("user %s %s", u.name, strings.Join(u.describe(), " "))
}
