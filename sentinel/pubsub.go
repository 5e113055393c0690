package sentinel

import (
	"slices"
	"strconv"
	"time"
)

// The pub/sub registry (Server.channels, patterns, patOrder) and each
// client's subscriptions are guarded by Server.psmu. Publish only appends
// to subscribers' output buffers, so it never blocks on a slow reader.

// subscribeLocked adds a channel subscription; it reports whether it is new.
func (s *Server) subscribeLocked(c *client, ch string) bool {
	if !c.channels.add(ch) {
		return false
	}
	s.channels[ch] = append(s.channels[ch], c)
	return true
}

func (s *Server) unsubscribeLocked(c *client, ch string) bool {
	if !c.channels.remove(ch) {
		return false
	}
	subs := slices.DeleteFunc(s.channels[ch], func(x *client) bool { return x == c })
	if len(subs) == 0 {
		delete(s.channels, ch)
	} else {
		s.channels[ch] = subs
	}
	return true
}

func (s *Server) psubscribeLocked(c *client, pat string) bool {
	if !c.patterns.add(pat) {
		return false
	}
	s.patOrder.add(pat)
	s.patterns[pat] = append(s.patterns[pat], c)
	return true
}

func (s *Server) punsubscribeLocked(c *client, pat string) bool {
	if !c.patterns.remove(pat) {
		return false
	}
	subs := slices.DeleteFunc(s.patterns[pat], func(x *client) bool { return x == c })
	if len(subs) == 0 {
		delete(s.patterns, pat)
		s.patOrder.remove(pat)
	} else {
		s.patterns[pat] = subs
	}
	return true
}

// unsubscribeAllLocked drops every subscription of a disconnecting client.
func (s *Server) unsubscribeAllLocked(c *client) {
	for _, ch := range c.channels.list() {
		s.unsubscribeLocked(c, ch)
	}
	for _, p := range c.patterns.list() {
		s.punsubscribeLocked(c, p)
	}
}

// Publish delivers message on channel to the local subscribers (channel
// subscribers first, then pattern subscribers) and returns how many
// deliveries were made. RESP2 clients receive "message"/"pmessage" arrays,
// RESP3 clients push frames. It is safe from any goroutine and never
// blocks: a subscriber over its output limit is disconnected.
func (s *Server) Publish(channel, message string) int {
	s.psmu.Lock()
	defer s.psmu.Unlock()
	now := time.Now()
	var frames [2][]byte
	n := 0
	for _, c := range s.channels[channel] {
		p := c.proto()
		if frames[p-2] == nil {
			frames[p-2] = pubsubFrame(p, "message", channel, message)
		}
		s.deliver(c, frames[p-2], now)
		n++
	}
	s.patOrder.each(func(pat string) {
		if !globMatch(pat, channel, false) {
			return
		}
		var pframes [2][]byte
		for _, c := range s.patterns[pat] {
			p := c.proto()
			if pframes[p-2] == nil {
				pframes[p-2] = pubsubFrame(p, "pmessage", pat, channel, message)
			}
			s.deliver(c, pframes[p-2], now)
			n++
		}
	})
	return n
}

func (s *Server) deliver(c *client, frame []byte, now time.Time) {
	c.pushMu.Lock()
	defer c.pushMu.Unlock()
	if c.executing {
		// After the reply of the command running (DeferOwnPushes).
		c.deferred = append(c.deferred, frame)
		return
	}
	s.pushLocked(c, frame, now)
}

// pushLocked queues a message for c, or drops c over its output limit.
// Requires c.pushMu.
func (s *Server) pushLocked(c *client, frame []byte, now time.Time) {
	if !c.out.pushLimited(frame, now) {
		s.log.Warn("closing pub/sub client over its output buffer limit", "id", c.id, "addr", c.addr)
		c.kill()
	}
}

// pubsubFrame encodes a pub/sub message for protocol p.
func pubsubFrame(p int, parts ...string) []byte {
	kind := byte('*')
	if p == 3 {
		kind = '>'
	}
	b := append([]byte{kind}, strconv.Itoa(len(parts))...)
	b = append(b, '\r', '\n')
	for _, s := range parts {
		b = append(b, '$')
		b = strconv.AppendInt(b, int64(len(s)), 10)
		b = append(b, '\r', '\n')
		b = append(b, s...)
		b = append(b, '\r', '\n')
	}
	return b
}

// pushSubscription writes a (p)(un)subscribe confirmation; name empty and
// isNull true renders the null channel of an empty mass unsubscribe.
func (c *client) pushSubscription(kind, name string, isNull bool) {
	c.pushing = true
	c.addPushLen(3)
	c.addBulk(kind)
	if isNull {
		c.addNull()
	} else {
		c.addBulk(name)
	}
	c.addInt(int64(c.subscriptions()))
	c.pushing = false
}

// SUBSCRIBE channel [channel ...]
func cmdSubscribe(c *client, argv []string) {
	s := c.srv
	s.psmu.Lock()
	defer s.psmu.Unlock()
	for _, ch := range argv[1:] {
		s.subscribeLocked(c, ch)
		c.pushSubscription("subscribe", ch, false)
	}
	// Committed under psmu so that no published message can precede the
	// confirmation in the client's output.
	c.commit()
}

// PSUBSCRIBE pattern [pattern ...]
func cmdPsubscribe(c *client, argv []string) {
	s := c.srv
	s.psmu.Lock()
	defer s.psmu.Unlock()
	for _, p := range argv[1:] {
		s.psubscribeLocked(c, p)
		c.pushSubscription("psubscribe", p, false)
	}
	c.commit()
}

// UNSUBSCRIBE [channel ...]
func cmdUnsubscribe(c *client, argv []string) {
	unsubscribe(c, argv, "unsubscribe", c.channels.list,
		func(name string) { c.srv.unsubscribeLocked(c, name) })
}

// PUNSUBSCRIBE [pattern ...]
func cmdPunsubscribe(c *client, argv []string) {
	unsubscribe(c, argv, "punsubscribe", c.patterns.list,
		func(name string) { c.srv.punsubscribeLocked(c, name) })
}

// unsubscribe drops the channels or patterns named in argv, or every one
// the client holds (held, in subscription order, read under the lock) when
// none is named, and confirms each with a kind push; with nothing to drop,
// one push with no name.
func unsubscribe(c *client, argv []string, kind string, held func() []string, drop func(string)) {
	s := c.srv
	s.psmu.Lock()
	defer s.psmu.Unlock()
	names := argv[1:]
	if len(argv) == 1 {
		all := held()
		if len(all) == 0 {
			c.pushSubscription(kind, "", true)
		}
		names = all
	}
	for _, name := range names {
		drop(name)
		c.pushSubscription(kind, name, false)
	}
	c.commit()
}

// PUBLISH channel message: sentinel only accepts hello messages, which it
// processes itself (they are not delivered to local subscribers).
func cmdPublish(c *client, argv []string) {
	if argv[1] != "__sentinel__:hello" {
		c.addErr("Only HELLO messages are accepted by Sentinel instances.")
		return
	}
	c.srv.cfg.Backend.Hello(argv[2])
	c.addInt(1)
}

// killPubsubClientsIfNeeded disconnects u's subscribers whose
// subscriptions the user's new channel permissions no longer allow
// (ACLKillPubsubClientsIfNeeded). prev is the user before the change.
// Requires Server.mu.
func (s *Server) killPubsubClientsIfNeeded(u, prev *aclUser) {
	if u.channelsAllowAll() {
		return
	}
	upcoming := u.allChannelPatterns()
	if !prev.channelsAllowAll() {
		superset := true
		for _, p := range prev.allChannelPatterns() {
			if !slices.Contains(upcoming, p) {
				superset = false
				break
			}
		}
		if superset {
			return
		}
	}
	check := &aclSelector{channels: upcoming}
	s.psmu.Lock()
	defer s.psmu.Unlock()
	for _, c := range s.clients {
		if c.user != u || c.subscriptions() == 0 {
			continue
		}
		kill := false
		c.patterns.each(func(p string) {
			if !check.channelAllowed(p, true) {
				kill = true
			}
		})
		c.channels.each(func(ch string) {
			if !check.channelAllowed(ch, false) {
				kill = true
			}
		})
		if kill {
			c.kill()
		}
	}
}

// releaseDeferred ends a command that defers messages: those that arrived
// meanwhile follow its reply, which the caller has just committed.
func (c *client) releaseDeferred() {
	c.pushMu.Lock()
	defer c.pushMu.Unlock()
	if !c.executing {
		return
	}
	c.executing = false
	now := time.Now()
	for _, f := range c.deferred {
		c.srv.pushLocked(c, f, now)
	}
	c.deferred = nil
}
