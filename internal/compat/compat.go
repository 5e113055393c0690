// Package compat names the redis-sentinel versions gosentinel can behave
// as. A profile is a choice of captured data (the command tables and HELP
// texts of that version's redis-sentinel, in sentinel/captured/<profile>)
// plus the few behaviours whose replies changed between the versions; the
// code asks the profile one question per behaviour (Profile's methods)
// instead of comparing version strings where it acts.
package compat

import "fmt"

// Profile is a redis-sentinel version to behave as.
type Profile string

const (
	// V70 is redis-sentinel 7.0.15, Debian 12's, byte for byte: the default,
	// because the deployment gosentinel replaces runs it, and every client
	// and script written against it sees no change.
	V70 Profile = "7.0"
	// V80 is redis-sentinel 8.0.2, Debian 13's: COMMAND lists CLIENT
	// SETINFO, SENTINEL CONFIG GET/SET take several parameters and
	// loglevel, INFO reports 8.0.2.
	V80 Profile = "8.0"

	// Default is the profile used when neither the directive nor the
	// environment chooses one.
	Default = V70
)

// Profiles lists every profile, oldest first.
var Profiles = []Profile{V70, V80}

// Parse reads a profile name: "7.0" or "8.0" (a full version of the same
// series, "7.0.15" or "8.0.2", is accepted too).
func Parse(s string) (Profile, error) {
	switch s {
	case "7.0", "7.0.15":
		return V70, nil
	case "8.0", "8.0.2":
		return V80, nil
	}
	return "", fmt.Errorf("compatibility profile must be 7.0 or 8.0, not %q", s)
}

// RedisVersion is the version INFO, HELLO and the metrics report.
func (p Profile) RedisVersion() string {
	if p == V80 {
		return "8.0.2"
	}
	return "7.0.15"
}

// MultiConfig reports whether SENTINEL CONFIG GET and SET take several
// parameters in one call (Redis 7.2 and later).
func (p Profile) MultiConfig() bool { return p == V80 }

// ConfigLoglevel reports whether SENTINEL CONFIG GET/SET know loglevel
// (Redis 7.2 and later).
func (p Profile) ConfigLoglevel() bool { return p == V80 }

// NewUserSanitizes reports whether a new ACL user carries the
// sanitize-payload flag (8.0's ACLCreateUser; 7.0 sets it only on reset).
func (p Profile) NewUserSanitizes() bool { return p == V80 }

// ACLLogTimestamps reports whether ACL LOG entries end with entry-id,
// timestamp-created and timestamp-last-updated (7.2 on).
func (p Profile) ACLLogTimestamps() bool { return p == V80 }

// ClientWatchIOThread reports whether CLIENT LIST/INFO lines carry
// watch= (after multi=) and io-thread= (at the end): 8.0's.
func (p Profile) ClientWatchIOThread() bool { return p == V80 }

// DeferOwnPushes reports whether a pub/sub message reaching a client while
// it runs a command (its own SENTINEL SET's +set, say) follows that
// command's reply instead of preceding it (7.2 on).
func (p Profile) DeferOwnPushes() bool { return p == V80 }

// ACLErrorsNameUser reports whether ACL denials name the user: NOPERM
// "User u has no permissions to run the 'x' command" and "No permissions
// to access a channel", ACL DRYRUN "User u has no permissions to ..."
// (7.2 on; 7.0 says "this user").
func (p Profile) ACLErrorsNameUser() bool { return p == V80 }

// ShortestDoubles reports whether a double reply is the shortest text that
// reads back as the same number (7.2's fpconv_dtoa: 0.605) rather than
// printf's %.17g (0.60499999999999998).
func (p Profile) ShortestDoubles() bool { return p == V80 }

// ClientKillMaxAge reports whether CLIENT KILL takes MAXAGE (7.4 on).
func (p Profile) ClientKillMaxAge() bool { return p == V80 }

// ACLKeepsCommandRules reports whether ACL LIST, ACL GETUSER and the
// rewritten user lines describe a selector's command rules as they were
// given (7.2's selector->command_rules: +@all or -@all, then each rule as
// last given) rather than rebuilt from the permissions (7.0).
func (p Profile) ACLKeepsCommandRules() bool { return p == V80 }

// String is the profile's name.
func (p Profile) String() string { return string(p) }
