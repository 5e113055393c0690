package node

import (
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/x0tta6bl4/gosentinel/config"
	"github.com/x0tta6bl4/gosentinel/internal/redisargs"
	"github.com/x0tta6bl4/gosentinel/monitor"
	"github.com/x0tta6bl4/gosentinel/replication"
	"github.com/x0tta6bl4/gosentinel/sentinel"
)

// debugParam is one SENTINEL DEBUG parameter: its upper-case reply name and
// its redis-sentinel 7.0 default in milliseconds.
type debugParam struct {
	name string
	def  int64
}

// debugParams lists the parameters in the order SENTINEL DEBUG prints them
// (sentinel.c addReplySentinelDebugInfo), with the defaults of the packages
// that use them: the monitor's periods, the failover engine's timeouts,
// config's per-master defaults; the script runner's are its own.
var debugParams = func() []debugParam {
	links, engine := monitor.DefaultTiming(), replication.DefaultTiming()
	ms := func(d time.Duration) int64 { return d.Milliseconds() }
	return []debugParam{
		{"INFO-PERIOD", ms(links.InfoPeriod)},
		{"PING-PERIOD", ms(links.PingPeriod)},
		{"ASK-PERIOD", ms(links.AskPeriod)},
		{"PUBLISH-PERIOD", ms(links.PublishPeriod)},
		{"DEFAULT-DOWN-AFTER", config.DefaultDownAfterMs},
		{"DEFAULT-FAILOVER-TIMEOUT", config.DefaultFailoverTimeoutMs},
		{"TILT-TRIGGER", ms(links.TiltTrigger)},
		{"TILT-PERIOD", ms(links.TiltPeriod)},
		{"SLAVE-RECONF-TIMEOUT", ms(engine.SlaveReconfTimeout)},
		{"MIN-LINK-RECONNECT-PERIOD", ms(links.MinLinkReconnectPeriod)},
		{"ELECTION-TIMEOUT", ms(engine.ElectionTimeout)},
		{"SCRIPT-MAX-RUNTIME", 60000},
		{"SCRIPT-RETRY-DELAY", 30000},
	}
}()

// fastAskPeriod caps how long ODOWN can wait for a peer's opinion: one
// monitor tick. The answers are rare (only while a master is down here)
// and ODOWN is decided as each arrives.
const fastAskPeriod = 50 * time.Millisecond

// timings holds the process-wide periods. They are not persisted, exactly
// like redis-sentinel's DEBUG settings.
type timings struct {
	mu sync.RWMutex
	v  map[string]int64
}

func newTimings() *timings {
	t := &timings{v: map[string]int64{}}
	for _, p := range debugParams {
		t.v[p.name] = p.def
	}
	return t
}

func (t *timings) ms(name string) int64 {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.v[name]
}

func (t *timings) dur(name string) time.Duration {
	return time.Duration(t.ms(name)) * time.Millisecond
}

// monitorTiming is what the monitor reads on every tick.
func (t *timings) monitorTiming() monitor.Timing {
	return monitor.Timing{
		PingPeriod: t.dur("PING-PERIOD"),
		InfoPeriod: t.dur("INFO-PERIOD"),
		// Peers are asked about a master that is down here twenty times as
		// often as redis-sentinel does (at most every 50 ms): with one ask
		// a second, a peer whose SDOWN lands just after an ask delays ODOWN
		// by up to a second, which was most of our failover time.
		AskPeriod:              min(t.dur("ASK-PERIOD"), fastAskPeriod),
		PublishPeriod:          t.dur("PUBLISH-PERIOD"),
		MinLinkReconnectPeriod: t.dur("MIN-LINK-RECONNECT-PERIOD"),
		TiltTrigger:            t.dur("TILT-TRIGGER"),
		TiltPeriod:             t.dur("TILT-PERIOD"),
	}
}

// debug implements SENTINEL DEBUG [<param> <value> ...]. Parameters are
// applied in order; the first bad one stops with an error, earlier ones
// stay applied (sentinelSetDebugConfigParameters).
func (t *timings) debug(args []string) (sentinel.Fields, error) {
	if len(args) == 0 {
		t.mu.RLock()
		defer t.mu.RUnlock()
		f := make(sentinel.Fields, 0, len(debugParams))
		for _, p := range debugParams {
			f = append(f, sentinel.Field{Key: p.name, Value: strconv.FormatInt(t.v[p.name], 10)})
		}
		return f, nil
	}
	for i := 0; i < len(args); i += 2 {
		name := strings.ToUpper(args[i])
		known := false
		for _, p := range debugParams {
			if p.name == name {
				known = true
			}
		}
		if !known || i+1 >= len(args) {
			return nil, sentinel.ReplyError("ERR Unknown option or number of arguments for SENTINEL DEBUG '" + args[i] + "'")
		}
		v, ok := redisargs.String2ll(args[i+1])
		if !ok || v <= 0 {
			return nil, sentinel.ReplyError("ERR Invalid argument '" + args[i+1] + "' for SENTINEL DEBUG '" + args[i] + "'")
		}
		t.mu.Lock()
		t.v[name] = v
		t.mu.Unlock()
	}
	return nil, nil
}
