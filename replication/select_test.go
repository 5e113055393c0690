package replication

import (
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/monitor"
)

func TestCandidates(t *testing.T) {
	now := time.Unix(1000, 0)
	p := SelectParams{Now: now, PingPeriod: time.Second, InfoPeriod: 10 * time.Second, DownAfter: 5 * time.Second}
	ok := func(port int, prio int, off int64, runid string) monitor.InstanceStatus {
		return monitor.InstanceStatus{
			Ref:             monitor.Ref{Addr: monitor.Addr{Host: "127.0.0.1", Port: port}},
			RunID:           runid,
			LastOKPingReply: now.Add(-time.Second),
			InfoRefresh:     now.Add(-2 * time.Second),
			SlavePriority:   prio,
			SlaveReplOffset: off,
		}
	}
	mod := func(s monitor.InstanceStatus, f func(*monitor.InstanceStatus)) monitor.InstanceStatus {
		f(&s)
		return s
	}
	cases := []struct {
		name   string
		master monitor.InstanceStatus
		reps   []monitor.InstanceStatus
		maxLag int64
		want   []int // ports, best first
	}{
		{"priority first", monitor.InstanceStatus{}, []monitor.InstanceStatus{ok(1, 100, 500, "a"), ok(2, 10, 1, "b")}, 0, []int{2, 1}},
		{"then offset", monitor.InstanceStatus{}, []monitor.InstanceStatus{ok(1, 100, 5, "a"), ok(2, 100, 9, "b")}, 0, []int{2, 1}},
		{"then runid, unknown last", monitor.InstanceStatus{}, []monitor.InstanceStatus{ok(1, 100, 5, ""), ok(2, 100, 5, "B"), ok(3, 100, 5, "a")}, 0, []int{3, 2, 1}},
		{"priority 0 never", monitor.InstanceStatus{}, []monitor.InstanceStatus{ok(1, 0, 999, "a")}, 0, nil},
		{"sdown or disconnected excluded", monitor.InstanceStatus{}, []monitor.InstanceStatus{
			mod(ok(1, 100, 1, "a"), func(s *monitor.InstanceStatus) { s.SDown = true }),
			mod(ok(2, 100, 1, "b"), func(s *monitor.InstanceStatus) { s.Disconnected = true }),
			ok(3, 100, 1, "c")}, 0, []int{3}},
		{"stale ping excluded", monitor.InstanceStatus{}, []monitor.InstanceStatus{
			mod(ok(1, 100, 1, "a"), func(s *monitor.InstanceStatus) { s.LastOKPingReply = now.Add(-6 * time.Second) })}, 0, nil},
		{"info stale while master sdown", monitor.InstanceStatus{SDown: true, SDownSince: now.Add(-time.Second)}, []monitor.InstanceStatus{
			mod(ok(1, 100, 1, "a"), func(s *monitor.InstanceStatus) { s.InfoRefresh = now.Add(-6 * time.Second) }), ok(2, 100, 1, "b")}, 0, []int{2}},
		{"master link down too long", monitor.InstanceStatus{}, []monitor.InstanceStatus{
			mod(ok(1, 100, 1, "a"), func(s *monitor.InstanceStatus) { s.MasterLinkDownTime = 51 * time.Second }), ok(2, 100, 1, "b")}, 0, []int{2}},
		{"lag cap", monitor.InstanceStatus{}, []monitor.InstanceStatus{ok(1, 100, 1000, "a"), ok(2, 100, 10, "b"), ok(3, 100, 950, "c")}, 100, []int{1, 3}},
		// The cap is measured from the most advanced candidate, not from the
		// one priority prefers.
		{"lag cap from the top offset", monitor.InstanceStatus{}, []monitor.InstanceStatus{ok(1, 10, 100, "a"), ok(2, 100, 1000, "b")}, 100, []int{2}},
	}
	for _, c := range cases {
		p.MaxLag = c.maxLag
		got := Candidates(&monitor.MasterStatus{Master: c.master, Replicas: c.reps}, p)
		var ports []int
		for _, r := range got {
			ports = append(ports, r.Ref.Addr.Port)
		}
		if len(ports) != len(c.want) {
			t.Errorf("%s: got %v, want %v", c.name, ports, c.want)
			continue
		}
		for i := range ports {
			if ports[i] != c.want[i] {
				t.Errorf("%s: got %v, want %v", c.name, ports, c.want)
				break
			}
		}
	}
}
