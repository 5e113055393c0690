package monitor

import (
	"errors"
	"net"
	"time"
)

// helloChannel is SENTINEL_HELLO_CHANNEL.
const helloChannel = "__sentinel__:hello"

// reconnect is sentinelReconnectInstance: create the missing cmd (and, for
// masters and replicas, pubsub) connection, each at most once per ping
// period.
// Commands are queued right away and go out once the TCP connect completes,
// like hiredis' async connect; the link counts as connected from now on
// unless the connect fails.
func (m *Monitor) reconnect(ri *instance, ts *tickState) {
	lk := ri.link
	if !lk.disconnected || ri.addr.Port == 0 || m.closed {
		return
	}
	dial := ri.addr.String()
	resolved := func(ip string) {
		if !ri.removed && ri.addr.ip != ip && net.ParseIP(ri.addr.Host) == nil {
			ri.addr.ip = ip
		}
	}

	// Each connection redials at most once per ping period.
	due := func(last time.Time) bool { return ts.now.Sub(last) >= ts.timing.PingPeriod }
	if lk.cc == nil && due(lk.ccReconnTime) {
		lk.ccReconnTime = ts.now
		c := newConn(m, lk, false, dial)
		c.owner = ri
		c.resolved = resolved
		if ri.kind == KindSentinel {
			c.spareLimit = maxSentinelSpare
		}
		lk.cc = c
		lk.pending = 0
		lk.ccConnTime = ts.now
		m.sendAuth(ri, c)
		m.setClientName(ri, c, "cmd")
		if ri.kind == KindSentinel {
			lk.myidWarned = false
			m.askMyID(ri, c, ts.now)
			m.askFlavor(ri, c, ts.now)
		}
		m.sendPing(ri, ts.now)
		m.start(c)
	}
	if ri.kind != KindSentinel && lk.pc == nil && due(lk.pcReconnTime) {
		lk.pcReconnTime = ts.now
		c := newConn(m, lk, true, dial)
		c.owner = ri
		lk.pc = c
		lk.pcConnTime = ts.now
		m.sendAuth(ri, c)
		m.setClientName(ri, c, "pubsub")
		c.send(replyHandler{fn: m.helloHandler(ri, c), sticky: true},
			ri.command("SUBSCRIBE"), helloChannel)
		m.start(c)
	}
	if lk.cc != nil && (ri.kind == KindSentinel || lk.pc != nil) {
		lk.disconnected = false
	}
}

func (m *Monitor) start(c *conn) {
	m.wg.Add(1)
	m.dials.submit(c.run)
}

// sendAuth is sentinelSendAuthIfNeeded: the master's auth-pass/auth-user for
// masters and replicas, the sentinel credentials for sentinels.
func (m *Monitor) sendAuth(ri *instance, c *conn) {
	var user, pass string
	if ri.kind == KindSentinel {
		user, pass = m.sentinelUser, m.sentinelPass
	} else {
		spec := &ri.owner().spec
		user, pass = spec.AuthUser, spec.AuthPass
	}
	switch {
	case pass == "":
	case user == "":
		m.sendDiscarded(c, ri.command("AUTH"), pass)
	default:
		m.sendDiscarded(c, ri.command("AUTH"), user, pass)
	}
}

// setClientName names the connection sentinel-<first 8 of myid>-<kind>.
func (m *Monitor) setClientName(ri *instance, c *conn, kind string) {
	id := m.cfg.MyID
	if len(id) > 8 {
		id = id[:8]
	}
	m.sendDiscarded(c, ri.command("CLIENT"), "SETNAME", "sentinel-"+id+"-"+kind)
}

// sendDiscarded sends a command whose reply is only accounted for
// (sentinelDiscardReplyCallback): it counts in the link's pending
// commands until its reply arrives or c closes (closeConn). Caller holds
// m.mu.
func (m *Monitor) sendDiscarded(c *conn, args ...string) {
	c.discarded++
	c.link.pending++
	c.send(replyHandler{fn: func(value) {
		c.discarded--
		c.link.decPending()
	}}, args...)
}

// connEstablished records the local address once the TCP connect is done.
func (m *Monitor) connEstablished(c *conn, local, remote net.Addr) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if c.closed {
		return
	}
	c.connected = true
	c.localIP = hostOf(local)
	c.remoteIP = hostOf(remote)
	if c.resolved != nil && c.remoteIP != "" {
		c.resolved(c.remoteIP)
	}
}

// connFailed handles a failed connect or a broken connection: the link
// becomes disconnected and is recreated by the next reconnect.
func (m *Monitor) connFailed(c *conn, err error, connecting bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if c.closed {
		return
	}
	if errors.Is(err, errProtocol) && m.log != nil {
		// A reply beyond the reader's bounds (or garbage): the node is
		// broken or hostile; say so, drop the link, redial as usual.
		m.log.Warn("closing link after a bad reply", "addr", c.addr, "pubsub", c.pubsub, "error", err)
	}
	if connecting && c.owner != nil && !c.owner.removed {
		// Debug level: logged by the receiver, never published.
		typ := "-cmd-link-reconnection"
		if c.pubsub {
			typ = "-pubsub-link-reconnection"
		}
		m.emit(LevelDebug, typ, c.owner, "#%v", err)
	}
	m.closeConn(c)
}

// deliver hands one reply to the handler waiting for it. It returns false
// when the conn was closed meanwhile.
func (m *Monitor) deliver(c *conn, v value) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if c.closed {
		return false
	}
	if h, ok := c.nextHandler(); ok {
		h.fn(v)
	}
	return !c.closed
}

// deliverAll hands replies read together to their handlers, in order,
// under one hold of the lock (the event loop's batch).
func (m *Monitor) deliverAll(c *conn, vs []value) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, v := range vs {
		if c.closed {
			return
		}
		if h, ok := c.nextHandler(); ok {
			h.fn(v)
		}
	}
}

// closeConn is instanceLinkCloseConnection. Caller holds m.mu.
func (m *Monitor) closeConn(c *conn) {
	if c == nil || c.closed {
		return
	}
	c.closed = true
	c.handlers = nil
	lk := c.link
	if lk.cc == c {
		lk.cc = nil
		lk.pending = 0
		lk.myid = ""
		lk.flavor = flavorUnknown
		m.noteFlavorLocked(lk)
	}
	if lk.pc == c {
		lk.pc = nil
		lk.pcPingTime, lk.pcPong = time.Time{}, time.Time{}
		// The pub/sub connection's AUTH and CLIENT SETNAME count on the
		// link until answered; unanswered, they are paid back here, as
		// hiredis calls their callbacks when the connection drops. Kept,
		// a node that closes the pub/sub connection before answering
		// (maxclients) added one a reconnect until the link stopped
		// sending PINGs (maxPendingCommands) and the node went +sdown.
		lk.pending = max(lk.pending-c.discarded, 0)
	}
	lk.disconnected = true
	c.shutdown()
}

// closeLinks closes both connections of ri's link (they reconnect on the
// next tick). Caller holds m.mu.
func (m *Monitor) closeLinks(ri *instance) {
	m.closeConn(ri.link.cc)
	m.closeConn(ri.link.pc)
}

// releaseInstance drops ri; its link is closed unless another master's
// sentinel entry still shares it (releaseInstanceLink). Caller holds m.mu.
func (m *Monitor) releaseInstance(ri *instance) {
	ri.removed = true
	lk := ri.link
	lk.refcount--
	if lk.refcount > 0 {
		return
	}
	m.closeConn(lk.cc)
	m.closeConn(lk.pc)
	m.noteFlavorLocked(lk) // no entry left: not declined any more
}
