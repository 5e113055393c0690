package monitor

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// helloHandler is sentinelReceiveHelloMessages, the handler of the pubsub
// link's SUBSCRIBE: every reply counts as pub/sub activity; published
// messages are hellos. An error reply to the SUBSCRIBE means the
// subscription failed (e.g. -NOAUTH): the connection is useless and is
// dropped, to be recreated on the next reconnect, which is what hiredis
// does. Once subscribed, an error can only answer our PING
// (sendPubsubPing), which redis-sentinel never sends: a node that answers
// PING with an error (-BUSY from a long script, a renamed PING) kept its
// subscription and its link in redis-sentinel, and dropping it here showed
// the link disconnected and sent nothing on the command link while it
// redialled.
func (m *Monitor) helloHandler(ri *instance, c *conn) func(value) {
	subscribed := false
	return func(v value) {
		if ri.removed {
			return
		}
		now := time.Now()
		c.link.pcLastActivity = now
		if v.isError() {
			if !subscribed {
				m.closeConn(c)
				return
			}
			// As pingReply: LOADING and MASTERDOWN are answers of a
			// live node.
			if hasPrefix(v.str, "LOADING") || hasPrefix(v.str, "MASTERDOWN") {
				m.pubsubPong(c.link, now)
			} else {
				c.link.pcPingTime = time.Time{}
			}
			return
		}
		subscribed = true
		if v.typ == '*' && len(v.elems) == 2 && v.elems[0].typ == '$' && strings.EqualFold(v.elems[0].str, "pong") {
			m.pubsubPong(c.link, now)
			return
		}
		if v.typ != '*' || len(v.elems) != 3 {
			return
		}
		for _, e := range v.elems {
			if e.typ != '$' || e.null {
				return
			}
		}
		if v.elems[0].str != "message" {
			return
		}
		m.processHelloLocked(v.elems[2].str, ri.owner(), now)
	}
}

// ProcessHello handles a hello received via PUBLISH to our own port.
func (m *Monitor) ProcessHello(payload string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.processHelloLocked(payload, nil, time.Now())
}

// processHelloLocked is sentinelProcessHelloMessage step 1 (sentinel
// discovery) and step 4 (last-hello time); the epoch and master-address
// steps are the receiver's, through OnHello. via is the master whose
// instance's pub/sub link carried the hello (nil for a PUBLISH to our own
// port): a hello there must be about that master. Nothing of a hello that
// fails validation (parseHello) is used. Caller holds m.mu.
func (m *Monitor) processHelloLocked(payload string, via *instance, now time.Time) {
	// We are not interested in meeting ourselves.
	if m.cfg.MyID != "" && strings.Contains(payload, m.cfg.MyID) {
		m.checkOwnID(payload, now)
		return
	}
	h, err := parseHello(payload)
	if err != nil {
		m.dropHello(payload, err)
		return
	}
	master := m.masters[h.Master]
	if master == nil {
		return
	}
	if via != nil && via != master {
		m.dropHello(payload, fmt.Errorf("received on a link of master %q: %w", via.name, errBadHello))
		return
	}
	// redis' sentinelResetMasterAndChangeAddress refuses an address that
	// createSentinelAddr refuses: so does the receiver, told here.
	_, err = newAddress(h.MasterAddr, m.resolveHostnames.Load())
	h.MasterAddrUsable = err == nil
	si := m.discoverSentinel(master, h.SentinelAddr, h.SentinelID, now)
	if si != nil {
		si.lastHelloTime = now
		si.helloReceived = now
		h.Sentinel = *si.ref()
		h.FromKnownSentinel = true
		h.FromConfirmedSentinel = si.idConfirmed()
	}
	if cb := m.cfg.OnHello; cb != nil {
		m.notes.pushHello(cb, h)
	}
}

// helloFrom is the "ip,port" a hello payload announces its sender at.
func helloFrom(payload string) string {
	ip, rest, _ := strings.Cut(payload, ",")
	port, _, _ := strings.Cut(rest, ",")
	return ip + "," + port
}

// noteOwnHello records the address a hello of ours announces. Caller
// holds m.mu.
func (m *Monitor) noteOwnHello(payload string) {
	from := helloFrom(payload)
	if _, ok := m.ownHelloFrom[from]; ok {
		return
	}
	if m.ownHelloFrom == nil {
		m.ownHelloFrom = map[string]struct{}{}
	}
	m.ownHelloFrom[from] = struct{}{}
}

// dupIDWarnEvery bounds checkOwnID's warning: anyone who can PUBLISH to a
// monitored node can send hellos with our id.
const dupIDWarnEvery = time.Minute

// checkOwnID logs a hello that carries this sentinel's id with an address
// none of its own hellos announced: another sentinel has the same myid (a
// sentinel.conf copied with its myid line). Each ignores the other's
// hellos as its own, as redis-sentinel does, so neither counts the other
// (its votes, the quorum, the Raft group) and nothing else says why: a
// set of three copies never fails over. Logged at most once a minute.
// Caller holds m.mu.
func (m *Monitor) checkOwnID(payload string, now time.Time) {
	if m.log == nil || len(m.ownHelloFrom) == 0 || now.Sub(m.dupIDWarned) < dupIDWarnEvery {
		return
	}
	from := helloFrom(payload)
	_, rest, _ := strings.Cut(payload, ",")
	_, rest, _ = strings.Cut(rest, ",")
	if id, _, _ := strings.Cut(rest, ","); id != m.cfg.MyID {
		return
	}
	if _, ours := m.ownHelloFrom[from]; ours {
		return
	}
	m.dupIDWarned = now
	m.log.Warn("Another sentinel announces this sentinel's id: two sentinels share a myid (a sentinel.conf copied with its myid line?); "+
		"each takes the other's hellos for its own, so neither counts the other for votes, the quorum or the Raft group",
		"myid", m.cfg.MyID, "from", strconv.Quote(truncate(from, 128)))
}

// dropHello logs a refused hello at debug level: anyone who can PUBLISH to a
// monitored node can send them, so they must not flood the log.
func (m *Monitor) dropHello(payload string, err error) {
	if m.log != nil {
		m.log.Debug("hello dropped", "payload", strconv.Quote(truncate(payload, 256)), "error", err)
	}
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// discoverSentinel finds or adds the sender of a hello (§6.3 step 1).
// Caller holds m.mu.
func (m *Monitor) discoverSentinel(master *instance, a Addr, runid string, now time.Time) *instance {
	// An invalid address (hostname without resolve-hostnames, bad port)
	// matches nothing and cannot be added, but as in redis it still
	// evicts an entry with the same runid.
	addr, err := newAddress(a, m.resolveHostnames.Load())
	valid := err == nil
	if valid {
		if si := findSentinel(master, &addr, runid); si != nil {
			return si
		}
	}
	// Same runid at another address: the sentinel moved.
	removed := m.removeSentinelByRunID(master, runid)
	if removed > 0 {
		m.emit(LevelNotice, "+sentinel-address-switch", master, "ip %s port %d for %s", a.Host, a.Port, runid)
	} else if valid {
		m.evictAddressClaimant(master, addr)
	}
	var si *instance
	if valid {
		si = m.createSentinel(master, addr, runid, now)
	}
	if si == nil {
		if removed > 0 {
			m.topologyChanged(master.name)
		}
		return nil
	}
	if removed == 0 {
		m.emit(LevelNotice, "+sentinel", si, "")
	}
	m.tryConnectionSharing(si)
	if removed > 0 {
		m.updateSentinelAddressInAllMasters(si)
	}
	m.topologyChanged(master.name)
	return si
}

// evictAddressClaimant handles a new runid announcing the address of a known
// sentinel: the old one is gone for good, under every master.
// Caller holds m.mu.
func (m *Monitor) evictAddressClaimant(master *instance, addr address) {
	other := findSentinel(master, &addr, "")
	if other == nil {
		return
	}
	m.emit(LevelNotice, "+sentinel-invalid-addr", other, "")
	obsolete := other.runID
	for _, mm := range m.sortedMastersLocked() {
		if m.removeSentinelByRunID(mm, obsolete) > 0 && mm != master {
			m.topologyChanged(mm.name)
		}
	}
}

// findSentinel is getSentinelRedisInstanceByAddrAndRunID: match on runid
// and/or address (either may be omitted).
func findSentinel(master *instance, addr *address, runid string) *instance {
	for _, si := range master.sentinels {
		if runid != "" && si.runID != runid {
			continue
		}
		if addr != nil && !si.addr.same(*addr) {
			continue
		}
		return si
	}
	return nil
}

// createSentinel adds a sentinel entry named by its runid. Caller holds m.mu.
func (m *Monitor) createSentinel(master *instance, addr address, runid string, now time.Time) *instance {
	for _, si := range master.sentinels {
		if si.name == runid {
			return nil
		}
	}
	if len(master.sentinels) >= MaxSentinelsPerMaster {
		m.warnLimit(master, "sentinels", MaxSentinelsPerMaster)
		return nil
	}
	runid = m.internRunID(runid)
	si := newInstance(KindSentinel, runid, addr, master, now)
	si.runID = runid
	master.sentinels = append(master.sentinels, si)
	return si
}

// removeSentinelByRunID drops the entries of a master with this runid and
// returns how many. Caller holds m.mu.
func (m *Monitor) removeSentinelByRunID(master *instance, runid string) int {
	if runid == "" {
		return 0
	}
	kept := master.sentinels[:0]
	removed := 0
	for _, si := range master.sentinels {
		if si.runID == runid {
			m.releaseInstance(si)
			removed++
			continue
		}
		kept = append(kept, si)
	}
	for i := len(kept); i < len(master.sentinels); i++ {
		master.sentinels[i] = nil
	}
	master.sentinels = kept
	return removed
}

// tryConnectionSharing is sentinelTryConnectionSharing: use the link of the
// same sentinel (runid) under another master, so one physical sentinel gets
// one connection and one PING per period. Caller holds m.mu.
func (m *Monitor) tryConnectionSharing(si *instance) bool {
	if si.runID == "" || si.link.refcount > 1 {
		return false
	}
	for _, mm := range m.sortedMastersLocked() {
		if mm == si.master {
			continue
		}
		match := findSentinel(mm, nil, si.runID)
		if match == nil || match == si {
			continue
		}
		old := si.link
		old.refcount--
		if old.refcount == 0 {
			m.closeConn(old.cc)
			m.closeConn(old.pc)
		}
		si.link = match.link
		si.link.refcount++
		return true
	}
	return false
}

// updateSentinelAddressInAllMasters propagates a sentinel's new address to
// its entries under other masters and drops their connections so everybody
// reconnects to the new address. Caller holds m.mu.
func (m *Monitor) updateSentinelAddressInAllMasters(si *instance) {
	reconfigured := 0
	for _, mm := range m.sortedMastersLocked() {
		match := findSentinel(mm, nil, si.runID)
		if match == nil {
			continue
		}
		m.closeLinks(match)
		if match == si {
			continue
		}
		match.addr = si.addr
		reconfigured++
		m.topologyChanged(mm.name)
	}
	if reconfigured > 0 {
		m.emit(LevelNotice, "+sentinel-address-update", si, "%d additional matching instances", reconfigured)
	}
}
