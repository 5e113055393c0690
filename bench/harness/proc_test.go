package harness

import (
	"testing"
	"time"
)

func TestParseProc(t *testing.T) {
	stat := "4242 (redis sentinel) S 1 4242 4242 0 -1 4194560 500 0 0 0 250 130 0 0 20 0 5 0 100 1000 200"
	cpu, err := ParseStatCPU(stat)
	if err != nil || cpu != 3800*time.Millisecond {
		t.Errorf("ParseStatCPU = %v, %v; want 3.8s", cpu, err)
	}
	if _, err := ParseStatCPU("4242 (x) S 1"); err == nil {
		t.Error("ParseStatCPU accepted a short stat")
	}
	rss, err := ParseStatusKB("Name:\tredis\nVmPeak:\t 9000 kB\nVmRSS:\t    2048 kB\nRssAnon:\t  1024 kB\n", "VmRSS")
	if err != nil || rss != 2048<<10 {
		t.Errorf("ParseStatusKB VmRSS = %d, %v", rss, err)
	}
	if anon, err := ParseStatusKB("VmRSS:\t    2048 kB\nRssAnon:\t  1024 kB\n", "RssAnon"); anon != 1024<<10 || err != nil {
		t.Errorf("ParseStatusKB RssAnon = %d, %v", anon, err)
	}
	if _, err := ParseStatusKB("Name:\tx\n", "VmRSS"); err == nil {
		t.Error("ParseStatusKB accepted a status without VmRSS")
	}
}
