package sentinel

import (
	"strings"
	"testing"
)

// The per-client lookup cache answers what lookupRunnable does, whatever
// came before: the same names in other cases, containers named alone,
// unknown subcommands, our own subcommands outside the table.
func TestLookupCacheAgreesWithTable(t *testing.T) {
	reqs := []string{
		"SENTINEL GET-MASTER-ADDR-BY-NAME mymaster", "SENTINEL GET-MASTER-ADDR-BY-NAME mymaster",
		"SENTINEL MASTERS", "SENTINEL", "SENTINEL MASTERS", "sentinel masters", "SENTINEL nosuch",
		"SENTINEL MAINTENANCE ON", "SENTINEL MAINTENANCE", "PING", "PING x", "ping", "PING",
		"CLIENT SETINFO lib-name x", "CLIENT SETNAME x", "CLIENT", "CLIENT SETINFO lib-ver 1",
		"NOSUCH", "NOSUCH a", "PUBLISH ch msg", "PUBLISH other msg", "SENTINEL MASTERS x",
	}
	for p, build := range tables {
		tbl := build()
		c := &client{srv: &Server{tbl: tbl}}
		for round := 0; round < 2; round++ {
			for _, r := range reqs {
				argv := strings.Fields(r)
				if got, want := c.lookup(argv), tbl.lookupRunnable(argv); got != want {
					t.Errorf("%s: %q after the others: lookup = %v, want %v", p, r, cmdName(got), cmdName(want))
				}
			}
		}
	}
}

func cmdName(c *command) string {
	if c == nil {
		return "nil"
	}
	return c.name
}
