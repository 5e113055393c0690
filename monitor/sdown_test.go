package monitor

import (
	"testing"
	"time"
)

func TestIsSubjectivelyDown(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	ago := func(ms int) time.Time { return now.Add(-time.Duration(ms) * time.Millisecond) }
	const downAfter = 5 * time.Second
	const info = 10 * time.Second
	cases := []struct {
		name string
		in   SDownInput
		want bool
	}{
		{"answered recently", SDownInput{LastOKPingReply: ago(100)}, false},
		{"ping pending less than down-after", SDownInput{PingPendingSince: ago(4999), LastOKPingReply: ago(9000)}, false},
		{"ping pending exactly down-after", SDownInput{PingPendingSince: ago(5000)}, false},
		{"ping pending beyond down-after", SDownInput{PingPendingSince: ago(5001)}, true},
		{"ping pending beyond down-after, pub/sub PING answered within it (a write pause)", SDownInput{PingPendingSince: ago(9000), PubsubPong: ago(4000)}, false},
		{"ping pending beyond down-after, pub/sub PING answered before it", SDownInput{PingPendingSince: ago(9000), PubsubPong: ago(5001)}, true},
		{"ping pending beyond down-after, but replies wait to be handled (we are behind)", SDownInput{PingPendingSince: ago(9000), RepliesWaiting: true}, false},
		{"disconnected beyond down-after, bytes still waiting", SDownInput{Disconnected: true, LastOKPingReply: ago(9000), RepliesWaiting: true}, false},
		{"replies waiting do not hide a master reporting slave too long", SDownInput{IsMaster: true, RoleReported: "slave", RoleReportedTime: ago(25001), RepliesWaiting: true}, true},
		{"replies waiting do not hide a reboot beyond its period", SDownInput{IsMaster: true, Rebooting: true, RebootSince: ago(2001), RebootDownAfter: 2 * time.Second, RepliesWaiting: true}, true},
		{"disconnected, pub/sub PING answered within down-after", SDownInput{Disconnected: true, LastOKPingReply: ago(9000), PubsubPong: ago(100)}, false},
		{"pending ping wins over last ok while disconnected", SDownInput{PingPendingSince: ago(1000), Disconnected: true, LastOKPingReply: ago(60000)}, false},
		{"disconnected, no ping, last ok old", SDownInput{Disconnected: true, LastOKPingReply: ago(5001)}, true},
		{"connected, no ping pending, last ok old", SDownInput{LastOKPingReply: ago(60000)}, false},
		{"master reporting slave not long enough", SDownInput{IsMaster: true, RoleReported: "slave", RoleReportedTime: ago(25000)}, false},
		{"master reporting slave too long", SDownInput{IsMaster: true, RoleReported: "slave", RoleReportedTime: ago(25001)}, true},
		{"replica reporting slave", SDownInput{RoleReported: "slave", RoleReportedTime: ago(60000)}, false},
		{"master reboot within period", SDownInput{IsMaster: true, Rebooting: true, RebootSince: ago(1000), RebootDownAfter: 2 * time.Second}, false},
		{"master reboot beyond period", SDownInput{IsMaster: true, Rebooting: true, RebootSince: ago(2001), RebootDownAfter: 2 * time.Second}, true},
		{"reboot flag on non-master ignored", SDownInput{Rebooting: true, RebootSince: ago(9000), RebootDownAfter: time.Second}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			in.Now, in.DownAfter, in.InfoPeriod = now, downAfter, info
			if got := IsSubjectivelyDown(in); got != tc.want {
				t.Fatalf("IsSubjectivelyDown = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestLinkStale(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	ago := func(ms int) time.Time { return now.Add(-time.Duration(ms) * time.Millisecond) }
	minRe, downAfter, pub := 15*time.Second, 4*time.Second, 2*time.Second
	cmd := []struct {
		name                     string
		conn, actPing, lastReply time.Time
		want                     bool
	}{
		{"young link", ago(14000), ago(3000), ago(3000), false},
		{"no ping pending", ago(20000), time.Time{}, ago(10000), false},
		{"ping pending, recent error reply", ago(20000), ago(3000), ago(1000), false},
		{"ping pending and silent", ago(20000), ago(2001), ago(2001), true},
	}
	for _, tc := range cmd {
		if got := cmdLinkStale(now, tc.conn, tc.actPing, tc.lastReply, downAfter, minRe); got != tc.want {
			t.Errorf("cmdLinkStale %s = %v, want %v", tc.name, got, tc.want)
		}
	}
	ps := []struct {
		name           string
		conn, activity time.Time
		want           bool
	}{
		{"young link", ago(1000), time.Time{}, false},
		{"recent activity", ago(20000), ago(5999), false},
		{"silent", ago(20000), ago(6001), true},
		{"never active", ago(15001), time.Time{}, true},
	}
	for _, tc := range ps {
		if got := pubsubLinkStale(now, tc.conn, tc.activity, pub, minRe); got != tc.want {
			t.Errorf("pubsubLinkStale %s = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestSDownReadsTheLinkBeforeItsHygiene: the pass that closes a silent
// pub/sub connection judges SDOWN on the link as it was before the close,
// as sentinelCheckSubjectivelyDown computes elapsed before its link
// hygiene. Every PING answered, the last reply down-after and 10 ms ago,
// no PING pending (the check alone: in a pass the next PING usually goes
// out before it, unless the link's pending commands hold it back): read
// after the close, the link counted as disconnected since its last reply
// and the node, which answers every PING, went +sdown.
func TestSDownReadsTheLinkBeforeItsHygiene(t *testing.T) {
	const downAfter = 500 * time.Millisecond
	tm := DefaultTiming()
	m := New(Config{MyID: idA, Timing: func() Timing { return tm }})
	t.Cleanup(m.Close)
	m.Watch(MasterSpec{Name: "m", Addr: Addr{Host: "127.0.0.1", Port: 1}, DownAfter: downAfter})
	now := time.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	ri := m.masters["m"]
	lk := ri.link
	// Both connections up (neither has a socket: nothing is sent in this
	// pass), nothing pending on the command connection.
	lk.cc = &conn{mon: m, link: lk, connected: true}
	lk.pc = &conn{mon: m, link: lk, pubsub: true, connected: true}
	lk.disconnected = false
	lk.actPingTime = time.Time{}
	lk.ccConnTime = now.Add(-time.Minute)
	lk.lastAvail, lk.lastPong = now.Add(-downAfter-10*time.Millisecond), now.Add(-downAfter-10*time.Millisecond)
	// The pub/sub connection: older than min-link-reconnect-period and
	// silent for more than three publish periods, so this pass closes it.
	lk.pcConnTime = now.Add(-2 * tm.MinLinkReconnectPeriod)
	lk.pcLastActivity = now.Add(-4 * tm.PublishPeriod)

	m.checkSubjectivelyDown(ri, &tickState{now: now, timing: tm})
	if lk.pc != nil || !lk.disconnected {
		t.Fatal("the pass did not close the silent pub/sub connection")
	}
	if ri.sdown {
		t.Fatal("+sdown in the pass that closed the pub/sub connection of a node answering every PING")
	}
}
