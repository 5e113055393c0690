package node

import (
	"testing"

	"github.com/x0tta6bl4/gosentinel/monitor"
	"github.com/x0tta6bl4/gosentinel/quorum"
)

func TestDecideHello(t *testing.T) {
	m := &quorum.Master{Name: "m", Addr: quorum.Addr{Host: "10.0.0.1", Port: 6379}, ConfigEpoch: 5}
	confirmed := func(cur, cfg uint64, host string, port int) monitor.Hello {
		return monitor.Hello{Master: "m", CurrentEpoch: cur, MasterConfigEpoch: cfg,
			MasterAddr: monitor.Addr{Host: host, Port: port}, MasterAddrUsable: true,
			FromKnownSentinel: true, FromConfirmedSentinel: true}
	}
	unconfirmed := confirmed(9, 9, "10.6.6.6", 6379)
	unconfirmed.FromConfirmedSentinel = false
	unknown := confirmed(9, 9, "10.6.6.6", 6379)
	unknown.FromKnownSentinel, unknown.FromConfirmedSentinel = false, false
	unusable := confirmed(9, 9, "redis-new", 6379)
	unusable.MasterAddrUsable = false
	cases := []struct {
		name string
		h    monitor.Hello
		cur  uint64
		want helloDecision
	}{
		{"nothing newer", confirmed(3, 5, "10.0.0.1", 6379), 3, helloDecision{}},
		{"newer current epoch", confirmed(7, 5, "10.0.0.1", 6379), 3, helloDecision{adoptEpoch: true}},
		{"newer config epoch, same address", confirmed(3, 6, "10.0.0.1", 6379), 3, helloDecision{setConfigEpoch: true}},
		{"newer config epoch, new address", confirmed(7, 6, "10.0.0.2", 6379), 3, helloDecision{adoptEpoch: true, switchTo: true}},
		{"sender's id not confirmed", unconfirmed, 3, helloDecision{}},
		{"sender unknown", unknown, 3, helloDecision{}},
		{"address not usable here", unusable, 3, helloDecision{adoptEpoch: true}},
	}
	for _, c := range cases {
		if got := decideHello(c.h, m, c.cur); got != c.want {
			t.Errorf("%s: got %+v, want %+v", c.name, got, c.want)
		}
	}
	// A follower that has not applied the promotion of the failover its
	// log records hears the leader announce it: the failover's own switch
	// comes through the log. A newer epoch's switch still goes.
	inFailover := *m
	inFailover.Failover = &quorum.Failover{Epoch: 6, From: m.Addr, Replica: quorum.Addr{Host: "10.0.0.2", Port: 6379}}
	if got, want := decideHello(confirmed(7, 6, "10.0.0.2", 6379), &inFailover, 3), (helloDecision{adoptEpoch: true}); got != want {
		t.Errorf("the recorded failover's own announcement: got %+v, want %+v", got, want)
	}
	if got, want := decideHello(confirmed(7, 7, "10.0.0.3", 6379), &inFailover, 3), (helloDecision{adoptEpoch: true, switchTo: true}); got != want {
		t.Errorf("a newer failover's announcement: got %+v, want %+v", got, want)
	}
	// Another replica at the same epoch is not this failover's (two
	// leaders of one epoch: a sentinel run alone, whose FSM assigns epochs
	// without an election, beside redis-sentinels): it switches as before.
	if got, want := decideHello(confirmed(7, 6, "10.0.0.3", 6379), &inFailover, 3), (helloDecision{adoptEpoch: true, switchTo: true}); got != want {
		t.Errorf("another replica at the recorded failover's epoch: got %+v, want %+v", got, want)
	}
}

func TestHelloMasterAddr(t *testing.T) {
	old, promoted := quorum.Addr{Host: "10.0.0.1", Port: 6379}, quorum.Addr{Host: "10.0.0.2", Port: 6379}
	m := &quorum.Master{Name: "m", Addr: old, ConfigEpoch: 4}
	if got := helloMasterAddr(m); got != old {
		t.Fatalf("no failover: %v", got)
	}
	m.Failover = &quorum.Failover{Epoch: 5, Replica: promoted, From: old}
	if got := helloMasterAddr(m); got != old {
		t.Fatalf("decided, not promoted: %v, want the old master", got)
	}
	m.Failover.Promoted, m.ConfigEpoch = true, 5
	if got := helloMasterAddr(m); got != promoted {
		t.Fatalf("promoted at epoch 5: %v, want the promoted replica", got)
	}
}
