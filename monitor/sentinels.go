package monitor

import (
	"sort"
	"time"
)

// SentinelSummary is one other sentinel as every master's entry for it
// tells, for the questions the node asks of the whole set at 10 Hz (who
// the peers are, which of them are up, confirmed, foreign; whether this
// sentinel reaches a majority). Status would copy every master with its
// replicas for that: at 1000 masters, tens of thousands of copies a second.
type SentinelSummary struct {
	RunID string
	// Addr is the address of its first entry (sorted master names,
	// discovery order).
	Addr Addr
	// LastHello is the latest over its entries; HelloReceived the latest
	// over the entries whose id our own connection confirmed, the current
	// one or, while none has answered since, the last (zero: none).
	LastHello, HelloReceived time.Time
	// Declined: some such entry says so (InstanceStatus). A dropped
	// connection clears neither: a redis-sentinel whose connection closed
	// (a reset, a restart, the link hygiene rule) is still one until a new
	// connection answers otherwise, or its hellos stop.
	Declined bool
	// Up: some entry is not SDOWN.
	Up bool
	// The link of its entry with the latest valid PING reply (entries
	// share one link per run id and address).
	Disconnected     bool
	PingPendingSince time.Time
	LastOKPingReply  time.Time
}

// Sentinels summarises the other sentinels of every watched master by run
// id (those without one yet are left out), in order of first appearance
// over the sorted master names.
func (m *Monitor) Sentinels() []SentinelSummary {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []SentinelSummary
	at := map[string]int{}
	for _, mm := range m.sortedMastersLocked() {
		for _, s := range mm.sentinels {
			if s.runID == "" || s.removed {
				continue
			}
			i, ok := at[s.runID]
			if !ok {
				i = len(out)
				at[s.runID] = i
				out = append(out, SentinelSummary{RunID: s.runID, Addr: s.addr.Addr, Disconnected: true})
			}
			sum := &out[i]
			lk := s.link
			if s.lastHelloTime.After(sum.LastHello) {
				sum.LastHello = s.lastHelloTime
			}
			if s.idKept() {
				if s.helloReceived.After(sum.HelloReceived) {
					sum.HelloReceived = s.helloReceived
				}
				if lk.declinedKept() {
					sum.Declined = true
				}
			}
			if !s.sdown {
				sum.Up = true
			}
			if !ok || lk.lastAvail.After(sum.LastOKPingReply) {
				sum.Disconnected, sum.PingPendingSince, sum.LastOKPingReply = lk.shownDisconnected(), lk.actPingTime, lk.lastAvail
			}
		}
	}
	return out
}

// SDownMasters lists the masters that are SDOWN here, in sorted order.
func (m *Monitor) SDownMasters() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.sdownMasters) == 0 {
		return nil
	}
	out := make([]string, 0, len(m.sdownMasters))
	for name := range m.sdownMasters {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// MasterSDown reports whether the master is SDOWN here: Status without the
// copy, for the answer to every peer's is-master-down-by-addr.
func (m *Monitor) MasterSDown(name string) (sdown, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ri := m.masters[name]
	if ri == nil {
		return false, false
	}
	return ri.sdown, true
}
