package sentinel

import (
	"strings"

	"github.com/x0tta6bl4/gosentinel/internal/redisargs"
)

// commandSubProcs are the COMMAND subcommand procedures.
var commandSubProcs = map[string]func(*client, []string){
	"command|count":           cmdCommandCount,
	"command|list":            cmdCommandList,
	"command|info":            cmdCommandInfo,
	"command|docs":            cmdCommandDocs,
	"command|getkeys":         cmdCommandGetKeys,
	"command|getkeysandflags": cmdCommandGetKeys,
	"command|help":            cmdCommandHelp,
}

// COMMAND: every command's info, as captured from redis-sentinel.
func cmdCommand(c *client, argv []string) {
	p := c.protoIndex()
	top := c.srv.listedTop()
	c.addArrayLen(len(top))
	for _, cmd := range top {
		c.addRaw(cmd.info[p])
	}
}

// listed tells whether cmd is in the command table as the config's
// rename-command lines leave it (redis' server.commands, which COMMAND and
// its subcommands read): a command renamed to "" is gone, with its
// subcommands; a renamed one is still there, and still shows its own name
// (redis keeps cmd->fullname).
func (s *Server) listed(cmd *command) bool {
	if s.cfg.CommandRenames == nil {
		return true
	}
	for cmd.parent != nil {
		cmd = cmd.parent
	}
	if to, changed := s.cfg.CommandRenames[cmd.name]; !changed || to == cmd.name {
		return true
	}
	for _, to := range s.cfg.CommandRenames {
		if to == cmd.name {
			return true // answers to another name now
		}
	}
	return false
}

// listedTop are the top-level commands listed.
func (s *Server) listedTop() []*command {
	if s.cfg.CommandRenames == nil {
		return s.tbl.top
	}
	var out []*command
	for _, cmd := range s.tbl.top {
		if s.listed(cmd) {
			out = append(out, cmd)
		}
	}
	return out
}

// lookupListed finds a command by the full name COMMAND INFO and DOCS take
// ("ping", "client|kill"), its first part through the renames, as redis
// looks it up in server.commands.
func (s *Server) lookupListed(full string) *command {
	base, sub, hasSub := strings.Cut(full, "|")
	tr, ok := s.renamed([]string{base})
	if !ok {
		return nil
	}
	name := tr[0]
	if hasSub {
		name += "|" + sub
	}
	return s.tbl.lookupFullName(name)
}

func (c *client) protoIndex() int {
	if c.proto() == 3 {
		return resp3
	}
	return resp2
}

func cmdCommandCount(c *client, argv []string) { c.addInt(int64(len(c.srv.listedTop()))) }

func cmdCommandHelp(c *client, argv []string) { c.addRaw(c.srv.tbl.help["command"]) }

// COMMAND LIST [FILTERBY (MODULE name|ACLCAT cat|PATTERN pattern)]
func cmdCommandList(c *client, argv []string) {
	var filter func(*command) bool
	for i := 2; i < len(argv); i++ {
		if !redisargs.EqualFold(argv[i], "filterby") || len(argv)-1-i != 2 {
			c.addError(errSyntax)
			return
		}
		arg := argv[i+2]
		switch {
		case redisargs.EqualFold(argv[i+1], "module"):
			filter = func(*command) bool { return false } // no modules
		case redisargs.EqualFold(argv[i+1], "aclcat"):
			flag := categoryFlag(arg)
			filter = func(cmd *command) bool { return flag != 0 && cmd.cats&flag != 0 }
		case redisargs.EqualFold(argv[i+1], "pattern"):
			filter = func(cmd *command) bool { return globMatch(arg, cmd.name, true) }
		default:
			c.addError(errSyntax)
			return
		}
		i += 2
	}
	var names []string
	for _, cmd := range c.srv.tbl.all {
		if c.srv.listed(cmd) && (filter == nil || filter(cmd)) {
			names = append(names, cmd.name)
		}
	}
	c.addArrayLen(len(names))
	for _, n := range names {
		c.addBulk(n)
	}
}

// COMMAND INFO [name ...]: unknown names give a null entry.
func cmdCommandInfo(c *client, argv []string) {
	if len(argv) == 2 {
		cmdCommand(c, argv)
		return
	}
	p := c.protoIndex()
	c.addArrayLen(len(argv) - 2)
	for _, name := range argv[2:] {
		if cmd := c.srv.lookupListed(name); cmd != nil {
			c.addRaw(cmd.info[p])
		} else {
			c.addNull()
		}
	}
}

// COMMAND DOCS [name ...]: a map of full name to docs; unknown names are
// skipped.
func cmdCommandDocs(c *client, argv []string) {
	p := c.protoIndex()
	var cmds []*command
	if len(argv) == 2 {
		cmds = c.srv.listedTop()
	} else {
		for _, name := range argv[2:] {
			if cmd := c.srv.lookupListed(name); cmd != nil {
				cmds = append(cmds, cmd)
			}
		}
	}
	c.addMapLen(len(cmds))
	for _, cmd := range cmds {
		c.addBulk(cmd.name)
		c.addRaw(cmd.docs[p])
	}
}

// COMMAND GETKEYS / GETKEYSANDFLAGS: no sentinel command has keys.
func cmdCommandGetKeys(c *client, argv []string) {
	if c.srv.lookupArgv(argv[2:]) == nil {
		c.addErr("Invalid command specified")
		return
	}
	c.addErr("The command has no key arguments")
}
