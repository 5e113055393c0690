package node

import (
	"context"
	"net"
	"sync"
	"time"
)

// hostIPs remembers the IP of each hostname hostIP was asked for (and
// resolveAhead named), looked up in the background: lookup answers the
// last IP found ("" if none yet) and starts a lookup, at most one per host
// at a time, when the last one is older than hostIPFresh (hostIPRetry
// after one that failed). Hosts not asked for in hostIPForget are dropped
// once it holds more than hostIPKeep, and it never holds more than
// hostIPMax: hostnames come from hellos too, which anyone who can publish
// on a node's hello channel writes.
type hostIPs struct {
	mu    sync.Mutex
	hosts map[string]*hostIP
	// resolve is the lookup (nil: net.DefaultResolver's).
	resolve func(ctx context.Context, host string) ([]string, error)
}

type hostIP struct {
	ip       string
	at       time.Time // of the last lookup's end
	asked    time.Time
	inflight bool
}

const (
	hostIPFresh   = time.Minute
	hostIPRetry   = 10 * time.Second
	hostIPTimeout = 5 * time.Second
	hostIPForget  = 10 * time.Minute
	hostIPKeep    = 256
	hostIPMax     = 4096
)

func (h *hostIPs) lookup(host string) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	now := time.Now()
	e := h.hosts[host]
	if e == nil {
		if h.hosts == nil {
			h.hosts = map[string]*hostIP{}
		}
		if len(h.hosts) >= hostIPKeep {
			for k, old := range h.hosts {
				if now.Sub(old.asked) > hostIPForget && !old.inflight {
					delete(h.hosts, k)
				}
			}
		}
		if len(h.hosts) >= hostIPMax {
			return ""
		}
		e = &hostIP{}
		h.hosts[host] = e
	}
	e.asked = now
	wait := hostIPFresh
	if e.ip == "" {
		wait = hostIPRetry
	}
	if !e.inflight && (e.at.IsZero() || now.Sub(e.at) > wait) {
		e.inflight = true
		resolve := h.resolve
		if resolve == nil {
			resolve = net.DefaultResolver.LookupHost
		}
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), hostIPTimeout)
			defer cancel()
			ips, err := resolve(ctx, host)
			h.mu.Lock()
			defer h.mu.Unlock()
			e.inflight, e.at = false, time.Now()
			if err == nil && len(ips) > 0 {
				e.ip = ips[0]
			}
		}()
	}
	return e.ip
}
