package monitor

import (
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/x0tta6bl4/gosentinel/internal/redistest"
)

// The testdata INFO replies were captured from Debian's redis-server 7.0.15
// on loopback (raw bulk payloads, CRLF line ends).
func TestParseInfoCaptured(t *testing.T) {
	cases := []struct {
		file string
		want Info
	}{
		{
			file: "info_master_2replicas.txt",
			want: Info{
				RunID: "27dffc4a0eb3ef60288cd5678a13c9dc6a023b21",
				Role:  "master",
				Replicas: []Addr{
					{Host: "127.0.0.1", Port: 30102},
					{Host: "127.0.0.2", Port: 30103}, // replica-announce-ip
				},
				HasMasterReplOffset: true,
			},
		},
		{
			file: "info_master_standalone.txt",
			want: Info{
				RunID:               "bf2375a11af9b1f8875a4404cd339e21cdb1c893",
				Role:                "master",
				HasMasterReplOffset: true,
			},
		},
		{
			file: "info_replica_up.txt",
			want: Info{
				RunID: "a7352e95563b1b939fcd94830c6b884a4d32f64a", Role: "slave",
				HasMasterReplOffset: true,
				MasterHost:          "127.0.0.1", HasMasterHost: true,
				MasterPort: 30101, HasMasterPort: true,
				MasterLinkUp: true, HasMasterLinkStatus: true,
				SlavePriority: 50, HasSlavePriority: true,
				HasSlaveReplOffset: true,
				ReplicaAnnounced:   true, HasReplicaAnnounced: true,
			},
		},
		{
			file: "info_replica_announced_no.txt",
			want: Info{
				RunID: "13b27967f286ded11b40a012643ea06ae46e3f96", Role: "slave",
				HasMasterReplOffset: true,
				MasterHost:          "127.0.0.1", HasMasterHost: true,
				MasterPort: 30101, HasMasterPort: true,
				MasterLinkUp: true, HasMasterLinkStatus: true,
				SlavePriority: 100, HasSlavePriority: true,
				HasSlaveReplOffset:  true,
				HasReplicaAnnounced: true,
			},
		},
		{
			file: "info_replica_link_down.txt",
			want: Info{
				RunID: "a7352e95563b1b939fcd94830c6b884a4d32f64a", Role: "slave",
				MasterLinkDownTime: time.Second,
				MasterReplOffset:   78, HasMasterReplOffset: true,
				MasterHost: "127.0.0.1", HasMasterHost: true,
				MasterPort: 30101, HasMasterPort: true,
				HasMasterLinkStatus: true,
				SlavePriority:       50, HasSlavePriority: true,
				SlaveReplOffset: 78, HasSlaveReplOffset: true,
				ReplicaAnnounced: true, HasReplicaAnnounced: true,
			},
		},
		{
			file: "info_replica_never_connected.txt",
			want: Info{
				RunID: "36d96ef72c43820140154a6c102dc08506aa6fc2", Role: "slave",
				MasterLinkDownTime:  -time.Second,
				HasMasterReplOffset: true,
				MasterHost:          "127.0.0.1", HasMasterHost: true,
				MasterPort: 30199, HasMasterPort: true,
				HasMasterLinkStatus: true,
				SlavePriority:       100, HasSlavePriority: true,
				HasSlaveReplOffset: true,
				ReplicaAnnounced:   true, HasReplicaAnnounced: true,
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			got := ParseInfo(string(raw))
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("ParseInfo(%s)\n got %+v\nwant %+v", tc.file, got, tc.want)
			}
		})
	}
}

func TestParseInfoLines(t *testing.T) {
	cases := []struct {
		name, text string
		want       Info
	}{
		{
			name: "old slave format",
			text: "role:master\r\nslave0:10.0.0.1,6380,online\r\nslave1:10.0.0.2,6381\r\n",
			// The second line has no third field: sentinel skips it.
			want: Info{Role: "master", Replicas: []Addr{{Host: "10.0.0.1", Port: 6380}}},
		},
		{
			name: "new format with ipv6 and garbage port",
			text: "slave0:ip=::1,port=7000,state=online\r\nslave1:ip=10.0.0.3,port=x\r\nslave2:ip=1.2.3.4\r\n",
			want: Info{Replicas: []Addr{{Host: "::1", Port: 7000}, {Host: "10.0.0.3", Port: 0}}},
		},
		{
			name: "slaveN prefix needs a digit",
			text: "slave_read_only:1\r\nslaves:3\r\nslave_expires_tracked_keys:0\r\n",
			want: Info{},
		},
		{
			name: "short run_id ignored",
			text: "run_id:abc\r\n",
			want: Info{},
		},
		{
			name: "replica fields only after role:slave",
			text: "master_host:h1\r\nslave_priority:5\r\nrole:slave\r\nmaster_port:12\r\nslave_read_repl_offset:9\r\nslave_repl_offset:7\r\nmaster_link_status:UP\r\n",
			want: Info{Role: "slave", MasterPort: 12, HasMasterPort: true,
				SlaveReplOffset: 7, HasSlaveReplOffset: true,
				MasterLinkUp: true, HasMasterLinkStatus: true},
		},
		{
			name: "no role line",
			text: "# Server\r\nredis_version:7.0.15\r\n",
			want: Info{},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := ParseInfo(tc.text); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestAtoi64(t *testing.T) {
	cases := map[string]int64{"": 0, "12": 12, " 7x": 7, "-3": -3, "+4": 4, "abc": 0, "99999999999999999999": 1<<63 - 1}
	for in, want := range cases {
		if got := atoi64(in); got != want {
			t.Errorf("atoi64(%q) = %d, want %d", in, got, want)
		}
	}
}

// What ParseInfo returns shares no memory with the reply: an instance
// keeps its run id, its master's host and its replicas' addresses, and a
// part of the reply would keep the whole reply alive with them.
func TestParseInfoCopiesWhatItKeeps(t *testing.T) {
	id := strings.Repeat("a", 40)
	master := "# Server\r\nrun_id:" + id + "\r\n# Replication\r\nrole:master\r\n" +
		"slave0:ip=10.0.0.2,port=6379,state=online,offset=1,lag=0\r\nslave1:10.0.0.3,6380,online\r\n"
	replica := "run_id:" + id + "\r\nrole:slave\r\nmaster_host:10.0.0.1\r\nmaster_port:6379\r\n"
	inside := func(text, s string) bool {
		if s == "" {
			return false
		}
		base := uintptr(unsafe.Pointer(unsafe.StringData(text)))
		p := uintptr(unsafe.Pointer(unsafe.StringData(s)))
		return p >= base && p < base+uintptr(len(text))
	}
	m := ParseInfo(master)
	if m.RunID != id || len(m.Replicas) != 2 || m.Replicas[0].Host != "10.0.0.2" || m.Replicas[1].Host != "10.0.0.3" {
		t.Fatalf("ParseInfo(master) = %+v", m)
	}
	for _, s := range []string{m.RunID, m.Replicas[0].Host, m.Replicas[1].Host} {
		if inside(master, s) {
			t.Errorf("%q is a part of the reply", s)
		}
	}
	r := ParseInfo(replica)
	if r.MasterHost != "10.0.0.1" || !r.HasMasterHost {
		t.Fatalf("ParseInfo(replica) = %+v", r)
	}
	for _, s := range []string{r.RunID, r.MasterHost} {
		if inside(replica, s) {
			t.Errorf("%q is a part of the reply", s)
		}
	}
}

// TestEmptyMasterHostIsAHost: a replica whose INFO says `master_host:` with
// nothing after it has reported a host, "", as redis-sentinel keeps it
// (slave_master_host is NULL only before the first report). Its config
// change time is set once, not at every INFO, and SENTINEL REPLICAS shows
// the empty host, not the "?" of a host never reported. Before, "" meant
// "unknown" here and every INFO moved the clock that replica selection
// reads.
func TestEmptyMasterHostIsAHost(t *testing.T) {
	replica := newFakeServer(t, redisLike(func() string {
		return "# Server\r\nredis_version:7.0.15\r\nrun_id:" + strings.Repeat("5", 40) +
			"\r\n\r\n# Replication\r\nrole:slave\r\nmaster_host:\r\nmaster_port:6379" +
			"\r\nmaster_link_status:up\r\nslave_repl_offset:42\r\nslave_priority:100\r\n"
	}, func() string { return "+PONG\r\n" }))
	master := newFakeServer(t, redisLike(func() string {
		return masterInfo(strings.Repeat("4", 40)) +
			"slave0:ip=127.0.0.1,port=" + strconv.Itoa(replica.port()) + ",state=online,offset=42,lag=0\r\n"
	}, func() string { return "+PONG\r\n" }))
	rec := &recorder{}
	m := startMonitor(t, rec.config(idA, Config{Timing: fastTiming}))
	m.Watch(MasterSpec{Name: "m", Addr: Addr{Host: "127.0.0.1", Port: master.port()}, DownAfter: time.Minute})

	replicaStatus := func() (InstanceStatus, bool) {
		st := status(t, m, "m")
		if len(st.Replicas) != 1 {
			return InstanceStatus{}, false
		}
		return st.Replicas[0], true
	}
	var first InstanceStatus
	redistest.Until(t, 10*time.Second, "the replica's INFO", func() bool {
		r, ok := replicaStatus()
		first = r
		return ok && !r.InfoRefresh.IsZero()
	})
	if first.MasterHost != "" || first.SlaveConfChangeTime.IsZero() {
		t.Fatalf("after the first INFO: master-host %q, conf change time %v; want \"\" and set", first.MasterHost, first.SlaveConfChangeTime)
	}
	// Two more INFO replies (fastTiming: one every 500 ms).
	redistest.Until(t, 10*time.Second, "two more INFO replies", func() bool {
		r, _ := replicaStatus()
		return r.InfoRefresh.Sub(first.InfoRefresh) >= 2*fastTiming().InfoPeriod-fastTiming().InfoPeriod/2
	})
	if r, _ := replicaStatus(); !r.SlaveConfChangeTime.Equal(first.SlaveConfChangeTime) {
		t.Fatalf("the config change time moved from %v to %v with the same empty master_host", first.SlaveConfChangeTime, r.SlaveConfChangeTime)
	}
}
