package config

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/x0tta6bl4/gosentinel/internal/compat"
	"github.com/x0tta6bl4/gosentinel/internal/redisargs"
	"github.com/x0tta6bl4/gosentinel/internal/strerror"
)

// Load reads the file and then applies the command line overrides (each element is one
// directive line's words, e.g. {"port","26380"} from `--port 26380`, or {"sentinel"} from
// `--sentinel`, which is accepted and ignored), exactly like redis-server's argv handling:
// the overrides are appended to the file text as extra lines. The path is made absolute first
// (redis does so before `dir` changes the working directory). Besides what Parse checks, Load
// opens the log file for appending like redis does. A bad file returns a *FatalError; an
// unreadable file returns a wrapped os error.
func Load(path string, overrides [][]string) (*Config, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("config: resolve path %q: %w", path, err)
	}
	data, err := os.ReadFile(abs)
	if err != nil {
		return nil, fmt.Errorf("config: can't open config file '%s': %w", abs, err)
	}
	l, err := newLoader(abs)
	if err != nil {
		return nil, err
	}
	l.checkLogFile = true
	return l.run(data, overrides)
}

// Parse is Load on bytes (used by the fuzz test); name is used in error messages and as
// Config.Path (made absolute). It has no side effects on the file system: it only looks at
// it (dir must exist, scripts must be executable), and does not open the log file.
func Parse(name string, data []byte, overrides [][]string) (*Config, error) {
	abs := name
	if name != "" {
		if a, err := filepath.Abs(name); err == nil {
			abs = a
		}
	}
	l, err := newLoader(abs)
	if err != nil {
		return nil, err
	}
	return l.run(data, overrides)
}

// loader holds the state of one load, like redis' globals during loadServerConfig.
type loader struct {
	cfg          *Config
	cwd          string // the working directory redis would have after the `dir` lines so far
	checkLogFile bool

	sentinelQueue [3][]queuedSentinel // pre-monitor, monitor, post-monitor
	commands      commandNames        // the sentinel command table, for rename-command
}

// queuedSentinel is one `sentinel ...` line waiting for loadSentinelConfigFromQueue.
type queuedSentinel struct {
	args []string // without the leading "sentinel"
	line int
	text string
}

func newLoader(path string) (*loader, error) {
	// getcwd(2), as redis: the physical directory. os.Getwd answers $PWD
	// when it names the same directory through a symlink, and the rewrite
	// would write that where redis writes the physical one.
	cwd, err := syscall.Getwd()
	if err != nil {
		return nil, fmt.Errorf("config: get working directory: %w", err)
	}
	cfg := newDefaultConfig()
	cfg.Path = path
	cfg.Dir = cwd
	return &loader{cfg: cfg, cwd: cwd, commands: newCommandNames()}, nil
}

// sentinelCommands is the command table of redis-sentinel 7.0.15 (COMMAND LIST, top level),
// which is what rename-command sees in sentinel mode.
var sentinelCommands = []string{"acl", "auth", "client", "command", "hello", "info", "ping",
	"psubscribe", "publish", "punsubscribe", "role", "sentinel", "shutdown", "subscribe",
	"unsubscribe"}

// overrideText renders the command line overrides the way redis-server's main() builds its
// options string: the option name as typed, each argument quoted with sdscatrepr.
func overrideText(overrides [][]string) string {
	lines := make([]string, 0, len(overrides))
	for _, o := range overrides {
		if len(o) == 0 {
			continue
		}
		if len(o) == 1 && redisargs.EqualFold(o[0], "save") {
			o = []string{o[0], ""} // `--save` without value means `save ""`
		}
		parts := []string{o[0]}
		for _, a := range o[1:] {
			parts = append(parts, repr(a))
		}
		lines = append(lines, strings.Join(parts, " "))
	}
	return strings.Join(lines, "\n")
}

// configReadLen is config.c's CONFIG_READ_LEN: loadServerConfig reads the file with
// fgets(buf, CONFIG_READ_LEN+1, fp), so in pieces of at most this many bytes.
const configReadLen = 1024

// configText is the text redis' loadServerConfig builds from the file's bytes before it splits
// it into lines: it reads them with fgets, in pieces of at most configReadLen bytes that end
// at the first newline, and appends each piece with sdscat, which stops at the piece's first
// NUL. So a NUL drops the rest of its piece, its newline included, and the line runs on into
// the next piece ("foo\0x\nbar\n" is the line "foobar"); the text holds no NUL.
func configText(data []byte) string {
	var b strings.Builder
	b.Grow(len(data))
	for len(data) > 0 {
		n := min(len(data), configReadLen)
		if i := bytes.IndexByte(data[:n], '\n'); i >= 0 {
			n = i + 1
		}
		piece := data[:n]
		if i := bytes.IndexByte(piece, 0); i >= 0 {
			piece = piece[:i]
		}
		b.Write(piece)
		data = data[n:]
	}
	return b.String()
}

func (l *loader) run(data []byte, overrides [][]string) (*Config, error) {
	text := configText(data) + "\n" + overrideText(overrides)
	lines := strings.Split(text, "\n")
	for i, raw := range lines {
		if err := l.line(i+1, raw); err != nil {
			return nil, err
		}
	}
	if err := l.finishFile(); err != nil {
		return nil, err
	}
	if err := l.applySentinelQueue(); err != nil {
		return nil, err
	}
	return l.cfg, nil
}

func (l *loader) fatal(line int, text, reason string) *FatalError {
	return &FatalError{File: l.cfg.Path, Line: line, Text: text, Reason: reason}
}

// trimLine is sdstrim(line, " \t\r\n"); the text holds no NUL (configText, and the
// overrides are quoted).
func trimLine(s string) string {
	return strings.Trim(s, " \t\r\n")
}

// line processes one line like the loop of loadServerConfigFromString.
func (l *loader) line(num int, raw string) error {
	text := trimLine(raw)
	if text == "" || text[0] == '#' {
		return nil
	}
	argv, err := splitArgs(text)
	if err != nil {
		return l.fatal(num, text, "Unbalanced quotes in configuration line")
	}
	if len(argv) == 0 {
		return nil
	}
	name := redisargs.Lower(argv[0])
	args := argv[1:]

	if sc := lookupStdConfig(name); sc != nil {
		if !sc.multiArg && len(argv) != 2 {
			return l.fatal(num, text, "wrong number of arguments")
		}
		if sc.multiArg && len(args) == 1 && args[0] != "" {
			// "--save '900 1'" style: a single argument holding several words.
			split, err := splitArgs(args[0])
			if err != nil {
				split = nil
			}
			args = split
		}
		if msg := l.standard(sc, args); msg != "" {
			return l.fatal(num, text, msg)
		}
		if sc.name == "loglevel" {
			l.cfg.logLevelSource = userSource{num, text}
		}
		if !isModeled(sc.name) {
			l.cfg.Generic = append(l.cfg.Generic, Directive{Name: name, Args: cloneStrings(argv[1:]), Line: num})
		}
		return nil
	}
	if deprecatedConfigs[name] && len(argv) == 2 {
		return nil
	}
	switch {
	case name == "include" && len(argv) == 2:
		return l.fatal(num, text, "include is not supported by gosentinel: inline the included file")
	case name == "rename-command" && len(argv) == 3:
		if msg := l.renameCommand(args[0], args[1]); msg != "" {
			return l.fatal(num, text, msg)
		}
		l.cfg.Generic = append(l.cfg.Generic, Directive{Name: name, Args: cloneStrings(args), Line: num})
	case name == "user" && len(argv) >= 2:
		// Checked by the ACL engine at start (see acl.go).
		l.cfg.Users = append(l.cfg.Users, cloneStrings(args))
		l.cfg.userSources = append(l.cfg.userSources, userSource{num, text})
	case name == "loadmodule" && len(argv) >= 2:
		l.cfg.Generic = append(l.cfg.Generic, Directive{Name: name, Args: cloneStrings(args), Line: num})
	case strings.IndexByte(name, '.') >= 0:
		if len(argv) < 2 {
			return l.fatal(num, text, "Module config specified without value")
		}
		l.cfg.Generic = append(l.cfg.Generic, Directive{Name: name, Args: cloneStrings(args), Line: num})
	case name == "compat-version" && len(argv) == 2:
		p, err := compat.Parse(args[0])
		if err != nil {
			return l.fatal(num, text, err.Error())
		}
		l.cfg.Compat = p
	case name == "metrics-addr" && len(argv) == 2:
		addr, err := ParseMetricsAddr(args[0])
		if err != nil {
			return l.fatal(num, text, err.Error())
		}
		l.cfg.MetricsAddr = addr
	case name == "sentinel":
		// A bare "sentinel" (from --sentinel) only selects sentinel mode.
		if len(argv) > 1 {
			l.queueSentinel(num, text, args)
		}
	default:
		return l.fatal(num, text, "Bad directive or wrong number of arguments")
	}
	return nil
}

// renameCommand applies a top-level rename-command to the sentinel command table.
func (l *loader) renameCommand(from, to string) string { return l.commands.rename(from, to) }

// finishFile runs the checks redis does after the last line (before the sentinel queue).
func (l *loader) finishFile() error {
	if l.checkLogFile && l.cfg.LogFile != "" {
		p := l.cfg.LogFile
		if !filepath.IsAbs(p) {
			p = filepath.Join(l.cwd, p)
		}
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o666)
		if err != nil {
			return l.fatal(0, "", "Can't open the log file: "+strerror.Of(err))
		}
		_ = f.Close()
	}
	return nil
}

// chdir computes the directory `dir <arg>` would switch to, checking it like chdir(2), and
// returns its canonical absolute path (what getcwd reports afterwards).
func (l *loader) chdir(arg string) (string, string) {
	if arg == "" {
		return "", strerror.Errno(syscall.ENOENT)
	}
	p := arg
	if !filepath.IsAbs(p) {
		p = filepath.Join(l.cwd, p)
	}
	fi, err := os.Stat(p)
	if err != nil {
		return "", strerror.Of(err)
	}
	if !fi.IsDir() {
		return "", strerror.Errno(syscall.ENOTDIR)
	}
	if err := syscall.Access(p, 1); err != nil { // X_OK: search permission
		return "", strerror.Of(err)
	}
	if real, err := filepath.EvalSymlinks(p); err == nil {
		p = real
	}
	return filepath.Clean(p), ""
}
