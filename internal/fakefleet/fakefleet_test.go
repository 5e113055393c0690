package fakefleet

import (
	"bufio"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/monitor"
)

func TestReadCommand(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want [][]string
		err  string // the last read's error, "" for io.EOF
	}{
		{"multibulk", "*2\r\n$4\r\nPING\r\n$2\r\nhi\r\n", [][]string{{"PING", "hi"}}, ""},
		{"inline", "PING\r\ninfo replication\n", [][]string{{"PING"}, {"info", "replication"}}, ""},
		{"empty inline line", "\r\nPING\r\n", [][]string{{}, {"PING"}}, ""},
		{"pipeline", "*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nROLE\r\n", [][]string{{"PING"}, {"ROLE"}}, ""},
		{"empty bulk", "*2\r\n$4\r\nECHO\r\n$0\r\n\r\n", [][]string{{"ECHO", ""}}, ""},
		{"bad multibulk length", "*x\r\n", nil, "invalid multibulk length"},
		{"dollar missing", "*1\r\n+PING\r\n", nil, "expected '$', got '+'"},
		{"bad bulk length", "*1\r\n$-3\r\n", nil, "invalid bulk length"},
		{"bulk too long for its CRLF", "*1\r\n$2\r\nabc\r\n", nil, "bulk not terminated by CRLF"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			br := bufio.NewReaderSize(strings.NewReader(tc.in), 16)
			var got [][]string
			var err error
			for {
				var args []string
				args, err = readCommand(br)
				if err != nil {
					break
				}
				if args == nil {
					args = []string{}
				}
				got = append(got, args)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("commands %q, want %q", got, tc.want)
			}
			if tc.err == "" && err.Error() != "EOF" || tc.err != "" && !strings.Contains(err.Error(), tc.err) {
				t.Errorf("error %v, want %q", err, tc.err)
			}
		})
	}
}

func TestUnknownCommand(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"foo"}, "ERR unknown command 'foo', with args beginning with: "},
		{[]string{"foo", "a", "b"}, "ERR unknown command 'foo', with args beginning with: 'a' 'b' "},
		{[]string{"x", strings.Repeat("a", 130), "b"}, "ERR unknown command 'x', with args beginning with: '" + strings.Repeat("a", 128) + "' "},
	} {
		if got := unknownCommand(tc.args); got != tc.want {
			t.Errorf("unknownCommand(%q) = %q, want %q", tc.args, got, tc.want)
		}
	}
}

// TestInfoAsSentinelsReadIt parses the fake INFO with gosentinel's own
// parser (monitor.ParseInfo, a port of sentinelRefreshInstanceInfo).
func TestInfoAsSentinelsReadIt(t *testing.T) {
	st := infoState{port: 7001, pid: 42, runID: strings.Repeat("a", 40), replID: strings.Repeat("b", 40),
		started: time.Unix(1000, 0), now: time.Unix(1100, 0), clients: 3}
	for _, tc := range []struct {
		name      string
		replicaOf string
		want      monitor.Info
	}{
		{"master", "", monitor.Info{RunID: st.runID, Role: "master", HasMasterReplOffset: true}},
		{"after replicaof", "127.0.0.1:7002", monitor.Info{RunID: st.runID, Role: "slave", HasMasterReplOffset: true,
			MasterHost: "127.0.0.1", HasMasterHost: true, MasterPort: 7002, HasMasterPort: true,
			HasMasterLinkStatus: true, SlavePriority: 100, HasSlavePriority: true, HasSlaveReplOffset: true,
			ReplicaAnnounced: true, HasReplicaAnnounced: true, MasterLinkDownTime: -time.Second}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := st
			st.replicaOf = tc.replicaOf
			got := monitor.ParseInfo(renderInfo(st, ""))
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ParseInfo = %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// TestInfoHasRedis70Fields: a fake master's INFO has the sections and
// fields of a real Redis 7.0.15 master's, in its order (a capture in
// monitor/testdata), so a sentinel parses and keeps as much text per node
// as it would for a real one: a subset (2.2 KB instead of 5) understated
// what INFO costs a sentinel.
func TestInfoHasRedis70Fields(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "monitor", "testdata", "info_master_standalone.txt"))
	if err != nil {
		t.Fatal(err)
	}
	names := func(text string) []string {
		var out []string
		for _, l := range strings.Split(strings.TrimSuffix(text, "\r\n"), "\r\n") {
			k, _, _ := strings.Cut(l, ":")
			out = append(out, k)
		}
		return out
	}
	st := infoState{port: 7001, pid: 42, runID: strings.Repeat("a", 40), replID: strings.Repeat("b", 40),
		started: time.Unix(1000, 0), now: time.Unix(1100, 0), clients: 3}
	got, want := names(renderInfo(st, "")), names(string(raw))
	if !slices.Equal(got, want) {
		t.Errorf("fake INFO fields:\n%q\nRedis 7.0.15's:\n%q", got, want)
	}
	if n := len(renderInfo(st, "")); n < 4500 {
		t.Errorf("fake INFO is %d bytes, a real one about 5,000", n)
	}
}

func TestRenderInfoSections(t *testing.T) {
	st := infoState{port: 7001, runID: strings.Repeat("a", 40), replID: strings.Repeat("b", 40), started: time.Unix(1000, 0), now: time.Unix(1100, 0)}
	for _, tc := range []struct {
		section  string
		contains []string
		excludes []string
	}{
		{"", []string{"# Server\r\nredis_version:7.0.15\r\n", "uptime_in_seconds:100\r\n", "tcp_port:7001\r\n", "\r\n\r\n# Replication\r\nrole:master\r\nconnected_slaves:0\r\n", "# Keyspace\r\n"}, nil},
		{"replication", []string{"# Replication\r\nrole:master\r\n"}, []string{"# Server"}},
		{"SERVER", []string{"# Server\r\n", "run_id:" + st.runID + "\r\n"}, []string{"# Replication"}},
		{"nosuchsection", nil, []string{"#"}},
	} {
		got := renderInfo(st, tc.section)
		for _, s := range tc.contains {
			if !strings.Contains(got, s) {
				t.Errorf("INFO %q lacks %q:\n%s", tc.section, s, got)
			}
		}
		for _, s := range tc.excludes {
			if strings.Contains(got, s) {
				t.Errorf("INFO %q has %q:\n%s", tc.section, s, got)
			}
		}
		if got != "" && !strings.HasSuffix(got, "\r\n") {
			t.Errorf("INFO %q does not end in CRLF", tc.section)
		}
	}
}

func TestPortList(t *testing.T) {
	for _, tc := range []struct {
		list        string
		base, count int
		want        []int
		err         bool
	}{
		{"7000, 7002", 0, 0, []int{7000, 7002}, false},
		{"", 7000, 3, []int{7000, 7001, 7002}, false},
		{"", 0, 2, []int{0, 0}, false},
		{"", 0, 0, nil, true},
		{"7000", 0, 2, nil, true},
		{"x", 0, 0, nil, true},
		{"", 65535, 2, nil, true},
	} {
		got, err := PortList(tc.list, tc.base, tc.count)
		if (err != nil) != tc.err || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("PortList(%q, %d, %d) = %v, %v; want %v, error %v", tc.list, tc.base, tc.count, got, err, tc.want, tc.err)
		}
	}
}

func TestReadyLine(t *testing.T) {
	line := ReadyLine([]int{7000, 7001})
	if line != "ready 7000 7001\n" {
		t.Fatalf("ReadyLine = %q", line)
	}
	got, err := ParseReadyLine(line)
	if err != nil || !reflect.DeepEqual(got, []int{7000, 7001}) {
		t.Fatalf("ParseReadyLine = %v, %v", got, err)
	}
	if _, err := ParseReadyLine("steady 1"); err == nil {
		t.Fatal("ParseReadyLine accepted a line without ready")
	}
}
