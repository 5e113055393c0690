package config

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"syscall"

	"github.com/x0tta6bl4/gosentinel/internal/redisargs"
	"github.com/x0tta6bl4/gosentinel/monitor"
	"github.com/x0tta6bl4/gosentinel/quorum"
)

// preMonitorDirectives are applied before every monitor line (sentinel.c:preMonitorCfgName).
var preMonitorDirectives = map[string]bool{
	"announce-ip": true, "announce-port": true, "deny-scripts-reconfig": true,
	"sentinel-user": true, "sentinel-pass": true, "current-epoch": true, "myid": true,
	"resolve-hostnames": true, "announce-hostnames": true,
	"cluster-peers": true, "cluster-secret": true, "cluster-size": true,
}

// Error texts of sentinel.c:sentinelHandleConfiguration and sentinelCheckCreateInstanceErrors.
const (
	errNoSuchMaster     = "No such master with specified name."
	errUnrecognized     = "Unrecognized sentinel configuration statement."
	errQuorum           = "Quorum must be 1 or greater."
	errDuplicateMaster  = "Duplicate master name."
	errDuplicateReplica = "Duplicate hostname and port for replica."
	errDuplicateRunID   = "Duplicate runid for sentinel."
	errResolve          = "Can't resolve instance hostname."
	errInvalidPort      = "Invalid port number."
	errTimeParam        = "negative or zero time parameter."
	errNegativeTime     = "negative time parameter."
	errRenameTwice      = "Same command renamed multiple times with rename-command."
	// gosentinel's own.
	errClusterSize      = "cluster-size must be a number of sentinels, 1 or greater."
	errClusterPeers     = "cluster-peers takes host:port addresses separated by spaces, e.g. 10.0.0.2:26379, not %.128q."
	errEpochTooLarge    = "Epoch beyond 2^62: a forged or wrapped one (redis-sentinel reads -1 as 2^64-1). Write the largest epoch the other sentinels show instead."
	errMyID             = "Malformed Sentinel id in myid option."
	errDenyScripts      = "Please specify yes or no for the deny-scripts-reconfig options."
	errResolveHostnames = "Please specify yes or no for the resolve-hostnames option."
	errAnnounceHosts    = "Please specify yes or no for the announce-hostnames option."
)

// queueSentinel is sentinel.c:queueSentinelConfig.
func (l *loader) queueSentinel(line int, text string, args []string) {
	q := queuedSentinel{args: cloneStrings(args), line: line, text: text}
	switch name := redisargs.Lower(args[0]); {
	case name == "monitor":
		l.sentinelQueue[1] = append(l.sentinelQueue[1], q)
	case preMonitorDirectives[name]:
		l.sentinelQueue[0] = append(l.sentinelQueue[0], q)
	default:
		l.sentinelQueue[2] = append(l.sentinelQueue[2], q)
	}
}

// applySentinelQueue is sentinel.c:loadSentinelConfigFromQueue.
func (l *loader) applySentinelQueue() error {
	for _, pass := range l.sentinelQueue {
		for _, q := range pass {
			if msg := l.sentinelDirective(q.args); msg != "" {
				return l.fatal(q.line, q.text, msg)
			}
		}
	}
	return nil
}

// instanceHost validates host like createSentinelAddr and returns what redis stores and
// prints for it (announceSentinelAddr): a numeric address normalized, a hostname as written.
// With announce-hostnames redis would print a numeric address as written (127.1), but it
// dials the normalized IP, and a sentinel dials what it keeps: Go's dialer takes 127.1 for a
// name it cannot resolve.
func (l *loader) instanceHost(host string) (string, string) {
	ip, ok := NormalizeIP(host)
	if !ok {
		if !l.cfg.ResolveHostnames {
			return "", errResolve
		}
		// Hostnames are resolved by the node; the config keeps them as written.
		return host, ""
	}
	return ip, ""
}

// instanceAddr is createSentinelAddr: port range first, then the host.
func (l *loader) instanceAddr(host, port string) (Addr, string) {
	p := atoi(port)
	if p < 0 || p > 65535 {
		return Addr{}, errInvalidPort
	}
	h, msg := l.instanceHost(host)
	if msg != "" {
		return Addr{}, msg
	}
	return Addr{Host: h, Port: p}, ""
}

// scriptExecutable is access(path, X_OK) relative to the directory redis would be in.
func (l *loader) scriptExecutable(path string) bool {
	if path == "" || strings.IndexByte(path, 0) >= 0 {
		return false
	}
	p := path
	if p[0] != '/' {
		p = l.cwd + "/" + p
	}
	return syscall.Access(p, 1) == nil
}

// masterOption sets a per-master option (quorum.Options) from its
// sentinel.conf line, with sentinel.c:sentinelHandleConfiguration's checks:
// numbers are read by atoi; times must be positive (or not negative, for
// master-reboot-down-after-period), parallel-syncs is not checked; scripts
// must be executables; a command is renamed once.
func (l *loader) masterOption(m *Master, o *quorum.Option, v []string) string {
	switch o.Kind {
	case quorum.OptMillis:
		n := atoi(v[0])
		if n <= 0 {
			return errTimeParam
		}
		o.SetNumber(&m.Settings, int64(n))
	case quorum.OptMillisOrZero:
		n := atoi(v[0])
		if n < 0 {
			return errNegativeTime
		}
		o.SetNumber(&m.Settings, int64(n))
	case quorum.OptCount:
		o.SetNumber(&m.Settings, int64(atoi(v[0])))
	case quorum.OptScript:
		if !l.scriptExecutable(v[0]) {
			return o.ScriptError + "."
		}
		if err := o.Apply(&m.Settings, v); err != nil {
			return err.Error()
		}
	case quorum.OptRename:
		for _, rc := range m.RenameCommands {
			if redisargs.EqualFold(rc[0], v[0]) {
				return errRenameTwice
			}
		}
		m.RenameCommands = append(m.RenameCommands, [2]string{v[0], v[1]})
	default:
		if err := o.Apply(&m.Settings, v); err != nil {
			return err.Error()
		}
	}
	return ""
}

// sentinelDirective is sentinel.c:sentinelHandleConfiguration; it returns redis' error text.
func (l *loader) sentinelDirective(argv []string) string {
	c := l.cfg
	name := redisargs.Lower(argv[0])
	argc := len(argv)
	master := func() *Master { return c.Master(argv[1]) }

	if o, ok := quorum.LookupOption(name); ok && o.Directive && argc == 2+o.Arity() {
		m := master()
		if m == nil {
			return errNoSuchMaster
		}
		return l.masterOption(m, o, argv[2:])
	}
	switch {
	case name == "monitor" && argc == 5:
		q := atoi(argv[4])
		if q <= 0 {
			return errQuorum
		}
		addr, msg := l.instanceAddr(argv[2], argv[3])
		if msg != "" {
			return msg
		}
		if master() != nil {
			return errDuplicateMaster
		}
		c.Masters = append(c.Masters, &Master{Name: argv[1], Host: addr.Host, Port: addr.Port,
			Settings: quorum.Settings{Quorum: q, ParallelSyncs: DefaultParallelSyncs}})
	case name == "current-epoch" && argc == 2:
		e := strtoull(argv[1])
		if e > monitor.MaxEpoch {
			return errEpochTooLarge
		}
		if e > c.CurrentEpoch {
			c.CurrentEpoch = e
		}
	case name == "myid" && argc == 2:
		if len(argv[1]) != RunIDSize || strings.IndexByte(argv[1], 0) >= 0 {
			return errMyID
		}
		c.MyID = argv[1]
	case name == "config-epoch" && argc == 3:
		m := master()
		if m == nil {
			return errNoSuchMaster
		}
		m.ConfigEpoch = strtoull(argv[2])
		if m.ConfigEpoch > monitor.MaxEpoch {
			return errEpochTooLarge
		}
		if m.ConfigEpoch > c.CurrentEpoch {
			c.CurrentEpoch = m.ConfigEpoch
		}
	case name == "leader-epoch" && argc == 3:
		m := master()
		if m == nil {
			return errNoSuchMaster
		}
		m.LeaderEpoch = strtoull(argv[2])
		if m.LeaderEpoch > monitor.MaxEpoch {
			return errEpochTooLarge
		}
	case (name == "known-slave" || name == "known-replica") && argc == 4:
		m := master()
		if m == nil {
			return errNoSuchMaster
		}
		addr, msg := l.instanceAddr(argv[2], argv[3])
		if msg != "" {
			return msg
		}
		for _, r := range m.KnownReplicas {
			if r == addr {
				return errDuplicateReplica
			}
		}
		m.KnownReplicas = append(m.KnownReplicas, addr)
	case name == "known-sentinel" && (argc == 4 || argc == 5):
		if argc == 4 {
			return "" // the old form without runid is ignored
		}
		m := master()
		if m == nil {
			return errNoSuchMaster
		}
		addr, msg := l.instanceAddr(argv[2], argv[3])
		if msg != "" {
			return msg
		}
		for _, s := range m.KnownSentinels {
			if s.RunID == argv[4] {
				return errDuplicateRunID
			}
		}
		m.KnownSentinels = append(m.KnownSentinels, KnownSentinel{Addr: addr, RunID: argv[4]})
	case name == "announce-ip" && argc == 2:
		if argv[1] != "" {
			c.AnnounceIP = argv[1]
		}
	case name == "announce-port" && argc == 2:
		c.AnnouncePort = atoi(argv[1])
	case name == "deny-scripts-reconfig" && argc == 2:
		v, ok := yesNo(argv[1])
		if !ok {
			return errDenyScripts
		}
		c.DenyScriptsReconfig = v
	case name == "sentinel-user" && argc == 2:
		if argv[1] != "" {
			c.SentinelUser = argv[1]
		}
	case name == "sentinel-pass" && argc == 2:
		if argv[1] != "" {
			c.SentinelPass = argv[1]
		}
	case name == "cluster-peers" && argc >= 2:
		for _, a := range argv[1:] {
			if !IsHostPort(a) {
				return fmt.Sprintf(errClusterPeers, a)
			}
		}
		c.ClusterPeers = append([]string(nil), argv[1:]...)
	case name == "cluster-secret" && argc == 2:
		c.ClusterSecret = argv[1]
	case name == "cluster-size" && argc == 2:
		n, err := strconv.Atoi(argv[1])
		if err != nil || n < 1 {
			return errClusterSize
		}
		c.ClusterSize = n
	case name == "resolve-hostnames" && argc == 2:
		v, ok := yesNo(argv[1])
		if !ok {
			return errResolveHostnames
		}
		c.ResolveHostnames = v
	case name == "announce-hostnames" && argc == 2:
		v, ok := yesNo(argv[1])
		if !ok {
			return errAnnounceHosts
		}
		c.AnnounceHostnames = v
	default:
		return errUnrecognized
	}
	return ""
}

// IsHostPort tells whether a is host:port with a host and a port from 1 to
// 65535 (a seed sentinel's address).
func IsHostPort(a string) bool {
	host, port, err := net.SplitHostPort(a)
	if err != nil || host == "" {
		return false
	}
	p, err := strconv.Atoi(port)
	return err == nil && p >= 1 && p <= 65535
}
