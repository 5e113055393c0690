package node

import (
	"fmt"
	"strings"
	"testing"
)

// formatHello renders what fmt rendered before it (sentinelSendHello's
// "%s,%d,%s,%llu,%s,%s,%d,%llu"), long names and the largest epochs
// included.
func TestFormatHello(t *testing.T) {
	id := strings.Repeat("a", 40)
	long := strings.Repeat("m", 300)
	cases := []struct {
		ip, name, host     string
		port, mport        int
		epoch, configEpoch uint64
	}{
		{"127.0.0.1", "mymaster", "10.0.0.5", 26379, 6379, 0, 0},
		{"::1", "m-1", "redis-0.redis-headless.default.svc.cluster.local", 5000, 7000, 42, 41},
		{"192.168.100.200", long, "2001:db8::1", 65535, 1, ^uint64(0), ^uint64(0) - 1},
	}
	for _, c := range cases {
		want := fmt.Sprintf("%s,%d,%s,%d,%s,%s,%d,%d", c.ip, c.port, id, c.epoch, c.name, c.host, c.mport, c.configEpoch)
		if got := formatHello(c.ip, c.port, id, c.epoch, c.name, c.host, c.mport, c.configEpoch); got != want {
			t.Errorf("formatHello = %q, want %q", got, want)
		}
	}
}
