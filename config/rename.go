package config

import "github.com/x0tta6bl4/gosentinel/internal/redisargs"

// commandNames is the sentinel's command table as rename-command lines
// leave it: each name a command answers to, mapped to the command's own
// (lower-case) name. A rename looks the command up by its current name, as
// redis' dictionary does, so renames chain (a to b, then b to c) and two
// commands can swap names through a third.
type commandNames map[string]string

func newCommandNames() commandNames {
	n := make(commandNames, len(sentinelCommands))
	for _, c := range sentinelCommands {
		n[c] = c
	}
	return n
}

// rename applies `rename-command from to` ("" removes the command) and
// returns redis' reason when it cannot.
func (n commandNames) rename(from, to string) string {
	f := redisargs.Lower(from)
	cmd, ok := n[f]
	if !ok {
		return "No such command in rename-command"
	}
	delete(n, f)
	if to != "" {
		t := redisargs.Lower(to)
		if _, ok := n[t]; ok {
			return "Target command name already exists"
		}
		n[t] = cmd
	}
	return ""
}

// CommandRenames is what c's rename-command lines change: each name whose
// meaning changed (lower-case) mapped to the command it now runs, or to ""
// where it runs none (renamed away, or removed). Nil without renames.
func CommandRenames(c *Config) map[string]string {
	n := newCommandNames()
	renamed := false
	for _, d := range c.Generic {
		if d.Name == "rename-command" && len(d.Args) == 2 {
			n.rename(d.Args[0], d.Args[1]) // checked when loaded
			renamed = true
		}
	}
	if !renamed {
		return nil
	}
	out := map[string]string{}
	for _, orig := range sentinelCommands {
		if n[orig] != orig {
			out[orig] = n[orig] // "" when nothing answers to it now
		}
	}
	for name, cmd := range n {
		if name != cmd {
			out[name] = cmd
		}
	}
	return out
}
