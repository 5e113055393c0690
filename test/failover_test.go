package test

import (
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/bench/harness"
	"github.com/x0tta6bl4/gosentinel/internal/redistest"
)

// The failover acceptance tests of issue 3: a master and two replicas
// (redis-server), three gosentinels in one Raft group, down-after 1 s, and
// a go-redis FailoverClient writing throughout; every write it saw
// acknowledged must be on the final master.

// TestFailoverMasterKilled: after SIGKILL of the master there is exactly
// one failover (one decision, one epoch, one +switch-master per sentinel)
// to one new master, the client writes again, and the old master,
// restarted, is a replica within 1 s of answering.
func TestFailoverMasterKilled(t *testing.T) {
	d := startFailoverDeployment(t, harness.Options{})
	w := startWriter(t, d, "kill", 0)
	old := d.Topology.Master

	if err := old.Kill(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now() // reaped: any later ack is the new master's
	dead := watchDeadNode(t, d, old.Port())
	newMaster, err := d.WaitSwitched(old.Port(), switchDeadline)
	if err != nil {
		t.Fatal(err)
	}
	switched := time.Since(killed)
	first, err := w.WaitAcksAfter(killed, 20, resumeDeadline)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("SIGKILL of %d: all sentinels report %d after %v, first acknowledged write after %v (down-after %v)",
		old.Port(), newMaster, switched.Round(time.Millisecond), first.Sub(killed).Round(time.Millisecond), failoverDownAfter)
	waitFailoverEnd(t, d, 1)
	requireOneMaster(t, d, newMaster)
	waitHealthy(t, d, newMaster)
	requireFailovers(t, d, 1, old.Port(), newMaster)
	dead.check(t)

	restartErr := make(chan error, 1)
	go func() { restartErr <- old.Start() }()
	answered, demoted := waitDemoted(t, old, newMaster, 30*time.Second)
	if err := <-restartErr; err != nil {
		t.Fatal(err)
	}
	requireDemotedWithin(t, old, answered, demoted)
	waitHealthy(t, d, newMaster)
	if _, err := w.WaitAcksAfter(time.Now(), 20, resumeDeadline); err != nil {
		t.Fatal(err)
	}
	res := w.Stop()
	requireFailovers(t, d, 1, old.Port(), newMaster)
	requireNoLoss(t, d, res)
}

// TestFailoverMasterStopped: the master is stopped with SIGSTOP, the group
// fails over, and once continued the old master is a replica within 1 s of
// answering again.
func TestFailoverMasterStopped(t *testing.T) {
	d := startFailoverDeployment(t, harness.Options{})
	w := startWriter(t, d, "stop", 0)
	old := d.Topology.Master

	if err := old.Pause(); err != nil {
		t.Fatal(err)
	}
	stopped := time.Now()
	newMaster, err := d.WaitSwitched(old.Port(), switchDeadline)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.WaitAcksAfter(stopped, 20, resumeDeadline); err != nil {
		t.Fatal(err)
	}
	waitFailoverEnd(t, d, 1)
	requireFailovers(t, d, 1, old.Port(), newMaster)

	if err := old.Resume(); err != nil {
		t.Fatal(err)
	}
	answered, demoted := waitDemoted(t, old, newMaster, 30*time.Second)
	requireDemotedWithin(t, old, answered, demoted)
	waitHealthy(t, d, newMaster)
	if _, err := w.WaitAcksAfter(time.Now(), 20, resumeDeadline); err != nil {
		t.Fatal(err)
	}
	res := w.Stop()
	requireFailovers(t, d, 1, old.Port(), newMaster)
	requireNoLoss(t, d, res)
}

// TestFailoverLeaderKilledMidFailover: the Raft leader dies in the middle
// of the failover it drives. The survivors complete that failover (same
// epoch, same replica): one +switch-master each, and ROLE sampled on every
// data node every 20 ms never shows two masters nor a second promoted
// replica. The dead leader, restarted, rejoins with the same state.
//
// Three ways to die: SIGKILL as soon as it logs +selected-slave (the
// decision is committed, the promotion is being sent), and redis-sentinel's
// SENTINEL SIMULATE-FAILURE exits right after the election (decision
// committed, nothing done) and right after the promotion (promotion
// recorded, switch not yet committed).
func TestFailoverLeaderKilledMidFailover(t *testing.T) {
	t.Run("sigkill-at-selected-slave", func(t *testing.T) {
		testLeaderDies(t, func(d *harness.Deployment) <-chan int {
			return killOnEvent(d, []string{"+selected-slave", "+failover-state-wait-promotion"}, switchDeadline)
		})
	})
	for _, flag := range []string{"crash-after-election", "crash-after-promotion"} {
		t.Run(flag, func(t *testing.T) {
			testLeaderDies(t, func(d *harness.Deployment) <-chan int {
				for _, s := range d.Sentinels {
					r, err := s.Do("SENTINEL", "SIMULATE-FAILURE", flag)
					if err == nil {
						err = r.Err()
					}
					if err != nil {
						t.Fatal(err)
					}
				}
				return exitWatch(d, switchDeadline)
			})
		})
	}
}

// testLeaderDies kills the master; arm makes the failover leader die
// mid-failover and reports which sentinel died.
func testLeaderDies(t *testing.T, arm func(*harness.Deployment) <-chan int) {
	d := startFailoverDeployment(t, harness.Options{})
	w := startWriter(t, d, "leaderdies", 0)
	old := d.Topology.Master
	if leader, err := d.WaitRaftLeader(settleDeadline); err == nil {
		t.Logf("Raft leader before the fault: %s", d.Sentinels[leader].Name())
	}
	died := arm(d)
	sampler := harness.StartRoleSampler(d.Nodes, 20*time.Millisecond)
	defer sampler.Stop()

	if err := old.Kill(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now() // reaped: any later ack is the new master's
	victim := <-died
	if victim < 0 {
		t.Fatalf("no sentinel died within %v of the master's SIGKILL", switchDeadline)
	}
	dead := d.Sentinels[victim]
	t.Logf("%s died %v after the master's SIGKILL; its last failover event: %s", dead.Name(),
		time.Since(killed).Round(time.Millisecond), lastFailoverEvent(dead.Log()))

	newMaster, err := d.WaitSwitched(old.Port(), switchDeadline)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.WaitAcksAfter(killed, 20, resumeDeadline); err != nil {
		t.Fatal(err)
	}
	waitHealthy(t, d, newMaster)
	requireNeverTwoMasters(t, sampler.Stop(), old.Port(), newMaster)
	requireFailovers(t, d, 1, old.Port(), newMaster)

	// The dead leader comes back into the group with the same state, and
	// starts nothing.
	if err := dead.Start(); err != nil {
		t.Fatal(err)
	}
	if err := d.WaitGroupActive([]*redistest.Sentinel{dead}, settleDeadline); err != nil {
		t.Fatal(err)
	}
	waitHealthy(t, d, newMaster)
	requireFailovers(t, d, 1, old.Port(), newMaster, dead)
	run := harness.RunLog(dead.Process)
	for _, bad := range []string{harness.BootstrapLine, "+try-failover"} {
		if strings.Contains(run, bad) {
			t.Errorf("%s logged %q after its restart", dead.Name(), bad)
		}
	}
	res := w.Stop()
	requireNoLoss(t, d, res)
}

// manualFailovers is how many SENTINEL FAILOVERs TestFailoverManualUnderLoad
// runs back to back.
const manualFailovers = 10

// TestFailoverManualUnderLoad: SENTINEL FAILOVER on a healthy master, 10
// times in a row under write load, loses no acknowledged write, and each is
// exactly one failover. The command goes to each sentinel in turn, as
// redis-sentinel accepts it on any of them, and, as in redis-sentinel, the
// sentinel asked leads it: +elected-leader is in its own log (it takes Raft
// leadership first).
func TestFailoverManualUnderLoad(t *testing.T) {
	d := startFailoverDeployment(t, harness.Options{})
	w := startWriter(t, d, "manual", 0)
	master := d.Topology.Master.Port()
	var refused []string
	all := []int{0, 1, 2}
	for i := range manualFailovers {
		target := d.Sentinels[i%len(d.Sentinels)]
		ledBefore := strings.Count(target.Log(), "+elected-leader")
		start := time.Now()
		r, err := target.Do("SENTINEL", "FAILOVER", harness.MasterName)
		if err != nil {
			t.Fatal(err)
		}
		if r.Kind == redistest.KindError {
			if !strings.Contains(r.Str, "not the failover leader") {
				t.Fatalf("switchover %d: SENTINEL FAILOVER on %s: %s", i+1, target.Name(), r.Str)
			}
			// Recorded and reported below; the switchover itself is still
			// tested, through the sentinel that accepts it.
			refused = append(refused, target.Name()+": "+r.Str)
			if _, err := d.ManualFailover(all, true); err != nil {
				t.Fatalf("switchover %d: %v", i+1, err)
			}
		}
		newMaster, err := d.WaitSwitched(master, switchDeadline)
		if err != nil {
			t.Fatalf("switchover %d: %v", i+1, err)
		}
		waitFailoverEnd(t, d, i+1)
		waitHealthy(t, d, newMaster)
		t.Logf("switchover %d: %d -> %d, longest gap between acknowledged writes %v", i+1, master, newMaster,
			w.Result().LongestGap(start, time.Now()).Round(time.Millisecond))
		requireFailovers(t, d, i+1, master, newMaster)
		if led := strings.Count(target.Log(), "+elected-leader") - ledBefore; led != 1 {
			t.Errorf("switchover %d asked of %s: %d +elected-leader in its log, want 1 (the sentinel asked leads the failover)",
				i+1, target.Name(), led)
		}
		master = newMaster
	}
	res := w.Stop()
	requireNoLoss(t, d, res)
	if len(refused) > 0 {
		t.Errorf("SENTINEL FAILOVER refused %d of %d times by a sentinel that is not the Raft leader (redis-sentinel accepts it on any sentinel):\n%s",
			len(refused), manualFailovers, strings.Join(refused, "\n"))
	}
}

// waitKillRuns is how many master SIGKILLs TestFailoverWaitAckedKill runs.
const waitKillRuns = 10

// TestFailoverWaitAckedKill: writes acknowledged with WAIT 1 (one replica
// has them) survive a SIGKILL of the master, 10 times in a row on one
// deployment. After each failover the killed master is restarted, becomes a
// replica, and the next run kills whichever node is the master then.
func TestFailoverWaitAckedKill(t *testing.T) {
	t.Parallel() // mostly waiting: see parallelTests in main_test.go
	d := startFailoverDeployment(t, harness.Options{})
	master := d.Topology.Master.Port()
	var results []harness.Result
	for run := range waitKillRuns {
		w := startWriter(t, d, fmt.Sprintf("wait%d", run), 1)
		// Enough writes that some are in flight, at every stage of their
		// replication, when the master dies.
		if _, err := w.WaitAcksAfter(time.Time{}, 200, resumeDeadline); err != nil {
			t.Fatal(err)
		}
		victim := d.Node(master)
		if err := victim.Kill(); err != nil {
			t.Fatal(err)
		}
		killed := time.Now() // reaped: any later ack is the new master's
		newMaster, err := d.WaitSwitched(master, switchDeadline)
		if err != nil {
			t.Fatalf("run %d: %v", run+1, err)
		}
		if _, err := w.WaitAcksAfter(killed, 20, resumeDeadline); err != nil {
			t.Fatalf("run %d: %v", run+1, err)
		}
		res := w.Stop()
		results = append(results, res)
		waitFailoverEnd(t, d, run+1)
		requireFailovers(t, d, run+1, master, newMaster)
		requireNoLoss(t, d, res)
		t.Logf("run %d: SIGKILL %d -> %d, writes acknowledged again after %v", run+1, master, newMaster,
			firstAckAfter(res, killed).Round(time.Millisecond))

		if err := victim.Start(); err != nil {
			t.Fatal(err)
		}
		waitHealthy(t, d, newMaster)
		master = newMaster
	}
	// Every run's writes survived every later failover too.
	requireNoLoss(t, d, results...)
}

// firstAckAfter returns how long after t the first acknowledged write of
// r came (0 if none).
func firstAckAfter(r harness.Result, t time.Time) time.Duration {
	for _, a := range r.Acks {
		if a.At.After(t) {
			return a.At.Sub(t)
		}
	}
	return 0
}

// groupView is what the sentinels of a deployment agree on, compared
// before and after a restart of all of them.
type groupView struct {
	master       int
	configEpochs []int
	currentEpoch []string // "sentinel current-epoch" in each config file
	myids        []string
	sentinels    []string // each sentinel's SENTINEL SENTINELS as sorted "port runid"
	replicas     []string // each sentinel's SENTINEL REPLICAS as sorted ports
	infoMaster   []string // INFO sentinel's master0 line
}

var currentEpochLine = regexp.MustCompile(`(?m)^sentinel current-epoch (\d+)$`)

func readGroupView(t *testing.T, d *harness.Deployment) groupView {
	t.Helper()
	var v groupView
	var err error
	if v.master, err = d.AgreedMasterPort(); err != nil {
		t.Fatal(err)
	}
	for _, s := range d.Sentinels {
		epoch, err := harness.ConfigEpoch(s)
		if err != nil {
			t.Fatal(err)
		}
		v.configEpochs = append(v.configEpochs, epoch)
		conf, err := s.ReadConfig()
		if err != nil {
			t.Fatal(err)
		}
		cur := "(none)"
		if m := currentEpochLine.FindStringSubmatch(conf); m != nil {
			cur = m[1]
		}
		v.currentEpoch = append(v.currentEpoch, cur)
		id, err := s.MyID()
		if err != nil {
			t.Fatal(err)
		}
		v.myids = append(v.myids, id)
		peers, err := s.Sentinels(harness.MasterName)
		if err != nil {
			t.Fatal(err)
		}
		var ps []string
		for _, p := range peers {
			ps = append(ps, p["port"]+" "+p["runid"])
		}
		slices.Sort(ps)
		v.sentinels = append(v.sentinels, strings.Join(ps, ","))
		reps, err := s.Replicas(harness.MasterName)
		if err != nil {
			t.Fatal(err)
		}
		var rs []string
		for _, r := range reps {
			rs = append(rs, r["port"])
		}
		slices.Sort(rs)
		v.replicas = append(v.replicas, strings.Join(rs, ","))
		info, err := s.Do("INFO", "sentinel")
		if err != nil {
			t.Fatal(err)
		}
		v.infoMaster = append(v.infoMaster, redistest.ParseInfo(info.Str)["master0"])
	}
	return v
}

// TestFailoverAllSentinelsRestarted: the three gosentinels, stopped with
// SIGTERM at once and started again at once, come back with the same
// master, the same epochs (SENTINEL MASTER config-epoch, the persisted
// current epoch), the same ids and the same membership, in the same Raft
// group (nobody bootstraps a new one), and announce no failover.
func TestFailoverAllSentinelsRestarted(t *testing.T) {
	d := startFailoverDeployment(t, harness.Options{})
	w := startWriter(t, d, "restart", 0)
	// A switchover first, so that there are epochs and a moved master to
	// remember.
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
	before := readGroupView(t, d)
	t.Logf("before: %+v", before)

	parallel(t, d.Sentinels, func(s *redistest.Sentinel) error { return s.Stop(redistest.StopTimeout) })
	parallel(t, d.Sentinels, func(s *redistest.Sentinel) error { return s.Start() })
	if err := d.WaitGroupActive(d.Sentinels, settleDeadline); err != nil {
		t.Fatal(err)
	}
	waitHealthy(t, d, master)
	redistest.WaitDiscovered(t, d.Sentinels, &redistest.Topology{Master: d.Node(master), Replicas: replicasOf(d, master)}, settleDeadline)
	after := readGroupView(t, d)
	t.Logf("after:  %+v", after)
	if !reflect.DeepEqual(before, after) {
		t.Errorf("the group came back different:\nbefore %+v\nafter  %+v", before, after)
	}
	for _, s := range d.Sentinels {
		run := harness.RunLog(s.Process)
		for _, bad := range []string{harness.BootstrapLine, "+try-failover", "+switch-master", "+new-epoch"} {
			if strings.Contains(run, bad) {
				t.Errorf("%s logged %q after the restart", s.Name(), bad)
			}
		}
	}
	if _, err := w.WaitAcksAfter(time.Now(), 20, resumeDeadline); err != nil {
		t.Fatal(err)
	}
	requireNoLoss(t, d, w.Stop())
}

// parallel runs f on every sentinel at once and fails on the first error.
func parallel(t *testing.T, ss []*redistest.Sentinel, f func(*redistest.Sentinel) error) {
	t.Helper()
	errs := make(chan error, len(ss))
	for _, s := range ss {
		go func() { errs <- f(s) }()
	}
	for range ss {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

// replicasOf returns the data nodes of d other than master.
func replicasOf(d *harness.Deployment, master int) []*redistest.Redis {
	var out []*redistest.Redis
	for _, n := range d.Nodes {
		if n.Port() != master {
			out = append(out, n)
		}
	}
	return out
}
