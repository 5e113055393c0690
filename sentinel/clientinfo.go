package sentinel

import (
	"fmt"
	"slices"
	"time"

	"github.com/x0tta6bl4/gosentinel/internal/redisargs"
)

// Query buffer figures redis reports (an allocated query buffer holds
// 20474 usable bytes; the static reply buffer is 1024 bytes).
const (
	queryBufAlloc = 20474
	replyBufSize  = 1024
)

// infoString renders a client like redis' catClientInfoString (CLIENT LIST,
// CLIENT INFO, ACL LOG): the 7.0 fields, then lib-name and lib-ver as 7.2
// appends them (empty until CLIENT SETINFO). Requires Server.mu; takes psmu
// for the subscription counts.
func (c *client) infoString(now time.Time, self *client) string {
	s := c.srv
	s.psmu.Lock()
	sub, psub := c.channels.len(), c.patterns.len()
	s.psmu.Unlock()
	pending, peak := c.out.stats()

	flags := ""
	if sub+psub > 0 {
		flags += "P"
	}
	if c.blocked {
		flags += "b"
	}
	if c.tracking.on {
		flags += "t"
	}
	if c.tracking.brokenRedir {
		flags += "R"
	}
	if c.tracking.bcast {
		flags += "B"
	}
	if c.closeAfterReply {
		flags += "c"
	}
	if c.unix {
		flags += "U"
	}
	if c.noEvict {
		flags += "e"
	}
	if flags == "" {
		flags = "N"
	}
	// Redis writes a batch's replies before polling again, so only a client
	// whose output is backed up has a write handler ("w"); the current
	// client's pending replies sit in its reply buffer (obl).
	events := "r"
	rbs := replyBufSize
	if peak > replyBufSize {
		rbs = 16 << 10
	}
	obl, omem := min(pending, rbs), max(pending-rbs, 0)
	if c != self && pending > 0 {
		events += "w"
	}
	qbuf, argvMem := c.curQbuf, c.curArgvMem
	qfree := 0
	if c.lastCmd != "NULL" || qbuf > 0 {
		qfree = max(queryBufAlloc-qbuf, 0)
	}
	totMem := qbuf + qfree + argvMem + rbs + 800 + omem + len(c.name)
	redir := int64(-1)
	if c.tracking.on {
		redir = c.tracking.redirect
	}
	watch, ioThread := "", ""
	if c.srv.cfg.Compat.ClientWatchIOThread() {
		watch, ioThread = " watch=0", " io-thread=0"
	}
	return fmt.Sprintf("id=%d addr=%s laddr=%s fd=%d name=%s age=%d idle=%d flags=%s db=0 sub=%d psub=%d ssub=0 multi=-1%s qbuf=%d qbuf-free=%d argv-mem=%d multi-mem=0 rbs=%d rbp=%d obl=%d oll=0 omem=%d tot-mem=%d events=%s cmd=%s user=%s redir=%d resp=%d lib-name=%s lib-ver=%s%s",
		c.id, c.addr, c.laddr, c.fd, c.name,
		now.Unix()-c.ctime.Unix(), now.Unix()-c.lastInteraction.Unix(),
		flags, sub, psub, watch, qbuf, qfree, argvMem, rbs, min(rbs, peak),
		obl, omem, totMem, events, c.lastCmd, c.user.name, redir, c.proto(),
		c.libName, c.libVer, ioThread)
}

// clientType is redis' getClientType for our clients (no replicas or
// masters ever connect to a sentinel's command port).
func (c *client) clientType() string {
	if c.subscriptions() > 0 {
		return "pubsub"
	}
	return "normal"
}

// parseClientType is getClientTypeByName; "" for an unknown type.
func parseClientType(name string) string {
	switch redisargs.Lower(name) {
	case "normal":
		return "normal"
	case "slave", "replica":
		return "slave"
	case "pubsub":
		return "pubsub"
	case "master":
		return "master"
	}
	return ""
}

// sortedClients lists the clients in creation order. Requires Server.mu.
func (s *Server) sortedClients() []*client {
	out := make([]*client, 0, len(s.clients))
	for _, c := range s.clients {
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b *client) int {
		switch {
		case a.id < b.id:
			return -1
		case a.id > b.id:
			return 1
		}
		return 0
	})
	return out
}
