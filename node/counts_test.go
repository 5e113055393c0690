package node

import (
	"fmt"
	"testing"

	"github.com/x0tta6bl4/gosentinel/quorum"
)

// TestCountsPast32BitsRefused: a quorum or parallel-syncs that a 32-bit
// integer does not hold is refused, since the config file (read with
// atoi, as redis reads it) would wrap it at the next start: 4294967297
// became a quorum of 1 there.
func TestCountsPast32BitsRefused(t *testing.T) {
	badfmt := func(v string) error { return fmt.Errorf("bad %s", v) }
	for _, name := range []string{"quorum", "parallel-syncs"} {
		o, ok := quorum.LookupOption(name)
		if !ok {
			t.Fatalf("no option %s", name)
		}
		for v, ok := range map[string]bool{"2147483647": true, "2147483648": false, "4294967297": false} {
			if err := checkSetValue(o, []string{v}, false, badfmt); (err == nil) != ok {
				t.Errorf("%s %s: %v, want accepted %v", name, v, err, ok)
			}
		}
	}
	n := unservedNode(t, t.TempDir(), "")
	if err := n.Monitor("big", "127.0.0.1", "6379", "4294967297"); err == nil || err.Error() != "ERR Invalid quorum" {
		t.Errorf("MONITOR with quorum 4294967297: %v", err)
	}
}
