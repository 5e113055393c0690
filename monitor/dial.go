package monitor

import (
	"context"
	"errors"
	"net"
	"os"
	"time"
)

// A link dials in attempts. One long connect to a node that does not
// answer (its SYNs are dropped by a partition) waits on the kernel's SYN
// retransmissions (1 s after the first SYN, then 3 s, 7 s...; Linux 6.5+
// retransmits every second 4 times first, tcp_syn_linear_timeouts): once
// the partition heals, the link came back only with the next
// retransmission or the connect's timeout, up to seconds later. Instead a
// new attempt (a new socket, a fresh SYN) starts every dialRetry while the
// earlier ones are unanswered, each abandoned after dialAttemptTimeout (far
// above any round trip between a sentinel and its nodes): a healed node is
// reached within dialRetry of the heal, and at most dialAttempts sockets
// per connection are open at once. The first attempt to connect wins; the
// others are closed. An attempt that fails otherwise (refused, an ICMP
// unreachable, an unknown host) ends the dial at once, as the single
// connect did, and the whole dial gives up after dialTimeout, after which
// the link is disconnected and recreated by the next reconnect, as before.
// redis-sentinel's connect has no timeout (hiredis async connect); a link
// that hangs in connect is covered anyway by the pending-PING clock and
// the link hygiene rule.
const (
	dialTimeout        = 10 * time.Second
	dialRetry          = 250 * time.Millisecond
	dialAttemptTimeout = time.Second
)

// dialAttempts bounds the attempts in flight: those started in the last
// dialAttemptTimeout, plus one, so that a new attempt never waits for the
// oldest one to give up.
const dialAttempts = int(dialAttemptTimeout/dialRetry) + 1

// dialPacing is the schedule of dialPaced (the constants above, shorter in
// tests).
type dialPacing struct {
	retry, attemptTimeout, total time.Duration
	maxAttempts                  int
}

var defaultDialPacing = dialPacing{
	retry: dialRetry, attemptTimeout: dialAttemptTimeout, total: dialTimeout, maxAttempts: dialAttempts,
}

// dialPaced runs dial in overlapping attempts paced by p until one
// connects, one fails for another reason than its own timeout, or ctx
// ends or p.total passes. When it returns, every attempt has returned and
// the connections of all but the winner are closed.
func dialPaced(ctx context.Context, p dialPacing, dial func(context.Context) (net.Conn, error)) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, p.total)
	defer cancel()
	type result struct {
		nc  net.Conn
		err error
		// unanswered: the attempt gave up at its own deadline.
		unanswered bool
	}
	results := make(chan result, p.maxAttempts) // attempts never block on it
	pending := 0
	start := func() {
		pending++
		go func() {
			actx, acancel := context.WithTimeout(ctx, p.attemptTimeout)
			defer acancel()
			nc, err := dial(actx)
			results <- result{nc: nc, err: err, unanswered: err != nil && ctx.Err() == nil && (actx.Err() != nil || timedOut(err))}
		}()
	}
	retry := time.NewTicker(p.retry)
	defer retry.Stop()
	start()
	var won net.Conn
	var err error
wait:
	for {
		select {
		case r := <-results:
			pending--
			if r.err == nil {
				won = r.nc
				break wait
			}
			err = r.err
			if !r.unanswered {
				break wait
			}
		case <-retry.C:
			if pending < p.maxAttempts {
				start()
			}
		case <-ctx.Done():
			// Past the total, the last attempt's error says why (no
			// answer); cancelled, the cancellation does.
			if err == nil || errors.Is(ctx.Err(), context.Canceled) {
				err = ctx.Err()
			}
			break wait
		}
	}
	cancel()
	for ; pending > 0; pending-- {
		if r := <-results; r.nc != nil {
			_ = r.nc.Close()
		}
	}
	if won != nil {
		return won, nil
	}
	return nil, err
}

// timedOut reports whether err is a deadline's. The dialer's connect
// deadline (the attempt's context deadline, armed in the poller) can fire
// before the context's own timer marks it done: an attempt abandoned at its
// deadline then returned "i/o timeout" with actx.Err() still nil, and was
// taken for a hard failure that ended the whole dial, leaving the link
// down until the next reconnect, up to a ping period after a heal.
func timedOut(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) ||
		(errors.As(err, &ne) && ne.Timeout())
}
