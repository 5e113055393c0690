package monitor

import (
	"slices"
	"sync"
	"time"
)

// The dial gate bounds how many connections begin dialling at once.
//
// Why: a connection dials in goroutines (conn.run, and one per attempt in
// dialPaced), and the Go runtime never frees a goroutine's record (it keeps
// it for reuse). The monitor's first pass starts every link at once, two
// per master, so at 1000 masters the dial storm left about 4,000 goroutine
// records, 1.7 MB of live heap, for the life of the process (issue 12).
// A connect on a LAN takes well under a millisecond, so dialLimit dials at
// a time get through that storm about as fast as all at once.
//
// A dial that hangs (its node's SYNs are dropped by a partition) must not
// hold the others back: a dial stops counting against the limit once it
// has run for dialSlowAfter, far above a LAN connect plus the wait for the
// monitor's lock, and a connection queued for dialMaxWait starts whatever
// the count. So the gate delays a link's connect by at most dialMaxWait,
// the same as one dial retry (dialRetry), and in the worst case (every
// dial hangs) as many dials run as without the gate.
const (
	dialLimit     = 128
	dialSlowAfter = 100 * time.Millisecond
	dialMaxWait   = dialRetry
)

// dialGate admits dials (see above). The zero value is not usable; see
// newDialGate.
type dialGate struct {
	limit              int
	slowAfter, maxWait time.Duration
	now                func() time.Time
	// spawn runs an admitted dial (go f(), or inline in tests).
	spawn func(f func())

	mu sync.Mutex
	// fast: the dials begun less than slowAfter ago, oldest first.
	fast []*dialTicket
	// queue: the dials waiting for a place, oldest first.
	queue []queuedDial
	timer *time.Timer
}

// dialTicket is an admitted dial; its holder hands it back (finished)
// when the dial has ended, connected or not.
type dialTicket struct{ began time.Time }

type queuedDial struct {
	at  time.Time
	run func(*dialTicket)
}

func newDialGate() *dialGate {
	return &dialGate{
		limit: dialLimit, slowAfter: dialSlowAfter, maxWait: dialMaxWait,
		now:   time.Now,
		spawn: func(f func()) { go f() },
	}
}

// submit runs run (through spawn) once the gate admits it; run must call
// finished with its ticket when its dial has ended.
func (g *dialGate) submit(run func(*dialTicket)) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.queue = append(g.queue, queuedDial{at: g.now(), run: run})
	g.admitLocked()
}

// finished gives t's place to the next dial.
func (g *dialGate) finished(t *dialTicket) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if i := slices.Index(g.fast, t); i >= 0 {
		g.fast = slices.Delete(g.fast, i, i+1)
	}
	g.admitLocked()
}

// admitLocked starts every queued dial that may start now, and arms the
// timer for the next moment one may (a fast dial turning slow, or the
// oldest queued one reaching maxWait). Caller holds g.mu.
func (g *dialGate) admitLocked() {
	now := g.now()
	slow := 0
	for slow < len(g.fast) && now.Sub(g.fast[slow].began) >= g.slowAfter {
		slow++
	}
	g.fast = slices.Delete(g.fast, 0, slow)
	for len(g.queue) > 0 && (len(g.fast) < g.limit || now.Sub(g.queue[0].at) >= g.maxWait) {
		q := g.queue[0]
		g.queue[0] = queuedDial{}
		g.queue = g.queue[1:]
		t := &dialTicket{began: now}
		g.fast = append(g.fast, t)
		g.spawn(func() { q.run(t) })
	}
	if len(g.queue) == 0 {
		g.queue = nil // let the storm's backing array go
		return
	}
	next := g.queue[0].at.Add(g.maxWait)
	if len(g.fast) > 0 {
		if s := g.fast[0].began.Add(g.slowAfter); s.Before(next) {
			next = s
		}
	}
	d := max(next.Sub(now), time.Millisecond)
	if g.timer == nil {
		g.timer = time.AfterFunc(d, g.expire)
	} else {
		g.timer.Reset(d)
	}
}

func (g *dialGate) expire() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.admitLocked()
}
