package monitor

import (
	"fmt"
	"sync"
)

// CallbackQueue runs callbacks in order on the goroutine that calls Run.
// Push never blocks and the queue is unbounded on purpose: dropping a
// discovery or an SDOWN transition would leave the receiver's view wrong.
// The monitor delivers its callbacks (OnEvent, OnHello, OnTopologyChange,
// OnInfo, OnPeerVerdict) through one, never with Monitor.mu held, so the
// receiver may call back into the Monitor (SwitchMaster from OnHello,
// Status from OnEvent) and may hold its own locks while calling us; the
// node runs the ones it must not run on the monitor's goroutine through
// another.
type CallbackQueue struct {
	mu    sync.Mutex
	queue []note
	// spare is the slice the last delivered batch was in, emptied: a
	// steady flow of callbacks reuses two slices instead of growing a
	// new one for every batch.
	spare []note
	sig   chan struct{}
}

// note is one queued callback: f, or a hello for onHello. A hello is
// carried by value rather than in a closure: 1,500 hellos a second reach
// a sentinel at 1000 masters, and each closure was an allocation of the
// hello's size.
type note struct {
	f       func()
	onHello func(Hello)
	hello   Hello
}

func (n *note) run() {
	if n.onHello != nil {
		n.onHello(n.hello)
		return
	}
	n.f()
}

// maxSpareNotes bounds the slice kept between batches: a note is about
// 300 bytes (the hello), so a burst's slice (a start with 1000 masters
// queues thousands) is let go rather than kept for good.
const maxSpareNotes = 512

// NewCallbackQueue returns an empty queue.
func NewCallbackQueue() *CallbackQueue { return &CallbackQueue{sig: make(chan struct{}, 1)} }

// Push queues f.
func (q *CallbackQueue) Push(f func()) { q.push(note{f: f}) }

// pushHello queues cb(h).
func (q *CallbackQueue) pushHello(cb func(Hello), h Hello) { q.push(note{onHello: cb, hello: h}) }

func (q *CallbackQueue) push(n note) {
	q.mu.Lock()
	q.queue = append(q.queue, n)
	q.mu.Unlock()
	select {
	case q.sig <- struct{}{}:
	default:
	}
}

func (q *CallbackQueue) take() []note {
	q.mu.Lock()
	ns := q.queue
	q.queue, q.spare = q.spare, nil
	q.mu.Unlock()
	return ns
}

// deliver runs a batch taken from the queue, then keeps its slice for a
// later batch (emptied, so that it holds on to no callback).
func (q *CallbackQueue) deliver(ns []note) {
	for i := range ns {
		ns[i].run()
	}
	if cap(ns) > maxSpareNotes {
		return
	}
	clear(ns)
	q.mu.Lock()
	if q.spare == nil {
		q.spare = ns[:0]
	}
	q.mu.Unlock()
}

// Run delivers until stop is closed. What is queued then stays queued:
// Drain delivers it.
func (q *CallbackQueue) Run(stop <-chan struct{}) {
	for {
		q.deliver(q.take())
		select {
		case <-q.sig:
		case <-stop:
			return
		}
	}
}

// Drain delivers what is queued now, on the caller's goroutine.
func (q *CallbackQueue) Drain() { q.deliver(q.take()) }

// emit queues an event about ri (nil for none). Caller holds m.mu.
func (m *Monitor) emit(level Level, typ string, ri *instance, format string, args ...any) {
	ev := Event{Level: level, Type: typ, Text: fmt.Sprintf(format, args...)}
	if ri != nil {
		ev.Ref = ri.ref()
	}
	if m.log != nil {
		inst := ""
		if ev.Ref != nil {
			inst = ev.Ref.String()
		}
		m.log.Debug("event", "type", ev.Type, "instance", inst, "text", ev.Text)
	}
	if cb := m.cfg.OnEvent; cb != nil {
		m.notes.Push(func() { cb(ev) })
	}
}

// topologyChanged queues OnTopologyChange. Caller holds m.mu.
func (m *Monitor) topologyChanged(master string) {
	if cb := m.cfg.OnTopologyChange; cb != nil {
		m.notes.Push(func() { cb(master) })
	}
}
