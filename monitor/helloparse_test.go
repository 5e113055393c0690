package monitor

import (
	"strings"
	"testing"
)

func TestParseHello(t *testing.T) {
	id := strings.Repeat("ab", 20)
	ok := "10.0.0.2,26379," + id + ",7,mymaster,10.0.0.1,6379,3"
	h, err := parseHello(ok)
	if err != nil {
		t.Fatalf("%q: %v", ok, err)
	}
	want := Hello{SentinelAddr: Addr{Host: "10.0.0.2", Port: 26379}, SentinelID: id, CurrentEpoch: 7,
		Master: "mymaster", MasterAddr: Addr{Host: "10.0.0.1", Port: 6379}, MasterConfigEpoch: 3}
	if h != want {
		t.Fatalf("got %+v, want %+v", h, want)
	}
	for _, in := range []string{
		"::1,26379," + id + ",4611686018427387904,m,fe80::1,1,0",
		"sentinel-0.sentinel.default.svc.cluster.local,26379," + strings.ToUpper(id) + ",0,m,redis-0.redis,65535,0",
		"10.0.0.2,26379," + id + ",007,m,10.0.0.1,6379,0",
	} {
		if _, err := parseHello(in); err != nil {
			t.Errorf("%q: %v", in, err)
		}
	}

	bad := map[string]string{
		"7 fields":                "10.0.0.2,26379," + id + ",7,mymaster,10.0.0.1,6379",
		"9 fields":                ok + ",1",
		"port 0":                  "10.0.0.2,0," + id + ",7,mymaster,10.0.0.1,6379,3",
		"port 65536":              "10.0.0.2,65536," + id + ",7,mymaster,10.0.0.1,6379,3",
		"negative port":           "10.0.0.2,-1," + id + ",7,mymaster,10.0.0.1,6379,3",
		"port with sign":          "10.0.0.2,+26379," + id + ",7,mymaster,10.0.0.1,6379,3",
		"port with text":          "10.0.0.2,26379x," + id + ",7,mymaster,10.0.0.1,6379,3",
		"master port 0":           "10.0.0.2,26379," + id + ",7,mymaster,10.0.0.1,0,3",
		"master port huge":        "10.0.0.2,26379," + id + ",7,mymaster,10.0.0.1,99999999999,3",
		"runid 39 chars":          "10.0.0.2,26379," + id[:39] + ",7,mymaster,10.0.0.1,6379,3",
		"runid 41 chars":          "10.0.0.2,26379," + id + "a,7,mymaster,10.0.0.1,6379,3",
		"runid not hex":           "10.0.0.2,26379," + strings.Repeat("g", 40) + ",7,mymaster,10.0.0.1,6379,3",
		"negative epoch":          "10.0.0.2,26379," + id + ",-1,mymaster,10.0.0.1,6379,3",
		"epoch over uint64":       "10.0.0.2,26379," + id + ",18446744073709551616,mymaster,10.0.0.1,6379,3",
		"epoch over int64":        "10.0.0.2,26379," + id + ",9223372036854775808,mymaster,10.0.0.1,6379,3",
		"epoch -1 as uint64":      "10.0.0.2,26379," + id + ",18446744073709551615,mymaster,10.0.0.1,6379,3",
		"config epoch over int64": "10.0.0.2,26379," + id + ",7,mymaster,10.0.0.1,6379,9223372036854775808",
		"epoch with text":         "10.0.0.2,26379," + id + ",7x,mymaster,10.0.0.1,6379,3",
		"empty epoch":             "10.0.0.2,26379," + id + ",,mymaster,10.0.0.1,6379,3",
		"negative config epoch":   "10.0.0.2,26379," + id + ",7,mymaster,10.0.0.1,6379,-3",
		"config epoch float":      "10.0.0.2,26379," + id + ",7,mymaster,10.0.0.1,6379,3.0",
		"empty master name":       "10.0.0.2,26379," + id + ",7,,10.0.0.1,6379,3",
		"empty sentinel host":     "," + "26379," + id + ",7,mymaster,10.0.0.1,6379,3",
		"empty master host":       "10.0.0.2,26379," + id + ",7,mymaster,,6379,3",
		"host with a space":       "10.0.0.2,26379," + id + ",7,mymaster,evil host,6379,3",
		"host with a newline":     "10.0.0.2\n,26379," + id + ",7,mymaster,10.0.0.1,6379,3",
		"host too long":           strings.Repeat("a", 256) + ",26379," + id + ",7,mymaster,10.0.0.1,6379,3",
	}
	for what, in := range bad {
		if h, err := parseHello(in); err == nil {
			t.Errorf("%s: %q accepted as %+v", what, in, h)
		}
	}
}
