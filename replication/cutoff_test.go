package replication

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/internal/clock"
	"github.com/x0tta6bl4/gosentinel/internal/redistest"
	"github.com/x0tta6bl4/gosentinel/monitor"
)

func TestCutOffPauseDue(t *testing.T) {
	cut := CutOffView{InGroup: true, Outvotable: true, Silence: cutOffAfter, Replicas: 2, MasterAnswered: true}
	with := func(f func(v *CutOffView)) CutOffView { v := cut; f(&v); return v }
	for _, tc := range []struct {
		name string
		v    CutOffView
		want bool
	}{
		{"cut off with the master, every replica beyond the cut", cut, true},
		{"long silence", with(func(v *CutOffView) { v.Silence = time.Minute }), true},
		{"one replica answers: only the sentinels are cut", with(func(v *CutOffView) { v.Answering = 1 }), false},
		{"heard a leader recently", with(func(v *CutOffView) { v.Silence = cutOffAfter - time.Millisecond }), false},
		{"the leader itself holds a quorum", with(func(v *CutOffView) { v.Leading = true }), false},
		{"alone, or forming: no majority to be cut from", with(func(v *CutOffView) { v.InGroup = false }), false},
		{"the others are proven dead: nobody can promote", with(func(v *CutOffView) { v.Outvotable = false }), false},
		{"no replica: nothing to replace the master with", with(func(v *CutOffView) { v.Replicas = 0 }), false},
		{"the master did not answer either: cut off alone, or this process stalled", with(func(v *CutOffView) { v.MasterAnswered = false }), false},
		{"zero view", CutOffView{}, false},
	} {
		if got := CutOffPauseDue(tc.v); got != tc.want {
			t.Errorf("%s: CutOffPauseDue(%+v) = %v, want %v", tc.name, tc.v, got, tc.want)
		}
	}
}

// leaseRedis records the duration of every pause over the fakes.
type leaseRedis struct {
	*fakeRedis
	mu     sync.Mutex
	leases []time.Duration
	pings  int
}

func (l *leaseRedis) PauseWrites(ctx context.Context, t Target, d time.Duration) error {
	if err := l.fakeRedis.PauseWrites(ctx, t, d); err != nil {
		return err
	}
	l.mu.Lock()
	l.leases = append(l.leases, d)
	l.mu.Unlock()
	return nil
}

func (l *leaseRedis) Ping(ctx context.Context, t Target) error {
	l.mu.Lock()
	l.pings++
	l.mu.Unlock()
	l.fakeRedis.mu.Lock()
	defer l.fakeRedis.mu.Unlock()
	_, err := l.fakeRedis.node(t.Addr)
	return err
}

func (l *leaseRedis) list() []time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]time.Duration(nil), l.leases...)
}

// TestCutOffFence drives the looks one by one: a member cut off with the
// master pauses it with the long first lease, renews with the short one,
// and starts over after hearing a leader; it never pauses while a replica
// answers, nor a master it cannot reach.
func TestCutOffFence(t *testing.T) {
	ms := monitor.MasterStatus{Master: healthyMaster(mAddr), Replicas: []monitor.InstanceStatus{
		replicaStatus(mAddr, r1Addr, 900, "aaaa"),
		replicaStatus(mAddr, r2Addr, 900, "bbbb"),
	}}
	nodes := map[monitor.Addr]*fakeNode{
		mAddr:  {role: "master", offset: 1000},
		r1Addr: replicaNode(mAddr, 900),
		r2Addr: replicaNode(mAddr, 900),
	}
	h := newHarness(t, settings(60000, 1), ms, nodes)
	lr := &leaseRedis{fakeRedis: h.redis}
	var mu sync.Mutex
	state := CutOffView{InGroup: true, Outvotable: true}
	setState := func(v CutOffView) { mu.Lock(); state = v; mu.Unlock() }
	f := &CutOffFence{
		State: func() CutOffView { mu.Lock(); defer mu.Unlock(); return state },
		View:  h.view, Redis: lr, Pinger: lr, Emit: h.rec.emit,
		held: map[string]bool{},
	}
	ctx := context.Background()
	want := func(step string, leases ...time.Duration) {
		t.Helper()
		got := lr.list()
		if len(got) != len(leases) {
			t.Fatalf("%s: pauses %v, want %v", step, got, leases)
		}
		for i := range got {
			if got[i] != leases[i] {
				t.Fatalf("%s: pauses %v, want %v", step, got, leases)
			}
		}
	}

	// Hearing the leader: nothing is probed or paused.
	setState(CutOffView{InGroup: true, Outvotable: true, Silence: 50 * time.Millisecond})
	f.look(ctx)
	want("leader heard")

	// Silent, but the replicas answer: the cut is between sentinels only.
	setState(CutOffView{InGroup: true, Outvotable: true, Silence: time.Second})
	f.look(ctx)
	want("replicas answer")

	// One replica beyond the cut, the other answers: still no pause.
	h.redis.set(r1Addr, func(n *fakeNode) { n.down = true })
	f.look(ctx)
	want("one replica answers")

	// Both beyond the cut: the first lease, then renewals.
	h.redis.set(r2Addr, func(n *fakeNode) { n.down = true })
	f.look(ctx)
	want("cut off with the master", cutOffFirstLease)
	if h.rec.count("+cut-off-pause") != 1 {
		t.Fatalf("events %v, want one +cut-off-pause", h.rec.list())
	}
	f.look(ctx)
	f.look(ctx)
	want("renewed", cutOffFirstLease, cutOffLease, cutOffLease)

	// The leader is heard again: the episode ends, nothing is sent (the
	// pause lapses); the next episode starts with a first lease again.
	setState(CutOffView{InGroup: true, Outvotable: true, Silence: 10 * time.Millisecond})
	f.look(ctx)
	want("healed", cutOffFirstLease, cutOffLease, cutOffLease)
	setState(CutOffView{InGroup: true, Outvotable: true, Silence: time.Second})
	f.look(ctx)
	want("next episode", cutOffFirstLease, cutOffLease, cutOffLease, cutOffFirstLease)
	if h.rec.count("+cut-off-pause") != 2 {
		t.Fatalf("events %v, want two +cut-off-pause", h.rec.list())
	}

	// Cut off alone: the master does not answer either, nothing is paused.
	setState(CutOffView{InGroup: true, Outvotable: true, Silence: 10 * time.Millisecond})
	f.look(ctx)
	h.redis.set(mAddr, func(n *fakeNode) { n.down = true })
	setState(CutOffView{InGroup: true, Outvotable: true, Silence: time.Second})
	f.look(ctx)
	want("cut off alone", cutOffFirstLease, cutOffLease, cutOffLease, cutOffFirstLease)
}

// TestCutOffFenceMasterWithoutReplicas: a master without replicas is never
// paused (nothing could replace it), so a silent member does not probe it.
func TestCutOffFenceMasterWithoutReplicas(t *testing.T) {
	ms := monitor.MasterStatus{Master: healthyMaster(mAddr)}
	nodes := map[monitor.Addr]*fakeNode{mAddr: {role: "master", offset: 1000}}
	h := newHarness(t, settings(60000, 1), ms, nodes)
	lr := &leaseRedis{fakeRedis: h.redis}
	f := &CutOffFence{
		State: func() CutOffView { return CutOffView{InGroup: true, Outvotable: true, Silence: time.Second} },
		View:  h.view, Redis: lr, Pinger: lr, held: map[string]bool{},
	}
	f.look(context.Background())
	lr.mu.Lock()
	pings, leases := lr.pings, len(lr.leases)
	lr.mu.Unlock()
	if pings != 0 || leases != 0 {
		t.Fatalf("a master without replicas: %d probes and %d pauses, want none", pings, leases)
	}
}

// TestCutOffFenceRun: Run looks once every cutOffEvery of its clock, the
// first time one period after it starts, and stops with its context.
func TestCutOffFenceRun(t *testing.T) {
	c := clock.NewFake(fakeStart)
	looked := make(chan time.Time) // each look hands over the time it began
	f := &CutOffFence{Clock: c, State: func() CutOffView {
		looked <- c.Now()
		return CutOffView{} // not in a group: nothing else to do
	}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		f.Run(ctx)
	}()
	bctx, bcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer bcancel()
	if err := c.BlockUntil(bctx, 1); err != nil {
		t.Fatalf("Run armed no ticker: %v", err)
	}
	for i := 1; i <= 3; i++ {
		c.Advance(cutOffEvery)
		select {
		case at := <-looked:
			if want := fakeStart.Add(time.Duration(i) * cutOffEvery); !at.Equal(want) {
				t.Fatalf("look %d at %v, want %v", i, at.Sub(fakeStart), want.Sub(fakeStart))
			}
		case <-bctx.Done():
			t.Fatalf("no look %d after %v", i, time.Duration(i)*cutOffEvery)
		}
	}
	cancel()
	<-done
	if n := c.Waiters(); n != 0 {
		t.Fatalf("Run left %d timers armed", n)
	}
}

// TestDialTimesOut: a partner that accepts or refuses the dial is not cut
// off (the timeout case, a cut, is measured in the network lab:
// TestNetlabPartition).
func TestDialTimesOut(t *testing.T) {
	accepting := redistest.ServeTCP(t, func(net.Conn) {})
	if dialTimesOut(context.Background(), accepting) {
		t.Fatal("an accepting listener counted as cut off")
	}
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := closed.Addr().String()
	closed.Close()
	if dialTimesOut(context.Background(), addr) {
		t.Fatal("a refused dial counted as cut off")
	}
}
