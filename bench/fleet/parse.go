package fleet

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// KnownSentinels reads an `INFO sentinel` reply: for every master line
// ("master0:name=m0,status=ok,address=...,slaves=0,sentinels=3") the
// master's name and the sentinels it counts (itself included).
func KnownSentinels(info string) map[string]int {
	out := map[string]int{}
	for _, l := range strings.Split(info, "\n") {
		l = strings.TrimRight(l, "\r")
		if !strings.HasPrefix(l, "master") {
			continue
		}
		_, fields, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		name, n := "", -1
		for _, kv := range strings.Split(fields, ",") {
			k, v, _ := strings.Cut(kv, "=")
			switch k {
			case "name":
				name = v
			case "sentinels":
				if x, err := strconv.Atoi(v); err == nil {
					n = x
				}
			}
		}
		if name != "" && n >= 0 {
			out[name] = n
		}
	}
	return out
}

// logTimeLayout is the time stamp of redis' log lines (and gosentinel's,
// internal/logging): "pid:X 03 Dec 2026 12:54:22.123 # +sdown ...".
const logTimeLayout = "02 Jan 2006 15:04:05.000"

// Event is one event line of a sentinel's log.
type Event struct {
	At   time.Time // local time, millisecond resolution
	Type string    // "+sdown"
	Args []string  // "master", "m12", "127.0.0.1", "7012"
}

// ParseEvent reads a log line announcing an event.
func ParseEvent(line string) (Event, error) {
	f := strings.Fields(line)
	// pid:role, day, month, year, time, level, type, args...
	if len(f) < 7 {
		return Event{}, fmt.Errorf("short event line %q", line)
	}
	at, err := time.ParseInLocation(logTimeLayout, strings.Join(f[1:5], " "), time.Local)
	if err != nil {
		return Event{}, fmt.Errorf("event line %q: %w", line, err)
	}
	return Event{At: at, Type: f[6], Args: f[7:]}, nil
}

// MasterEvent says whether e is about master name ("+sdown master m12 ...").
func (e Event) MasterEvent(name string) bool {
	return len(e.Args) >= 2 && e.Args[0] == "master" && e.Args[1] == name
}

// ParseStats reads FAKEFLEET STATS ("accepted=3 ping=10 ...").
func ParseStats(s string) (map[string]int64, error) {
	out := map[string]int64{}
	for _, f := range strings.Fields(s) {
		k, v, ok := strings.Cut(f, "=")
		n, err := strconv.ParseInt(v, 10, 64)
		if !ok || err != nil {
			return nil, fmt.Errorf("FAKEFLEET STATS: bad field %q", f)
		}
		out[k] = n
	}
	return out, nil
}
