package quorum

import (
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
)

// hclogBridge sends hashicorp/raft's hclog output to a log/slog logger, so
// Raft's lines come out in the sentinel's own log format with a component
// attribute ("raft", "raft.net", "raft.snapshot").
type hclogBridge struct {
	l    *slog.Logger
	name string
	args []any
	// pace is shared by the loggers derived from one bridge.
	pace *pacer
}

func newHclogBridge(l *slog.Logger, name string) hclog.Logger {
	return &hclogBridge{l: l, name: name, pace: &pacer{every: time.Minute, next: map[string]time.Time{}, held: map[string]int{}}}
}

// repeatedWhileFull are raft errors that every RPC of a newer leader
// repeats for as long as a disk stays full (each refused heartbeat and
// append, about four a second): each is logged once a minute, with how
// many were not.
var repeatedWhileFull = map[string]bool{
	"failed to save current term": true,
	"failed to append to logs":    true,
}

// pacer lets a message through once per period, counting the others.
type pacer struct {
	every time.Duration
	mu    sync.Mutex
	next  map[string]time.Time
	held  map[string]int
}

// allow reports whether msg may be logged now and how many were held back.
func (p *pacer) allow(msg string, now time.Time) (bool, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if now.Before(p.next[msg]) {
		p.held[msg]++
		return false, 0
	}
	held := p.held[msg]
	p.next[msg], p.held[msg] = now.Add(p.every), 0
	return true, held
}

func slogLevel(level hclog.Level) slog.Level {
	switch level {
	case hclog.Trace:
		return slog.LevelDebug - 4
	case hclog.Debug:
		return slog.LevelDebug
	case hclog.Warn:
		return slog.LevelWarn
	case hclog.Error:
		return slog.LevelError
	default:
		return slog.LevelInfo
	}
}

// expectedByDesign are raft warnings about a behaviour we chose: they are
// logged at debug level, so an operator's log shows only what needs a look.
var expectedByDesign = map[string]bool{
	// Our ServerAddressProvider (addressProvider) knows only the members
	// whose current address it has learnt; for the others raft dials the
	// configuration's address, which is what we want, but warns on every
	// dial while a group forms.
	"unable to get address for server, using fallback address": true,
}

func (b *hclogBridge) Log(level hclog.Level, msg string, args ...any) {
	if level == hclog.Off {
		return
	}
	if level > hclog.Debug && expectedByDesign[msg] {
		level = hclog.Debug
	}
	if repeatedWhileFull[msg] && b.pace != nil {
		ok, held := b.pace.allow(msg, time.Now())
		if !ok {
			return
		}
		args = append(args[:len(args):len(args)], "not_logged_since_the_last", held)
	}
	lvl := slogLevel(level)
	ctx := context.Background()
	if !b.l.Enabled(ctx, lvl) {
		return
	}
	all := make([]any, 0, 2+len(b.args)+len(args))
	if b.name != "" {
		all = append(all, "component", b.name)
	}
	all = append(all, b.args...)
	all = append(all, args...)
	for i, a := range all {
		all[i] = expandFormat(a)
	}
	b.l.Log(ctx, lvl, msg, all...)
}

// expandFormat renders an hclog.Fmt value as hclog does (raft logs its
// initial configuration so); slog printed its format and arguments as a
// list: servers="[%+v []]".
func expandFormat(a any) any {
	f, ok := a.(hclog.Format)
	if !ok || len(f) == 0 {
		return a
	}
	format, ok := f[0].(string)
	if !ok {
		return a
	}
	return fmt.Sprintf(format, f[1:]...)
}

func (b *hclogBridge) Trace(msg string, args ...any) { b.Log(hclog.Trace, msg, args...) }
func (b *hclogBridge) Debug(msg string, args ...any) { b.Log(hclog.Debug, msg, args...) }
func (b *hclogBridge) Info(msg string, args ...any)  { b.Log(hclog.Info, msg, args...) }
func (b *hclogBridge) Warn(msg string, args ...any)  { b.Log(hclog.Warn, msg, args...) }
func (b *hclogBridge) Error(msg string, args ...any) { b.Log(hclog.Error, msg, args...) }

func (b *hclogBridge) enabled(level hclog.Level) bool {
	return b.l.Enabled(context.Background(), slogLevel(level))
}

func (b *hclogBridge) IsTrace() bool { return b.enabled(hclog.Trace) }
func (b *hclogBridge) IsDebug() bool { return b.enabled(hclog.Debug) }
func (b *hclogBridge) IsInfo() bool  { return b.enabled(hclog.Info) }
func (b *hclogBridge) IsWarn() bool  { return b.enabled(hclog.Warn) }
func (b *hclogBridge) IsError() bool { return b.enabled(hclog.Error) }

func (b *hclogBridge) ImpliedArgs() []any { return b.args }

func (b *hclogBridge) With(args ...any) hclog.Logger {
	c := *b
	c.args = append(append([]any(nil), b.args...), args...)
	return &c
}

func (b *hclogBridge) Name() string { return b.name }

func (b *hclogBridge) Named(name string) hclog.Logger {
	c := *b
	if c.name != "" {
		name = c.name + "." + name
	}
	c.name = name
	return &c
}

func (b *hclogBridge) ResetNamed(name string) hclog.Logger {
	c := *b
	c.name = name
	return &c
}

// SetLevel is ignored: the slog handler's level rules.
func (b *hclogBridge) SetLevel(hclog.Level) {}

func (b *hclogBridge) GetLevel() hclog.Level {
	for _, lv := range []hclog.Level{hclog.Trace, hclog.Debug, hclog.Info, hclog.Warn, hclog.Error} {
		if b.enabled(lv) {
			return lv
		}
	}
	return hclog.Off
}

func (b *hclogBridge) StandardLogger(opts *hclog.StandardLoggerOptions) *log.Logger {
	level := hclog.Info
	if opts != nil && opts.ForceLevel != hclog.NoLevel {
		level = opts.ForceLevel
	}
	return slog.NewLogLogger(b.l.With("component", b.name).Handler(), slogLevel(level))
}

func (b *hclogBridge) StandardWriter(opts *hclog.StandardLoggerOptions) io.Writer {
	return b.StandardLogger(opts).Writer()
}
