package monitor

import "time"

// A sentinel is counted only once its hellos are consistent with what
// answers at the address they announce. A hello is unauthenticated: anyone
// who can PUBLISH to a monitored node (or to our port) can announce a
// sentinel under any runid at any address. redis-sentinel creates the
// entry, dials it, and counts whatever its is-master-down-by-addr replies
// say. Here the entry is still created (SENTINEL SENTINELS lists it, as in
// redis), but its vote is neither asked for nor counted for ODOWN, and its
// hellos move no epoch or master address, until our own cmd connection to
// the announced address has answered SENTINEL MYID (redis >= 6.2, and
// gosentinel) with exactly the announced runid. A new connection asks
// again; a closed one forgets the answer. This stops a hello from pointing
// a second runid at an existing sentinel (its vote counted twice) or at a
// node that is no sentinel; it does not stop a full impostor listening at
// the address it announces, which only the peer channel's secret does
// (internal/peer). A peer that refuses SENTINEL MYID (an ACL without it, a
// redis-sentinel older than 6.2) is never counted, and the log says so.

// myIDRetry paces SENTINEL MYID on a connection whose answer did not
// confirm the announced runid: an error (the peer still loading, an ACL
// changed since), no answer yet, or a runid its hellos announced only
// later. Without a retry one transient error on a long-lived connection
// would keep that sentinel's vote out of ODOWN for as long as the
// connection lives, and a quorum could never be reached.
const myIDRetry = time.Second

// askMyID queues SENTINEL MYID on a sentinel's cmd connection. Caller holds
// m.mu.
func (m *Monitor) askMyID(ri *instance, c *conn, now time.Time) {
	c.send(replyHandler{fn: func(v value) { m.myIDReply(ri, c, v) }}, ri.command("SENTINEL"), "MYID")
	c.link.pending++
	c.link.myidAsked = now
}

// retryMyID asks again, at most every myIDRetry, while ri's id is not
// confirmed. Caller holds m.mu.
func (m *Monitor) retryMyID(ri *instance, now time.Time) {
	lk := ri.link
	if ri.kind != KindSentinel || lk.cc == nil || ri.idConfirmed() || now.Sub(lk.myidAsked) < myIDRetry {
		return
	}
	m.askMyID(ri, lk.cc, now)
}

// myIDReply records the answer to SENTINEL MYID. Caller holds m.mu.
func (m *Monitor) myIDReply(ri *instance, c *conn, v value) {
	c.link.decPending()
	if c.link.cc != c {
		return
	}
	if (v.typ != '$' && v.typ != '+') || v.null || !isRunID(v.str) {
		if m.log != nil && !c.link.myidWarned {
			c.link.myidWarned = true
			m.log.Warn("sentinel did not confirm its id; its votes are not counted until it does (asked again every second)", "addr", c.addr, "announced", ri.runID, "reply", truncate(v.str, 128))
		}
		return
	}
	c.link.myid = v.str
	if v.str != ri.runID && m.log != nil && !c.link.myidWarned {
		c.link.myidWarned = true
		m.log.Warn("sentinel answers another id than its hellos announce; its votes are not counted", "addr", c.addr, "announced", ri.runID, "answered", v.str)
	}
}

// idConfirmed reports whether ri's link answered SENTINEL MYID with ri's
// runid.
func (ri *instance) idConfirmed() bool {
	return ri.kind == KindSentinel && ri.runID != "" && ri.link.myid == ri.runID
}
