package monitor

import "time"

// tickState is what one timer run needs besides the instances. The node's
// callbacks (Timing, CurrentEpoch, Tilt) are called before the lock is
// taken, HelloPayload after the instances were handled (below).
type tickState struct {
	now    time.Time
	timing Timing
	epoch  uint64
	tilt   bool
	// helloDue collects the instances whose hello is due this tick; the
	// payloads are built after the pass, without the lock.
	helloDue []*instance
	// nextLook is the earliest SDOWN deadline after now among the
	// instances the run left in nearDown and not down (zero if none):
	// when Run looks again if that comes before its next tick.
	nextLook time.Time
}

// noteDeadline keeps in ts.nextLook the SDOWN deadline of ri if it is the
// earliest yet after ts.now.
func (ts *tickState) noteDeadline(ri *instance) {
	if ri.sdown {
		return
	}
	at, ok := SDownDeadline(linkSDownInput(ri))
	if ok && at.After(ts.now) && (ts.nextLook.IsZero() || at.Before(ts.nextLook)) {
		ts.nextLook = at
	}
}

// helloKey identifies a hello payload: per master and per local IP of the
// connection it goes out on.
type helloKey struct{ master, localIP string }

// tick is sentinelHandleDictOfRedisInstances over every master, its
// replicas and its sentinels. The hellos due are published after the pass
// (publishHellos), and what the run queued is written last (flushBatch).
// It returns the earliest SDOWN deadline ahead (tickState.nextLook).
func (m *Monitor) tick() time.Time {
	ts := tickState{timing: m.timing()}
	if m.cfg.CurrentEpoch != nil {
		ts.epoch = m.cfg.CurrentEpoch()
	}
	ts.tilt = m.cfg.Tilt != nil && m.cfg.Tilt()

	m.mu.Lock()
	m.batching = true
	ts.now = time.Now()
	m.checkTiltLocked(ts.now, ts.timing)
	ts.tilt = ts.tilt || m.tilt.on
	clear(m.nearDown)
	m.nearDown = m.nearDown[:0]
	for _, ri := range m.sortedMastersLocked() {
		m.handleInstance(ri, &ts)
		// Handling an instance may remove others from these lists: walk
		// a copy (in a buffer reused from tick to tick).
		m.scratch = append(m.scratch[:0], ri.replicas...)
		m.scratch = append(m.scratch, ri.sentinels...)
		for _, r := range m.scratch {
			m.handleInstance(r, &ts)
		}
	}
	clear(m.scratch)
	m.finishRun(&ts)
	return ts.nextLook
}

// finishRun ends a timer run (tick, tickNearDown): the hellos it found
// due are published, mu is let go, and what the run queued is written,
// the SDOWN clocks of its PINGs starting then. Caller holds mu with
// batching on.
func (m *Monitor) finishRun(ts *tickState) {
	m.publishHellos(ts)
	m.batching = false
	m.mu.Unlock()
	m.flushBatch()
	m.stampPings(ts.now)
}

// publishHellos publishes the hellos a timer run found due (ts.helloDue).
// Their payloads come from the node (HelloPayload), which must not be
// called with the lock held, so it lets go of mu meanwhile; a hello is due
// about once per publish period per instance, so collecting them during
// the run costs less than another scan of every instance. Caller holds mu
// with batching on, and does on return.
func (m *Monitor) publishHellos(ts *tickState) {
	due := ts.helloDue
	if len(due) == 0 || m.cfg.HelloPayload == nil {
		return
	}
	if m.helloKeys == nil {
		m.helloKeys, m.helloPayloads = map[helloKey]bool{}, map[helloKey]string{}
	}
	keys, payloads := m.helloKeys, m.helloPayloads
	defer clear(keys)
	defer clear(payloads)
	for _, ri := range due {
		if ip, ok := helloDue(ri, ts.now, ts.timing, true); ok {
			keys[helloKey{ri.owner().name, ip}] = true
		}
	}
	m.batching = false
	m.mu.Unlock()
	for k := range keys {
		if p, ok := m.cfg.HelloPayload(k.master, k.localIP); ok {
			payloads[k] = p
		}
	}
	m.mu.Lock()
	m.batching = true
	for _, p := range payloads {
		m.noteOwnHello(p)
	}
	now := time.Now()
	for _, ri := range due {
		if ri.removed {
			continue
		}
		// Due when found (with its PING, or alone) and still sendable.
		if ip, ok := helloDue(ri, now, ts.timing, true); ok {
			if p, ok := payloads[helloKey{ri.owner().name, ip}]; ok {
				m.sendHello(ri, p)
			}
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
	next := ts.now.Add(passInterval)
	if ri.sdown || nearSDownDeadline(ri, next) || pingDue(ri.link, next, ri.pingPeriod(ts.timing)) {
		m.nearDown = append(m.nearDown, ri)
		ts.noteDeadline(ri)
	}
}

// tickNearDown is the timer run between two passes, over the instances
// the last pass found SDOWN, close to their SDOWN deadline or with a PING
// due before the next pass: the PING if due, the SDOWN check and, for a
// master, the asks to its sentinels. PINGs then go out within a tick of
// being due, as when every tick was a whole pass: the SDOWN clock starts
// at the first unanswered PING, and the fence's wait bounds when that
// PING went (replication's pingSlack). It returns the earliest SDOWN
// deadline ahead (tickState.nextLook).
func (m *Monitor) tickNearDown() time.Time {
	ts := tickState{timing: m.timing()}
	if m.cfg.CurrentEpoch != nil {
		ts.epoch = m.cfg.CurrentEpoch()
	}
	tilt := m.cfg.Tilt != nil && m.cfg.Tilt()
	m.mu.Lock()
	if tilt || m.tilt.on {
		m.mu.Unlock()
		return time.Time{}
	}
	m.batching = true
	ts.now = time.Now()
	for _, ri := range m.nearDown {
		if ri.removed {
			continue
		}
		if lk := ri.link; canSend(lk) && pingDue(lk, ts.now, ri.pingPeriod(ts.timing)) {
			m.sendPing(ri, ts.now)
			m.sendAlongPing(ri, &ts, true)
		}
		m.checkSubjectivelyDown(ri, &ts)
		if ri.kind == KindMaster {
			m.askMasterStateToOtherSentinels(ri, &ts)
		}
		ts.noteDeadline(ri)
	}
	m.finishRun(&ts)
	return ts.nextLook
}

// nearSDownDeadline tells whether ri may turn SDOWN by at: the link
// clauses of IsSubjectivelyDown evaluated then, with nothing answered
// meanwhile. The master-only clauses (role:slave for long, a reboot) are
// left to the passes: they are measured in info periods.
func nearSDownDeadline(ri *instance, at time.Time) bool {
	in := linkSDownInput(ri)
	in.Now = at
	return IsSubjectivelyDown(in)
}

// linkSDownInput is what IsSubjectivelyDown's link clause reads of ri,
// without Now.
func linkSDownInput(ri *instance) SDownInput {
	lk := ri.link
	return SDownInput{
		PingPendingSince: lk.actPingTime,
		Disconnected:     lk.disconnected,
		LastOKPingReply:  lk.lastAvail,
		DownAfter:        ri.downAfter(),
		PubsubPong:       lk.pcPong,
	}
}

// helloDue reports whether a hello should be published on ri's command
// link now, and the local IP of that link; pinging: a PING goes out on
// that link in this timer run (alongPing).
func helloDue(ri *instance, now time.Time, t Timing, pinging bool) (string, bool) {
	// The conditions are tested cheapest first: the timer asks this of
	// every instance on every pass, a hello is due about once in twenty,
	// and a master's connection record (lk.cc, for its local IP) is
	// touched by nothing else of the pass, so reading it first cost a
	// cache miss per master per pass (3 % of a follower's CPU at 500
	// masters, perf).
	lk := ri.link
	if lk.disconnected || lk.cc == nil {
		return "", false
	}
	if lk.pending >= maxPendingCommands*lk.refcount {
		return "", false
	}
	// One hello at a time per connection. redis-sentinel sends one every
	// timer run (10 Hz) until a PUBLISH is answered: a node slow to
	// answer got more hellos the slower it was, each fanned out to every
	// subscriber. Three gosentinels starting together at 1000 masters
	// (20 Hz) sent a fake fleet 60,000 PUBLISH a second, which then took
	// seconds to answer a PING, and hundreds of healthy masters were
	// reported down. A hello is only the same announcement again; the
	// next one goes once this one is answered, or its connection is gone.
	if ri.pubConn != nil && ri.pubConn == lk.cc {
		return "", false
	}
	if ri.kind == KindSentinel {
		// A link to a sentinel is shared by the masters it watches with
		// us; their hellos share the run's write already.
		if now.Sub(ri.lastPubTime) <= t.PublishPeriod {
			return "", false
		}
	} else if !alongPing(now, ri.lastPubTime, t.PublishPeriod, ri.pingPeriod(t), pinging) {
		return "", false
	}
	if lk.cc.localIP == "" {
		return "", false
	}
	return lk.cc.localIP, true
}

// alongPing tells whether a periodic command (INFO, the hello) last done
// at last, due every period, goes now on a node's command link, pinging
// telling whether a PING goes out on that link in this timer run. It goes
// along a PING from half a ping period before it is due, so that the two
// share a write (Monitor.batching) and the node's replies share one too;
// without a PING, once it is late by half a ping period and a pass, by
// when a PING going out has normally taken it. One never done goes at
// once. With pings every second and hellos every two, a hello goes with
// every second PING: the writes on a master's link drop from 1.6 a second
// to 1.
func alongPing(now, last time.Time, period, pingPeriod time.Duration, pinging bool) bool {
	if last.IsZero() {
		return true
	}
	age := now.Sub(last)
	if pinging {
		return age > period-pingPeriod/2
	}
	return age > period+pingPeriod/2+passInterval
}
