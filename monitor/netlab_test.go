package monitor

import (
	"context"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/internal/netlab"
	"github.com/x0tta6bl4/gosentinel/internal/redistest"
)

// TestNetlabLinkBackAfterHeal: a node cut off by a partition that drops
// its packets, SYNs included (iptables DROP in a network lab,
// internal/netlab; it needs root and fails without it), answers the
// monitor's PING within a second of the heal, whichever way its link met
// the partition:
//   - opened during the cut (the old master after a failover is a new
//     replica entry, dialled while it is cut off), and still connecting
//     when the cut heals 7.2 s later: one long connect waited for the
//     kernel's next SYN retransmission or its own 10 s timeout (here 1, 2,
//     3, 4, 6, 10 s after the first SYN, tcp_syn_linear_timeouts=4;
//     1, 3, 7 s on older kernels), 2.8 s after the heal;
//   - up before the cut: its PING pending past down-after/2, the hygiene
//     rule tears it down, and it is redialled during the cut.
//
// Every goroutine of the monitor has ended once it is closed.
func TestNetlabLinkBackAfterHeal(t *testing.T) {
	const (
		downAfter = time.Second
		within    = time.Second // issue 9: the old master demoted within 1 s
	)
	lab, err := netlab.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := lab.Close(); err != nil {
			t.Errorf("close the lab: %v", err)
		}
	})
	h, err := lab.AddHost("m")
	if err != nil {
		t.Fatal(err)
	}
	// Protected mode refuses clients from other addresses when there is no
	// password: the monitor dials from the lab's observer address.
	node := redistest.StartRedis(t, redistest.RedisOptions{Host: h.IP, Port: 6379, Wrap: h.Wrap(), Args: []string{"--protected-mode", "no"}})
	addr := Addr{Host: h.IP, Port: node.Port()}

	before := runtime.NumGoroutine()
	var timing atomic.Pointer[Timing] // SENTINEL DEBUG's role: changed between phases
	def := DefaultTiming()
	timing.Store(&def)
	m := New(Config{MyID: idA, Timing: func() Timing { return *timing.Load() }})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		m.Run(ctx)
	}()
	stop := func() {
		cancel()
		m.Close()
		<-done
	}
	defer stop()

	// backAfter cuts the node off for cut, heals, and returns how long
	// after the heal the monitor had a valid PING reply.
	backAfter := func(cut time.Duration, during func()) time.Duration {
		t.Helper()
		// Every packet the node receives (from us too) is dropped.
		if err := lab.Loss(h, 1); err != nil {
			t.Fatal(err)
		}
		cutAt := time.Now()
		during()
		// The cut lasts its length: the scenario, not a wait for an event.
		time.Sleep(time.Until(cutAt.Add(cut)))
		if err := lab.Heal(); err != nil {
			t.Fatal(err)
		}
		healAt := time.Now()
		var back time.Duration
		redistest.Until(t, 15*time.Second, "a valid PING reply after the heal", func() bool {
			st := status(t, m, "m")
			back = st.Master.LastOKPingReply.Sub(healAt)
			return back > 0
		})
		return back
	}

	// A link opened during the cut; min-link-reconnect-period (15 s)
	// keeps the hygiene rule off it.
	fresh := backAfter(7200*time.Millisecond, func() {
		m.Watch(MasterSpec{Name: "m", Addr: addr, DownAfter: downAfter})
	})
	t.Logf("link opened during the cut: PING answered %v after the heal", fresh)
	if fresh > within {
		t.Errorf("link opened during the cut: PING answered %v after the heal, want within %v", fresh, within)
	}

	// A link that was up: the hygiene rule applies to links older than
	// 1 s here, so it tears this one down about 1 s into the cut, and
	// each redial a second later.
	fast := def
	fast.MinLinkReconnectPeriod = time.Second
	timing.Store(&fast)
	redialled := backAfter(3*time.Second, func() {})
	t.Logf("link up before the cut: PING answered %v after the heal", redialled)
	if redialled > within {
		t.Errorf("link up before the cut: PING answered %v after the heal, want within %v", redialled, within)
	}

	stop()
	redistest.Until(t, 5*time.Second, "the monitor's goroutines to end", func() bool { return runtime.NumGoroutine() <= before })
}
