package monitor

import "time"

// tickState is what one timer run needs besides the instances. The node's
// callbacks (Timing, CurrentEpoch, Tilt, HelloPayload) are all called before
// the lock is taken.
type tickState struct {
	now    time.Time
	timing Timing
	epoch  uint64
	tilt   bool
	hellos map[helloKey]string
}

// helloKey identifies a hello payload: per master and per local IP of the
// connection it goes out on.
type helloKey struct{ master, localIP string }

// tick is sentinelHandleDictOfRedisInstances over every master, its
// replicas and its sentinels.
func (m *Monitor) tick() {
	ts := tickState{timing: m.timing(), hellos: map[helloKey]string{}}
	if m.cfg.CurrentEpoch != nil {
		ts.epoch = m.cfg.CurrentEpoch()
	}
	ts.tilt = m.cfg.Tilt != nil && m.cfg.Tilt()

	m.mu.Lock()
	keys := m.helloKeysLocked(time.Now(), ts.timing)
	m.mu.Unlock()
	if m.cfg.HelloPayload != nil {
		for k := range keys {
			if p, ok := m.cfg.HelloPayload(k.master, k.localIP); ok {
				ts.hellos[k] = p
			}
		}
	}

	m.mu.Lock()
	defer m.mu.Unlock()
	ts.now = time.Now()
	m.checkTiltLocked(ts.now, ts.timing)
	ts.tilt = ts.tilt || m.tilt.on
	for _, name := range m.sortedNamesLocked() {
		ri := m.masters[name]
		m.handleInstance(ri, &ts)
		for _, r := range append([]*instance(nil), ri.replicas...) {
			m.handleInstance(r, &ts)
		}
		for _, s := range append([]*instance(nil), ri.sentinels...) {
			m.handleInstance(s, &ts)
		}
	}
}

// handleInstance is sentinelHandleRedisInstance without the failover part.
func (m *Monitor) handleInstance(ri *instance, ts *tickState) {
	if ri.removed {
		return
	}
	m.reconnect(ri, ts)
	m.sendPeriodicCommands(ri, ts)
	if ts.tilt {
		return
	}
	m.checkSubjectivelyDown(ri, ts)
	if ri.kind == KindMaster {
		m.askMasterStateToOtherSentinels(ri, ts)
	}
}

// helloKeysLocked lists the payloads the coming tick will need.
func (m *Monitor) helloKeysLocked(now time.Time, t Timing) map[helloKey]bool {
	keys := map[helloKey]bool{}
	add := func(ri *instance) {
		if ip, ok := helloDue(ri, now, t); ok {
			keys[helloKey{ri.owner().name, ip}] = true
		}
	}
	for _, ri := range m.masters {
		add(ri)
		for _, r := range ri.replicas {
			add(r)
		}
		for _, s := range ri.sentinels {
			add(s)
		}
	}
	return keys
}

// helloDue reports whether a hello should be published on ri's command
// link now, and the local IP of that link.
func helloDue(ri *instance, now time.Time, t Timing) (string, bool) {
	lk := ri.link
	if lk.disconnected || lk.cc == nil || lk.cc.localIP == "" {
		return "", false
	}
	if lk.pending >= maxPendingCommands*lk.refcount {
		return "", false
	}
	if now.Sub(ri.lastPubTime) <= t.PublishPeriod {
		return "", false
	}
	return lk.cc.localIP, true
}
