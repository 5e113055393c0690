package sentinel

import (
	"fmt"

	"github.com/x0tta6bl4/gosentinel/internal/redisargs"
)

// setinfoOf returns CLIENT SETINFO for a table that does not list it (7.0's;
// 8.0's does, and its entry is used as captured). Redis-sentinel gained it
// in 7.2 and current client libraries send it on every connection. In the
// 7.0 profile it runs as in 7.2 but is deliberately not in the command
// table: COMMAND, COMMAND COUNT/LIST/INFO/DOCS, ACL CAT and CLIENT HELP
// stay those of 7.0.15 (the official Sentinel suite counts them), so only
// lookupRunnable finds it.
// It borrows client|setname's ACL bit and categories (7.2 gives SETINFO
// the same flags and categories as SETNAME): a user allowed +client,
// +@connection or +client|setname may call it, and a denial names
// 'client|setinfo' as 7.2 does. ACL rules cannot name it, as in 7.0.
func setinfoOf(t *commandTable) *command {
	if t.lookupFullName("client|setinfo") != nil {
		return nil
	}
	setname := t.lookupFullName("client|setname")
	cmd := *setname
	cmd.name, cmd.arity, cmd.proc = "client|setinfo", 4, cmdClient
	cmd.info, cmd.docs = [2][]byte{}, [2][]byte{} // not listed by COMMAND
	return &cmd
}

// lookupRunnable is what a request runs: the table's command, CLIENT
// SETINFO, or SENTINEL MAINTENANCE (cmd_sentinel_maintenance.go).
func (t *commandTable) lookupRunnable(argv []string) *command {
	if cmd := t.lookupArgv(argv); cmd != nil || len(argv) < 2 {
		return cmd
	}
	if t.setinfo != nil && redisargs.EqualFold(argv[0], "client") && redisargs.EqualFold(argv[1], "setinfo") {
		return t.setinfo
	}
	if redisargs.EqualFold(argv[0], "sentinel") && redisargs.EqualFold(argv[1], "maintenance") {
		return t.maintenance
	}
	return nil
}

// clientSetinfo is CLIENT SETINFO <LIB-NAME|LIB-VER> <value>, as in redis
// 7.2 (networking.c clientSetinfoCommand); CLIENT LIST / CLIENT INFO show
// the values. The arity is already checked; the option is matched
// case-insensitively and reported as typed; values follow CLIENT SETNAME's
// charset rule and an empty value clears the attribute.
func clientSetinfo(c *client, argv []string) {
	attr, val := argv[2], argv[3]
	var dest *string
	switch {
	case redisargs.EqualFold(attr, "lib-name"):
		dest = &c.libName
	case redisargs.EqualFold(attr, "lib-ver"):
		dest = &c.libVer
	default:
		c.addErr(sanitizeLine(fmt.Sprintf("Unrecognized option '%s'", cstr(attr))))
		return
	}
	if !validClientAttr(val) {
		c.addErr(sanitizeLine(fmt.Sprintf("%s cannot contain spaces, newlines or special characters.", cstr(attr))))
		return
	}
	c.srv.mu.Lock()
	*dest = val
	c.srv.mu.Unlock()
	c.addOK()
}

// validClientAttr is redis' validateClientAttr: printable ASCII without
// spaces, so that CLIENT LIST lines can always be split on spaces.
func validClientAttr(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '!' || s[i] > '~' {
			return false
		}
	}
	return true
}
