package chaos

import (
	"slices"
	"testing"
	"time"
)

func TestScheduleIsSeeded(t *testing.T) {
	o := ScheduleOptions{Seed: 7, Faults: 50, DownAfter: time.Second}
	a, b := Schedule(o), Schedule(o)
	if !slices.Equal(a, b) {
		t.Fatal("the same seed gave two schedules")
	}
	o.Seed = 8
	if slices.Equal(a, Schedule(o)) {
		t.Fatal("seeds 7 and 8 gave the same schedule")
	}
}

func TestScheduleCover(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3, 99} {
		s := Schedule(ScheduleOptions{Seed: seed, Faults: int(NumKinds) + 5, Cover: true})
		seen := map[Kind]bool{}
		for _, f := range s[:NumKinds] {
			seen[f.Kind] = true
		}
		if len(seen) != int(NumKinds) {
			t.Errorf("seed %d: the first %d faults cover %d kinds: %v", seed, NumKinds, len(seen), s[:NumKinds])
		}
	}
	// Without Cover, a short schedule is drawn at random: seed 1's first
	// eleven faults repeat a kind.
	s := Schedule(ScheduleOptions{Seed: 1, Faults: int(NumKinds)})
	seen := map[Kind]bool{}
	for _, f := range s {
		seen[f.Kind] = true
	}
	if len(seen) == int(NumKinds) {
		t.Errorf("seed 1 without Cover covers every kind by chance; pick a seed that does not")
	}
}

func TestScheduleParameters(t *testing.T) {
	const downAfter = 2 * time.Second
	for _, f := range Schedule(ScheduleOptions{Seed: 3, Faults: 500, DownAfter: downAfter}) {
		if f.Kind < 0 || f.Kind >= NumKinds {
			t.Fatalf("kind %v out of range", f.Kind)
		}
		if f.Hold < 2*downAfter || f.Hold > 2*downAfter+2*time.Second || f.Hold%(100*time.Millisecond) != 0 {
			t.Errorf("%v: hold %v not 2 x down-after + 0-2 s in 100 ms steps", f, f.Hold)
		}
		cuts := f.Kind == CutMasterSentinel || f.Kind == CutSentinel
		if f.Sentinel < 0 || f.Sentinel > 2 || (!cuts && f.Sentinel != 0) {
			t.Errorf("%v: sentinel %d", f, f.Sentinel)
		}
		replicaKind := f.Kind == KillReplica || f.Kind == StopReplica || f.Kind == CutReplica
		if f.Replica < 0 || f.Replica > 1 || (!replicaKind && f.Replica != 0) {
			t.Errorf("%v: replica %d", f, f.Replica)
		}
		if (f.Kind == Loss) != (f.Loss > 0) || (f.Kind == Loss && !slices.Contains(LossProbabilities, f.Loss)) {
			t.Errorf("%v: loss %v", f, f.Loss)
		}
		if f.Kind != RestartSentinels && f.Rolling {
			t.Errorf("%v: rolling", f)
		}
	}
}

func TestExpect(t *testing.T) {
	for _, tc := range []struct {
		f    Fault
		want Expect
	}{
		{Fault{Kind: KillMaster}, ExpectFailover},
		{Fault{Kind: StopMaster}, ExpectFailover},
		{Fault{Kind: KillLeader}, ExpectFailover},
		{Fault{Kind: StopLeader}, ExpectFailover},
		{Fault{Kind: CutMasterSentinel}, ExpectFailover},
		{Fault{Kind: KillReplica}, ExpectNoFailover},
		{Fault{Kind: StopReplica}, ExpectNoFailover},
		{Fault{Kind: CutSentinel}, ExpectNoFailover},
		{Fault{Kind: CutReplica}, ExpectNoFailover},
		{Fault{Kind: RestartSentinels}, ExpectNoFailover},
		{Fault{Kind: Loss, Loss: 0.05}, ExpectNoFailover},
		{Fault{Kind: Loss, Loss: NoFailoverLoss}, ExpectNoFailover},
		{Fault{Kind: Loss, Loss: 0.2}, ExpectEither},
	} {
		if got := tc.f.Expect(); got != tc.want {
			t.Errorf("%v: Expect = %v, want %v", tc.f, got, tc.want)
		}
	}
}

func TestDeadline(t *testing.T) {
	if got := (Fault{Kind: KillMaster}).Deadline(time.Second, 10*time.Second); got != 21*time.Second {
		t.Errorf("kill-master deadline %v, want 21s", got)
	}
	if got := (Fault{Kind: StopLeader}).Deadline(time.Second, 10*time.Second); got != 31*time.Second {
		t.Errorf("stop-leader deadline %v, want 31s", got)
	}
}
