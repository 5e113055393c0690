package node_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
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
			// The hostname is looked up in the background, from the
			// master's creation on (nothing listens at 6398, so the
			// monitor never connects to learn it); until the lookup
			// answers, it is named as it is.
			redistest.Wait(t, 10*time.Second, "GET-MASTER-ADDR-BY-NAME naming the master "+tc.host, func() error {
				v, err := do(t, c, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", "hm")
				if err != nil {
					return redistest.Abort(err)
				}
				switch got := flat(v); got {
				case tc.host + " 6398":
					return nil
				case "localhost 6398":
					return fmt.Errorf("GET-MASTER-ADDR-BY-NAME = %q", got)
				default:
					return redistest.Abort(fmt.Errorf("GET-MASTER-ADDR-BY-NAME = %q, want %s 6398", got, tc.host))
				}
			})
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

// GET-MASTER-ADDR-BY-NAME and IS-MASTER-DOWN-BY-ADDR never wait on DNS:
// with a resolver that never answers, a master given as a hostname that
// the monitor has not connected to is answered at once, by its hostname
// until a lookup answers. Each held the client for the resolver's timeout
// (a lookup of their own, at every ask).
func TestMasterAddrNeverWaitsOnTheResolver(t *testing.T) {
	release := make(chan struct{})
	var asked atomic.Int32
	saved := net.DefaultResolver
	net.DefaultResolver = &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, address string) (net.Conn, error) {
		asked.Add(1)
		select {
		case <-release:
		case <-ctx.Done():
		}
		return nil, errors.New("the test's resolver does not answer")
	}}
	// Cleanups run last first: the resolver lets go of its lookups, the
	// node stops, then the resolver is restored.
	t.Cleanup(func() { net.DefaultResolver = saved })
	c, _ := startConfigNode(t, "sentinel resolve-hostnames yes\nsentinel monitor hm hm-master.example 6398 2\n")
	t.Cleanup(func() { close(release) })
	redistest.Wait(t, 5*time.Second, "a lookup of hm-master.example under way", func() error {
		if asked.Load() == 0 {
			return errors.New("the resolver was not asked")
		}
		return nil
	})
	const bound = 500 * time.Millisecond
	ask := func(args ...any) any {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		start := time.Now()
		v, err := c.Do(ctx, args...).Result()
		if took := time.Since(start); took > bound {
			t.Fatalf("%v took %v with the resolver hanging (%v)", args, took, err)
		}
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		return v
	}
	for range 20 {
		if got := flat(ask("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "hm")); got != "hm-master.example 6398" {
			t.Fatalf("GET-MASTER-ADDR-BY-NAME = %q, want hm-master.example 6398", got)
		}
	}
	// A peer asks by IP: not found while the hostname is not resolved.
	if got := fmt.Sprint(ask("SENTINEL", "IS-MASTER-DOWN-BY-ADDR", "10.9.8.7", "6398", "0", "*")); got != "[0 * 0]" {
		t.Fatalf("IS-MASTER-DOWN-BY-ADDR = %s, want [0 * 0]", got)
	}
}
