package sentinel

import (
	"fmt"
	"os"
	"strings"

	"github.com/x0tta6bl4/gosentinel/internal/aclsyntax"
	"github.com/x0tta6bl4/gosentinel/internal/atomicfile"
	"github.com/x0tta6bl4/gosentinel/internal/strerror"
)

// The aclfile directive, ACL LOAD and ACL SAVE, as redis 7.0's acl.c
// (ACLLoadFromFile, ACLSaveToFile, ACLLoadUsersAtStartup): the users live
// in their own file instead of `user` lines of the config.

// errACLFileAndUsers is ACLLoadUsersAtStartup's refusal of both at once.
const errACLFileAndUsers = "Configuring Redis with users defined in redis.conf and at the same setting an ACL file path is invalid. This setup is very likely to lead to configuration errors and security holes, please define either an ACL file or declare users directly in your redis.conf, but not both."

// errNoACLFile is the reply to ACL LOAD and SAVE without an aclfile.
const errNoACLFile = "This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration."

// errACLSave is the reply when ACL SAVE could not write the file (the
// reason goes to the log).
const errACLSave = "There was an error trying to save the ACLs. Please check the server logs for more information"

// parseACLFile reads the ACL file at path as ACLLoadFromFile does: every
// non-blank line is `user <name> <rules...>` split on single spaces; all
// errors are collected, and with any nothing is returned. The users come
// back in a new set built on tbl (a "default" line included; the caller
// keeps its default user object and copies the rules in). errs is redis'
// one-line description of every problem.
func parseACLFile(tbl *commandTable, path string) (users map[string]*aclUser, errs string) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Sprintf("Error loading ACLs, opening file '%s': %s", path, strerror.Of(err))
	}
	return parseACLText(tbl, path, data)
}

// parseACLText is parseACLFile's parse of the file's content; path names
// the file in the errors.
func parseACLText(tbl *commandTable, path string, data []byte) (users map[string]*aclUser, errs string) {
	users = map[string]*aclUser{}
	var b strings.Builder
	for i, line := range strings.Split(string(data), "\n") {
		num := i + 1
		line = strings.Trim(line, " \t\r\n")
		if line == "" {
			continue
		}
		argv := strings.Split(line, " ")
		if argv[0] != "user" || len(argv) < 2 {
			fmt.Fprintf(&b, "%s:%d should start with user keyword followed by the username. ", path, num)
			continue
		}
		name := argv[1]
		if hasSpaces(name) {
			fmt.Fprintf(&b, "'%s:%d: username '%s' contains invalid characters. ", path, num, name)
			continue
		}
		if users[name] != nil {
			fmt.Fprintf(&b, "WARNING: Duplicate user '%s' found on line %d. ", name, num)
			continue
		}
		u := newUser(tbl, name)
		users[name] = u
		merged, bad := aclsyntax.MergeSelectorArgs(argv[2:])
		if merged == nil && bad >= 0 {
			fmt.Fprintf(&b, "%s:%d: Unmatched parenthesis in selector definition.", path, num)
		}
		syntaxErr := false
		for _, op := range merged {
			op = strings.Trim(op, "\t\r\n")
			err := u.setOp(op)
			switch {
			case err == nil:
			case err == aclErrNoEntry:
				// Unknown commands are named: no secret is in them.
				fmt.Fprintf(&b, "%s:%d: Error in applying operation '%s': %s. ", path, num, op, err)
			case !syntaxErr:
				// Only the first other error: it may affect the rest.
				fmt.Fprintf(&b, "%s:%d: %s. ", path, num, err)
				syntaxErr = true
			}
		}
	}
	if b.Len() > 0 {
		b.WriteString("WARNING: ACL errors detected, no change to the previously active ACL rules was performed")
		return nil, b.String()
	}
	return users, ""
}

// installUsers replaces the user set with users (from parseACLFile): the
// default user keeps its identity and takes the file's rules (redis'
// defaults when the file has no default line); every client authenticated
// as another user is disconnected, as ACLFreeUserAndKillClients does for
// the old set, c (the client running ACL LOAD, or nil) after its reply.
// It returns the clients to kill once Server.mu is released. Requires
// Server.mu.
func (s *Server) installUsersLocked(c *client, users map[string]*aclUser) []*client {
	def := users["default"]
	if def == nil {
		def = newACLState(s.tbl).defaultUser
	}
	s.acl.defaultUser.copyFrom(def)
	users["default"] = s.acl.defaultUser
	s.acl.users = users
	var victims []*client
	for _, other := range s.clients {
		if other.user == s.acl.defaultUser {
			continue
		}
		if other == c {
			c.user, c.authenticated = s.acl.defaultUser, false
			c.closeAfterReply = true
			continue
		}
		other.user, other.authenticated = s.acl.defaultUser, false
		s.unlistKilledLocked(other)
		victims = append(victims, other)
	}
	return victims
}

// aclFileText is ACLSaveToFile's content: a `user` line per user, in ACL
// LIST order. Requires Server.mu.
func (s *Server) aclFileTextLocked() []byte {
	var b strings.Builder
	for _, u := range s.acl.sortedUsers() {
		b.WriteString("user " + u.name + " " + strings.Join(u.describe(), " ") + "\n")
	}
	return []byte(b.String())
}

// aclLoad answers ACL LOAD.
func aclLoad(c *client) {
	s := c.srv
	users, errs := parseACLFile(s.tbl, s.cfg.ACLFile)
	if errs != "" {
		c.addErr(sanitizeLine(errs))
		return
	}
	s.mu.Lock()
	victims := s.installUsersLocked(c, users)
	s.mu.Unlock()
	for _, v := range victims {
		v.kill()
	}
	c.addOK()
}

// aclSave answers ACL SAVE. The file is replaced atomically and durably,
// keeping its permission bits (a new one is 0600: it holds password
// hashes).
func aclSave(c *client) {
	s := c.srv
	s.mu.Lock()
	text := s.aclFileTextLocked()
	s.mu.Unlock()
	if err := atomicfile.WriteKeepMode(s.cfg.ACLFile, text); err != nil {
		s.log.Warn("Writing ACL file for ACL SAVE: " + err.Error())
		c.addErr(errACLSave)
		return
	}
	c.addOK()
}
