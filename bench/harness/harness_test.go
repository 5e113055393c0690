package harness

import (
	"bufio"
	"strings"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/internal/redistest"
)

const sampleLog = `==== 2026-11-26T05:35:45Z start: gosentinel sentinel.conf
26155:X 26 Nov 2026 05:35:47.119 * entering leader state component=raft leader="Node at 127.0.0.1:42731 [Leader]"
26155:X 26 Nov 2026 05:35:48.809 # +try-failover master mymaster 127.0.0.1 45823
26155:X 26 Nov 2026 05:35:48.812 # +switch-master mymaster 127.0.0.1 45823 127.0.0.1 45011
26155:X 26 Nov 2026 05:35:48.813 * +slave-reconf-sent slave 127.0.0.1:38617 127.0.0.1 38617 @ mymaster 127.0.0.1 45823
26155:X 26 Nov 2026 05:35:48.863 # +failover-end master mymaster 127.0.0.1 45823
26155:X 26 Nov 2026 05:35:49.000 # a line that mentions +switch-master in passing
26155:X 26 Nov 2026 05:35:50.000 * entering follower state component=raft
`

func TestEvents(t *testing.T) {
	got := Events(sampleLog, "+switch-master")
	if len(got) != 1 || !strings.HasSuffix(got[0], "+switch-master mymaster 127.0.0.1 45823 127.0.0.1 45011") {
		t.Fatalf("Events(+switch-master) = %q", got)
	}
	if got := Events(sampleLog, "+failover-end"); len(got) != 1 {
		t.Fatalf("Events(+failover-end) = %q", got)
	}
	if got := Events(sampleLog, "+slave"); len(got) != 0 {
		t.Fatalf("Events(+slave) matched a longer event name: %q", got)
	}
}

func TestRaftState(t *testing.T) {
	if got := RaftState(sampleLog); got != "follower" {
		t.Fatalf("RaftState = %q, want the last state, follower", got)
	}
	if got := RaftState("nothing here"); got != "" {
		t.Fatalf("RaftState = %q, want empty", got)
	}
}

func TestLongestGap(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	r := Result{Acks: []Ack{{0, at(-50)}, {1, at(10)}, {2, at(20)}, {3, at(150)}, {4, at(160)}, {5, at(400)}}}
	if got := r.LongestGap(at(0), at(200)); got != 130*time.Millisecond {
		t.Fatalf("LongestGap = %v, want 130ms (20 -> 150)", got)
	}
	if got := r.LongestGap(at(0), at(390)); got != 230*time.Millisecond {
		t.Fatalf("LongestGap = %v, want 230ms (160 -> end of window)", got)
	}
	if got := (Result{}).LongestGap(at(0), at(100)); got != 100*time.Millisecond {
		t.Fatalf("LongestGap without acks = %v, want the whole window", got)
	}
}

func TestParseRole(t *testing.T) {
	for _, tc := range []struct {
		raw  string
		want string
	}{
		{"*3\r\n$6\r\nmaster\r\n:100\r\n*0\r\n", "7000:master"},
		{"*5\r\n$5\r\nslave\r\n$9\r\n127.0.0.1\r\n:7001\r\n$9\r\nconnected\r\n:100\r\n", "7000:slave-of-7001(connected)"},
		{"-LOADING Redis is loading\r\n", "7000:down"},
	} {
		reply, err := redistest.ReadReply(bufio.NewReader(strings.NewReader(tc.raw)))
		if err != nil {
			t.Fatal(err)
		}
		r := Role{Port: 7000}
		parseRole(&r, reply)
		if r.String() != tc.want {
			t.Errorf("parseRole(%q) = %s, want %s", tc.raw, r, tc.want)
		}
	}
}
