package monitor

import (
	"strings"
	"time"
)

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

// retrySentinelAsks asks a sentinel's command link again, at most every
// myIDRetry, what it has not usefully answered yet: SENTINEL MYID while
// its id is not confirmed, and its flavor while no answer said anything.
// Caller holds m.mu.
func (m *Monitor) retrySentinelAsks(ri *instance, now time.Time) {
	lk := ri.link
	if ri.kind != KindSentinel || lk.cc == nil {
		return
	}
	if !ri.idConfirmed() && now.Sub(lk.myidAsked) >= myIDRetry {
		m.askMyID(ri, lk.cc, now)
	}
	if lk.flavor == flavorUnknown && now.Sub(lk.flavorAsked) >= myIDRetry {
		m.askFlavor(ri, lk.cc, now)
	}
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
	c.link.myid = m.internRunID(v.str)
	c.link.keptID = c.link.myid
	if v.str != ri.runID && m.log != nil && !c.link.myidWarned {
		c.link.myidWarned = true
		m.log.Warn("sentinel answers another id than its hellos announce; its votes are not counted", "addr", c.addr, "announced", ri.runID, "answered", v.str)
	}
}

// keptFor is how long after its link last answered a PING a sentinel's
// kept answers (link.keptID, link.keptFlavor) still count: one gone for
// good stops counting as declined, so a set it left is again looked at as
// one of gosentinels only (AnyDeclined). It is longer than the node's
// foreignGone (10 s), which decides by the hellos heard within it.
const keptFor = 30 * time.Second

// idKept reports whether ri's runid is the one its link's current
// connection confirmed, or, while no connection has answered since (and
// for keptFor after the link last answered), the last one did: the
// mixed-set view's test (Sentinels), never the votes'.
func (ri *instance) idKept() bool {
	lk := ri.link
	if ri.kind != KindSentinel || ri.runID == "" {
		return false
	}
	return lk.myid == ri.runID || lk.myid == "" && lk.keptID == ri.runID && time.Since(lk.lastAvail) < keptFor
}

// declinedKept reports whether lk's sentinel declined gosentinel's
// subcommand on the current connection, or, while no connection has
// answered since (and for keptFor after the link last answered), on the
// last one that did.
func (lk *link) declinedKept() bool {
	return lk.flavor == flavorOther || lk.flavor == flavorUnknown && lk.keptFlavor == flavorOther && time.Since(lk.lastAvail) < keptFor
}

// idConfirmed reports whether ri's link answered SENTINEL MYID with ri's
// runid. Both are interned (internRunID), so the comparison, made for
// every sentinel of every master at every tick, is one of pointers.
func (ri *instance) idConfirmed() bool {
	return ri.kind == KindSentinel && ri.runID != "" && ri.link.myid == ri.runID
}

// A sentinel's flavor: whether it is a gosentinel. The node needs it to
// tell a mixed set (a redis-sentinel among gosentinels, node/mixed.go). The
// peer channel's handshake proves a gosentinel, but its failure proves
// nothing: packet loss or a partition makes a gosentinel's handshakes
// time out exactly as a redis-sentinel's do (the chaos campaign's 30 %
// loss took every member for foreign, and the set ran redis-sentinel's
// protocol for seconds). So the command link asks SENTINEL MAINTENANCE
// STATUS, a subcommand only gosentinel has: redis-sentinel answers its
// unknown-subcommand error, which no network fault produces.
type flavor uint8

const (
	flavorUnknown flavor = iota
	flavorGosentinel
	flavorOther
)

// flavorOf classifies the answer to SENTINEL MAINTENANCE STATUS: any reply
// but an error is gosentinel's; redis' unknown-subcommand error (7.0:
// "ERR unknown subcommand 'MAINTENANCE'. Try SENTINEL HELP.", and its
// older and Valkey's wordings) is another sentinel's; other errors
// (NOAUTH, NOPERM from an ACL, LOADING) say nothing.
func flavorOf(v value) flavor {
	if !v.isError() {
		return flavorGosentinel
	}
	if strings.Contains(strings.ToLower(v.str), "unknown subcommand") ||
		strings.Contains(strings.ToLower(v.str), "unknown sentinel subcommand") {
		return flavorOther
	}
	return flavorUnknown
}

// noteFlavorLocked keeps declined, the links whose sentinel declined
// gosentinel's subcommand, in step with lk.flavor. Caller holds m.mu.
func (m *Monitor) noteFlavorLocked(lk *link) {
	if lk.declinedKept() && lk.refcount > 0 {
		if m.declined == nil {
			m.declined = map[*link]struct{}{}
		}
		m.declined[lk] = struct{}{}
		return
	}
	delete(m.declined, lk)
}

// AnyDeclined reports whether a sentinel declined gosentinel's subcommand
// on our command link to it (the link's current connection, or the last
// one that answered; InstanceStatus.Declined of its entries). Only such a sentinel can be foreign, and the answer costs
// no walk over the masters, so a set of gosentinels skips the mixed-set
// rounds' look at every sentinel record (node).
func (m *Monitor) AnyDeclined() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	for lk := range m.declined {
		if !lk.declinedKept() {
			delete(m.declined, lk) // kept past keptFor: gone
		}
	}
	return len(m.declined) > 0
}

// askFlavor queues SENTINEL MAINTENANCE STATUS on a sentinel's cmd
// connection. Caller holds m.mu.
func (m *Monitor) askFlavor(ri *instance, c *conn, now time.Time) {
	c.send(replyHandler{fn: func(v value) {
		c.link.decPending()
		if c.link.cc == c {
			c.link.flavor = flavorOf(v)
			if c.link.flavor != flavorUnknown {
				c.link.keptFlavor = c.link.flavor
			}
			m.noteFlavorLocked(c.link)
		}
	}}, ri.command("SENTINEL"), "MAINTENANCE", "STATUS")
	c.link.pending++
	c.link.flavorAsked = now
}

// maxInternedRunIDs bounds the intern table: run ids come from hellos and
// MYID replies, which any node may send; past the bound it starts over
// (a missed intern only costs a byte comparison).
const maxInternedRunIDs = 4096

// internRunID returns the monitor's one copy of a sentinel run id. The same
// id arrives in every hello for every master, each a fresh string; the
// sentinel entries of every master and their shared link keep one copy.
// Caller holds m.mu.
func (m *Monitor) internRunID(id string) string {
	if s, ok := m.runIDs[id]; ok {
		return s
	}
	if m.runIDs == nil || len(m.runIDs) >= maxInternedRunIDs {
		m.runIDs = make(map[string]string)
	}
	m.runIDs[id] = id
	return id
}
