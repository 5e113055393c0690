package config

import "strings"

// sentinel.conf's `user` lines. config does not model a user: the one ACL
// engine is sentinel's, which knows the command table. Load keeps each line
// as written and where it was read; node has the engine check them at start
// (a line it refuses is reported by UserLineError, in redis' fatal block)
// and, before each rewrite, puts the engine's description of every user in
// Config.Users (what redis' ACLDescribeUser prints), which the rewrite
// writes as given.

// userSource is where a `user` line was read: its number in the loaded text
// and the line as redis echoes it.
type userSource struct {
	line int
	text string
}

// UserLineError returns the fatal config error for the i-th `user` line
// (an index into Users as loaded) with redis' reason, naming the file and
// the line like the loader's own errors.
func (c *Config) UserLineError(i int, reason string) *FatalError {
	e := &FatalError{File: c.Path, Reason: reason}
	if i >= 0 && i < len(c.userSources) {
		e.Line, e.Text = c.userSources[i].line, c.userSources[i].text
	}
	return e
}

// userLine renders one `user` line from its words (name first). redis
// writes them unquoted; we quote a word that would not read back, and write
// a selector "(...)" bare, so that its words split and MergeSelectorArgs
// joins them again, unless a bare one would not read back as the same
// selector: then it is one quoted word.
func userLine(args []string) string {
	parts := make([]string, 0, len(args)+1)
	parts = append(parts, "user")
	for _, a := range args {
		if bareSelector(a) {
			parts = append(parts, a)
		} else {
			parts = append(parts, word(a))
		}
	}
	return strings.Join(parts, " ")
}

// bareSelector reports whether selector a ("(" rules ")") reads back from a
// config line unquoted: its rules are separated by single spaces, and none
// needs quoting or holds a parenthesis.
func bareSelector(a string) bool {
	if len(a) < 2 || a[0] != '(' || a[len(a)-1] != ')' {
		return false
	}
	for _, w := range strings.Split(a[1:len(a)-1], " ") {
		if w == "" || word(w) != w || strings.ContainsAny(w, "()") {
			return false
		}
	}
	return true
}
