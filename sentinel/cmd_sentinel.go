package sentinel

import (
	"errors"
	"strconv"

	"github.com/x0tta6bl4/gosentinel/internal/redisargs"
)

// SENTINEL <subcommand> ...: sentinel.c:sentinelCommand. Arity was checked
// by the table; the handler re-checks like redis does (numargserr).
func cmdSentinel(c *client, argv []string) {
	b := c.srv.cfg.Backend
	sub := argv[1]
	n := len(argv)
	switch {
	// First: what clients ask most, at every connect and reconnect (the
	// cases are exclusive, so their order changes no reply).
	case redisargs.EqualFold(sub, "get-master-addr-by-name"):
		host, port, ok := b.MasterAddr(argv[2])
		if !ok {
			c.addNullArray()
			return
		}
		c.addArrayLen(2)
		c.addBulk(host)
		c.addBulk(port)
	case n == 2 && redisargs.EqualFold(sub, "help"):
		c.addRaw(c.srv.tbl.help["sentinel"])
	case redisargs.EqualFold(sub, "masters"):
		b.RenderMasters(c.mapWriter())
	case redisargs.EqualFold(sub, "master"):
		if err := b.RenderMaster(argv[2], c.mapWriter()); err != nil {
			c.addBackendError(err)
		}
	case redisargs.EqualFold(sub, "slaves"), redisargs.EqualFold(sub, "replicas"):
		if err := b.RenderReplicas(argv[2], c.mapWriter()); err != nil {
			c.addBackendError(err)
		}
	case redisargs.EqualFold(sub, "sentinels"):
		if err := b.RenderSentinels(argv[2], c.mapWriter()); err != nil {
			c.addBackendError(err)
		}
	case redisargs.EqualFold(sub, "myid") && n == 2:
		c.addBulk(b.MyID())
	case redisargs.EqualFold(sub, "is-master-down-by-addr"):
		port, ok := string2ll(argv[3])
		if !ok {
			c.addError(errNotInteger)
			return
		}
		epoch, ok := string2ll(argv[4])
		if !ok {
			c.addError(errNotInteger)
			return
		}
		down, leader, leaderEpoch := b.IsMasterDownByAddr(argv[2], int(port), uint64(epoch), argv[5])
		if leader == "" {
			leader = "*"
		}
		c.addArrayLen(3)
		if down {
			c.addInt(1)
		} else {
			c.addInt(0)
		}
		c.addBulk(leader)
		c.addInt(int64(leaderEpoch))
	case redisargs.EqualFold(sub, "reset"):
		c.addInt(int64(b.Reset(argv[2])))
	case redisargs.EqualFold(sub, "failover"):
		// Valkey 9's SENTINEL FAILOVER <name> [COORDINATED] (see
		// coordinatedFailover): gosentinel's switchover always pauses
		// the old master and waits for the replica to catch up, so the
		// option asks for what it does anyway.
		if n == 4 && !redisargs.EqualFold(argv[3], "coordinated") {
			if err := b.RenderMaster(argv[2], noMaps{}); err != nil {
				c.addBackendError(err)
				return
			}
			c.addErr("Unknown failover option specified")
			return
		}
		c.addOKOrError(b.Failover(argv[2]))
	case redisargs.EqualFold(sub, "pending-scripts"):
		c.addPendingScripts(b.PendingScripts())
	case redisargs.EqualFold(sub, "monitor"):
		err := b.Monitor(argv[2], argv[3], argv[4], argv[5])
		c.addOKOrError(err)
		if err == nil || errors.Is(err, ErrFlushConfig) {
			// Queue the reply first so the event follows it on this
			// connection too, as in sentinel.c.
			c.commit()
			b.AfterMonitor(argv[2])
		}
	case redisargs.EqualFold(sub, "flushconfig"):
		c.addOKOrError(b.FlushConfig())
	case redisargs.EqualFold(sub, "remove"):
		c.addOKOrError(b.Remove(argv[2]))
	case redisargs.EqualFold(sub, "ckquorum"):
		text, err := b.CKQuorum(argv[2])
		if err != nil {
			c.addBackendError(err)
			return
		}
		c.addStatus(text)
	case redisargs.EqualFold(sub, "set"):
		c.addOKOrError(b.Set(argv[2], argv[3:]))
	case redisargs.EqualFold(sub, "config"):
		sentinelConfig(c, argv)
	case redisargs.EqualFold(sub, "info-cache"):
		c.addInfoCache(b.InfoCache(argv[2:]))
	case redisargs.EqualFold(sub, "simulate-failure"):
		sentinelSimulateFailure(c, argv)
	case redisargs.EqualFold(sub, "maintenance"):
		sentinelMaintenance(c, argv)
	case redisargs.EqualFold(sub, "debug"):
		f, err := b.Debug(argv[2:])
		switch {
		case err != nil:
			c.addBackendError(err)
		case n == 2:
			c.addFields(f)
		default:
			c.addOK()
		}
	default:
		c.addError(errSubcommandSyntax(argv))
	}
}

func (c *client) addOKOrError(err error) {
	if err != nil {
		c.addBackendError(err)
		return
	}
	c.addOK()
}

// addPendingScripts writes SENTINEL PENDING-SCRIPTS: an array of 5-field
// maps with bulk-string numbers.
func (c *client) addPendingScripts(list []PendingScript) {
	c.addArrayLen(len(list))
	for _, p := range list {
		c.addMapLen(5)
		c.addBulk("argv")
		c.addArrayLen(len(p.Argv))
		for _, a := range p.Argv {
			c.addBulk(cstr(a))
		}
		c.addBulk("flags")
		if p.Running {
			c.addBulk("running")
		} else {
			c.addBulk("scheduled")
		}
		c.addBulk("pid")
		c.addBulkInt(int64(p.Pid))
		if p.Running {
			c.addBulk("run-time")
			c.addBulkInt(p.RunTimeMillis)
		} else {
			c.addBulk("run-delay")
			c.addBulkInt(max(p.RunDelayMillis, 0))
		}
		c.addBulk("retry-num")
		c.addBulk(strconv.Itoa(p.RetryNum))
	}
}

// addInfoCache writes SENTINEL INFO-CACHE: [name, [[age, info|null] ...], ...].
func (c *client) addInfoCache(list []InfoCacheMaster) {
	c.addArrayLen(2 * len(list))
	for _, m := range list {
		c.addBulk(m.Name)
		c.addArrayLen(len(m.Entries))
		for _, e := range m.Entries {
			c.addArrayLen(2)
			c.addInt(e.AgeMillis)
			if e.Valid {
				c.addBulk(e.Info)
			} else {
				c.addNull()
			}
		}
	}
}

// sentinelSimulateFailure validates the flags in order like redis: the
// flags are cleared first, each valid one is applied, HELP or an unknown
// word stops the loop (with what was set so far still applied).
func sentinelSimulateFailure(c *client, argv []string) {
	var flags []string
	for _, a := range argv[2:] {
		switch {
		case redisargs.EqualFold(a, "crash-after-election"):
			flags = append(flags, "crash-after-election")
		case redisargs.EqualFold(a, "crash-after-promotion"):
			flags = append(flags, "crash-after-promotion")
		case redisargs.EqualFold(a, "help"):
			c.srv.cfg.Backend.SimulateFailure(flags)
			c.addArrayLen(2)
			c.addBulk("crash-after-election")
			c.addBulk("crash-after-promotion")
			return
		default:
			c.srv.cfg.Backend.SimulateFailure(flags)
			c.addErr("Unknown failure simulation specified")
			return
		}
	}
	c.srv.cfg.Backend.SimulateFailure(flags)
	c.addOK()
}

// sentinelConfig is SENTINEL CONFIG GET/SET: one parameter in the 7.0
// profile, several from 7.2 on (the 8.0 profile), with that version's
// usage error.
func sentinelConfig(c *client, argv []string) {
	b, n := c.srv.cfg.Backend, len(argv)
	if !c.srv.cfg.Compat.MultiConfig() {
		switch {
		case redisargs.EqualFold(argv[2], "set") && n == 5:
			c.addOKOrError(b.ConfigSet(argv[3:]))
		case redisargs.EqualFold(argv[2], "get") && n == 4:
			c.addFields(b.ConfigGet(argv[3:]))
		default:
			c.addErr("Only SENTINEL CONFIG GET <option> / SET <option> <value> are supported.")
		}
		return
	}
	if n < 4 {
		c.addError(errArity(c.curCmd))
		return
	}
	switch {
	case redisargs.EqualFold(argv[2], "set") && n >= 5:
		c.addOKOrError(b.ConfigSet(argv[3:]))
	case redisargs.EqualFold(argv[2], "get"):
		c.addFields(b.ConfigGet(argv[3:]))
	default:
		c.addErr("Only SENTINEL CONFIG GET <param> [<param> <param> ...] / SET <param> <value> [<param> <value> ...] are supported.")
	}
}
