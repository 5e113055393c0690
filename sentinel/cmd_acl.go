package sentinel

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/x0tta6bl4/gosentinel/internal/redisargs"
)

// ACL <subcommand> ...
func cmdACL(c *client, argv []string) {
	s := c.srv
	sub := argv[1]
	n := len(argv)
	switch {
	case redisargs.EqualFold(sub, "setuser") && n >= 3:
		aclSetUser(c, argv)
	case redisargs.EqualFold(sub, "deluser") && n >= 3:
		aclDelUser(c, argv)
	case redisargs.EqualFold(sub, "getuser") && n == 3:
		aclGetUser(c, argv[2])
	case (redisargs.EqualFold(sub, "list") || redisargs.EqualFold(sub, "users")) && n == 2:
		s.mu.Lock()
		users := s.acl.sortedUsers()
		lines := make([]string, len(users))
		for i, u := range users {
			if redisargs.EqualFold(sub, "users") {
				lines[i] = u.name
			} else {
				lines[i] = "user " + u.name + " " + strings.Join(u.describe(), " ")
			}
		}
		s.mu.Unlock()
		c.addArrayLen(len(lines))
		for _, l := range lines {
			c.addBulk(l)
		}
	case redisargs.EqualFold(sub, "whoami") && n == 2:
		// Under Server.mu: ACL LOAD and DELUSER switch other clients'
		// users.
		s.mu.Lock()
		name := c.user.name
		s.mu.Unlock()
		c.addBulk(name)
	case c.srv.cfg.ACLFile == "" && (redisargs.EqualFold(sub, "load") || redisargs.EqualFold(sub, "save")):
		c.addErr(errNoACLFile)
	case redisargs.EqualFold(sub, "load") && n == 2:
		aclLoad(c)
	case redisargs.EqualFold(sub, "save") && n == 2:
		aclSave(c)
	case redisargs.EqualFold(sub, "cat") && n == 2:
		c.addArrayLen(len(aclCategoryNames))
		for _, name := range aclCategoryNames {
			c.addBulk(name)
		}
	case redisargs.EqualFold(sub, "cat") && n == 3:
		flag := categoryFlag(argv[2])
		if flag == 0 {
			c.addErr(sanitizeLine(fmt.Sprintf("Unknown category '%s'", truncate(cstr(argv[2]), 128))))
			return
		}
		var names []string
		for _, cmd := range c.srv.tbl.all {
			if cmd.cats&flag != 0 {
				names = append(names, cmd.name)
			}
		}
		c.addArrayLen(len(names))
		for _, name := range names {
			c.addBulk(name)
		}
	case redisargs.EqualFold(sub, "genpass") && (n == 2 || n == 3):
		aclGenPass(c, argv)
	case redisargs.EqualFold(sub, "log") && (n == 2 || n == 3):
		aclLog(c, argv)
	case redisargs.EqualFold(sub, "dryrun") && n >= 4:
		aclDryRun(c, argv)
	case n == 2 && redisargs.EqualFold(sub, "help"):
		c.addRaw(c.srv.tbl.help["acl"])
	default:
		c.addError(errSubcommandSyntax(argv))
	}
}

func aclSetUser(c *client, argv []string) {
	s := c.srv
	name := argv[2]
	if hasSpaces(name) {
		c.addErr("Usernames can't contain spaces or null characters")
		return
	}
	s.mu.Lock()
	prev, u, errText := s.acl.setUser(name, argv[3:])
	if errText == "" && prev != nil {
		s.killPubsubClientsIfNeeded(u, prev)
	}
	s.mu.Unlock()
	if errText != "" {
		c.addErr(sanitizeLine(errText))
		return
	}
	c.addOK()
}

func aclDelUser(c *client, argv []string) {
	s := c.srv
	for _, name := range argv[2:] {
		if name == "default" {
			c.addErr("The 'default' user cannot be removed")
			return
		}
	}
	deleted := 0
	s.mu.Lock()
	var victims []*client
	for _, name := range argv[2:] {
		u := s.acl.users[name]
		if u == nil {
			continue
		}
		delete(s.acl.users, name)
		deleted++
		for _, other := range s.clients {
			if other.user != u {
				continue
			}
			if other == c {
				// The reply is still sent, then the connection closes.
				c.user, c.authenticated = s.acl.defaultUser, false
				c.closeAfterReply = true
			} else {
				s.unlistKilledLocked(other)
				victims = append(victims, other)
			}
		}
	}
	s.mu.Unlock()
	for _, v := range victims {
		v.kill()
	}
	c.addInt(int64(deleted))
}

func aclGetUser(c *client, name string) {
	s := c.srv
	s.mu.Lock()
	u := s.acl.users[name]
	if u == nil {
		s.mu.Unlock()
		c.addNull()
		return
	}
	var flags []string
	for _, f := range userFlagNames {
		if u.flags&f.flag != 0 {
			flags = append(flags, f.name)
		}
	}
	passwords := append([]string(nil), u.passwords...)
	type selDesc struct{ commands, keys, channels string }
	describe := func(sel *aclSelector) selDesc {
		d := selDesc{commands: strings.Join(sel.commandRules(), " ")}
		d.keys = strings.Join(sel.keyTokens(), " ")
		if sel.allChannels {
			d.channels = "&*"
		} else {
			var chans []string
			for _, ch := range sel.channels {
				chans = append(chans, "&"+ch)
			}
			d.channels = strings.Join(chans, " ")
		}
		return d
	}
	root := describe(u.selectors[0])
	var extra []selDesc
	for _, sel := range u.selectors[1:] {
		extra = append(extra, describe(sel))
	}
	s.mu.Unlock()

	c.addMapLen(6)
	c.addBulk("flags")
	c.addSetLen(len(flags))
	for _, f := range flags {
		c.addBulk(f)
	}
	c.addBulk("passwords")
	c.addArrayLen(len(passwords))
	for _, p := range passwords {
		c.addBulk(p)
	}
	addSel := func(d selDesc) {
		c.addBulk("commands")
		c.addBulk(d.commands)
		c.addBulk("keys")
		c.addBulk(d.keys)
		c.addBulk("channels")
		c.addBulk(d.channels)
	}
	addSel(root)
	c.addBulk("selectors")
	c.addArrayLen(len(extra))
	for _, d := range extra {
		c.addMapLen(3)
		addSel(d)
	}
}

func aclGenPass(c *client, argv []string) {
	bits := int64(256)
	if len(argv) == 3 {
		v, ok := string2ll(argv[2])
		if !ok {
			c.addError(errNotInteger)
			return
		}
		bits = v
	}
	if bits <= 0 || bits > 4096 {
		c.addErr("ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096")
		return
	}
	chars := (bits + 3) / 4
	raw := make([]byte, (chars+1)/2)
	if _, err := rand.Read(raw); err != nil {
		c.addErr("failed to generate random bytes")
		return
	}
	c.addBulk(hex.EncodeToString(raw)[:chars])
}

func aclLog(c *client, argv []string) {
	s := c.srv
	count := int64(10)
	if len(argv) == 3 {
		if redisargs.EqualFold(argv[2], "reset") {
			s.mu.Lock()
			s.acl.log = nil
			s.mu.Unlock()
			c.addOK()
			return
		}
		v, ok := string2ll(argv[2])
		if !ok {
			c.addError(errNotInteger)
			return
		}
		count = max(v, 0)
	}
	s.mu.Lock()
	entries := make([]aclLogEntry, 0, min(count, int64(len(s.acl.log))))
	for i := 0; i < len(s.acl.log) && int64(i) < count; i++ {
		entries = append(entries, *s.acl.log[i])
	}
	s.mu.Unlock()
	now := time.Now()
	c.addArrayLen(len(entries))
	stamps := c.srv.cfg.Compat.ACLLogTimestamps()
	for _, e := range entries {
		if stamps {
			c.addMapLen(10)
		} else {
			c.addMapLen(7)
		}
		c.addBulk("count")
		c.addInt(e.count)
		c.addBulk("reason")
		c.addBulk(e.reason.logReason())
		c.addBulk("context")
		c.addBulk("toplevel")
		c.addBulk("object")
		c.addBulk(e.object)
		c.addBulk("username")
		c.addBulk(e.username)
		c.addBulk("age-seconds")
		c.addDouble(float64(now.UnixMilli()-e.ctime.UnixMilli()) / 1000)
		c.addBulk("client-info")
		c.addBulk(e.cinfo)
		if stamps {
			c.addBulk("entry-id")
			c.addInt(e.id)
			c.addBulk("timestamp-created")
			c.addInt(e.created.UnixMilli())
			c.addBulk("timestamp-last-updated")
			c.addInt(e.ctime.UnixMilli())
		}
	}
}

func aclDryRun(c *client, argv []string) {
	s := c.srv
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.acl.users[argv[2]]
	if u == nil {
		c.addErr(sanitizeLine(fmt.Sprintf("User '%s' not found", cstr(argv[2]))))
		return
	}
	args := argv[3:]
	cmd := c.srv.lookupArgv(args)
	if cmd == nil {
		c.addErr(sanitizeLine(fmt.Sprintf("Command '%s' not found", cstr(args[0]))))
		return
	}
	if !cmd.arityOK(len(args)) {
		c.addError(errArity(cmd))
		return
	}
	res, idx := u.checkCommand(cmd, args)
	who := "This user" // getAclErrorMessage, verbose
	if c.srv.cfg.Compat.ACLErrorsNameUser() {
		who = "User " + u.name
	}
	switch res {
	case aclOK:
		c.addOK()
	case aclDeniedCmd:
		c.addBulk(fmt.Sprintf("%s has no permissions to run the '%s' command", who, cmd.name))
	case aclDeniedChannel:
		c.addBulk(fmt.Sprintf("%s has no permissions to access the '%s' channel", who, cstr(args[idx])))
	default:
		c.addBulk(fmt.Sprintf("%s has no permissions to access the '%s' key", who, cstr(args[idx])))
	}
}
