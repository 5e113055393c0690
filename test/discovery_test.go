package test

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/internal/redistest"
)

// Deadlines of the discovery tests, from redis-sentinel's timing: INFO every
// 10 s (so a new replica shows up within one INFO period plus its sync),
// hellos every 2 s, SDOWN at down-after with a 100 ms timer tick.
const (
	lateReplicaDeadline  = 11 * time.Second
	lateSentinelDeadline = 5 * time.Second
	sdownDownAfter       = 1000 * time.Millisecond
	sdownSlack           = 200 * time.Millisecond
)

// hasInstance reports whether maps (SENTINEL REPLICAS/SENTINELS) contain
// 127.0.0.1:port.
func hasInstance(maps []map[string]string, port int) bool {
	return slices.ContainsFunc(maps, func(m map[string]string) bool {
		return m["ip"] == "127.0.0.1" && m["port"] == strconv.Itoa(port)
	})
}

// TestDiscoveryLateReplica: a replica started after the sentinel is listed
// by SENTINEL REPLICAS within 11 s.
func TestDiscoveryLateReplica(t *testing.T) {
	forEachTarget(t, func(t *testing.T, bin string) {
		tp := redistest.StartTopology(t, 0, redistest.RedisOptions{})
		s := redistest.StartSentinel(t, redistest.SentinelOptions{Bin: bin, MasterPort: tp.Master.Port(), Quorum: 1})
		// The sentinel has read the master's INFO (runid known): from now
		// on only the periodic INFO can reveal a new replica.
		redistest.Poll(t, 15*time.Second, 50*time.Millisecond, func() error {
			return s.CheckDiscovered(redistest.DefaultMasterName, nil, nil)
		})

		start := time.Now()
		r := tp.AddReplica(t)
		err := redistest.PollErr(lateReplicaDeadline-time.Since(start), 50*time.Millisecond, func() error {
			reps, err := s.Replicas(redistest.DefaultMasterName)
			if err != nil {
				return err
			}
			if !hasInstance(reps, r.Port()) {
				return fmt.Errorf("SENTINEL REPLICAS = %v", reps)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("replica %d not discovered within %v: %v", r.Port(), lateReplicaDeadline, err)
		}
		t.Logf("late replica discovered after %v", time.Since(start).Round(time.Millisecond))
	})
}

// TestDiscoveryLateSentinel: a sentinel started after two others is seen by
// both within 5 s, and sees them.
func TestDiscoveryLateSentinel(t *testing.T) {
	forEachTarget(t, func(t *testing.T, bin string) {
		tp := redistest.StartTopology(t, 1, redistest.RedisOptions{})
		opts := redistest.SentinelOptions{Bin: bin, MasterPort: tp.Master.Port(), Quorum: 2}
		first := redistest.StartSentinels(t, 2, opts)
		redistest.WaitDiscovered(t, first, tp, 30*time.Second)

		start := time.Now()
		late := redistest.StartSentinel(t, opts)
		err := redistest.PollErr(lateSentinelDeadline-time.Since(start), 50*time.Millisecond, func() error {
			for _, s := range first {
				peers, err := s.Sentinels(redistest.DefaultMasterName)
				if err != nil {
					return err
				}
				if !hasInstance(peers, late.Port()) {
					return fmt.Errorf("%s: SENTINEL SENTINELS lacks %d: %v", s.Name(), late.Port(), peers)
				}
			}
			peers, err := late.Sentinels(redistest.DefaultMasterName)
			if err != nil {
				return err
			}
			for _, s := range first {
				if !hasInstance(peers, s.Port()) {
					return fmt.Errorf("late sentinel does not see %d: %v", s.Port(), peers)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatalf("late sentinel not discovered within %v: %v", lateSentinelDeadline, err)
		}
		t.Logf("late sentinel discovered after %v", time.Since(start).Round(time.Millisecond))
	})
}

// TestSdownOnKilledReplica: after SIGKILL of a replica, a subscriber to
// +sdown gets the event within down-after + 200 ms, and SENTINEL REPLICAS
// shows s_down.
func TestSdownOnKilledReplica(t *testing.T) {
	forEachTarget(t, func(t *testing.T, bin string) {
		tp := redistest.StartTopology(t, 1, redistest.RedisOptions{})
		s := redistest.StartSentinel(t, redistest.SentinelOptions{
			Bin: bin, MasterPort: tp.Master.Port(), Quorum: 1, DownAfter: sdownDownAfter,
		})
		redistest.WaitDiscovered(t, []*redistest.Sentinel{s}, tp, 30*time.Second)

		// Measure in steady state: redis-sentinel attempts at most one
		// reconnection per ping period (1 s) and restarts the SDOWN clock
		// with the PING it queues on that attempt, so a kill within 1 s of
		// the link's creation shows +sdown up to 1 s late. Wait until the
		// replica has been known for longer than that.
		redistest.Poll(t, 10*time.Second, 50*time.Millisecond, func() error {
			reps, err := s.Replicas(redistest.DefaultMasterName)
			if err != nil {
				return err
			}
			if len(reps) != 1 {
				return fmt.Errorf("replicas: %v", reps)
			}
			if age, _ := strconv.Atoi(reps[0]["role-reported-time"]); age < 1500 {
				return fmt.Errorf("replica known for %d ms only", age)
			}
			return nil
		})
		sub := s.Dial(t)
		if r, err := sub.Do("SUBSCRIBE", "+sdown"); err != nil || r.Kind != redistest.KindArray || len(r.Elems) != 3 || r.Elems[0].Str != "subscribe" {
			t.Fatalf("SUBSCRIBE +sdown = %v, %v", r, err)
		}
		replica := tp.Replicas[0]
		want := fmt.Sprintf("slave 127.0.0.1:%d 127.0.0.1 %d @ %s 127.0.0.1 %d",
			replica.Port(), replica.Port(), redistest.DefaultMasterName, tp.Master.Port())

		start := time.Now()
		if err := replica.Kill(); err != nil {
			t.Fatal(err)
		}
		sub.Timeout = sdownDownAfter + 5*time.Second
		for {
			msg, err := sub.Read()
			if err != nil {
				t.Fatalf("no +sdown for the replica (waited %v): %v", time.Since(start), err)
			}
			elapsed := time.Since(start)
			if msg.Kind != redistest.KindArray || len(msg.Elems) != 3 || msg.Elems[0].Str != "message" || msg.Elems[1].Str != "+sdown" {
				t.Fatalf("unexpected pub/sub frame %s", msg)
			}
			if msg.Elems[2].Str != want {
				t.Logf("other +sdown: %q", msg.Elems[2].Str)
				continue
			}
			t.Logf("+sdown %q after %v (down-after %v)", want, elapsed.Round(time.Millisecond), sdownDownAfter)
			if elapsed > sdownDownAfter+sdownSlack {
				t.Errorf("+sdown after %v, want within %v", elapsed, sdownDownAfter+sdownSlack)
			}
			break
		}
		reps, err := s.Replicas(redistest.DefaultMasterName)
		if err != nil {
			t.Fatal(err)
		}
		if len(reps) != 1 || !slices.Contains(strings.Split(reps[0]["flags"], ","), "s_down") {
			t.Fatalf("SENTINEL REPLICAS after +sdown = %v, want flags with s_down", reps)
		}
	})
}

var (
	knownReplicaLine  = regexp.MustCompile(`(?m)^sentinel known-replica mymaster 127\.0\.0\.1 (\d+)$`)
	knownSentinelLine = regexp.MustCompile(`(?m)^sentinel known-sentinel mymaster 127\.0\.0\.1 (\d+) ([0-9a-f]{40})$`)
	myidLine          = regexp.MustCompile(`(?m)^sentinel myid ([0-9a-f]{40})$`)
)

// persistedState is what a sentinel's rewritten config says about its
// deployment.
type persistedState struct {
	myid      string
	replicas  []string          // ports
	sentinels map[string]string // port -> runid
}

func parsePersisted(conf string) persistedState {
	st := persistedState{sentinels: map[string]string{}}
	if m := myidLine.FindStringSubmatch(conf); m != nil {
		st.myid = m[1]
	}
	for _, m := range knownReplicaLine.FindAllStringSubmatch(conf, -1) {
		st.replicas = append(st.replicas, m[1])
	}
	slices.Sort(st.replicas)
	for _, m := range knownSentinelLine.FindAllStringSubmatch(conf, -1) {
		st.sentinels[m[1]] = m[2]
	}
	return st
}

// TestRestartRestoresStateFromConfig: a sentinel stopped with SIGTERM and
// restarted comes back with its myid, replicas and sentinels. Everything
// else is paused (SIGSTOP) during the restart, so nothing can be
// rediscovered: the state must come from the rewritten config file.
func TestRestartRestoresStateFromConfig(t *testing.T) {
	forEachTarget(t, func(t *testing.T, bin string) {
		tp := redistest.StartTopology(t, 2, redistest.RedisOptions{})
		ss := redistest.StartSentinels(t, 3, redistest.SentinelOptions{Bin: bin, MasterPort: tp.Master.Port(), Quorum: 2})
		redistest.WaitDiscovered(t, ss, tp, 30*time.Second)
		s := ss[0]
		myid, err := s.MyID()
		if err != nil {
			t.Fatal(err)
		}
		peerIDs := map[string]string{}
		for _, p := range ss[1:] {
			id, err := p.MyID()
			if err != nil {
				t.Fatal(err)
			}
			peerIDs[strconv.Itoa(p.Port())] = id
		}
		wantReplicas := []string{strconv.Itoa(tp.Replicas[0].Port()), strconv.Itoa(tp.Replicas[1].Port())}
		slices.Sort(wantReplicas)
		want := persistedState{myid: myid, replicas: wantReplicas, sentinels: peerIDs}
		checkFile := func() error {
			conf, err := s.ReadConfig()
			if err != nil {
				return err
			}
			if got := parsePersisted(conf); fmt.Sprint(got) != fmt.Sprint(want) {
				return fmt.Errorf("config file has %+v, want %+v:\n%s", got, want, conf)
			}
			return nil
		}
		// Discovery flushes the config; give the last flush a moment.
		redistest.Poll(t, 5*time.Second, 50*time.Millisecond, checkFile)

		if err := s.Stop(redistest.StopTimeout); err != nil {
			t.Fatal(err)
		}
		if err := checkFile(); err != nil {
			t.Fatalf("after SIGTERM: %v", err)
		}
		others := []*redistest.Process{tp.Master.Process, tp.Replicas[0].Process, tp.Replicas[1].Process, ss[1].Process, ss[2].Process}
		for _, p := range others {
			if err := p.Pause(); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Start(); err != nil {
			t.Fatal(err)
		}
		// Right after the first PING answer, before anything could be
		// rediscovered (all sources are paused).
		gotID, err := s.MyID()
		if err != nil || gotID != myid {
			t.Errorf("SENTINEL MYID after restart = %q (%v), want %q", gotID, err, myid)
		}
		reps, err := s.Replicas(redistest.DefaultMasterName)
		if err != nil {
			t.Fatal(err)
		}
		var repPorts []string
		for _, r := range reps {
			repPorts = append(repPorts, r["port"])
		}
		slices.Sort(repPorts)
		if !slices.Equal(repPorts, wantReplicas) {
			t.Errorf("SENTINEL REPLICAS after restart: ports %v, want %v", repPorts, wantReplicas)
		}
		peers, err := s.Sentinels(redistest.DefaultMasterName)
		if err != nil {
			t.Fatal(err)
		}
		gotPeers := map[string]string{}
		for _, p := range peers {
			gotPeers[p["port"]] = p["runid"]
		}
		if fmt.Sprint(gotPeers) != fmt.Sprint(peerIDs) {
			t.Errorf("SENTINEL SENTINELS after restart: %v, want %v", gotPeers, peerIDs)
		}
		for _, p := range others {
			if err := p.Resume(); err != nil {
				t.Fatal(err)
			}
		}
	})
}
