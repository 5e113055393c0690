// Command gosentinel is a drop-in replacement for redis-sentinel. It is
// started exactly like it:
//
//	gosentinel /path/to/sentinel.conf [--port 26380] [--<directive> <value> ...]
//	gosentinel /path/to/sentinel.conf --sentinel
//
// All the work is done by package node; this file only turns argv into a
// config, handles signals and exit codes.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/x0tta6bl4/gosentinel/config"
	"github.com/x0tta6bl4/gosentinel/internal/codepages"
	"github.com/x0tta6bl4/gosentinel/node"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

const usage = `Usage: gosentinel /path/to/sentinel.conf [options]
       gosentinel /path/to/sentinel.conf --sentinel [options]
       gosentinel -v or --version
       gosentinel -h or --help

Options are sentinel.conf directives written as --<name> <value> [<value> ...],
applied after the file, exactly as redis-sentinel does:

       gosentinel sentinel.conf --port 26380
       gosentinel sentinel.conf --loglevel verbose --logfile ""

gosentinel speaks the Redis Sentinel 7.0 protocol (RESP2 and RESP3) and
rewrites its config file like redis-sentinel.
`

// subcommands are the first arguments that are not a config file: tools
// for probes and hooks that talk to a running gosentinel.
var subcommands = map[string]struct {
	run     func(args []string, stdout, stderr io.Writer) int
	summary string
}{
	"prestop": {runPrestop, "hand the master role away before the pod stops (preStop hook)"},
	"health":  {runHealth, "exit 0 when the local sentinel answers PING, or an HTTP health endpoint 200 (exec probes)"},
}

// writeHelp prints the usage, the subcommands, and every setting of
// gosentinel's own (config.Extensions).
func writeHelp(w io.Writer) {
	fmt.Fprint(w, usage)
	fmt.Fprintln(w, "\nSubcommands (gosentinel <subcommand> --help for their options):")
	names := make([]string, 0, len(subcommands))
	for name := range subcommands {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		fmt.Fprintf(w, "       gosentinel %-8s %s\n", name, subcommands[name].summary)
	}
	fmt.Fprintln(w, "\nSettings of gosentinel's own, besides redis-sentinel's directives")
	fmt.Fprintln(w, "(where both forms exist, the environment variable wins):")
	for _, e := range config.Extensions {
		fmt.Fprintln(w)
		if e.Directive != "" {
			fmt.Fprintf(w, "  %s\n", e.Directive)
		}
		if e.Env != "" {
			fmt.Fprintf(w, "  %s\n", e.Env)
		}
		fmt.Fprintf(w, "      %s (default: %s)\n", e.Meaning, e.Default)
	}
}

func main() {
	noHeapSampling()
	oneProcessor()
	smallerHeap()
	// As redis-server: a hang-up (a closed terminal, `kill -HUP` from a
	// logrotate or reload hook) does not stop a sentinel, and neither does
	// a closed log pipe (a write to it fails instead).
	signal.Ignore(syscall.SIGHUP, syscall.SIGPIPE)
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// noHeapSampling turns off the heap profile's sampling unless the profiles
// are served (GOSENTINEL_PPROF). Go samples an allocation per 512 KB by
// default and keeps a record per distinct stack in a table of 1.4 MB
// whose pages the records touch all over: at 1000 masters about 1.5 MB
// of a sentinel's resident memory, for a profile nobody can read.
func noHeapSampling() {
	if !config.ProfilesOn() {
		runtime.MemProfileRate = 0
	}
}

// oneProcessor runs Go code on one processor at a time (GOMAXPROCS 1), as
// redis-sentinel runs on one thread, unless GOMAXPROCS is set. A sentinel's
// work is small and mostly waiting; with more processors the scheduler
// spins threads looking for work and wakes goroutines across cores, which
// cost more CPU than the parallelism gives back. Measured on 2 cores
// (bench-cmdrate, SENTINEL GET-MASTER-ADDR-BY-NAME, 50 clients, pipeline
// 16): 0.86x redis-sentinel's throughput with 2 processors, at least 1.0x
// with 1 (docs/RESULTS.md). System calls still run off the processor.
func oneProcessor() {
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(1)
	}
}

// smallerHeap collects garbage once the heap has grown by a quarter of
// what was live after the last collection (GOGC 25) rather than Go's
// default of all of it, unless GOGC is set. A sentinel keeps little live
// data and allocates slowly (about 0.4 MB a second at 500 masters), so
// collecting four times as often costs little CPU, while the heap's
// headroom is most of its resident memory above the live data: at 1000
// masters GOGC 50 took a sentinel's RSS from 57 to 50 MB, and GOGC 25 from
// 35.8 to 33.6 MB at 5.4 and 6.0 % of a core (docs/RESULTS.md).
func smallerHeap() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(25)
	}
}

// startPagesAfter is when the start is over: the config read, the Raft
// store open, the group formed and the first links up take a few seconds,
// at 1000 masters too (docs/RESULTS.md).
const startPagesAfter = 30 * time.Second

// releaseStartPages gives back the binary's pages that only the start used
// (codepages): at 500 masters its binary's resident pages went from 12 to
// 8 MB in the steady state, its RSS from 25 to 21 MB (docs/RESULTS.md).
func releaseStartPages(log *slog.Logger) {
	n, err := codepages.Release()
	if err != nil {
		log.Warn("could not release the start-up code pages", "error", err)
		return
	}
	log.Debug("released the start-up code pages", "bytes", n)
}

// run is main without os.Exit, so it can be tested.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 1 {
		switch args[0] {
		case "-v", "--version":
			fmt.Fprintf(stdout, "gosentinel v=%s redis_version=%s (Redis Sentinel compatible)\n", version, node.RedisVersion())
			return 0
		case "-h", "--help":
			writeHelp(stdout)
			return 0
		}
	}
	if len(args) > 0 {
		if sub, ok := subcommands[args[0]]; ok {
			return sub.run(args[1:], stdout, stderr)
		}
	}
	if len(args) == 0 || strings.HasPrefix(args[0], "--") {
		fmt.Fprintln(stderr, "Sentinel needs config file on disk to save state. Exiting...")
		fmt.Fprint(stderr, usage)
		return 1
	}
	path, overrides, err := parseArgs(args)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	cfg, err := config.Load(path, overrides)
	if err != nil {
		fmt.Fprint(stderr, err.Error())
		if !strings.HasSuffix(err.Error(), "\n") {
			fmt.Fprintln(stderr)
		}
		return 1
	}
	if cfg.Dir != "" {
		if err := os.Chdir(cfg.Dir); err != nil {
			fmt.Fprintf(stderr, "Can't chdir to '%s': %s\n", cfg.Dir, err)
			return 1
		}
	}
	if cfg.PidFile != "" {
		if err := os.WriteFile(cfg.PidFile, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err == nil {
			defer os.Remove(cfg.PidFile)
		}
	}

	// SIGTERM and SIGINT are caught from here on, so that one during the
	// start (opening Raft, the listeners) still ends in a clean shutdown.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sigs)

	n, err := node.New(cfg, node.Options{Version: version})
	if errors.Is(err, node.ErrReported) {
		return 1
	}
	// A setting the node cannot honour (a tls-* directive) names its line
	// in the same block as the config file's own errors.
	var fatal *config.FatalError
	if errors.As(err, &fatal) {
		fmt.Fprintln(stderr, fatal.Error())
		return 1
	}
	if err != nil {
		fmt.Fprintf(stderr, "gosentinel: %s\n", err)
		return 1
	}
	if cfg.Daemonize {
		n.Logger().Warn("daemonize yes is ignored: gosentinel always runs in the foreground (use your supervisor)")
	}
	if err := checkWritable(cfg.Path); err != nil {
		// redis-sentinel exits here and crash-loops; we keep serving from
		// memory and say so once, loudly.
		n.Logger().Warn(fmt.Sprintf("Sentinel config file %s is not writable: %s. State changes will not survive a restart.", cfg.Path, err))
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	received := make(chan os.Signal, 1)
	go func() {
		select {
		case s := <-sigs:
			received <- s
			cancel()
		case <-ctx.Done():
		}
	}()
	release := time.AfterFunc(startPagesAfter, func() { releaseStartPages(n.Logger()) })
	defer release.Stop()
	serveErr := n.Serve(ctx)
	select {
	case s := <-received:
		n.Logger().Warn(fmt.Sprintf("Received %s scheduling shutdown...", signalName(s)))
	default:
	}
	n.Close()
	if serveErr != nil {
		fmt.Fprintf(stderr, "gosentinel: %s\n", serveErr)
		return 1
	}
	return 0
}

// signalName is a signal as redis' log names it.
func signalName(s os.Signal) string {
	switch s {
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return s.String()
}

// parseArgs splits "conf --name v1 v2 --other v" into the config path and
// one directive line per --name, the way redis-server builds its extra
// config from argv. As since redis 7.0.1, the argument after an option's
// bare name is its value even when it starts with "--" (`--requirepass
// --secret`), except after --save and --sentinel, which take none there
// (`--save --port 1`: save "", then port).
func parseArgs(args []string) (string, [][]string, error) {
	path := args[0]
	var out [][]string
	valueDue := false // the last argument was an option's bare name
	rest := args[1:]
	for j, a := range rest {
		if !valueDue && strings.HasPrefix(a, "--") && len(a) > 2 {
			name := a[2:]
			out = append(out, []string{name})
			// "--port 6380" in one argument carries its value.
			valueDue = !strings.ContainsAny(name, " \t")
			nextIsOption := j+1 < len(rest) && strings.HasPrefix(rest[j+1], "--")
			if valueDue && nextIsOption && (strings.EqualFold(name, "save") || strings.EqualFold(name, "sentinel")) {
				valueDue = false
			}
			continue
		}
		valueDue = false
		if len(out) == 0 {
			return "", nil, fmt.Errorf("unexpected argument %q: options are written --<directive> <value>", a)
		}
		out[len(out)-1] = append(out[len(out)-1], a)
	}
	return path, out, nil
}

// checkWritable tells whether the config file can be rewritten: the rewrite
// writes a temp file in its directory and renames it over the file
// (internal/atomicfile), so the directory must be writable and the file's
// own mode does not matter (a 0444 file is rewritten, keeping its mode).
func checkWritable(path string) error {
	dir := path[:strings.LastIndex(path, "/")+1]
	if dir == "" {
		dir = "."
	}
	if err := syscall.Access(dir, 2 /* W_OK */); err != nil {
		return errors.New("directory " + dir + " is not writable: " + err.Error())
	}
	return nil
}
