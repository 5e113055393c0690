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
	queue []func()
	sig   chan struct{}
}

// NewCallbackQueue returns an empty queue.
func NewCallbackQueue() *CallbackQueue { return &CallbackQueue{sig: make(chan struct{}, 1)} }

// Push queues f.
func (q *CallbackQueue) Push(f func()) {
	q.mu.Lock()
	q.queue = append(q.queue, f)
	q.mu.Unlock()
	select {
	case q.sig <- struct{}{}:
	default:
	}
}

func (q *CallbackQueue) take() []func() {
	q.mu.Lock()
	fs := q.queue
	q.queue = nil
	q.mu.Unlock()
	return fs
}

// Run delivers until stop is closed. What is queued then stays queued:
// Drain delivers it.
func (q *CallbackQueue) Run(stop <-chan struct{}) {
	for {
		for _, f := range q.take() {
			f()
		}
		select {
		case <-q.sig:
		case <-stop:
			return
		}
	}
}

// Drain delivers what is queued now, on the caller's goroutine.
func (q *CallbackQueue) Drain() {
	for _, f := range q.take() {
		f()
	}
}

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
