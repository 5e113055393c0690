package harness

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/internal/redistest"
)

// startMarker opens every run of a process in its log (redistest.Process
// writes it before each start).
const startMarker = "==== "

// RunLog returns what p logged during its current (or last) run: the log
// after the last start marker.
func RunLog(p *redistest.Process) string {
	log := p.Log()
	if i := strings.LastIndex(log, "\n"+startMarker); i >= 0 {
		return log[i+1:]
	}
	return log
}

// eventLine matches one event line of redis' log format, "pid:X dd Mon yyyy
// hh:mm:ss.mmm <level> <event> ...", capturing the event type.
var eventLine = regexp.MustCompile(`(?m)^\d+:[XCSM] \d+ \w+ \d+ [\d:.]+ [.\-*#] ([+-][a-z-]+)(?: |$)`)

// Events returns the lines of log that announce event typ (e.g.
// "+switch-master"), in order.
func Events(log, typ string) []string {
	var out []string
	for _, m := range eventLine.FindAllStringSubmatchIndex(log, -1) {
		if log[m[2]:m[3]] != typ {
			continue
		}
		end := strings.IndexByte(log[m[0]:], '\n')
		if end < 0 {
			end = len(log) - m[0]
		}
		out = append(out, log[m[0]:m[0]+end])
	}
	return out
}

// CountEvents counts the lines announcing typ in the whole log of every
// sentinel (all runs).
func CountEvents(ss []*redistest.Sentinel, typ string) int {
	n := 0
	for _, s := range ss {
		n += len(Events(s.Log(), typ))
	}
	return n
}

// raftStateLine matches hashicorp/raft's state changes as gosentinel logs
// them ("entering leader state component=raft ...").
var raftStateLine = regexp.MustCompile(`entering (leader|follower|candidate) state`)

// RaftState returns the last Raft state log reports: "leader", "follower",
// "candidate", or "" if none.
func RaftState(log string) string {
	all := raftStateLine.FindAllStringSubmatch(log, -1)
	if len(all) == 0 {
		return ""
	}
	return all[len(all)-1][1]
}

// RaftLeader returns the index of the one running sentinel whose current
// run last logged "entering leader state", or an error if there is not
// exactly one.
func (d *Deployment) RaftLeader() (int, error) {
	leader := -1
	for i, s := range d.Sentinels {
		if !s.Running() || RaftState(RunLog(s.Process)) != "leader" {
			continue
		}
		if leader >= 0 {
			return -1, fmt.Errorf("both %s and %s logged that they lead", d.Sentinels[leader].Name(), s.Name())
		}
		leader = i
	}
	if leader < 0 {
		return -1, fmt.Errorf("no running sentinel logged that it leads")
	}
	return leader, nil
}

// WaitRaftLeader polls RaftLeader until it finds the leader.
func (d *Deployment) WaitRaftLeader(timeout time.Duration) (int, error) {
	leader := -1
	err := redistest.PollErr(timeout, 20*time.Millisecond, func() error {
		var err error
		leader, err = d.RaftLeader()
		return err
	})
	return leader, err
}

// LogRunsIfFailed logs the whole log of each sentinel's current run when tb
// has failed (a process's own cleanup logs only its last lines).
func LogRunsIfFailed(tb testing.TB, sentinels []*redistest.Sentinel) {
	if !tb.Failed() {
		return
	}
	for _, s := range sentinels {
		tb.Logf("%s:\n%s", s.Name(), RunLog(s.Process))
	}
}
