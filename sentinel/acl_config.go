package sentinel

import (
	"fmt"
	"slices"

	"github.com/x0tta6bl4/gosentinel/internal/aclsyntax"
	"github.com/x0tta6bl4/gosentinel/internal/compat"
)

// The `user` lines of sentinel.conf, as redis 7.0's acl.c reads them: each
// line is checked while the file is read (ACLAppendUserForLoading: rules on
// a throwaway user, unknown commands tolerated), and the users are built
// after the whole file (ACLLoadConfiguredUsers). This is the only model of
// a user: the config package keeps the lines as written and asks for the
// check through node, and the rewrite writes ACLUserLines.

// UserLineError is a `user` line that redis refuses while reading its
// config file: Reason is the text of redis' fatal config block, Index the
// line's position among the lines checked (the caller knows which line of
// the file that is).
type UserLineError struct {
	Index  int
	Reason string
}

func (e *UserLineError) Error() string { return e.Reason }

// CheckUserLines checks `user` lines (each the words after "user", name
// first) the way redis does while reading its config file, against the
// command table of profile p. It returns a *UserLineError for the first
// line redis would refuse.
func CheckUserLines(p compat.Profile, lines [][]string) error {
	tbl := tableOf(p)
	if tbl == nil {
		return fmt.Errorf("sentinel: unknown compatibility profile %q", p)
	}
	return checkUserLines(tbl, lines)
}

func checkUserLines(tbl *commandTable, lines [][]string) error {
	seen := map[string]bool{}
	for i, line := range lines {
		if reason := checkUserLine(tbl, line, seen); reason != "" {
			return &UserLineError{Index: i, Reason: reason}
		}
	}
	return nil
}

// checkUserLine is ACLAppendUserForLoading for one line; it returns redis'
// error text, or "" and records the name in seen.
func checkUserLine(tbl *commandTable, line []string, seen map[string]bool) string {
	if len(line) == 0 {
		return "user line without a user name" // the config parser never gives one
	}
	// redis' message picks a word of the whole line ("user", name, rules...)
	// by argc_err, which counts the rules: the word named is not the rule
	// that failed. We keep that quirk, since the text is what people see.
	argv := append([]string{"user"}, line...)
	fail := func(idx int, err error) string {
		w := ""
		if idx >= 0 && idx < len(argv) {
			w = argv[idx]
		}
		return "Error in user declaration '" + w + "': " + err.Error()
	}
	if seen[line[0]] {
		return fail(1, aclErrDupUser)
	}
	merged, bad := aclsyntax.MergeSelectorArgs(line[1:])
	if bad >= 0 {
		// errno is still ENOENT from an earlier lookup when redis reports
		// an unclosed selector here.
		return fail(bad, aclErrNoEntry)
	}
	fake := newUser(tbl, line[0])
	for j, op := range merged {
		if err := fake.setOp(op); err != nil && err != aclErrNoEntry {
			return fail(j, err)
		}
	}
	seen[line[0]] = true
	return ""
}

// UserPasswordHashes returns, by user name, the password hashes (SHA-256,
// hex) of every user the `user` lines leave enabled with at least one
// password: what protects the sentinel port besides requirepass. Passwords
// do not depend on the command table; the default profile's is used.
func UserPasswordHashes(lines [][]string) map[string][]string {
	tbl := tableOf(compat.Default)
	out := map[string][]string{}
	for _, line := range lines {
		if len(line) == 0 {
			continue
		}
		merged, bad := aclsyntax.MergeSelectorArgs(line[1:])
		if bad >= 0 {
			continue // refused at load
		}
		u := newUser(tbl, line[0])
		for _, op := range merged {
			_ = u.setOp(op) // refused at load if it fails
		}
		if u.flags&userOn != 0 && u.flags&userNopass == 0 && len(u.passwords) > 0 {
			out[line[0]] = slices.Clone(u.passwords)
		}
	}
	return out
}
