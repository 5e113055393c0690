package test

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/bench/harness"
	"github.com/x0tta6bl4/gosentinel/internal/redistest"
)

// The replicated state, not the config file, is what a restarted group
// trusts: all three gosentinels are restarted with their config files rolled
// back to before a switchover (as if every rewrite since had failed, e.g. on
// a read-only file), and they come back with the switched master and its
// config epoch, and with no new failover.
func TestFailoverStateSurvivesStaleConfig(t *testing.T) {
	d := startFailoverDeployment(t, harness.Options{})
	stale := make([]string, len(d.Sentinels))
	for i, s := range d.Sentinels {
		c, err := s.ReadConfig()
		if err != nil {
			t.Fatal(err)
		}
		stale[i] = c
	}
	old := d.Topology.Master.Port()
	if _, err := d.ManualFailover([]int{0, 1, 2}, true); err != nil {
		t.Fatal(err)
	}
	master, err := d.WaitSwitched(old, switchDeadline)
	if err != nil {
		t.Fatal(err)
	}
	waitFailoverEnd(t, d, 1)
	waitHealthy(t, d, master)
	epoch, err := harness.ConfigEpoch(d.Sentinels[0])
	if err != nil {
		t.Fatal(err)
	}

	parallel(t, d.Sentinels, func(s *redistest.Sentinel) error { return s.Stop(redistest.StopTimeout) })
	for i, s := range d.Sentinels {
		if err := os.WriteFile(s.ConfigPath, []byte(stale[i]), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	parallel(t, d.Sentinels, func(s *redistest.Sentinel) error { return s.Start() })
	if err := d.WaitGroupActive(d.Sentinels, settleDeadline); err != nil {
		t.Fatal(err)
	}
	redistest.Poll(t, settleDeadline, 20*time.Millisecond, func() error {
		for _, s := range d.Sentinels {
			r, err := s.Do("SENTINEL", "GET-MASTER-ADDR-BY-NAME", harness.MasterName)
			if err != nil {
				return err
			}
			if len(r.Elems) != 2 || r.Elems[1].Str != fmt.Sprint(master) {
				return fmt.Errorf("%s answers %v, want port %d", s.Name(), r, master)
			}
			e, err := harness.ConfigEpoch(s)
			if err != nil {
				return err
			}
			if e != epoch {
				return fmt.Errorf("%s config-epoch %d, want %d", s.Name(), e, epoch)
			}
		}
		return nil
	})
	for _, s := range d.Sentinels {
		run := harness.RunLog(s.Process)
		for _, bad := range []string{harness.BootstrapLine, "+try-failover"} {
			if strings.Contains(run, bad) {
				t.Errorf("%s logged %q after the restart", s.Name(), bad)
			}
		}
	}
}
