package monitor

import (
	"context"
	"errors"
	"fmt"
	"strconv"
)

// ErrNoLink is Call's answer when the monitor has no connected command
// connection to the node: the caller uses a connection of its own.
var ErrNoLink = errors.New("no command link to the node")

// ErrLinkBusy is Call's answer when the link is up but has replies
// pending: a kind of ErrNoLink (errors.Is holds for both), for a caller
// that would rather ask again a moment later than open a connection.
var ErrLinkBusy = fmt.Errorf("%w: replies pending", ErrNoLink)

// ReplyError is a node's error reply to Call.
type ReplyError struct{ Msg string }

func (e *ReplyError) Error() string { return e.Msg }

// Call sends one command on the command connection the monitor keeps to
// the node at a (a watched master or one of its known replicas), renamed
// by the master's rename-command, and waits for the reply: an array's
// elements as strings, or a status, bulk or integer as one string. An
// error reply is a *ReplyError; ErrNoLink when the link is down, or when
// it closes or ctx ends before the reply; ErrLinkBusy (an ErrNoLink) when
// it has a reply pending.
//
// Only an idle link is used: a node under CLIENT PAUSE WRITE holds a hello
// PUBLISH, and every command pipelined behind it, until the pause ends. A
// switchover's demotion reads the fence of the old master it paused itself
// before it lifts the pause: behind the link's held PUBLISH that read
// waited out its whole timeout, and the old master kept our fence (the
// official suite's next unit, promoting it at once, got NOREPLICAS).
//
// Why: the Raft leader reads every master's fence (CONFIG GET) again and
// again; on a connection of its own per node that was, at 1000 masters,
// a thousand idle connections and 25 MB of client buffers and garbage on
// the leader (issue 12), for a question the link already open to the
// node can carry, as redis-sentinel sends all of its commands on it.
func (m *Monitor) Call(ctx context.Context, a Addr, args ...string) ([]string, error) {
	if len(args) == 0 {
		return nil, errors.New("monitor: Call without a command")
	}
	done := make(chan value, 1)
	m.mu.Lock()
	ri := m.instanceAtLocked(a)
	if ri == nil || ri.link == nil || ri.link.disconnected || ri.link.cc == nil {
		m.mu.Unlock()
		return nil, ErrNoLink
	}
	lk, c := ri.link, ri.link.cc
	if n := lk.pending; n > 0 {
		m.mu.Unlock()
		return nil, fmt.Errorf("%w (%d ahead)", ErrLinkBusy, n)
	}
	cmd := append([]string{ri.command(args[0])}, args[1:]...)
	c.sendHeld(replyHandler{fn: func(v value) {
		c.link.decPending()
		done <- v
	}}, cmd...)
	lk.pending++
	if c.gone == nil {
		c.gone = make(chan struct{})
	}
	closed := c.gone
	m.mu.Unlock()
	c.flushHere()

	select {
	case v := <-done:
		return flatten(v)
	case <-closed:
		// The connection closed; its handlers are dropped unanswered.
		select {
		case v := <-done:
			return flatten(v)
		default:
			return nil, ErrNoLink
		}
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: %w", ErrNoLink, ctx.Err())
	}
}

// instanceAtLocked finds the watched master or known replica at a.
// Caller holds m.mu.
func (m *Monitor) instanceAtLocked(a Addr) *instance {
	for _, ri := range m.masters {
		if ri.addr.Addr == a {
			return ri
		}
	}
	for _, ri := range m.masters {
		if r := ri.findReplica(a); r != nil {
			return r
		}
	}
	return nil
}

// flatten renders a reply for Call.
func flatten(v value) ([]string, error) {
	switch {
	case v.isError():
		return nil, &ReplyError{Msg: v.str}
	case v.typ == '*':
		out := make([]string, 0, len(v.elems))
		for _, e := range v.elems {
			if e.typ == '*' || e.isError() {
				return nil, fmt.Errorf("monitor: nested reply element of type %q", e.typ)
			}
			out = append(out, scalar(e))
		}
		return out, nil
	default:
		return []string{scalar(v)}, nil
	}
}

func scalar(v value) string {
	if v.typ == ':' {
		return strconv.FormatInt(v.num, 10)
	}
	return v.str
}
