// Package logging writes log lines in redis-sentinel's format,
//
//	<pid>:X <dd Mon yyyy hh:mm:ss.mmm> <c> <message>
//
// where <c> is '.' debug, '-' verbose, '*' notice and '#' warning, so that
// tools and people reading redis-sentinel logs read ours unchanged. It is a
// log/slog handler: packages log with slog and attributes are appended as
// key=value after the message.
package logging

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"
)

// LevelVerbose sits between debug and notice, like redis' "verbose".
const LevelVerbose = slog.Level(-2)

// ParseLevel maps a redis loglevel name to a slog level.
func ParseLevel(name string) (slog.Level, error) {
	switch strings.ToLower(name) {
	case "debug":
		return slog.LevelDebug, nil
	case "verbose":
		return LevelVerbose, nil
	case "notice", "":
		return slog.LevelInfo, nil
	case "warning":
		return slog.LevelWarn, nil
	case "nothing":
		return slog.Level(100), nil
	}
	return 0, fmt.Errorf("unknown loglevel %q", name)
}

// Handler formats records like redis. It is safe for concurrent use.
type Handler struct {
	mu    *sync.Mutex
	w     io.Writer
	level slog.Leveler
	pid   int
	attrs string // preformatted attributes from WithAttrs
	group string
}

// NewHandler returns a handler writing to w at or above level.
func NewHandler(w io.Writer, level slog.Leveler) *Handler {
	return &Handler{mu: &sync.Mutex{}, w: w, level: level, pid: os.Getpid()}
}

// Enabled reports whether records at l are written.
func (h *Handler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level.Level() }

func levelChar(l slog.Level) byte {
	switch {
	case l < LevelVerbose:
		return '.'
	case l < slog.LevelInfo:
		return '-'
	case l < slog.LevelWarn:
		return '*'
	default:
		return '#'
	}
}

// Handle writes one line.
func (h *Handler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	t := r.Time
	if t.IsZero() {
		t = time.Now()
	}
	fmt.Fprintf(&b, "%d:X %s %c %s", h.pid, t.Format("02 Jan 2006 15:04:05.000"), levelChar(r.Level), r.Message)
	b.WriteString(h.attrs)
	r.Attrs(func(a slog.Attr) bool {
		writeAttr(&b, h.group, a)
		return true
	})
	b.WriteByte('\n')
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := io.WriteString(h.w, b.String())
	return err
}

func writeAttr(b *strings.Builder, group string, a slog.Attr) {
	if a.Equal(slog.Attr{}) {
		return
	}
	key := a.Key
	if group != "" {
		key = group + "." + key
	}
	v := a.Value.Resolve().String()
	if strings.ContainsAny(v, " \t\"") {
		v = fmt.Sprintf("%q", v)
	}
	fmt.Fprintf(b, " %s=%s", key, v)
}

// WithAttrs returns a handler that appends attrs to every line.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	var b strings.Builder
	b.WriteString(h.attrs)
	for _, a := range attrs {
		writeAttr(&b, h.group, a)
	}
	c.attrs = b.String()
	return &c
}

// WithGroup qualifies later attribute keys.
func (h *Handler) WithGroup(name string) slog.Handler {
	c := *h
	if c.group != "" {
		name = c.group + "." + name
	}
	c.group = name
	return &c
}

// AppendFile opens path for appending log lines (redis reopens per line;
// keeping it open is equivalent for us and cheaper).
func AppendFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("failed to open logfile %s: %w", path, err)
	}
	return f, nil
}

// Limiter lets one line through per period and counts the ones it holds
// back, for logs that anyone who reaches a port can provoke (a rejected
// connection): a flood of them must not flood the log.
type Limiter struct {
	mu      sync.Mutex
	period  time.Duration
	next    time.Time
	dropped int
	now     func() time.Time
}

// NewLimiter returns a Limiter letting one line through per period.
func NewLimiter(period time.Duration) *Limiter {
	return &Limiter{period: period, now: time.Now}
}

// Allow reports whether a line may be logged now and, if so, how many were
// held back since the last one.
func (l *Limiter) Allow() (ok bool, heldBack int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if now.Before(l.next) {
		l.dropped++
		return false, 0
	}
	l.next = now.Add(l.period)
	heldBack, l.dropped = l.dropped, 0
	return true, heldBack
}
