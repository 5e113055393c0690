package replication

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/internal/redistest"
	"github.com/x0tta6bl4/gosentinel/monitor"
	"github.com/x0tta6bl4/gosentinel/quorum"
)

// The engine with the real monitor, a local store and real redis-server
// processes: one sentinel (quorum 1), so ODOWN is the monitor's SDOWN.

// monitorView is the View a single-sentinel node would give.
type monitorView struct {
	fsm *quorum.FSM
	mon *monitor.Monitor
}

func (v monitorView) Master(name string) (*quorum.Master, bool) { return v.fsm.Master(name) }
func (v monitorView) Names() []string                           { return v.fsm.State().Names() }
func (v monitorView) Revision() Revision                        { return Revision{State: v.fsm.Revision()} }
func (v monitorView) FailoversPaused(name string) bool          { return v.fsm.FailoversPaused(name) }
func (v monitorView) Tilted() bool                              { tilt, _ := v.mon.Tilt(); return tilt }
func (v monitorView) Status(name string) (monitor.MasterStatus, bool) {
	return v.mon.Status(name)
}
func (v monitorView) GroupStatus(name string) (monitor.MasterStatus, bool) {
	return v.mon.GroupStatus(name)
}
func (v monitorView) ObjectivelyDown(name string) bool {
	ms, ok := v.mon.Status(name)
	return ok && ms.Master.SDown
}

// system is one in-process sentinel over a real topology.
type system struct {
	t     *testing.T
	tp    *redistest.Topology
	fsm   *quorum.FSM
	mon   *monitor.Monitor
	rec   *recorder
	eng   *Engine
	store *quorum.Local
}

func startSystem(t *testing.T, downAfter time.Duration) *system {
	t.Helper()
	return startSystemWith(t, downAfter, false)
}

// startSystemWith is startSystem with fencing on or off.
func startSystemWith(t *testing.T, downAfter time.Duration, fence bool) *system {
	t.Helper()
	return startSystemOpts(t, downAfter, systemOpts{fence: fence})
}

// systemOpts: fencing on; the controller on the monitor's links
// (UseLink), as the node wires it; the monitor sending hellos (PUBLISH on
// its command links, held by a node's CLIENT PAUSE WRITE).
type systemOpts struct{ fence, link, hellos bool }

func startSystemOpts(t *testing.T, downAfter time.Duration, o systemOpts) *system {
	t.Helper()
	if testing.Short() {
		t.Skip("starts redis-server processes")
	}
	if _, err := os.Stat(redistest.RedisServerBin); err != nil {
		t.Skip("redis-server not installed")
	}
	s := &system{t: t, rec: &recorder{}}
	s.tp = redistest.StartTopology(t, 2, redistest.RedisOptions{})
	hello := func(string, string) (string, bool) { return "", false }
	if o.hellos {
		hello = func(name, ip string) (string, bool) {
			return fmt.Sprintf("%s,26379,%s,0,mymaster,127.0.0.1,%d,0", ip, myID, s.tp.Master.Port()), name == "mymaster"
		}
	}
	s.mon = monitor.New(monitor.Config{
		MyID:         myID,
		HelloPayload: hello,
		Timing: func() monitor.Timing {
			tm := monitor.DefaultTiming()
			tm.InfoPeriod = time.Second
			if o.hellos {
				// A hello always under way: one is out whenever a
				// node's writes are paused.
				tm.PublishPeriod = 20 * time.Millisecond
			}
			return tm
		},
	})
	s.fsm = quorum.NewFSM(func(c *quorum.Command, err error) {
		if err == nil && c.Op == quorum.OpSwitchMaster {
			s.rec.add(fmt.Sprintf("+switch-master %s %s %d %s %d", c.Name, c.From.Host, c.From.Port, c.Addr.Host, c.Addr.Port))
			s.mon.SwitchMaster(c.Name, monitor.Addr(c.Addr))
		}
	})
	s.store = quorum.NewLocal(s.fsm)
	maddr := addr(s.tp.Master.Port())
	m := &quorum.Master{Name: "mymaster", Addr: quorum.Addr(maddr), Settings: quorum.Settings{Quorum: 1, DownAfterMs: downAfter.Milliseconds(), FailoverTimeoutMs: 10000, ParallelSyncs: 1}}
	if err := s.store.Propose(context.Background(), &quorum.Command{Op: quorum.OpMonitor, Master: m}); err != nil {
		t.Fatal(err)
	}
	s.mon.Watch(monitor.MasterSpec{Name: "mymaster", Addr: maddr, DownAfter: downAfter})
	ctrl := NewController()
	if o.link {
		ctrl.UseLink(s.mon.Call)
	}
	s.eng = New(Config{
		MyID: myID, Proposer: s.store, View: monitorView{s.fsm, s.mon}, Redis: ctrl, Emit: s.rec.emit,
		Timing: func() Timing {
			tm := DefaultTiming()
			tm.InfoPeriod = time.Second
			return tm
		},
		Logger: slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Fence:  o.fence,
	})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); s.mon.Run(ctx) }()
	go func() { defer wg.Done(); s.eng.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		s.mon.Close()
		ctrl.Close()
	})
	// Both replicas discovered, with INFO and a valid PING reply.
	redistest.Until(t, 15*time.Second, "replicas discovered", func() bool {
		ms, ok := s.mon.Status("mymaster")
		if !ok || len(ms.Replicas) != 2 {
			return false
		}
		for _, r := range ms.Replicas {
			if r.InfoRefresh.IsZero() || !r.MasterLinkUp || time.Since(r.LastOKPingReply) > time.Second {
				return false
			}
		}
		return true
	})
	return s
}

// testWriter sends log lines to t.Log (shown for failed tests).
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}

// byPort returns the replica process listening on port.
func (s *system) byPort(port int) *redistest.Redis {
	for _, r := range s.tp.Replicas {
		if r.Port() == port {
			return r
		}
	}
	s.t.Fatalf("no replica on port %d", port)
	return nil
}

// waitRole polls INFO replication of r until it is a replica of master
// with its link up (or, with master 0, a master).
func waitRole(t *testing.T, r *redistest.Redis, master int, timeout time.Duration) {
	t.Helper()
	redistest.Poll(t, timeout, 20*time.Millisecond, func() error {
		info, err := r.Info("replication")
		if err != nil {
			return err
		}
		if master == 0 {
			if info["role"] != "master" {
				return fmt.Errorf("%d is %s", r.Port(), info["role"])
			}
			return nil
		}
		if info["role"] != "slave" || info["master_port"] != strconv.Itoa(master) || info["master_link_status"] != "up" {
			return fmt.Errorf("%d: role %s master_port %s link %s", r.Port(), info["role"], info["master_port"], info["master_link_status"])
		}
		return nil
	})
}

func TestSystemMasterKilledFailsOverAndReturningMasterIsDemoted(t *testing.T) {
	const downAfter = time.Second
	s := startSystem(t, downAfter)
	old := s.tp.Master
	if err := old.Kill(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	s.waitEvent("+failover-end", 15*time.Second)
	switched := s.rec.at("+switch-master", 0)
	t.Logf("switch committed %v after SIGKILL (down-after %v)", switched.Sub(killed), downAfter)

	m, _ := s.fsm.Master("mymaster")
	promoted := s.byPort(m.Addr.Port)
	var other *redistest.Redis
	for _, r := range s.tp.Replicas {
		if r != promoted {
			other = r
		}
	}
	if m.ConfigEpoch != 1 || m.Failover != nil {
		t.Fatalf("state: %+v", m)
	}
	waitRole(t, promoted, 0, time.Second)
	waitRole(t, other, promoted.Port(), 10*time.Second)
	for _, typ := range []string{"+promoted-slave", "+slave-reconf-sent", "+slave-reconf-done", "+switch-master"} {
		if s.rec.count(typ) != 1 {
			t.Fatalf("%s seen %d times: %q", typ, s.rec.count(typ), s.rec.list())
		}
	}

	// The old master comes back (empty, as a master): it is demoted as soon
	// as the monitor hears from it.
	if err := old.Start(); err != nil {
		t.Fatal(err)
	}
	restarted := time.Now()
	waitRole(t, old, promoted.Port(), 10*time.Second)
	t.Logf("old master following the new one %v after its restart", time.Since(restarted))
	if s.rec.count("+convert-to-slave") < 1 {
		t.Fatalf("no +convert-to-slave: %q", s.rec.list())
	}
	if s.rec.count("+try-failover") != 1 {
		t.Fatalf("more than one failover: %q", s.rec.list())
	}
}

func TestSystemSwitchoverLosesNoAcknowledgedWrite(t *testing.T) {
	s := startSystem(t, 5*time.Second)
	// A writer that follows the replicated master address, as a client
	// following the sentinels would, and remembers every acknowledged key.
	ctx, stop := context.WithCancel(context.Background())
	var acked []string
	var ackCount atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		var c *redistest.Conn
		defer func() {
			if c != nil {
				c.Close()
			}
		}()
		for i := 0; ctx.Err() == nil; i++ {
			if c == nil {
				m, _ := s.fsm.Master("mymaster")
				var err error
				if c, err = redistest.Dial(redistest.Addr(m.Addr.Port), time.Second); err != nil {
					continue
				}
			}
			key := "k" + strconv.Itoa(i)
			r, err := c.Do("SET", key, "v")
			if err != nil || r.Kind == redistest.KindError {
				c.Close()
				c = nil
				continue
			}
			acked = append(acked, key)
			ackCount.Add(1)
		}
	}()
	redistest.Until(t, 5*time.Second, "writes flowing", func() bool { return ackCount.Load() >= 1000 })
	if err := s.eng.Failover(context.Background(), "mymaster"); err != nil {
		t.Fatal(err)
	}
	s.waitEvent("+failover-end", 10*time.Second)
	// Keep writing to the new master for a moment, then check.
	m, _ := s.fsm.Master("mymaster")
	promoted := s.byPort(m.Addr.Port)
	waitRole(t, s.tp.Master, promoted.Port(), 10*time.Second)
	stop()
	<-done
	if len(acked) == 0 {
		t.Fatal("no write acknowledged")
	}
	c := promoted.Dial(t)
	lost := 0
	for _, k := range acked {
		r, err := c.Do("EXISTS", k)
		if err != nil {
			t.Fatal(err)
		}
		if r.Int != 1 {
			lost++
		}
	}
	t.Logf("%d writes acknowledged, %d lost", len(acked), lost)
	if lost != 0 {
		t.Fatalf("%d of %d acknowledged writes lost", lost, len(acked))
	}
}

func (s *system) waitEvent(prefix string, timeout time.Duration) {
	s.t.Helper()
	redistest.Until(s.t, timeout, fmt.Sprintf("%q (events: %q)", prefix, s.rec.list()), func() bool { return s.rec.count(prefix) > 0 })
}
