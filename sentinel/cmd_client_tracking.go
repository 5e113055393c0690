package sentinel

import (
	"fmt"
	"slices"

	"github.com/x0tta6bl4/gosentinel/internal/redisargs"
)

// clientTracking is CLIENT TRACKING (on|off) [REDIRECT id] [BCAST]
// [PREFIX p ...] [OPTIN] [OPTOUT] [NOLOOP].
func clientTracking(c *client, argv []string) {
	s := c.srv
	var redir int64
	var bcast, optin, optout, noloop bool
	var prefixes []string
	for j := 3; j < len(argv); j++ {
		more := len(argv)-1-j > 0
		switch {
		case redisargs.EqualFold(argv[j], "redirect") && more:
			j++
			if redir != 0 {
				c.addErr("A client can only redirect to a single other client")
				return
			}
			v, ok := string2ll(argv[j])
			if !ok {
				c.addError(errNotInteger)
				return
			}
			redir = v
			s.mu.Lock()
			exists := v > 0 && s.clients[uint64(v)] != nil
			s.mu.Unlock()
			if !exists {
				c.addErr("The client ID you want redirect to does not exist")
				return
			}
		case redisargs.EqualFold(argv[j], "bcast"):
			bcast = true
		case redisargs.EqualFold(argv[j], "optin"):
			optin = true
		case redisargs.EqualFold(argv[j], "optout"):
			optout = true
		case redisargs.EqualFold(argv[j], "noloop"):
			noloop = true
		case redisargs.EqualFold(argv[j], "prefix") && more:
			j++
			prefixes = append(prefixes, argv[j])
		default:
			c.addError(errSyntax)
			return
		}
	}
	t := &c.tracking
	switch {
	case redisargs.EqualFold(argv[2], "on"):
		if !bcast && len(prefixes) > 0 {
			c.addErr("PREFIX option requires BCAST mode to be enabled")
			return
		}
		if t.on && t.bcast != bcast {
			c.addErr("You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.")
			return
		}
		if bcast && (optin || optout) {
			c.addErr("OPTIN and OPTOUT are not compatible with BCAST")
			return
		}
		if optin && optout {
			c.addErr("You can't specify both OPTIN mode and OPTOUT mode")
			return
		}
		if (optin && t.optout) || (optout && t.optin) {
			c.addErr("You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.")
			return
		}
		if bcast && !checkPrefixCollisions(c, prefixes) {
			return
		}
		s.mu.Lock()
		if !t.on {
			s.trackingClients++
		}
		t.on, t.brokenRedir, t.bcast, t.optin, t.optout, t.noloop = true, false, false, false, false, false
		t.redirect = redir
		if bcast {
			t.bcast = true
			if len(prefixes) == 0 {
				prefixes = []string{""}
			}
			for _, p := range prefixes {
				if !slices.Contains(t.prefixes, p) {
					t.prefixes = append(t.prefixes, p)
				}
			}
			slices.Sort(t.prefixes)
		}
		t.optin, t.optout, t.noloop = optin, optout, noloop
		s.mu.Unlock()
	case redisargs.EqualFold(argv[2], "off"):
		s.mu.Lock()
		if t.on {
			s.trackingClients--
		}
		*t = trackingState{}
		s.mu.Unlock()
	default:
		c.addError(errSyntax)
		return
	}
	c.addOK()
}

// checkPrefixCollisions is checkPrefixCollisionsOrReply, including its
// quirk: an overlap among the new prefixes found after the first one
// replies an error but still lets tracking be enabled.
func checkPrefixCollisions(c *client, prefixes []string) bool {
	overlap := func(a, b string) bool {
		n := min(len(a), len(b))
		return a[:n] == b[:n]
	}
	for i, p := range prefixes {
		for _, existing := range c.tracking.prefixes {
			if overlap(existing, p) {
				c.addErr(fmt.Sprintf("Prefix '%s' overlaps with an existing prefix '%s'. Prefixes for a single client must not overlap.", cstr(p), cstr(existing)))
				return false
			}
		}
		for _, q := range prefixes[i+1:] {
			if overlap(p, q) {
				c.addErr(fmt.Sprintf("Prefix '%s' overlaps with another provided prefix '%s'. Prefixes for a single client must not overlap.", cstr(p), cstr(q)))
				return i != 0
			}
		}
	}
	return true
}

func clientCaching(c *client, argv []string) {
	t := &c.tracking
	if !t.on {
		c.addErr("CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled")
		return
	}
	switch {
	case redisargs.EqualFold(argv[2], "yes"):
		if !t.optin {
			c.addErr("CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.")
			return
		}
	case redisargs.EqualFold(argv[2], "no"):
		if !t.optout {
			c.addErr("CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.")
			return
		}
	default:
		c.addError(errSyntax)
		return
	}
	c.srv.mu.Lock()
	t.caching = true
	c.srv.mu.Unlock()
	c.addOK()
}

func clientTrackingInfo(c *client) {
	t := c.tracking
	flags := []string{"off"}
	if t.on {
		flags[0] = "on"
	}
	if t.bcast {
		flags = append(flags, "bcast")
	}
	if t.optin {
		flags = append(flags, "optin")
		if t.caching {
			flags = append(flags, "caching-yes")
		}
	}
	if t.optout {
		flags = append(flags, "optout")
		if t.caching {
			flags = append(flags, "caching-no")
		}
	}
	if t.noloop {
		flags = append(flags, "noloop")
	}
	if t.brokenRedir {
		flags = append(flags, "broken_redirect")
	}
	c.addMapLen(3)
	c.addBulk("flags")
	c.addSetLen(len(flags))
	for _, f := range flags {
		c.addBulk(f)
	}
	c.addBulk("redirect")
	if t.on {
		c.addInt(t.redirect)
	} else {
		c.addInt(-1)
	}
	c.addBulk("prefixes")
	c.addArrayLen(len(t.prefixes))
	for _, p := range t.prefixes {
		c.addBulk(p)
	}
}
