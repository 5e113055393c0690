package sentinel

import "github.com/x0tta6bl4/gosentinel/internal/redisargs"

// PING [message]: in RESP2 subscribed mode the reply is ["pong", msg|""].
func cmdPing(c *client, argv []string) {
	if len(argv) > 2 {
		c.addError(errArity(c.curCmd))
		return
	}
	if c.subscriptions() > 0 && c.proto() == 2 {
		c.addArrayLen(2)
		c.addBulk("pong")
		if len(argv) == 1 {
			c.addBulk("")
		} else {
			c.addBulk(argv[1])
		}
		return
	}
	if len(argv) == 1 {
		c.addStatus("PONG")
	} else {
		c.addBulk(argv[1])
	}
}

// ROLE: ["sentinel", [master names]].
func cmdRole(c *client, argv []string) {
	names := c.srv.cfg.Backend.MasterNames()
	c.addArrayLen(2)
	c.addBulk("sentinel")
	c.addArrayLen(len(names))
	for _, n := range names {
		c.addBulk(n)
	}
}

// SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]: sentinel never saves; the
// node exits (Config.OnShutdown) and the connection closes without reply.
func cmdShutdown(c *client, argv []string) {
	var nosave, save, abort, other bool
	for _, a := range argv[1:] {
		switch {
		case redisargs.EqualFold(a, "nosave"):
			nosave = true
		case redisargs.EqualFold(a, "save"):
			save = true
		case redisargs.EqualFold(a, "now"), redisargs.EqualFold(a, "force"):
			other = true
		case redisargs.EqualFold(a, "abort"):
			abort = true
		default:
			c.addError(errSyntax)
			return
		}
	}
	if (abort && (nosave || save || other)) || (nosave && save) {
		c.addError(errSyntax)
		return
	}
	if abort {
		c.addErr("No shutdown in progress.")
		return
	}
	c.srv.log.Warn("user requested shutdown", "addr", c.addr)
	c.dropOutput = true
	if f := c.srv.cfg.OnShutdown; f != nil {
		// OnShutdown may close this server, which waits for this goroutine.
		go f()
	}
}
