package config

import "github.com/x0tta6bl4/gosentinel/internal/redisargs"

// modeledConfigs are the standard redis configs gosentinel reads into Config fields; every
// other standard config is kept in Config.Generic.
var modeledConfigs = map[string]bool{
	"port": true, "bind": true, "dir": true, "logfile": true, "loglevel": true,
	"daemonize": true, "pidfile": true, "protected-mode": true, "requirepass": true,
	"aclfile": true, "tls-port": true, "tls-cert-file": true, "tls-key-file": true,
	"tls-ca-cert-file": true, "tls-replication": true, "tls-auth-clients": true,
}

func isModeled(name string) bool { return modeledConfigs[name] }

// standard validates one standard config line (args already split for multi-arg configs)
// and stores modeled values. It returns redis' error text or "".
func (l *loader) standard(sc *stdConfig, args []string) string {
	if sc.name == "dir" {
		if len(args) != 1 {
			return "wrong number of arguments"
		}
		dir, msg := l.chdir(args[0])
		if msg != "" {
			return msg
		}
		l.cwd, l.cfg.Dir = dir, dir
		return ""
	}
	if sc.name == "bind" {
		if _, msg := parseSpecial("bind", args); msg != "" {
			return msg
		}
		if len(args) == 1 && args[0] == "" {
			args = nil
		}
		l.cfg.Bind = append([]string{}, args...)
		return ""
	}
	if sc.name == "loglevel" && len(args) == 1 && redisargs.EqualFold(args[0], "nothing") {
		// Redis 7.2 added "nothing", which the 8.0 profile's SENTINEL
		// CONFIG SET loglevel may write; 7.0.15's table lacks it (and its
		// error text, which lists the table, is kept). The profile is
		// known only after the file: the node refuses it under 7.0
		// (LogLevelError).
		l.cfg.LogLevel = "nothing"
		return ""
	}
	if sc.name == "proc-title-template" && len(args) == 1 && !validProcTitleTemplate(args[0], l.unixSocket()) {
		return errProcTitleTemplate
	}
	v, msg := sc.parse(args)
	if msg != "" {
		return msg
	}
	c := l.cfg
	switch sc.name {
	case "port":
		c.Port = atoi(args[0])
	case "tls-port":
		c.TLSPort = atoi(args[0])
	case "logfile":
		c.LogFile = args[0]
	case "loglevel":
		c.LogLevel = v.canonical
	case "daemonize":
		c.Daemonize = v.canonical == "yes"
	case "protected-mode":
		c.ProtectedMode = v.canonical == "yes"
	case "tls-replication":
		c.TLSReplication = v.canonical == "yes"
	case "tls-auth-clients":
		c.TLSAuthClients = v.canonical
	case "pidfile":
		c.PidFile = args[0]
	case "requirepass":
		c.RequirePass, c.HasRequirePass = args[0], args[0] != ""
	case "aclfile":
		c.ACLFile = args[0]
	case "tls-cert-file":
		c.TLSCertFile = args[0]
	case "tls-key-file":
		c.TLSKeyFile = args[0]
	case "tls-ca-cert-file":
		c.TLSCACertFile = args[0]
	}
	return ""
}

// unixSocket is the value of the last unixsocket line read so far ("" for none: redis keeps
// an empty one as NULL).
func (l *loader) unixSocket() string {
	for i := len(l.cfg.Generic) - 1; i >= 0; i-- {
		if d := l.cfg.Generic[i]; d.Name == "unixsocket" && len(d.Args) == 1 {
			return d.Args[0]
		}
	}
	return ""
}
