package test

import (
	"strings"
	"testing"

	"github.com/x0tta6bl4/gosentinel/internal/redistest"
)

// These tests pin down the normalisers of the compatibility test without
// starting any process: each must accept what legitimately differs and
// reject everything else.

func bulk(s string) *redistest.Reply {
	return &redistest.Reply{Kind: redistest.KindBulk, Type: '$', Str: s}
}

func TestInfoTextNormaliser(t *testing.T) {
	ref := "# Server\r\nredis_version:7.0.15\r\nprocess_id:100\r\nhz:10\r\n\r\n# Stats\r\ntotal_connections_received:5\r\ninstantaneous_input_kbps:0.00\r\n\r\n# Sentinel\r\nsentinel_masters:1\r\n"
	cases := []struct {
		name, got, want string
	}{
		{"identical", ref, ""},
		{"varying fields and stats differ", strings.NewReplacer("process_id:100", "process_id:7", "hz:10", "hz:17", "received:5", "received:9", "kbps:0.00", "kbps:1.25").Replace(ref), ""},
		{"exact field differs", strings.Replace(ref, "7.0.15", "7.0.14", 1), "redis_version"},
		{"varying field changes shape", strings.Replace(ref, "process_id:100", "process_id:abc", 1), "process_id"},
		{"stats value changes shape", strings.Replace(ref, "kbps:0.00", "kbps:none", 1), "instantaneous_input_kbps"},
		{"field renamed", strings.Replace(ref, "hz:10", "herz:10", 1), "expected field"},
		{"section header differs", strings.Replace(ref, "# Stats", "# Statistics", 1), "line 6"},
		{"line missing", strings.Replace(ref, "sentinel_masters:1\r\n", "", 1), "sentinel_masters"},
	}
	for _, c := range cases {
		got := infoText(bulk(ref), bulk(c.got))
		if c.want == "" && got != "" || c.want != "" && !strings.Contains(got, c.want) {
			t.Errorf("%s: infoText = %q, want containing %q", c.name, got, c.want)
		}
	}
	if got := infoText(bulk(ref), &redistest.Reply{Kind: redistest.KindVerbatim, Type: '=', Format: "txt", Str: ref}); got == "" {
		t.Error("verbatim INFO accepted where the reference sends a bulk string")
	}
}

func TestNodeInfoTextNormaliser(t *testing.T) {
	ref := "# Server\r\nredis_version:7.0.15\r\nuptime_in_seconds:5\r\n\r\n# Memory\r\nused_memory_human:895.42K\r\n\r\n# Replication\r\nrole:master\r\nconnected_slaves:0\r\n\r\n# Keyspace\r\n"
	cases := []struct {
		name, got, want string
	}{
		{"identical", ref, ""},
		{"values that change between INFOs differ", strings.NewReplacer("seconds:5", "seconds:9", "895.42K", "1.02M").Replace(ref), ""},
		{"role differs", strings.Replace(ref, "role:master", "role:slave", 1), "role"},
		{"version differs", strings.Replace(ref, "7.0.15", "7.0.14", 1), "redis_version"},
		{"line missing", strings.Replace(ref, "connected_slaves:0\r\n", "", 1), "line"},
		{"field renamed", strings.Replace(ref, "uptime_in_seconds", "uptime_in_second", 1), "expected field"},
		{"line split", strings.Replace(ref, "used_memory_human:895.42K", "used_memory_human:895\r\n.42K", 1), "line"},
		{"trailing separator lost", strings.TrimSuffix(ref, "\r\n"), "line"},
		{"value changes shape", strings.Replace(ref, "seconds:5", "seconds:five", 1), "uptime_in_seconds"},
	}
	for _, c := range cases {
		got := nodeInfoText(bulk(ref), bulk(c.got))
		if c.want == "" && got != "" || c.want != "" && !strings.Contains(got, c.want) {
			t.Errorf("%s: nodeInfoText = %q, want containing %q", c.name, got, c.want)
		}
	}
	if got := nodeInfoText(bulk("not an INFO"), bulk("not an INFO")); got == "" {
		t.Error("a reference that is not a redis-server's INFO accepted")
	}
}

func TestClientLinesNormaliser(t *testing.T) {
	peer := "id=3 addr=127.0.0.1:5 laddr=127.0.0.1:9 fd=8 name=sentinel-x-cmd age=9 idle=0 flags=N db=0 cmd=ping user=default resp=2\n"
	own := "id=7 addr=127.0.0.1:6 laddr=127.0.0.1:9 fd=9 name= age=0 idle=0 flags=N db=0 cmd=client|list user=default resp=2\n"
	ref := peer + own
	cases := []struct {
		name, got, want string
	}{
		{"identical", ref, ""},
		{"ids and addresses differ, fewer peers", strings.NewReplacer("id=7", "id=99", "127.0.0.1:6", "127.0.0.1:60000", "fd=9", "fd=20").Replace(own), ""},
		{"own flags differ", strings.Replace(ref, "flags=N db=0 cmd=client", "flags=P db=0 cmd=client", 1), "flags"},
		{"own resp differs", strings.Replace(ref, "client|list user=default resp=2", "client|list user=default resp=3", 1), "resp"},
		{"field order differs", strings.Replace(ref, "db=0 cmd=ping", "cmd=ping db=0", 1), "fields"},
		{"no own line", peer + peer, "no line for the calling connection"},
		{"single line (ACL LOG client-info) is compared", strings.Replace(own, "flags=N", "flags=x", 1), "flags"},
	}
	for _, c := range cases {
		got := clientLines(bulk(ref), bulk(c.got))
		if c.want == "" && got != "" || c.want != "" && !strings.Contains(got, c.want) {
			t.Errorf("%s: clientLines = %q, want containing %q", c.name, got, c.want)
		}
	}
}

func TestCompareOutcomes(t *testing.T) {
	steps := []step{st("PING"), st("PING")}
	pong := outcome{step: 0, reply: &redistest.Reply{Kind: redistest.KindStatus, Type: '+', Str: "PONG", Raw: []byte("+PONG\r\n")}}
	last := pong
	last.step = 1
	var e endpoint
	if d := compareOutcomes(steps, []outcome{pong, last}, []outcome{pong, last}, e, e); d != "" {
		t.Errorf("equal outcomes differ: %s", d)
	}
	if d := compareOutcomes(steps, []outcome{pong, last}, []outcome{pong}, e, e); !strings.Contains(d, "reply #1") {
		t.Errorf("missing reply not reported: %q", d)
	}
	closed := outcome{step: 1, fail: "closed"}
	if d := compareOutcomes(steps, []outcome{pong, last}, []outcome{pong, closed}, e, e); !strings.Contains(d, "<closed>") {
		t.Errorf("closed connection not reported: %q", d)
	}
	bulkPong := outcome{step: 1, reply: &redistest.Reply{Kind: redistest.KindBulk, Type: '$', Str: "PONG", Raw: []byte("$4\r\nPONG\r\n")}}
	d := compareOutcomes(steps, []outcome{pong, last}, []outcome{pong, bulkPong}, e, e)
	if !strings.Contains(d, `expected bytes: "+PONG\r\n"`) || !strings.Contains(d, `got bytes:      "$4\r\n" + "PONG\r\n"`) {
		t.Errorf("byte-level report missing: %q", d)
	}
}

func TestCatalogIsLargeAndNamed(t *testing.T) {
	cases := catalog()
	if len(cases) < 60 {
		t.Fatalf("catalog has %d cases, want >= 60", len(cases))
	}
	seen := map[string]bool{}
	for _, c := range cases {
		key := c.name + "|" + string(rune('0'+c.where))
		if c.name == "" || seen[key] {
			t.Errorf("case name %q empty or duplicated", c.name)
		}
		seen[key] = true
	}
}
