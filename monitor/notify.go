package monitor

import (
	"fmt"
	"sync"
)

// notifier delivers callbacks (OnEvent, OnHello, OnTopologyChange, OnInfo)
// in order from one goroutine, never with Monitor.mu held: the receiver
// may call back into the Monitor (SwitchMaster from OnHello, Status from
// OnEvent) and may hold its own locks while calling us.
type notifier struct {
	mu    sync.Mutex
	queue []func()
	sig   chan struct{}
}

func newNotifier() *notifier { return &notifier{sig: make(chan struct{}, 1)} }

func (n *notifier) push(f func()) {
	n.mu.Lock()
	n.queue = append(n.queue, f)
	n.mu.Unlock()
	select {
	case n.sig <- struct{}{}:
	default:
	}
}

func (n *notifier) take() []func() {
	n.mu.Lock()
	q := n.queue
	n.queue = nil
	n.mu.Unlock()
	return q
}

// run delivers until stop is closed, then delivers what is left.
func (n *notifier) run(stop <-chan struct{}) {
	for {
		for _, f := range n.take() {
			f()
		}
		select {
		case <-n.sig:
		case <-stop:
			for _, f := range n.take() {
				f()
			}
			return
		}
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
		m.notes.push(func() { cb(ev) })
	}
}

// topologyChanged queues OnTopologyChange. Caller holds m.mu.
func (m *Monitor) topologyChanged(master string) {
	if cb := m.cfg.OnTopologyChange; cb != nil {
		m.notes.push(func() { cb(master) })
	}
}
