package fleet

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestKnownSentinels(t *testing.T) {
	info := "# Sentinel\r\nsentinel_masters:2\r\nsentinel_tilt:0\r\n" +
		"master0:name=m0,status=ok,address=127.0.0.1:7000,slaves=0,sentinels=3\r\n" +
		"master1:name=m1,status=sdown,address=127.0.0.1:7001,slaves=0,sentinels=1\r\n" +
		"masterx:garbage\r\n"
	got := KnownSentinels(info)
	want := map[string]int{"m0": 3, "m1": 1}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("KnownSentinels = %v, want %v", got, want)
	}
}

func TestParseEvent(t *testing.T) {
	for _, tc := range []struct {
		line string
		want Event
		err  bool
	}{
		{"1234:X 03 Dec 2026 12:54:22.123 # +sdown master m12 127.0.0.1 7012",
			Event{At: time.Date(2026, 12, 3, 12, 54, 22, 123e6, time.Local), Type: "+sdown", Args: []string{"master", "m12", "127.0.0.1", "7012"}}, false},
		{"1:X 01 Jan 2026 00:00:00.000 # +tilt #tilt mode entered",
			Event{At: time.Date(2026, 1, 1, 0, 0, 0, 0, time.Local), Type: "+tilt", Args: []string{"#tilt", "mode", "entered"}}, false},
		{"1:X 01 Foo 2026 00:00:00.000 # +tilt", Event{}, true},
		{"short line", Event{}, true},
	} {
		got, err := ParseEvent(tc.line)
		if (err != nil) != tc.err || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseEvent(%q) = %+v, %v; want %+v", tc.line, got, err, tc.want)
		}
	}
	e, _ := ParseEvent("1:X 01 Jan 2026 00:00:00.000 # +sdown master m1 127.0.0.1 7001")
	if !e.MasterEvent("m1") || e.MasterEvent("m12") {
		t.Errorf("MasterEvent on %+v", e)
	}
	s, _ := ParseEvent("1:X 01 Jan 2026 00:00:00.000 # +sdown sentinel 0123 127.0.0.1 26379 @ m1 127.0.0.1 7001")
	if s.MasterEvent("m1") {
		t.Errorf("a sentinel's +sdown read as the master's")
	}
}

func TestMonitorLines(t *testing.T) {
	got := MonitorLines([]int{7000, 7005}, 5*time.Second)
	want := []string{"sentinel monitor m0 127.0.0.1 7000 2", "sentinel down-after-milliseconds m0 5000",
		"sentinel monitor m1 127.0.0.1 7005 2", "sentinel down-after-milliseconds m1 5000"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("MonitorLines = %q", got)
	}
}

func TestSummary(t *testing.T) {
	for _, tc := range []struct {
		in          []time.Duration
		lo, med, hi time.Duration
	}{
		{nil, 0, 0, 0},
		{[]time.Duration{3, 1, 2}, 1, 2, 3},
		{[]time.Duration{4, 1, 2, 3}, 1, 2, 4},
	} {
		lo, med, hi := Summary(tc.in)
		if lo != tc.lo || med != tc.med || hi != tc.hi {
			t.Errorf("Summary(%v) = %v %v %v", tc.in, lo, med, hi)
		}
	}
}

func TestWriteTable(t *testing.T) {
	redis := &Result{Kind: "redis-sentinel", Masters: 500, Converged: true, ConvergeTime: 26 * time.Second,
		RSSSteady: 24 << 20, RSSPeak: 30 << 20, CPU: 4.2, Tilt: 6,
		FleetRates: map[string]float64{"accepted": 0, "ping": 1500, "info": 150, "publish": 750, "client": 0.5},
		Detection:  []time.Duration{183 * time.Millisecond, 300 * time.Millisecond, 813 * time.Millisecond},
		Lateness:   []time.Duration{10 * time.Millisecond, 40 * time.Millisecond, 90 * time.Millisecond}}
	gos := &Result{Kind: "gosentinel", Masters: 500, Converged: false, ConvergeTime: 280 * time.Second, Fraction: 0.988,
		RSSSteady: 48 << 20, RSSPeak: 91 << 20, CPU: 8.4, FalseSdownWarm: 1155,
		Detection: []time.Duration{150 * time.Millisecond}, Missed: 2, Errors: []string{"boom"}}
	var b strings.Builder
	WriteTable(&b, []Pair{{Masters: 500, Redis: redis, Go: gos}, {Masters: 1000, Redis: nil, Go: gos}})
	out := b.String()
	for _, want := range []string{
		"| 500 masters: all sentinels know each other for every master | 26 s | not reached after 280 s (98.8 %) | - |",
		"| 500 masters: RSS per sentinel, steady (peak) | 24 MB (peak 30) | 48 MB (peak 91) | 2.00 |",
		"| 500 masters: CPU per sentinel, steady | 4.2 % of a core | 8.4 % of a core | 2.00 |",
		"| 500 masters: `+sdown master` for masters that were up (warm-up + steady) | 0 + 0 | 1155 + 0 | - |",
		"| 500 masters: detection of a dark master beyond down-after (min / median / max) | 183 / 300 / 813 ms (n=3) | 150 / 150 / 150 ms (n=1), 2 missed | 0.50 |",
		"| 1000 masters: `+tilt` | not run | 0 | - |",
		"| 500 masters: SDOWN lateness: `+sdown` minus (first unanswered PING + down-after) (min / median / max) | 10 / 40 / 90 ms | none | - |",
		"gosentinel at 500 masters: boom",
		"| 500 masters: what the fleet received per second, steady (new connections; PING, INFO, PUBLISH, other commands) | 0.0; 1500, 150.0, 750, 0.5 | - | - |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestParseStats(t *testing.T) {
	got, err := ParseStats("accepted=3 ping=10 other=0")
	if err != nil || !reflect.DeepEqual(got, map[string]int64{"accepted": 3, "ping": 10, "other": 0}) {
		t.Fatalf("ParseStats = %v, %v", got, err)
	}
	if _, err := ParseStats("accepted=x"); err == nil {
		t.Fatal("ParseStats accepted a bad count")
	}
}
