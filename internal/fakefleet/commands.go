package fakefleet

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// arity is redis' arity of each command a fake master knows: n > 0 means
// exactly n arguments (the name included), n < 0 at least -n.
var arity = map[string]int{
	"ping": -1, "info": -1, "subscribe": -2, "unsubscribe": -1, "publish": 3,
	"role": 1, "replicaof": 3, "slaveof": 3, "config": -2, "client": -2,
	"multi": 1, "exec": 1, "discard": 1, "script": -2, "auth": -2, "echo": 2,
	"quit": -1, "fakefleet": -2,
}

// isControl says whether args is a FAKEFLEET command, answered even while
// the master is dark.
func isControl(args []string) bool { return strings.EqualFold(args[0], "fakefleet") }

// unknownCommand is redis 7.0's reply to a command it does not have.
func unknownCommand(args []string) string {
	var b strings.Builder
	for _, a := range args[1:] {
		if b.Len() >= 128 {
			break
		}
		fmt.Fprintf(&b, "'%.*s' ", 128-b.Len(), a)
	}
	return fmt.Sprintf("ERR unknown command '%.128s', with args beginning with: %s", args[0], b.String())
}

// checkArity returns redis' error for a wrong argument count, "" if fine.
func checkArity(name string, n int, args []string) string {
	if (n > 0 && len(args) != n) || (n < 0 && len(args) < -n) {
		return fmt.Sprintf("ERR wrong number of arguments for '%s' command", name)
	}
	return ""
}

// exec runs one command and appends its reply.
func (c *client) exec(out []byte, args []string) []byte {
	name := strings.ToLower(args[0])
	n, known := arity[name]
	if !known {
		if c.inMulti {
			c.multi = nil // flags the transaction as failed (EXECABORT)
		}
		return appendError(out, unknownCommand(args))
	}
	if e := checkArity(name, n, args); e != "" {
		if c.inMulti {
			c.multi = nil
		}
		return appendError(out, e)
	}
	if c.inMulti && name != "exec" && name != "discard" && name != "multi" && name != "quit" {
		if c.multi != nil {
			c.multi = append(c.multi, args)
		}
		return appendStatus(out, "QUEUED")
	}
	if len(c.channels) > 0 {
		switch name {
		case "subscribe", "unsubscribe", "ping", "quit", "fakefleet":
		default:
			return appendError(out, fmt.Sprintf("ERR Can't execute '%s': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context", name))
		}
	}
	switch name {
	case "ping":
		if len(args) > 2 {
			return appendError(out, "ERR wrong number of arguments for 'ping' command")
		}
		if len(c.channels) > 0 {
			msg := ""
			if len(args) == 2 {
				msg = args[1]
			}
			return appendBulk(appendBulk(appendArrayHeader(out, 2), "pong"), msg)
		}
		if len(args) == 2 {
			return appendBulk(out, args[1])
		}
		return appendStatus(out, "PONG")
	case "echo":
		return appendBulk(out, args[1])
	case "info":
		section := ""
		if len(args) > 1 {
			section = args[1]
		}
		return appendBulk(out, c.m.info(section))
	case "role":
		c.m.mu.Lock()
		replicaOf := c.m.replicaOf
		c.m.mu.Unlock()
		if replicaOf == "" {
			return appendArrayHeader(appendInt(appendBulk(appendArrayHeader(out, 3), "master"), 0), 0)
		}
		host, port, _ := strings.Cut(replicaOf, ":")
		p, _ := strconv.Atoi(port)
		out = appendBulk(appendBulk(appendArrayHeader(out, 5), "slave"), host)
		return appendInt(appendBulk(appendInt(out, int64(p)), "connect"), -1)
	case "replicaof", "slaveof":
		return c.replicaOf(out, args[1], args[2])
	case "publish":
		return appendInt(out, int64(c.m.publish(args[1], args[2])))
	case "subscribe":
		return c.subscribe(out, args[1:])
	case "unsubscribe":
		return c.unsubscribe(out, args[1:])
	case "config":
		return c.config(out, args)
	case "client":
		return c.clientCmd(out, args)
	case "script":
		switch strings.ToLower(args[1]) {
		case "kill":
			return appendError(out, "NOTBUSY No scripts in execution right now.")
		case "flush":
			return appendStatus(out, "OK")
		}
		return appendError(out, fmt.Sprintf("ERR unknown subcommand '%.128s'. Try SCRIPT HELP.", args[1]))
	case "auth":
		switch {
		case len(args) == 2:
			return appendError(out, "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?")
		case len(args) == 3 && args[1] == "default":
			return appendStatus(out, "OK")
		case len(args) == 3:
			return appendError(out, "WRONGPASS invalid username-password pair or user is disabled.")
		}
		return appendError(out, "ERR syntax error")
	case "multi":
		if c.inMulti {
			return appendError(out, "ERR MULTI calls can not be nested")
		}
		c.inMulti, c.multi = true, [][]string{}
		return appendStatus(out, "OK")
	case "discard":
		if !c.inMulti {
			return appendError(out, "ERR DISCARD without MULTI")
		}
		c.inMulti, c.multi = false, nil
		return appendStatus(out, "OK")
	case "exec":
		if !c.inMulti {
			return appendError(out, "ERR EXEC without MULTI")
		}
		queued := c.multi
		c.inMulti, c.multi = false, nil
		if queued == nil {
			return appendError(out, "EXECABORT Transaction discarded because of previous errors.")
		}
		out = appendArrayHeader(out, len(queued))
		for _, q := range queued {
			out = c.exec(out, q)
		}
		return out
	case "quit":
		c.quit = true
		return appendStatus(out, "OK")
	case "fakefleet":
		return c.control(out, args)
	}
	return appendError(out, unknownCommand(args))
}

func (c *client) replicaOf(out []byte, host, port string) []byte {
	if strings.EqualFold(host, "no") && strings.EqualFold(port, "one") {
		c.m.mu.Lock()
		c.m.replicaOf = ""
		c.m.mu.Unlock()
		return appendStatus(out, "OK")
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 0 || p > 65535 {
		return appendError(out, "ERR Invalid master port")
	}
	addr := host + ":" + strconv.Itoa(p)
	c.m.mu.Lock()
	same := c.m.replicaOf == addr
	c.m.replicaOf = addr
	c.m.mu.Unlock()
	if same {
		return appendStatus(out, "OK Already connected to specified master")
	}
	return appendStatus(out, "OK")
}

// subscribe flushes the replies before it, then registers each channel and
// writes its confirmation under the write lock, so that no published
// message overtakes the confirmation.
func (c *client) subscribe(out []byte, chans []string) []byte {
	c.out = out
	c.flush()
	if c.channels == nil {
		c.channels = map[string]struct{}{}
	}
	for _, ch := range chans {
		c.wmu.Lock()
		c.m.subscribe(c, ch)
		c.channels[ch] = struct{}{}
		frame := appendBulk(appendBulk(appendArrayHeader(nil, 3), "subscribe"), ch)
		frame = appendInt(frame, int64(len(c.channels)))
		_, err := c.nc.Write(frame)
		c.wmu.Unlock()
		if err != nil {
			break
		}
	}
	return c.out
}

func (c *client) unsubscribe(out []byte, chans []string) []byte {
	if len(chans) == 0 {
		for ch := range c.channels {
			chans = append(chans, ch)
		}
		if len(chans) == 0 {
			return appendInt(appendNull(appendBulk(appendArrayHeader(out, 3), "unsubscribe")), 0)
		}
	}
	for _, ch := range chans {
		c.m.unsubscribe(c, ch)
		delete(c.channels, ch)
		out = appendBulk(appendBulk(appendArrayHeader(out, 3), "unsubscribe"), ch)
		out = appendInt(out, int64(len(c.channels)))
	}
	return out
}

func (c *client) config(out []byte, args []string) []byte {
	sub := strings.ToLower(args[1])
	switch sub {
	case "rewrite", "resetstat":
		if e := checkArity("config|"+sub, 2, args); e != "" {
			return appendError(out, e)
		}
		return appendStatus(out, "OK")
	case "get":
		if e := checkArity("config|get", -3, args); e != "" {
			return appendError(out, e)
		}
		kv := c.m.configGet(args[2:])
		out = appendArrayHeader(out, len(kv))
		for _, s := range kv {
			out = appendBulk(out, s)
		}
		return out
	case "set":
		if e := checkArity("config|set", -4, args); e != "" {
			return appendError(out, e)
		}
		if len(args)%2 != 0 {
			return appendError(out, "ERR wrong number of arguments for 'config|set' command")
		}
		if bad := c.m.configSet(args[2:]); bad != "" {
			return appendError(out, fmt.Sprintf("ERR Unknown option or number of arguments for CONFIG SET - '%s'", bad))
		}
		return appendStatus(out, "OK")
	}
	return appendError(out, fmt.Sprintf("ERR unknown subcommand '%.128s'. Try CONFIG HELP.", args[1]))
}

func (c *client) clientCmd(out []byte, args []string) []byte {
	sub := strings.ToLower(args[1])
	switch sub {
	case "setname":
		if e := checkArity("client|setname", 3, args); e != "" {
			return appendError(out, e)
		}
		for _, r := range args[2] {
			if r < '!' || r > '~' {
				return appendError(out, "ERR Client names cannot contain spaces, newlines or special characters.")
			}
		}
		name := args[2]
		c.name.Store(&name)
		return appendStatus(out, "OK")
	case "getname":
		if e := checkArity("client|getname", 2, args); e != "" {
			return appendError(out, e)
		}
		if c.clientName() == "" {
			return appendNull(out)
		}
		return appendBulk(out, c.clientName())
	case "id":
		return appendInt(out, int64(c.m.index)+1)
	case "kill":
		if e := checkArity("client|kill", -3, args); e != "" {
			return appendError(out, e)
		}
		if len(args) == 3 {
			return appendError(out, "ERR No such client")
		}
		// Filters (TYPE normal, TYPE pubsub, ...): nobody is killed.
		return appendInt(out, 0)
	}
	return appendError(out, fmt.Sprintf("ERR unknown subcommand '%.128s'. Try CLIENT HELP.", args[1]))
}

// control answers FAKEFLEET DARK, LIGHT and STATE.
func (c *client) control(out []byte, args []string) []byte {
	switch strings.ToLower(args[1]) {
	case "dark":
		c.m.setDark(true)
		return appendStatus(out, "OK")
	case "light":
		c.m.setDark(false)
		return appendStatus(out, "OK")
	case "state":
		c.m.mu.Lock()
		dark, replicaOf, clients := c.m.light != nil, c.m.replicaOf, c.m.clients
		c.m.mu.Unlock()
		if replicaOf == "" {
			replicaOf = "none"
		}
		d := 0
		if dark {
			d = 1
		}
		return appendBulk(out, fmt.Sprintf("dark=%d replicaof=%s clients=%d", d, replicaOf, clients))
	case "stats":
		return appendBulk(out, c.m.fleet.Stats())
	case "pings":
		c.m.mu.Lock()
		names := make([]string, 0, len(c.m.darkPings))
		for n := range c.m.darkPings {
			names = append(names, n)
		}
		slices.Sort(names)
		out = appendArrayHeader(out, 2*len(names))
		for _, n := range names {
			out = appendBulk(appendBulk(out, n), strconv.FormatInt(c.m.darkPings[n].UnixMicro(), 10))
		}
		c.m.mu.Unlock()
		return out
	}
	return appendError(out, fmt.Sprintf("ERR unknown subcommand '%.128s'. Try FAKEFLEET DARK, LIGHT, STATE, PINGS or STATS.", args[1]))
}
