package sentinel

import (
	"fmt"

	"github.com/x0tta6bl4/gosentinel/internal/redisargs"
)

const errWrongPass = "WRONGPASS invalid username-password pair or user is disabled."

// AUTH [username] password
func cmdAuth(c *client, argv []string) {
	if len(argv) > 3 {
		c.addError(errSyntax)
		return
	}
	s := c.srv
	username, password := "default", ""
	if len(argv) == 2 {
		s.mu.Lock()
		nopass := s.acl.defaultUser.flags&userNopass != 0
		s.mu.Unlock()
		if nopass {
			c.addErr("AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?")
			return
		}
		password = argv[1]
	} else {
		username, password = argv[1], argv[2]
	}
	if c.authenticate(argv[0], username, password) {
		c.addOK()
	} else {
		c.addError(errWrongPass)
	}
}

// authenticate is ACLAuthenticateUser: on success the client switches to
// the user, on failure the attempt is logged (object = the command name
// as typed).
func (c *client) authenticate(cmdName, username, password string) bool {
	s := c.srv
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.acl.users[username]
	if u != nil && u.credentialsOK(password) {
		c.authenticated = true
		c.user = u
		return true
	}
	s.acl.addLog(c, aclDeniedAuth, cmdName, username)
	return false
}

// HELLO [protover [AUTH username password] [SETNAME clientname]]
func cmdHello(c *client, argv []string) {
	var ver int64
	next := 1
	if len(argv) >= 2 {
		v, ok := string2ll(argv[1])
		if !ok {
			c.addErr("Protocol version is not an integer or out of range")
			return
		}
		ver = v
		next++
		if ver < 2 || ver > 3 {
			c.addError("NOPROTO unsupported protocol version")
			return
		}
	}
	for j := next; j < len(argv); j++ {
		more := len(argv) - 1 - j
		opt := argv[j]
		switch {
		case redisargs.EqualFold(opt, "AUTH") && more >= 2:
			if !c.authenticate(argv[0], argv[j+1], argv[j+2]) {
				c.addError(errWrongPass)
				return
			}
			j += 2
		case redisargs.EqualFold(opt, "SETNAME") && more >= 1:
			if !c.setName(argv[j+1]) {
				return
			}
			j++
		default:
			c.addErr(sanitizeLine(fmt.Sprintf("Syntax error in HELLO option '%s'", cstr(opt))))
			return
		}
	}
	if !c.authenticated {
		c.addError(errHelloNoAuth[c.srv.cfg.Compat])
		return
	}
	if ver != 0 {
		c.srv.mu.Lock()
		c.resp.Store(int32(ver))
		c.srv.mu.Unlock()
	}
	c.addMapLen(6)
	c.addBulk("server")
	c.addBulk("redis")
	c.addBulk("version")
	c.addBulk(c.srv.cfg.Compat.RedisVersion())
	c.addBulk("proto")
	c.addInt(int64(c.proto()))
	c.addBulk("id")
	c.addInt(int64(c.id))
	c.addBulk("mode")
	c.addBulk("sentinel")
	c.addBulk("modules")
	c.addArrayLen(0)
}
