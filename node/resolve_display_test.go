package node_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/internal/redistest"
)

// TestMasterShowsResolvedIPBeforeConnecting: under resolve-hostnames
// without announce-hostnames, SENTINEL MASTER names a master's IP, as
// redis-sentinel names the IP it resolved when it created the address,
// also while the master cannot be reached. It showed the hostname until
// the monitor had connected (config differential review), where
// GET-MASTER-ADDR-BY-NAME already named the IP.
func TestMasterShowsResolvedIPBeforeConnecting(t *testing.T) {
	port, err := redistest.FreePort() // nothing listens there
	if err != nil {
		t.Fatal(err)
	}
	c, _ := startConfigNode(t, fmt.Sprintf("sentinel resolve-hostnames yes\nsentinel monitor h localhost %d 2\n", port))
	redistest.Wait(t, 10*time.Second, "SENTINEL MASTER h names 127.0.0.1", func() error {
		v, err := do(t, c, "SENTINEL", "MASTER", "h")
		if err != nil {
			return err
		}
		fields := v.([]any)
		for i := 0; i+1 < len(fields); i += 2 {
			if fields[i] == "ip" {
				if fields[i+1] != "127.0.0.1" {
					return fmt.Errorf("ip %v", fields[i+1])
				}
				return nil
			}
		}
		return fmt.Errorf("no ip field in %v", fields)
	})
}
