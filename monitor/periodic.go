package monitor

import "time"

// sendPing is sentinelSendPing: the pending-PING clock only starts if the
// previous PING was answered. It starts at the run's time, and again once
// the run has written its commands (stampPings).
func (m *Monitor) sendPing(ri *instance, now time.Time) {
	lk := ri.link
	c := lk.cc
	c.send(replyHandler{fn: func(v value) { m.pingReply(ri, c, v) }}, ri.command("PING"))
	lk.pending++
	lk.lastPingTime = now
	if lk.actPingTime.IsZero() {
		lk.actPingTime = now
		m.pinged = append(m.pinged, lk)
	}
}

// stampPings restarts the SDOWN clock of the PINGs the timer run that
// began at runTime queued, at the time they were written (flushBatch), if
// still unanswered. A run writes its commands once it is over, after the
// hello payloads were built without the lock, which may wait for the
// node: a clock started at the queueing ran ahead of the PING, and a node
// answering within down-after of receiving it could be found SDOWN.
// Called by the Run goroutine after flushBatch, without mu.
func (m *Monitor) stampPings(runTime time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.pinged) == 0 {
		return
	}
	now := time.Now()
	for i, lk := range m.pinged {
		m.pinged[i] = nil
		if lk.actPingTime.Equal(runTime) {
			lk.actPingTime = now
		}
		if lk.lastPingTime.Equal(runTime) {
			lk.lastPingTime = now
		}
	}
	m.pinged = m.pinged[:0]
}

// sendPeriodicCommands is sentinelSendPeriodicCommands: PING, INFO and
// the hello PUBLISH, skipped while disconnected or too many replies are
// due. INFO and the hello go along a PING when they can (alongPing).
func (m *Monitor) sendPeriodicCommands(ri *instance, ts *tickState) {
	lk := ri.link
	if !canSend(lk) {
		return
	}
	now := ts.now
	pingPeriod := ri.pingPeriod(ts.timing)
	pinging := pingDue(lk, now, pingPeriod)
	if pinging {
		m.sendPing(ri, now)
	}
	m.sendAlongPing(ri, ts, pinging)
	m.sendPubsubPing(ri, now, pingPeriod)
	m.retrySentinelAsks(ri, now)
}

// sendAlongPing sends INFO if due and lists the hello if due
// (ts.helloDue, published after the run); pinging: a PING goes out on the
// link in this run. Caller holds m.mu and has checked canSend.
func (m *Monitor) sendAlongPing(ri *instance, ts *tickState, pinging bool) {
	lk := ri.link
	// One INFO at a time per connection. redis-sentinel asks INFO at
	// every timer run until the first one is answered, so a node slow to
	// answer its first INFO (every node, when three sentinels start
	// together at 1000 masters) got 20 a second of 4 KB replies to build,
	// which made it slower still.
	if ri.kind != KindSentinel && (ri.infoConn == nil || ri.infoConn != lk.cc) &&
		alongPing(ts.now, ri.infoRefresh, ri.infoPeriod(ts.timing), ri.pingPeriod(ts.timing), pinging) {
		c := lk.cc
		c.send(replyHandler{fn: func(v value) { m.infoReply(ri, c, v) }}, ri.command("INFO"))
		lk.pending++
		ri.infoConn = c
	}
	if _, ok := helloDue(ri, ts.now, ts.timing, pinging); ok {
		if m.groupMemberLocked(ri) {
			// Counted as done, so it is not due again at every pass.
			ri.lastPubTime = ts.now
			return
		}
		ts.helloDue = append(ts.helloDue, ri)
	}
}

// SetGroupMembers names the sentinels (by run id) that are members of
// this sentinel's Raft group: no hello is published to them directly.
// redis-sentinel publishes its hello to every sentinel of every master
// every two seconds, which is how a sentinel learns a new configuration
// while the master's hello channel is silent (the master is down). A
// member learns it from the group's log instead, so hellos published to
// it only cost: at 500 masters, each of three gosentinels sent the other
// two 500 PUBLISH a second and received as many. Hellos on the masters'
// channels, and to every other sentinel, go on as before. nil: none.
func (m *Monitor) SetGroupMembers(runIDs []string) {
	members := make(map[string]struct{}, len(runIDs))
	for _, id := range runIDs {
		members[id] = struct{}{}
	}
	m.mu.Lock()
	m.members = members
	m.mu.Unlock()
}

// groupMemberLocked tells whether ri is a sentinel named by SetGroupMembers,
// by the run id its current connection confirmed (SENTINEL MYID): one not
// confirmed yet still gets the hellos. Caller holds m.mu.
func (m *Monitor) groupMemberLocked(ri *instance) bool {
	if ri.kind != KindSentinel || len(m.members) == 0 || ri.link.myid == "" {
		return false
	}
	_, ok := m.members[ri.link.myid]
	return ok
}

// infoPeriod is how often ri is asked INFO: every second for a replica of
// a master in failover or whose link to its master is down, as
// redis-sentinel does.
func (ri *instance) infoPeriod(t Timing) time.Duration {
	if ri.kind == KindReplica && (ri.master.spec.FastInfo || ri.masterLinkDownTime != 0) {
		return time.Second
	}
	return t.InfoPeriod
}

// canSend tells whether periodic commands may be queued on lk's command
// connection: it is connected and not too far behind.
func canSend(lk *link) bool {
	return !lk.disconnected && lk.cc != nil && lk.pending < maxPendingCommands*lk.refcount
}

// pingPeriod is how often ri is PINGed: the ping period, or down-after if
// shorter.
func (ri *instance) pingPeriod(t Timing) time.Duration {
	return min(ri.downAfter(), t.PingPeriod)
}

// pingDue tells whether a PING is due on lk at the given time: nothing
// valid heard for a ping period, and no PING sent in the last half.
func pingDue(lk *link, at time.Time, pingPeriod time.Duration) bool {
	return at.Sub(lk.lastPong) > pingPeriod && at.Sub(lk.lastPingTime) > pingPeriod/2
}

// sendHello publishes a hello on ri's command link. Caller holds m.mu.
func (m *Monitor) sendHello(ri *instance, payload string) {
	lk := ri.link
	c := lk.cc
	c.send(replyHandler{fn: func(v value) { m.publishReply(ri, c, v) }},
		ri.command("PUBLISH"), helloChannel, payload)
	lk.pending++
	ri.pubConn = c
}

// sendPubsubPing asks PING on the pub/sub connection of a master or
// replica whose command link has had a PING unanswered for half a ping
// period, one at a time and at most one per half ping period (answered at
// once, or with an error, they went at every look: 10 to 20 a second
// while the command link's PING waited). A node whose writes are paused (CLIENT PAUSE
// WRITE) answers PING, but our hello PUBLISH on the command link waits for
// the pause to end and the PINGs queued behind it with it; the pub/sub
// connection carries no write, so its PING is answered, and SDOWN counts
// that answer (SDownInput.PubsubPong). A node that is down answers neither.
// redis-sentinel has no such PING: it takes a paused master for down once
// its hello is stuck. Caller holds m.mu.
func (m *Monitor) sendPubsubPing(ri *instance, now time.Time, pingPeriod time.Duration) {
	lk := ri.link
	c := lk.pc
	if ri.kind == KindSentinel || c == nil || !lk.pcPingTime.IsZero() ||
		lk.actPingTime.IsZero() || now.Sub(lk.actPingTime) <= pingPeriod/2 ||
		now.Sub(lk.pcPingSent) < pingPeriod/2 {
		return
	}
	lk.pcPingTime, lk.pcPingSent = now, now
	// The reply, ["pong", ""] in RESP2's subscribed mode, reaches the
	// connection's sticky handler (helloHandler).
	c.write(ri.command("PING"))
}

// pubsubPong records the answer to sendPubsubPing. Caller holds m.mu.
func (m *Monitor) pubsubPong(lk *link, now time.Time) {
	if !lk.pcPingTime.IsZero() {
		lk.pcPong = now
		lk.pcPingTime = time.Time{}
	}
}

// pingReply is sentinelPingReplyCallback.
func (m *Monitor) pingReply(ri *instance, c *conn, v value) {
	lk := c.link
	lk.decPending()
	if ri.removed {
		return
	}
	now := time.Now()
	if v.isStatus() || v.isError() {
		switch {
		case hasPrefix(v.str, "PONG"), hasPrefix(v.str, "LOADING"), hasPrefix(v.str, "MASTERDOWN"):
			lk.lastAvail = now
			lk.actPingTime = time.Time{}
			if !lk.lastPingTime.IsZero() {
				lk.pingRTT = now.Sub(lk.lastPingTime)
			}
			if ri.rebooting && hasPrefix(v.str, "PONG") {
				ri.rebooting = false
			}
		case hasPrefix(v.str, "BUSY") && ri.sdown && !ri.scriptKillSent:
			// The instance looks down because of a busy script.
			if lk.cc != nil {
				m.sendDiscarded(lk.cc, ri.command("SCRIPT"), "KILL")
			}
			ri.scriptKillSent = true
		}
	}
	lk.lastPong = now
}

func hasPrefix(s, p string) bool { return len(s) >= len(p) && s[:len(p)] == p }

// infoReply is sentinelInfoReplyCallback.
func (m *Monitor) infoReply(ri *instance, c *conn, v value) {
	c.link.decPending()
	if ri.infoConn == c {
		ri.infoConn = nil
	}
	if ri.removed || v.typ != '$' || v.null {
		return
	}
	m.refreshInstanceInfo(ri, v.str, time.Now())
}

// publishReply is sentinelPublishReplyCallback: only a successful PUBLISH
// restarts the publish period, otherwise the next tick retries. Any reply
// lets the next hello go (helloDue).
func (m *Monitor) publishReply(ri *instance, c *conn, v value) {
	c.link.decPending()
	if ri.pubConn == c {
		ri.pubConn = nil
	}
	if ri.removed || v.isError() {
		return
	}
	ri.lastPubTime = time.Now()
}
