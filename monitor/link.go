package monitor

import "time"

// maxPendingCommands is SENTINEL_MAX_PENDING_COMMANDS: periodic commands are
// skipped while this many (times the refcount) are awaiting replies.
const maxPendingCommands = 100

// link is sentinel.c's instanceLink: the cmd and pubsub connections of an
// instance and the clocks that drive PING and SDOWN. Sentinel links are
// shared by every master that lists the same sentinel runid (refcount).
// All fields are guarded by Monitor.mu.
type link struct {
	refcount     int
	disconnected bool
	pending      int
	cc, pc       *conn

	ccConnTime time.Time
	pcConnTime time.Time
	// ccReconnTime and pcReconnTime pace the redial of each connection
	// (sentinel.c's last_reconn_time, kept per connection: one shared
	// clock let a pub/sub redial hold back the command connection's,
	// closed by the link hygiene rule in the same tick, for a whole ping
	// period, so a healed node's PING went unanswered for up to 1 s).
	ccReconnTime   time.Time
	pcReconnTime   time.Time
	pcLastActivity time.Time

	// pcPingTime is when the PING on the pub/sub connection went out
	// (zero: none unanswered), pcPong its last valid answer (zero: none
	// on this connection). See sendPubsubPing. pcPingSent is when the
	// last one went out, answered or not: they go at most one per half
	// ping period.
	pcPingTime time.Time
	pcPong     time.Time
	pcPingSent time.Time

	actPingTime  time.Time // oldest unanswered PING; zero when none
	lastPingTime time.Time // last PING sent
	lastAvail    time.Time // last valid PING reply
	lastPong     time.Time // last PING reply of any kind
	// pingRTT is the round trip of the last PING answered valid (from
	// when the most recent PING was sent), for the link latency metric.
	pingRTT time.Duration

	// myid is what the current cmd connection of a sentinel answered to
	// SENTINEL MYID ("" until it did; cleared when the connection closes).
	myid string
	// myidAsked is when SENTINEL MYID was last sent on it, myidWarned
	// whether a failed confirmation was logged for it.
	myidAsked  time.Time
	myidWarned bool
	// flavor is what the current cmd connection of a sentinel answered
	// to SENTINEL MAINTENANCE STATUS (flavorUnknown until it did; cleared
	// when the connection closes); flavorAsked when it was last sent.
	flavor      flavor
	flavorAsked time.Time
	// keptID and keptFlavor are what the last connection that answered
	// confirmed: kept across a reconnect until a new connection answers
	// otherwise, for the mixed-set view only (Sentinels: a redis-sentinel
	// whose connection dropped is still one). Votes and hellos count
	// only what the current connection confirmed (myid).
	keptID     string
	keptFlavor flavor
}

// newLink is createInstanceLink: the PING clocks start now, so an instance
// that can never be reached becomes SDOWN after down-after.
func newLink(now time.Time) *link {
	return &link{
		refcount:     1,
		disconnected: true,
		actPingTime:  now,
		lastAvail:    now,
		lastPong:     now,
	}
}

// shownDisconnected is the link's "disconnected" as replies, the failover
// and the group's reach show it: disconnected, or a connection of it still
// dialling. Only the SDOWN clock and the periodic commands read
// lk.disconnected itself, which, as hiredis' async connect, is false from
// the moment a dial begins: commands queue and a pending PING ages.
//
// Why a connection still dialling counts: redis-sentinel's connect to a
// port that refuses it (a dead node on the same host, or whose host
// answers with a reset) fails inside the connect call, so it never lists
// such a node without "disconnected". Ours dials in the background, and
// for that while (up to the dial gate's wait under load) a dead master was
// listed as "master" alone, once a ping period; node-redis 5 then opens a
// client to it, whose connect retries forever, and every command of that
// client waited on it (a client-matrix run hung for a minute).
func (lk *link) shownDisconnected() bool {
	return lk.disconnected || (lk.cc != nil && !lk.cc.connected) || (lk.pc != nil && !lk.pc.connected)
}

func (lk *link) decPending() {
	if lk.pending > 0 {
		lk.pending--
	}
}

// cmdLinkStale reports whether the command connection must be recreated:
// it is older than min-link-reconnect-period, a PING is pending for more
// than down-after/2 and nothing at all was answered for as long
// (sentinelCheckSubjectivelyDown, check 1).
func cmdLinkStale(now, connTime, actPing, lastPong time.Time, downAfter, minReconnect time.Duration) bool {
	return now.Sub(connTime) > minReconnect &&
		!actPing.IsZero() &&
		now.Sub(actPing) > downAfter/2 &&
		now.Sub(lastPong) > downAfter/2
}

// pubsubLinkStale reports whether the pub/sub connection must be recreated:
// older than min-link-reconnect-period and silent for 3 publish periods
// (we normally receive our own hellos, so silence means a dead link).
func pubsubLinkStale(now, connTime, lastActivity time.Time, publishPeriod, minReconnect time.Duration) bool {
	return now.Sub(connTime) > minReconnect &&
		now.Sub(lastActivity) > 3*publishPeriod
}
