package sentinel

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/x0tta6bl4/gosentinel/internal/redisargs"
)

// wireTable gives a freshly built table its procedures and the facts the
// captured data does not carry (which commands lend their arguments, which
// take channels). It panics on a table the procedures do not match: a bug
// in the captured data or in this file.
func wireTable(table *commandTable) {
	procs := map[string]func(*client, []string){
		"acl": cmdACL, "auth": cmdAuth, "client": cmdClient, "command": cmdCommand,
		"hello": cmdHello, "info": cmdInfo, "ping": cmdPing, "psubscribe": cmdPsubscribe,
		"publish": cmdPublish, "punsubscribe": cmdPunsubscribe, "role": cmdRole,
		"sentinel": cmdSentinel, "shutdown": cmdShutdown, "subscribe": cmdSubscribe,
		"unsubscribe": cmdUnsubscribe,
	}
	for _, cmd := range table.all {
		// Subcommands of ACL, CLIENT and SENTINEL share their
		// container's procedure, which re-dispatches on argv[1] (as in
		// redis); COMMAND subcommands have their own.
		name := cmd.root().name
		if name == "command" && cmd.parent != nil {
			cmd.proc = commandSubProcs[cmd.name]
		} else {
			cmd.proc = procs[name]
		}
		if cmd.proc == nil {
			panic("sentinel: no procedure for " + cmd.name)
		}
	}
	lent := 0
	for _, cmd := range table.all {
		if slices.Contains(argsLentBy, cmd.name) {
			cmd.lendsArgs = true
			lent++
		}
	}
	if lent != len(argsLentBy) {
		panic("sentinel: argsLentBy names a command the table lacks")
	}
	table.byName["publish"].channels = channelsPublish
	// PUBLISH is the one command of sentinel mode a WRITE pause holds back
	// (redis-sentinel 7.0.15 keeps it waiting: a published message goes to
	// the replication stream in redis).
	table.byName["publish"].mayReplicate = true
	table.byName["subscribe"].channels = channelsSubscribe
	table.byName["psubscribe"].channels = channelsPattern
	table.setinfo, table.maintenance = setinfoOf(table), maintenanceOf(table)
}

// argsLentBy lists the commands whose procedures keep nothing of their
// arguments (what they reply is copied into the reply), so the memory the
// parser cut them from may hold the next batch of requests (the command
// loop gives them back: requestParser.release). They are what clients send
// again and again; any
// other command may keep an argument (a client name, a password, a
// config value) and makes the parser take fresh memory.
var argsLentBy = []string{
	"ping",
	"sentinel|get-master-addr-by-name", "sentinel|masters", "sentinel|master",
	"sentinel|replicas", "sentinel|slaves", "sentinel|sentinels", "sentinel|myid",
}

// allowedInRESP2PubSub lists what a RESP2 client may run while subscribed
// (processCommand); QUIT and RESET do not exist in sentinel mode.
var allowedInRESP2PubSub = map[string]bool{
	"ping": true, "subscribe": true, "unsubscribe": true, "psubscribe": true, "punsubscribe": true,
}

// execute runs one request through redis' processCommand checks and then
// the command procedure. now is the time of the read that brought it; it
// returns the time to use for the next request of that read (later, if
// CLIENT PAUSE held this one).
func (c *client) execute(argv []string, now time.Time) time.Time {
	s := c.srv
	// Cross-protocol scripting guard: an HTTP request line or Host header
	// closes the connection without any reply.
	if redisargs.EqualFold(argv[0], "host:") || redisargs.EqualFold(argv[0], "post") {
		s.securityWarning(now)
		c.dropOutput = true
		return now
	}
	c.argsLent = false
	var cmd *command
	mem := argvMem(argv)
	for {
		s.mu.Lock()
		c.curQbufSnapshotLocked(mem)
		if c.killed.Load() {
			s.mu.Unlock()
			return now
		}
		c.lastInteraction = now
		cmd = c.lookup(argv)
		c.curCmd = cmd
		if cmd == nil {
			c.lastCmd = "NULL"
			s.mu.Unlock()
			c.addError(s.existenceError(argv))
			c.resetAfterCommand(nil)
			return now
		}
		c.lastCmd = cmd.name
		if reject := c.checkLocked(cmd, argv); reject != "" {
			s.mu.Unlock()
			c.addError(reject)
			c.resetAfterCommand(cmd)
			return now
		}
		// The clock is read only while a pause is on (remaining is 0
		// otherwise).
		if s.pause.typ != pauseOff {
			if wait := s.pause.remaining(time.Now(), cmd.mayReplicate); wait > 0 {
				// CLIENT PAUSE: the command waits, then goes through all
				// the checks again (the client may have been killed or its
				// user changed meanwhile).
				c.blocked = true
				s.mu.Unlock()
				c.waitPause(wait)
				s.mu.Lock()
				c.blocked = false
				s.mu.Unlock()
				now = time.Now()
				continue
			}
		}
		s.mu.Unlock()
		break
	}
	s.stats.commands.Add(1)
	if s.cfg.Compat.DeferOwnPushes() {
		c.pushMu.Lock()
		c.executing = true
		c.pushMu.Unlock()
	}
	cmd.proc(c, argv)
	c.argsLent = cmd.lendsArgs
	c.resetAfterCommand(cmd)
	return now
}

// lookupCache is the command a client ran last, by the names it sent.
type lookupCache struct {
	name, sub string // argv[0], and argv[1] for a subcommand, as sent
	cmd       *command
}

// lookup is lookupRunnable with a one-entry cache per client: clients
// mostly repeat one command, and comparing the names they sent costs less
// than lower-casing and hashing them into two maps. The table never
// changes, so what a name ran once it always runs.
func (c *client) lookup(argv []string) *command {
	k := &c.lastLookup
	if k.cmd != nil && argv[0] == k.name {
		switch {
		case k.cmd.parent == nil && k.cmd.subIndex == nil:
			return k.cmd // a command without subcommands: argv[1] does not matter
		case k.cmd.parent != nil && len(argv) > 1 && argv[1] == k.sub:
			return k.cmd
		}
	}
	cmd := c.srv.lookupRunnable(argv)
	switch {
	case cmd == nil || (cmd.parent == nil && cmd.subIndex != nil):
		// Unknown, or a container named alone: not cached.
	case cmd.parent == nil:
		// Copies: the arguments share their read's buffer (requestParser).
		*k = lookupCache{name: strings.Clone(argv[0]), cmd: cmd}
	default:
		*k = lookupCache{name: strings.Clone(argv[0]), sub: strings.Clone(argv[1]), cmd: cmd}
	}
	return cmd
}

// renamed returns argv as the command table knows it under the config's
// rename-command lines (only the names lookupRunnable reads), and false
// where argv[0] runs no command any more.
func (s *Server) renamed(argv []string) ([]string, bool) {
	if s.cfg.CommandRenames == nil {
		return argv, true
	}
	cmd, ok := s.cfg.CommandRenames[redisargs.Lower(argv[0])]
	switch {
	case !ok:
		return argv, true
	case cmd == "":
		return nil, false
	}
	return append([]string{cmd}, argv[1:min(len(argv), 2)]...), true
}

// lookupRunnable is the table's lookupRunnable through the config's
// rename-command lines: a renamed command answers to its new name only.
func (s *Server) lookupRunnable(argv []string) *command {
	tr, ok := s.renamed(argv)
	if !ok {
		return nil
	}
	return s.tbl.lookupRunnable(tr)
}

// lookupArgv is the table's lookupArgv through the renames (ACL DRYRUN
// and COMMAND GETKEYS name a command as a request would).
func (s *Server) lookupArgv(argv []string) *command {
	tr, ok := s.renamed(argv)
	if !ok {
		return nil
	}
	return s.tbl.lookupArgv(tr)
}

// existenceError is the reply to an unknown command or subcommand
// (commandCheckExistence), through the renames: a name that runs nothing
// any more is an unknown command, even one that was a container.
func (s *Server) existenceError(argv []string) string {
	if tr, ok := s.renamed(argv); ok && len(tr) > 1 && s.tbl.isContainer(tr[0]) {
		return unknownSubcommand(argv)
	}
	return unknownCommand(argv)
}

// unknownSubcommand is the reply to a container command's unknown
// subcommand, naming the container as sent.
func unknownSubcommand(argv []string) string {
	return sanitizeLine(fmt.Sprintf("ERR unknown subcommand '%s'. Try %s HELP.",
		truncate(cstr(argv[1]), 128), cstr(redisargs.Upper(argv[0]))))
}

// unknownCommand is the reply to a name no command answers to.
func unknownCommand(argv []string) string {
	var args strings.Builder
	for _, a := range argv[1:] {
		if args.Len() >= 128 {
			break
		}
		args.WriteString("'" + truncate(cstr(a), 128-args.Len()) + "' ")
	}
	return sanitizeLine(fmt.Sprintf("ERR unknown command '%s', with args beginning with: %s",
		truncate(cstr(argv[0]), 128), args.String()))
}

// checkLocked applies processCommand's checks after the lookup: arity,
// authentication, ACL, RESP2 pub/sub context. It returns the error text to
// reply, or "". Requires s.mu.
func (c *client) checkLocked(cmd *command, argv []string) string {
	s := c.srv
	if !cmd.arityOK(len(argv)) && !coordinatedFailover(cmd, argv) {
		return fmt.Sprintf("ERR wrong number of arguments for '%s' command", cmd.name)
	}
	if s.authRequired(c) && !cmd.noAuth {
		return "NOAUTH Authentication required."
	}
	if res, pos := c.user.checkCommand(cmd, argv); res != aclOK {
		s.acl.addLog(c, res, aclLogObject(res, cmd, argv, pos), c.user.name)
		if s.cfg.Compat.ACLErrorsNameUser() {
			switch res { // getAclErrorMessage, not verbose
			case aclDeniedCmd:
				return sanitizeLine(fmt.Sprintf("NOPERM User %s has no permissions to run the '%s' command", c.user.name, cmd.name))
			case aclDeniedChannel:
				return "NOPERM No permissions to access a channel"
			default:
				return "NOPERM No permissions to access a key"
			}
		}
		switch res {
		case aclDeniedCmd:
			return fmt.Sprintf("NOPERM this user has no permissions to run the '%s' command", cmd.name)
		case aclDeniedChannel:
			return "NOPERM this user has no permissions to access one of the channels used as arguments"
		default:
			return "NOPERM this user has no permissions to access one of the keys used as arguments"
		}
	}
	if c.proto() == 2 && c.subscriptions() > 0 && !allowedInRESP2PubSub[cmd.name] {
		return sanitizeLine(fmt.Sprintf("ERR Can't execute '%s': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context", cmd.name))
	}
	return ""
}

// authRequired is redis' authRequired(): the default user needs a password
// (or is disabled) and the client has not authenticated. Requires s.mu.
func (s *Server) authRequired(c *client) bool {
	du := s.acl.defaultUser
	return (du.flags&userNopass == 0 || du.flags&userOff != 0) && !c.authenticated
}

// resetAfterCommand is redis' resetClient: it runs after every request,
// including empty and rejected ones, and moves CLIENT REPLY SKIP along.
func (c *client) resetAfterCommand(cmd *command) {
	c.replySkip = false
	if c.replySkipNext {
		c.replySkip = true
		c.replySkipNext = false
	}
	if cmd == nil || cmd.root().name != "client" {
		if c.tracking.caching {
			c.srv.mu.Lock()
			c.tracking.caching = false
			c.srv.mu.Unlock()
		}
	}
	c.curCmd = nil
}

// waitPause blocks while clients are paused, at most d, returning early if
// the pause changes, the client is killed or the server closes.
func (c *client) waitPause(d time.Duration) {
	s := c.srv
	s.mu.Lock()
	wake := s.pause.changed()
	s.mu.Unlock()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-wake:
	case <-c.killCh:
	case <-s.done:
	}
}

// errArity is the arity error of a (sub)command (addReplyErrorArity).
func errArity(cmd *command) string {
	return fmt.Sprintf("ERR wrong number of arguments for '%s' command", cmd.name)
}

// errSubcommandSyntax is addReplySubcommandSyntaxError.
func errSubcommandSyntax(argv []string) string {
	return sanitizeLine(fmt.Sprintf("ERR unknown subcommand or wrong number of arguments for '%s'. Try %s HELP.",
		truncate(cstr(argv[1]), 128), cstr(redisargs.Upper(argv[0]))))
}

const errSyntax = "ERR syntax error"

// coordinatedFailover reports a SENTINEL FAILOVER with one more argument
// than redis' arity allows, which Valkey 9 takes (SENTINEL FAILOVER <name>
// [COORDINATED]; any other word is refused by the handler, as Valkey
// does): scripts written for Valkey's sentinel run unchanged. The table's
// arity, which COMMAND reports, stays redis'.
func coordinatedFailover(cmd *command, argv []string) bool {
	return len(argv) == 4 && cmd.name == "sentinel|failover"
}

// securityWarning is redis' securityWarningCommand: its line at most once
// a minute, whoever sends the POST or Host: lines. Logged at every one,
// anyone who reaches the port could write the log as fast as they could
// connect (about 9 MB in 10 s from one client in the review).
func (s *Server) securityWarning(now time.Time) {
	last := s.securityLogged.Load()
	if d := now.Unix() - last; (d > 60 || d < -60) && s.securityLogged.CompareAndSwap(last, now.Unix()) {
		s.log.Warn("Possible SECURITY ATTACK detected. It looks like somebody is sending POST or Host: commands to Redis. This is likely due to an attacker attempting to use Cross Protocol Scripting to compromise your Redis instance. Connection aborted.")
	}
}
