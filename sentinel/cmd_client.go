package sentinel

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/x0tta6bl4/gosentinel/internal/redisargs"
)

// CLIENT <subcommand> ...: one procedure for all subcommands, which
// re-checks argc like networking.c:clientCommand (the table already checked
// each subcommand's arity).
func cmdClient(c *client, argv []string) {
	sub := redisargs.Lower(argv[1])
	n := len(argv)
	switch {
	case n == 2 && sub == "help":
		c.addRaw(c.srv.tbl.help["client"])
	case sub == "id" && n == 2:
		c.addInt(int64(c.id))
	case sub == "info" && n == 2:
		c.srv.mu.Lock()
		info := c.infoString(time.Now(), c) + "\n"
		c.srv.mu.Unlock()
		c.addVerbatim(info)
	case sub == "list":
		clientList(c, argv)
	case sub == "reply" && n == 3:
		switch {
		case redisargs.EqualFold(argv[2], "on"):
			c.replyOff, c.replySkip = false, false
			c.addOK()
		case redisargs.EqualFold(argv[2], "off"):
			c.replyOff = true
		case redisargs.EqualFold(argv[2], "skip"):
			if !c.replyOff {
				c.replySkipNext = true
			}
		default:
			c.addError(errSyntax)
		}
	case sub == "no-evict" && n == 3:
		switch {
		case redisargs.EqualFold(argv[2], "on"), redisargs.EqualFold(argv[2], "off"):
			c.srv.mu.Lock()
			c.noEvict = redisargs.EqualFold(argv[2], "on")
			c.srv.mu.Unlock()
			c.addOK()
		default:
			c.addError(errSyntax)
		}
	case sub == "kill":
		clientKill(c, argv)
	case sub == "unblock" && (n == 3 || n == 4):
		if n == 4 && !redisargs.EqualFold(argv[3], "timeout") && !redisargs.EqualFold(argv[3], "error") {
			c.addErr("CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
			return
		}
		if _, ok := string2ll(argv[2]); !ok {
			c.addError(errNotInteger)
			return
		}
		// No sentinel command blocks, so there is never anything to unblock.
		c.addInt(0)
	case sub == "setinfo" && n == 4:
		clientSetinfo(c, argv)
	case sub == "setname" && n == 3:
		if c.setName(argv[2]) {
			c.addOK()
		}
	case sub == "getname" && n == 2:
		if c.name == "" {
			c.addNull()
		} else {
			c.addBulk(c.name)
		}
	case sub == "unpause" && n == 2:
		c.srv.mu.Lock()
		c.srv.pause.clear()
		c.srv.mu.Unlock()
		c.addOK()
	case sub == "pause" && (n == 3 || n == 4):
		clientPause(c, argv)
	case sub == "tracking" && n >= 3:
		clientTracking(c, argv)
	case sub == "caching" && n >= 3:
		clientCaching(c, argv)
	case sub == "getredir" && n == 2:
		if c.tracking.on {
			c.addInt(c.tracking.redirect)
		} else {
			c.addInt(-1)
		}
	case sub == "trackinginfo" && n == 2:
		clientTrackingInfo(c)
	default:
		c.addError(errSubcommandSyntax(argv))
	}
}

// setName is clientSetNameOrReply: names are printable ASCII without
// spaces; an empty name removes it.
func (c *client) setName(name string) bool {
	if !validClientAttr(name) {
		c.addErr("Client names cannot contain spaces, newlines or special characters.")
		return false
	}
	c.srv.mu.Lock()
	c.name = name
	c.srv.mu.Unlock()
	return true
}

func clientList(c *client, argv []string) {
	s := c.srv
	typ := ""
	var ids []int64
	switch {
	case len(argv) == 4 && redisargs.EqualFold(argv[2], "type"):
		if typ = parseClientType(argv[3]); typ == "" {
			c.addErr(fmt.Sprintf("Unknown client type '%s'", cstr(argv[3])))
			return
		}
	case len(argv) > 3 && redisargs.EqualFold(argv[2], "id"):
		for _, a := range argv[3:] {
			id, ok := string2ll(a)
			if !ok {
				c.addErr("Invalid client ID")
				return
			}
			ids = append(ids, id)
		}
	case len(argv) != 2:
		c.addError(errSyntax)
		return
	}
	now := time.Now()
	var b strings.Builder
	s.mu.Lock()
	if ids != nil {
		for _, id := range ids {
			if id > 0 {
				if other := s.clients[uint64(id)]; other != nil {
					b.WriteString(other.infoString(now, c) + "\n")
				}
			}
		}
	} else {
		for _, other := range s.sortedClients() {
			if typ != "" && s.clientTypeOf(other) != typ {
				continue
			}
			b.WriteString(other.infoString(now, c) + "\n")
		}
	}
	s.mu.Unlock()
	c.addVerbatim(b.String())
}

// clientTypeOf returns another client's type. Requires Server.mu.
func (s *Server) clientTypeOf(c *client) string {
	s.psmu.Lock()
	defer s.psmu.Unlock()
	return c.clientType()
}

func clientKill(c *client, argv []string) {
	s := c.srv
	var addr, laddr, typ string
	var user *aclUser
	var id, maxAge int64
	hasAddr, hasLaddr := false, false
	skipme := true
	if len(argv) == 3 {
		// Old form CLIENT KILL ip:port, which may kill the caller.
		addr, hasAddr, skipme = argv[2], true, false
	} else if len(argv) > 3 {
		for i := 2; i < len(argv); i += 2 {
			more := len(argv) > i+1
			opt := argv[i]
			switch {
			case redisargs.EqualFold(opt, "id") && more:
				v, ok := string2ll(argv[i+1])
				if !ok || v < 1 {
					c.addErr("client-id should be greater than 0")
					return
				}
				id = v
			case redisargs.EqualFold(opt, "type") && more:
				if typ = parseClientType(argv[i+1]); typ == "" {
					c.addErr(fmt.Sprintf("Unknown client type '%s'", cstr(argv[i+1])))
					return
				}
			case redisargs.EqualFold(opt, "addr") && more:
				addr, hasAddr = argv[i+1], true
			case redisargs.EqualFold(opt, "laddr") && more:
				laddr, hasLaddr = argv[i+1], true
			case redisargs.EqualFold(opt, "user") && more:
				s.mu.Lock()
				user = s.acl.users[argv[i+1]]
				s.mu.Unlock()
				if user == nil {
					c.addErr(fmt.Sprintf("No such user '%s'", cstr(argv[i+1])))
					return
				}
			case redisargs.EqualFold(opt, "maxage") && more && s.cfg.Compat.ClientKillMaxAge():
				v, ok := string2ll(argv[i+1])
				if !ok {
					c.addErr("maxage is not an integer or out of range")
					return
				}
				if v <= 0 {
					c.addErr("maxage should be greater than 0")
					return
				}
				maxAge = v
			case redisargs.EqualFold(opt, "skipme") && more:
				switch {
				case redisargs.EqualFold(argv[i+1], "yes"):
					skipme = true
				case redisargs.EqualFold(argv[i+1], "no"):
					skipme = false
				default:
					c.addError(errSyntax)
					return
				}
			default:
				c.addError(errSyntax)
				return
			}
		}
	} else {
		c.addError(errSyntax)
		return
	}
	killed, closeSelf := 0, false
	now := time.Now().Unix()
	s.mu.Lock()
	for _, other := range s.sortedClients() {
		// MAXAGE: connected for at least that many whole seconds, as
		// redis counts them (seconds now less seconds at creation).
		if maxAge != 0 && now-other.ctime.Unix() < maxAge ||
			hasAddr && other.addr != cstr(addr) ||
			hasLaddr && other.laddr != cstr(laddr) ||
			typ != "" && s.clientTypeOf(other) != typ ||
			id != 0 && other.id != uint64(id) ||
			user != nil && other.user != user ||
			other == c && skipme {
			continue
		}
		if other == c {
			closeSelf = true
		} else {
			s.unlistKilledLocked(other)
			defer other.kill()
		}
		killed++
	}
	if closeSelf {
		c.closeAfterReply = true
	}
	s.mu.Unlock()
	if len(argv) == 3 {
		if killed == 0 {
			c.addErr("No such client")
		} else {
			c.addOK()
		}
		return
	}
	c.addInt(int64(killed))
}

// clientPause is CLIENT PAUSE <timeout> [WRITE|ALL].
func clientPause(c *client, argv []string) {
	typ := pauseAll
	if len(argv) == 4 {
		switch {
		case redisargs.EqualFold(argv[3], "write"):
			typ = pauseWrite
		case redisargs.EqualFold(argv[3], "all"):
			typ = pauseAll
		default:
			c.addErr("CLIENT PAUSE mode must be WRITE or ALL")
			return
		}
	}
	ms, ok := string2ll(argv[2])
	if !ok {
		c.addErr("timeout is not an integer or out of range")
		return
	}
	if ms < 0 {
		c.addErr("timeout is negative")
		return
	}
	var end time.Time
	now := time.Now()
	// redis computes now+timeout in milliseconds; a sum that overflows
	// wraps to the past, i.e. no pause at all.
	if ms > 0 && ms <= math.MaxInt64-now.UnixMilli() {
		d := time.Duration(math.MaxInt64)
		if ms <= int64(math.MaxInt64/time.Millisecond) {
			d = time.Duration(ms) * time.Millisecond
		}
		if c.srv.maxPause > 0 && d > c.srv.maxPause {
			d = c.srv.maxPause
		}
		end = now.Add(d)
	}
	c.srv.mu.Lock()
	c.srv.pause.set(typ, end)
	c.srv.mu.Unlock()
	c.addOK()
}
