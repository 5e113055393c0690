package node_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/internal/redistest"
)

// With resolve-hostnames yes and announce-hostnames no, INFO sentinel and
// the events name a master given as a hostname by its IP, as
// redis-sentinel's announceSentinelAddr does (7.0.15, a master given as
// localhost: "master0:name=hm,status=ok,address=127.0.0.1:6398,..." and
// "+set master hm 127.0.0.1 6398 quorum 1"), the host
// GET-MASTER-ADDR-BY-NAME answers; with announce-hostnames yes, by the
// hostname. Both named localhost before.
func TestHostnamesAnnouncedAsRedisSentinelDoes(t *testing.T) {
	for _, tc := range []struct {
		announce, host string
	}{
		{"no", "127.0.0.1"},
		{"yes", "localhost"},
	} {
		t.Run("announce-hostnames "+tc.announce, func(t *testing.T) {
			c, _ := startConfigNode(t, "sentinel resolve-hostnames yes\nsentinel announce-hostnames "+tc.announce+
				"\nsentinel monitor hm localhost 6398 2\n")
			v, err := do(t, c, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", "hm")
			if err != nil {
				t.Fatal(err)
			}
			if got := flat(v); got != tc.host+" 6398" {
				t.Fatalf("GET-MASTER-ADDR-BY-NAME = %q, want %s 6398", got, tc.host)
			}
			// The hostname is looked up in the background (nothing
			// listens at 6398, so the monitor never connects to learn it).
			redistest.Wait(t, 10*time.Second, "INFO sentinel naming the master "+tc.host, func() error {
				info, err := do(t, c, "INFO", "sentinel")
				if err != nil {
					return redistest.Abort(err)
				}
				var line string
				for _, l := range strings.Split(info.(string), "\r\n") {
					if strings.Contains(l, "name=hm,") {
						line = l
					}
				}
				if !strings.Contains(line, ",address="+tc.host+":6398,") {
					return fmt.Errorf("INFO sentinel line %q", line)
				}
				return nil
			})
			// Bounded: a regression must fail, not hang on a message.
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			sub := c.Subscribe(ctx, "+set")
			defer sub.Close()
			if _, err := sub.Receive(ctx); err != nil {
				t.Fatal(err)
			}
			if v, err := do(t, c, "SENTINEL", "SET", "hm", "quorum", "1"); err != nil || v != "OK" {
				t.Fatalf("SET = %v, %v", v, err)
			}
			msg, err := sub.ReceiveMessage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if want := "master hm " + tc.host + " 6398 quorum 1"; msg.Payload != want {
				t.Fatalf("+set payload %q, want %q", msg.Payload, want)
			}
		})
	}
}
