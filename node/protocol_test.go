package node

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/quorum"
)

func TestProtocolStep(t *testing.T) {
	for _, tc := range []struct {
		name string
		v    protocolView
		want protocolAction
	}{
		{"raft, nothing foreign", protocolView{mode: modeRaft}, protoNothing},
		{"raft, a redis-sentinel heard: record it", protocolView{mode: modeRaft, foreign: true}, protoEnter},
		{"raft, the group recorded it: detach", protocolView{mode: modeRaft, groupMixed: true, groupGen: 1, foreign: true}, protoDetach},
		{"raft, recorded, but a failover the log decided runs: its leader finishes it first",
			protocolView{mode: modeRaft, groupMixed: true, groupGen: 1, failoverInGroup: true}, protoNothing},
		{"local, the redis-sentinel still heard", protocolView{mode: modeLocal, groupMixed: true, groupGen: 1, foreign: true}, protoNothing},
		{"local, none heard, an election under way", protocolView{mode: modeLocal, groupMixed: true, groupGen: 1, localFor: time.Minute, localBusy: true, leaderKnown: true}, protoNothing},
		{"local, none heard, idle: go quiet", protocolView{mode: modeLocal, groupMixed: true, groupGen: 1, localFor: foreignGone, leaderKnown: true}, protoQuiet},
		{"local since a moment (just restarted): none heard yet, not quiet",
			protocolView{mode: modeLocal, groupMixed: true, groupGen: 1, localFor: foreignGone - time.Millisecond, leaderKnown: true}, protoNothing},
		{"local, none heard, but no leader to end the generation: keep voting",
			protocolView{mode: modeLocal, groupMixed: true, groupGen: 1, localFor: time.Minute}, protoNothing},
		{"local, the group decides again (not a voter it counted)", protocolView{mode: modeLocal, groupGen: 1}, protoReattach},
		{"local, the group decides again, but its own failover runs: finish it first",
			protocolView{mode: modeLocal, groupGen: 1, localBusy: true, localFailover: true}, protoNothing},
		{"local, the group decides again, only a vote's hold-off: reattach",
			protocolView{mode: modeLocal, groupGen: 1, localBusy: true}, protoReattach},
		{"quiet, waiting for the end", protocolView{mode: modeQuiet, groupMixed: true, groupGen: 1, quietGen: 1}, protoNothing},
		{"quiet, the group ended it", protocolView{mode: modeQuiet, groupGen: 1, groupEnded: 1, quietGen: 1}, protoReattach},
		{"quiet, ended and a newer generation both applied: the log may have decided in between",
			protocolView{mode: modeQuiet, groupMixed: true, groupGen: 2, groupEnded: 1, quietGen: 1}, protoReattach},
		{"quiet, heard again: record a new generation, never wake alone",
			protocolView{mode: modeQuiet, groupMixed: true, groupGen: 1, quietGen: 1, foreign: true}, protoEnter},
		{"quiet, a newer generation applied, no end between: wake on its own state",
			protocolView{mode: modeQuiet, groupMixed: true, groupGen: 2, quietGen: 1, foreign: true}, protoWake},
		{"raft, heard, no leader for a moment (an election): record it when one is there",
			protocolView{mode: modeRaft, foreign: true, leaderlessFor: isolateAfter - time.Millisecond}, protoEnter},
		{"raft, heard, no leader to record it for isolateAfter: cut off from Raft and vote",
			protocolView{mode: modeRaft, foreign: true, leaderlessFor: isolateAfter}, protoIsolate},
		{"raft, no leader for long but nothing foreign: stay",
			protocolView{mode: modeRaft, leaderlessFor: time.Hour}, protoNothing},
		{"raft, heard, no leader, but a failover the log decided is in its state: stay",
			protocolView{mode: modeRaft, foreign: true, leaderlessFor: time.Hour, failoverInGroup: true, failoverAfterLog: true}, protoEnter},
		{"raft, heard, no leader, a failover in its state that its unapplied log ends: its copy would carry it, stay",
			protocolView{mode: modeRaft, foreign: true, leaderlessFor: time.Hour, failoverInGroup: true}, protoEnter},
		{"isolated, still heard", protocolView{mode: modeLocal, isolated: true, foreign: true, localFor: time.Hour}, protoNothing},
		{"isolated, none heard, idle: connect again (its frozen view says the group decides)",
			protocolView{mode: modeLocal, isolated: true, localFor: foreignGone}, protoRejoin},
		{"isolated, none heard, but voted lately or failing over: stay",
			protocolView{mode: modeLocal, isolated: true, localFor: time.Hour, localBusy: true}, protoNothing},
		{"isolated since a moment: stay", protocolView{mode: modeLocal, isolated: true, localFor: foreignGone - time.Millisecond}, protoNothing},
		{"isolated, its view says the group is mixed: still only the quiet conditions",
			protocolView{mode: modeLocal, isolated: true, groupMixed: true, groupGen: 1, foreign: true, localFor: time.Hour, leaderKnown: true}, protoNothing},
		{"connected again, no leader yet: wait quiet", protocolView{mode: modeQuiet, leaderlessFor: time.Second}, protoNothing},
		{"connected again, a leader: hand it the copy", protocolView{mode: modeQuiet, leaderKnown: true}, protoReattach},
		{"connected again, heard again, no leader, but a failover the log decided is in its state: stay",
			protocolView{mode: modeQuiet, foreign: true, leaderlessFor: isolateAfter, failoverAfterLog: true}, protoNothing},
		{"connected again, heard again, no leader for isolateAfter: cut off again",
			protocolView{mode: modeQuiet, foreign: true, leaderlessFor: isolateAfter}, protoIsolate},
		{"quiet in a generation, heard again, no leader to record a new one: cut off and vote",
			protocolView{mode: modeQuiet, groupMixed: true, groupGen: 1, quietGen: 1, foreign: true, leaderlessFor: isolateAfter}, protoIsolate},
		{"detaching: wait", protocolView{mode: modeDetaching, groupMixed: true, foreign: true}, protoNothing},
		{"not a member", protocolView{mode: modeNone, groupMixed: true, foreign: true}, protoNothing},
	} {
		if got := protocolStep(tc.v); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestQuietMajority(t *testing.T) {
	q := func(gen uint64) protocolStatus { return protocolStatus{Mode: modeQuiet.String(), Gen: gen} }
	voters := []string{"a", "b", "c"}
	for _, tc := range []struct {
		name    string
		answers map[string]protocolStatus
		want    bool
	}{
		{"every voter quiet in the generation", map[string]protocolStatus{"a": q(2), "b": q(2), "c": q(2)}, true},
		{"one did not answer (its pod restarting): a quiet majority", map[string]protocolStatus{"a": q(2), "b": q(2)}, true},
		{"only one answered", map[string]protocolStatus{"a": q(2)}, false},
		{"one still votes", map[string]protocolStatus{"a": q(2), "b": q(2), "c": {Mode: modeLocal.String()}}, false},
		{"one not a member yet (restarted, votes as a non-member)", map[string]protocolStatus{"a": q(2), "b": q(2), "c": {Mode: modeNone.String()}}, false},
		{"one quiet in an older generation", map[string]protocolStatus{"a": q(2), "b": q(1), "c": q(2)}, false},
	} {
		if got := quietMajority(voters, tc.answers, 2); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	if quietMajority(nil, nil, 1) {
		t.Error("no voters counted as a quiet majority")
	}
}

func TestNewerConfig(t *testing.T) {
	a := quorum.Addr{Host: "10.0.0.1", Port: 6379}
	b := quorum.Addr{Host: "10.0.0.2", Port: 6379}
	m := func(addr quorum.Addr, epoch uint64, f *quorum.Failover) *quorum.Master {
		return &quorum.Master{Name: "m", Addr: addr, ConfigEpoch: epoch, Failover: f}
	}
	for _, tc := range []struct {
		name         string
		local, group *quorum.Master
		op           quorum.Op
		wait         bool
	}{
		{"the same configuration", m(a, 1, nil), m(a, 1, nil), 0, false},
		{"the group's is newer", m(a, 1, nil), m(b, 2, nil), 0, false},
		{"ours is newer, another address: switch", m(b, 2, nil), m(a, 1, nil), quorum.OpSwitchMaster, false},
		{"ours is newer, same address: raise the epoch", m(a, 2, nil), m(a, 1, nil), quorum.OpSetConfigEpoch, false},
		{"the group's failover at that epoch will land it: wait", m(b, 2, nil), m(a, 1, &quorum.Failover{Epoch: 2}), 0, true},
		{"the group's failover is older: switch", m(b, 3, nil), m(a, 1, &quorum.Failover{Epoch: 2}), quorum.OpSwitchMaster, false},
		{"the group's failover promoted, not yet switched: wait", m(b, 2, nil), m(a, 2, &quorum.Failover{Epoch: 2, Promoted: true}), 0, true},
		{"the same epoch, another address, no failover: the group's", m(b, 2, nil), m(a, 2, nil), 0, false},
		{"the group's failover of an older configuration: nothing", m(a, 1, nil), m(a, 1, &quorum.Failover{Epoch: 2}), 0, false},
	} {
		cmd, wait := newerConfig(tc.local, tc.group)
		var op quorum.Op
		if cmd != nil {
			op = cmd.Op
		}
		if op != tc.op || wait != tc.wait {
			t.Errorf("%s: op %d wait %v, want %d %v", tc.name, op, wait, tc.op, tc.wait)
		}
	}
}

func TestMergeStep(t *testing.T) {
	a := quorum.Addr{Host: "10.0.0.1", Port: 6379}
	b := quorum.Addr{Host: "10.0.0.2", Port: 6379}
	state := func(epoch uint64, ms ...*quorum.Master) *quorum.State {
		st := &quorum.State{CurrentEpoch: epoch, Masters: map[string]*quorum.Master{}}
		for _, m := range ms {
			st.Masters[m.Name] = m
		}
		return st
	}
	m := func(name string, addr quorum.Addr, epoch uint64, f *quorum.Failover) *quorum.Master {
		return &quorum.Master{Name: name, Addr: addr, ConfigEpoch: epoch, Failover: f}
	}
	for _, tc := range []struct {
		name         string
		local, group *quorum.State
		ops          []quorum.Op
		waiting      int
	}{
		{"the group has it all", state(2, m("m", b, 2, nil)), state(2, m("m", b, 2, nil)), nil, 0},
		{"the group's is newer", state(1, m("m", a, 1, nil)), state(3, m("m", b, 3, nil)), nil, 0},
		{"a master the group lacks", state(0, m("m", a, 0, nil), m("n", a, 0, nil)), state(0, m("m", a, 0, nil)), []quorum.Op{quorum.OpMonitor}, 0},
		{"a newer address and epoch", state(2, m("m", b, 2, nil)), state(1, m("m", a, 1, nil)), []quorum.Op{quorum.OpSwitchMaster, quorum.OpObserveEpoch}, 0},
		// The leader's hello told this member of the switch the group's
		// failover is recording: not done until the log lands it.
		{"the group's failover lands it", state(1, m("m", b, 1, nil)), state(1, m("m", a, 0, &quorum.Failover{Epoch: 1})), nil, 1},
		{"the group's failover promoted, not yet switched", state(1, m("m", b, 1, nil)), state(1, m("m", a, 1, &quorum.Failover{Epoch: 1, Promoted: true})), nil, 1},
	} {
		cmds, waiting := mergeStep(tc.local, tc.group)
		var ops []quorum.Op
		for _, c := range cmds {
			ops = append(ops, c.Op)
		}
		if fmt.Sprint(ops) != fmt.Sprint(tc.ops) || waiting != tc.waiting {
			t.Errorf("%s: ops %v waiting %d, want %v %d", tc.name, ops, waiting, tc.ops, tc.waiting)
		}
	}
}

// TestAskVotersEachWithinItsOwnDeadline: a voter that never answers (its
// address drops packets) does not use up the others' time: the busy
// voter asked after it still answers, and holds the end back. Asked in
// turn under one deadline, it counted as absent and the end was decided
// without it.
func TestAskVotersEachWithinItsOwnDeadline(t *testing.T) {
	servers := []quorum.Server{{ID: "a"}, {ID: "b"}, {ID: "c"}, {ID: "d"}, {ID: "e"}}
	ask := func(ctx context.Context, s quorum.Server) (protocolStatus, error) {
		switch s.ID {
		case "d":
			<-ctx.Done()
			return protocolStatus{}, ctx.Err()
		case "e":
			// Answers once d has had long enough to use up a shared
			// deadline.
			select {
			case <-time.After(rpcTimeout / 2):
			case <-ctx.Done():
				return protocolStatus{}, ctx.Err()
			}
			return protocolStatus{Mode: "sentinel"}, nil
		}
		return protocolStatus{Mode: "quiet", Gen: 1}, nil
	}
	answers := askVoters(context.Background(), servers, "a", protocolStatus{Mode: "quiet", Gen: 1}, ask)
	if a, ok := answers["e"]; !ok || a.Mode != "sentinel" {
		t.Fatalf("the busy voter's answer: %+v, %v", a, ok)
	}
	if _, ok := answers["d"]; ok {
		t.Fatal("the silent voter answered")
	}
	if quietMajority([]string{"a", "b", "c", "d", "e"}, answers, 1) {
		t.Fatal("the end was decided while a voter that answered is not quiet")
	}
}
