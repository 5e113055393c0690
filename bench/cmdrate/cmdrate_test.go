package cmdrate

import (
	"strings"
	"testing"
)

func TestParseRate(t *testing.T) {
	for _, tc := range []struct {
		name, out string
		want      float64
		ok        bool
	}{
		{"quiet", "SENTINEL GET-MASTER-ADDR-BY-NAME mymaster: 49019.61 requests per second, p50=0.511 msec\n", 49019.61, true},
		{"after progress", "SENTINEL GET-MASTER-ADDR-BY-NAME mymaster: rps=0.0 (overall: nan) avg_msec=nan (overall: nan)\rSENTINEL GET-MASTER-ADDR-BY-NAME mymaster: 765000.00 requests per second, p50=0.815 msec\n", 765000, true},
		{"old format", "PING: 123.4 requests per second\n", 123.4, true},
		{"none", "WARNING: Could not fetch server CONFIG\n", 0, false},
		{"not a number", "PING: fast requests per second\n", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseRate(tc.out)
			if (err == nil) != tc.ok || got != tc.want {
				t.Errorf("ParseRate = %v, %v; want %v, ok %v", got, err, tc.want, tc.ok)
			}
		})
	}
}

func TestReport(t *testing.T) {
	o := Options{
		Sentinels: []Sentinel{{Name: "redis-sentinel"}, {Name: "gosentinel"}},
		Workloads: DefaultWorkloads()[:2],
	}
	res := Measured{
		Rates: Results{
			{{100, 300, 200}, {1000}},
			{{150, 250, 50}, {}},
		},
		CPUMicros: Results{
			{{8, 9, 10}, {0.7}},
			{{7.5, 8}, {0.65}},
		},
	}
	var b strings.Builder
	Report(&b, o, res)
	want := "| command | pipeline | redis-sentinel req/s | gosentinel req/s | ratio |\n" +
		"|---|---:|---:|---:|---:|\n" +
		"| GET-MASTER-ADDR-BY-NAME | 1 | 200 | 150 | 0.75 x |\n" +
		"| GET-MASTER-ADDR-BY-NAME | 16 | 1000 | - | - |\n" +
		"\n" +
		"| command | pipeline | redis-sentinel CPU µs/request | gosentinel CPU µs/request | ratio |\n" +
		"|---|---:|---:|---:|---:|\n" +
		"| GET-MASTER-ADDR-BY-NAME | 1 | 9.000 | 7.750 | 0.86 x |\n" +
		"| GET-MASTER-ADDR-BY-NAME | 16 | 0.700 | 0.650 | 0.93 x |\n"
	if b.String() != want {
		t.Errorf("Report:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestBenchmarkArgsScaleRequestsWithPipeline(t *testing.T) {
	w := DefaultWorkloads()
	p1, p16 := strings.Join(BenchmarkArgs(7, 50, 1000, w[0]), " "), strings.Join(BenchmarkArgs(7, 50, 1000, w[1]), " ")
	if want := "-h 127.0.0.1 -p 7 -c 50 -n 1000 -P 1 -q SENTINEL GET-MASTER-ADDR-BY-NAME mymaster"; p1 != want {
		t.Errorf("pipeline 1: %q, want %q", p1, want)
	}
	if want := "-h 127.0.0.1 -p 7 -c 50 -n 16000 -P 16 -q SENTINEL GET-MASTER-ADDR-BY-NAME mymaster"; p16 != want {
		t.Errorf("pipeline 16: %q, want %q", p16, want)
	}
}
