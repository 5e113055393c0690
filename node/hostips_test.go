package node

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/internal/redistest"
)

// An event never waits on DNS: a lookup that hangs (a resolver that does
// not answer) leaves the hostname named as it is, and one lookup runs per
// host at a time; once it answers, its IP is named.
func TestHostIPsNeverWaitOnTheResolver(t *testing.T) {
	release := make(chan struct{})
	var calls atomic.Int32
	h := hostIPs{resolve: func(ctx context.Context, host string) ([]string, error) {
		calls.Add(1)
		select {
		case <-release:
			return []string{"10.1.2.3"}, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}}
	start := time.Now()
	for range 100 {
		if ip := h.lookup("redis-0.example"); ip != "" {
			t.Fatalf("lookup = %q before the resolver answered", ip)
		}
	}
	if took := time.Since(start); took > time.Second {
		t.Fatalf("100 lookups with the resolver hanging took %v", took)
	}
	close(release)
	redistest.Wait(t, 5*time.Second, "the IP once the resolver answered", func() error {
		if ip := h.lookup("redis-0.example"); ip != "10.1.2.3" {
			return errors.New("lookup = " + ip)
		}
		return nil
	})
	if n := calls.Load(); n != 1 {
		t.Fatalf("%d lookups of one host, want 1", n)
	}
}

// A host that does not resolve is asked again only after hostIPRetry, not
// at every event; and the cache of hosts asked for stays bounded, since
// hellos, which anyone who can publish on a node's channel writes, bring
// hostnames too.
func TestHostIPsRetryIsPacedAndBounded(t *testing.T) {
	var calls atomic.Int32
	h := hostIPs{resolve: func(ctx context.Context, host string) ([]string, error) {
		calls.Add(1)
		return nil, errors.New("no such host")
	}}
	redistest.Wait(t, 5*time.Second, "the first lookup's end", func() error {
		h.lookup("nx.example")
		h.mu.Lock()
		defer h.mu.Unlock()
		if e := h.hosts["nx.example"]; e.inflight || e.at.IsZero() {
			return errors.New("still looking up")
		}
		return nil
	})
	for range 50 {
		h.lookup("nx.example")
	}
	if n := calls.Load(); n != 1 {
		t.Fatalf("%d lookups of a host that does not resolve within %v, want 1", n, hostIPRetry)
	}
	for i := range 2 * hostIPMax {
		h.lookup(fmt.Sprintf("h%d.example", i))
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if n := len(h.hosts); n > hostIPMax {
		t.Fatalf("%d hosts kept, want at most %d", n, hostIPMax)
	}
}
