package sentinel

import (
	"fmt"

	"github.com/x0tta6bl4/gosentinel/internal/redisargs"
)

// SENTINEL MAINTENANCE is a subcommand of gosentinel's own (maintenance
// mode: automatic failovers paused, replicated through the Raft group):
//
//	SENTINEL MAINTENANCE ON  [<master-name> ...]  pause (no names: the whole set, masters added later included)
//	SENTINEL MAINTENANCE OFF [<master-name> ...]  resume (no names: every pause ends)
//	SENTINEL MAINTENANCE [STATUS]                 the group-wide flag, then the masters paused by name
//
// Like CLIENT SETINFO it is not in the command table: COMMAND, COMMAND
// COUNT/LIST/INFO/DOCS, ACL CAT and SENTINEL HELP stay redis-sentinel
// 7.0.15's byte for byte (the comparisons and the official suite check
// them), so only lookupRunnable finds it (maintenanceOf makes it for each
// profile's table). For ACL it counts as SENTINEL
// FAILOVER, whose flags and categories (@admin @slow @dangerous) it
// borrows: +sentinel, +@admin or +sentinel|failover allow it,
// -sentinel|failover denies it, and a denial names 'sentinel|maintenance'.
func maintenanceOf(t *commandTable) *command {
	failover := t.lookupFullName("sentinel|failover")
	cmd := *failover
	cmd.name, cmd.arity, cmd.proc = "sentinel|maintenance", -2, cmdSentinel
	cmd.info, cmd.docs = [2][]byte{}, [2][]byte{} // not listed by COMMAND
	return &cmd
}

// maintenanceStatusAll is the key of the group-wide flag in the status
// reply (the events name the whole set "*" too).
const maintenanceStatusAll = "*"

// maintenanceRequest is a parsed SENTINEL MAINTENANCE.
type maintenanceRequest struct {
	status bool     // report, change nothing
	paused bool     // ON (else OFF)
	names  []string // ON/OFF: the masters; none means the whole set
}

// errMaintenanceSyntax is the reply to an unknown option or a wrong number
// of arguments, phrased like SENTINEL SET's and SENTINEL DEBUG's.
func errMaintenanceSyntax(arg string) string {
	return sanitizeLine(fmt.Sprintf("ERR Unknown option or number of arguments for SENTINEL MAINTENANCE '%s'", cstr(arg)))
}

// parseMaintenance reads argv (SENTINEL MAINTENANCE ...); on error it
// returns the reply text. Options are case-insensitive; names are kept as
// typed (master names are case-sensitive).
func parseMaintenance(argv []string) (maintenanceRequest, string) {
	if len(argv) == 2 {
		return maintenanceRequest{status: true}, ""
	}
	opt := argv[2]
	switch {
	case redisargs.EqualFold(opt, "status") && len(argv) == 3:
		return maintenanceRequest{status: true}, ""
	case redisargs.EqualFold(opt, "on"), redisargs.EqualFold(opt, "off"):
		return maintenanceRequest{paused: redisargs.EqualFold(opt, "on"), names: argv[3:]}, ""
	}
	return maintenanceRequest{}, errMaintenanceSyntax(opt)
}

// sentinelMaintenance runs SENTINEL MAINTENANCE.
func sentinelMaintenance(c *client, argv []string) {
	req, errText := parseMaintenance(argv)
	if errText != "" {
		c.addError(errText)
		return
	}
	b := c.srv.cfg.Backend
	if !req.status {
		var names []string
		if len(req.names) > 0 {
			names = append(names, req.names...)
		}
		c.addOKOrError(b.SetMaintenance(req.paused, names))
		return
	}
	all, masters := b.Maintenance()
	c.addFields(maintenanceStatus(all, masters))
}

// maintenanceStatus renders the status reply: "*" with the group-wide flag
// (1 or 0), then each master paused by name with 1 (RESP2 flat pairs,
// RESP3 map).
func maintenanceStatus(all bool, masters []string) Fields {
	flag := func(b bool) string {
		if b {
			return "1"
		}
		return "0"
	}
	f := Fields{{maintenanceStatusAll, flag(all)}}
	for _, m := range masters {
		f = append(f, Field{m, "1"})
	}
	return f
}
