package monitor

import "testing"

// The %@ prefix of sentinel events (sentinel.c sentinelEvent):
// "<kind> <name> <ip> <port>", plus " @ <master> <mip> <mport>" for
// replicas and sentinels.
func TestRefString(t *testing.T) {
	m := Addr{Host: "127.0.0.1", Port: 6379}
	r := &Ref{Kind: KindReplica, Name: "127.0.0.1:6380", Addr: Addr{Host: "127.0.0.1", Port: 6380}, Master: "mymaster", MasterAddr: m}
	if got, want := r.String(), "slave 127.0.0.1:6380 127.0.0.1 6380 @ mymaster 127.0.0.1 6379"; got != want {
		t.Errorf("replica ref %q, want %q", got, want)
	}
	mr := &Ref{Kind: KindMaster, Name: "mymaster", Addr: m, Master: "mymaster", MasterAddr: m}
	if got, want := mr.String(), "master mymaster 127.0.0.1 6379"; got != want {
		t.Errorf("master ref %q, want %q", got, want)
	}
}
