package monitor

import (
	"strconv"
	"time"
)

// checkSubjectivelyDown is sentinelCheckSubjectivelyDown: link hygiene,
// then the SDOWN flag with its +sdown/-sdown events. Caller holds m.mu.
func (m *Monitor) checkSubjectivelyDown(ri *instance, ts *tickState) {
	lk := ri.link
	now := ts.now
	downAfter := ri.downAfter()

	// The link's state is read before its hygiene, as redis computes
	// elapsed first: a connection closed for silence marks the link
	// disconnected, and read after, a link without a PING pending then
	// counted from its last valid reply in this same pass.
	in := linkSDownInput(ri)

	// Whether the node sent something we have not handled: asked only
	// when a link would be closed or the node found down (a system call).
	behind := func() bool { return lk.cc.behind() || lk.pc.behind() }
	if lk.cc != nil && cmdLinkStale(now, lk.ccConnTime, lk.actPingTime, lk.lastPong, downAfter, ts.timing.MinLinkReconnectPeriod) && !behind() {
		m.closeConn(lk.cc)
	}
	if lk.pc != nil && pubsubLinkStale(now, lk.pcConnTime, lk.pcLastActivity, ts.timing.PublishPeriod, ts.timing.MinLinkReconnectPeriod) {
		m.closeConn(lk.pc)
	}

	in.Now = now
	in.IsMaster = ri.kind == KindMaster
	in.RoleReported, in.RoleReportedTime = ri.roleReported, ri.roleReportedTime
	in.InfoPeriod = ts.timing.InfoPeriod
	in.Rebooting, in.RebootSince = ri.rebooting, ri.rebootSince
	in.RebootDownAfter = ri.owner().spec.RebootDownAfter
	down := IsSubjectivelyDown(in)
	if down && !ri.sdown {
		in.RepliesWaiting = behind()
		down = IsSubjectivelyDown(in)
	}
	switch {
	case down && !ri.sdown:
		m.emit(LevelWarning, "+sdown", ri, "")
		ri.sdownSince = now
		m.setSDown(ri, true)
	case !down && ri.sdown:
		m.emit(LevelWarning, "-sdown", ri, "")
		m.setSDown(ri, false)
		ri.scriptKillSent = false
	}
}

// askMasterStateToOtherSentinels sends SENTINEL is-master-down-by-addr to
// every connected sentinel of a master that is SDOWN here whose last answer
// is older than ask-period (or at once when an election forces it), at
// every look at the master (an SDOWN master is looked at every 50 ms), as
// redis asks at every timer run; it forgets answers older than
// 5×ask-period.
// Caller holds m.mu.
func (m *Monitor) askMasterStateToOtherSentinels(master *instance, ts *tickState) {
	if !master.sdown && !master.verdictsHeld {
		// The common case, every master of every tick: nothing to ask and
		// nothing to expire. Visiting each sentinel record to find that
		// out was a tenth of a follower's CPU at 1000 masters (a cache
		// miss per record).
		master.electionAsk = false
		return
	}
	ask := ts.timing.AskPeriod
	// Without an election of ours the asks only want SDOWN verdicts ("*");
	// during one they ask for votes, with our run id and its epoch.
	runid, epoch := "*", ts.epoch
	if master.electionEpoch != 0 {
		runid, epoch = m.cfg.MyID, master.electionEpoch
	}
	forced := master.electionAsk
	master.electionAsk = false
	for _, si := range master.sentinels {
		if !master.sdown && !si.masterDown && si.leader == "" {
			// Nothing to ask and nothing to expire (the id check below
			// compares two run ids).
			continue
		}
		elapsed := ts.now.Sub(si.lastMasterDownReplyTime)
		if elapsed > 5*ask {
			si.masterDown = false
			si.leader = ""
		}
		if !si.idConfirmed() {
			// Not (or no longer) confirmed: no vote is asked or kept.
			si.masterDown = false
			si.leader = ""
			continue
		}
		if !master.sdown || si.link.disconnected || si.link.cc == nil {
			continue
		}
		if elapsed < ask && !forced {
			continue
		}
		c := si.link.cc
		c.send(replyHandler{fn: func(v value) { m.isMasterDownReply(si, c, v) }},
			si.command("SENTINEL"), "is-master-down-by-addr",
			m.announceHost(master.addr), strconv.Itoa(master.addr.Port),
			strconv.FormatUint(epoch, 10), runid)
		si.link.pending++
	}
	held := false
	for _, si := range master.sentinels {
		held = held || si.masterDown || si.leader != ""
	}
	master.verdictsHeld = held
}

// announceHost is announceSentinelAddr: the hostname with
// announce-hostnames, else the IP when we know it.
func (m *Monitor) announceHost(a address) string {
	if m.announceHostnames.Load() || a.ip == "" {
		return a.Host
	}
	return a.ip
}

// isMasterDownReply is sentinelReceiveIsMasterDownReply: a reply
// [down 0|1, leader runid or "*", leader epoch]; anything else is ignored,
// and so is (unlike redis) a leader that is neither "*" nor a runid or a
// negative epoch, and any reply of a sentinel whose id is not confirmed.
func (m *Monitor) isMasterDownReply(si *instance, c *conn, v value) {
	c.link.decPending()
	if si.removed || !si.idConfirmed() {
		return
	}
	if v.typ != '*' || len(v.elems) != 3 ||
		v.elems[0].typ != ':' || v.elems[1].typ != '$' || v.elems[1].null || v.elems[2].typ != ':' ||
		(v.elems[1].str != "*" && !isRunID(v.elems[1].str)) || v.elems[2].num < 0 {
		return
	}
	si.lastMasterDownReplyTime = time.Now()
	down := v.elems[0].num == 1
	if down != si.masterDown {
		if cb, master := m.cfg.OnPeerVerdict, si.owner().name; cb != nil {
			m.notes.Push(func() { cb(master) })
		}
	}
	si.masterDown = down
	if down {
		si.owner().verdictsHeld = true
	}
	if leader := v.elems[1].str; leader != "*" {
		si.owner().verdictsHeld = true
		if m.log != nil && int64(si.leaderEpoch) != v.elems[2].num {
			m.log.Info("sentinel voted", "sentinel", si.name, "leader", leader, "epoch", v.elems[2].num)
		}
		si.leader = leader
		si.leaderEpoch = uint64(v.elems[2].num)
	}
}

// setSDown sets ri.sdown, keeping Monitor.sdownMasters in step for a
// master. Caller holds m.mu.
func (m *Monitor) setSDown(ri *instance, down bool) {
	ri.sdown = down
	if ri.kind != KindMaster {
		return
	}
	if !down {
		delete(m.sdownMasters, ri.name)
		return
	}
	if m.sdownMasters == nil {
		m.sdownMasters = map[string]struct{}{}
	}
	m.sdownMasters[ri.name] = struct{}{}
}
