package replication

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/x0tta6bl4/gosentinel/monitor"
)

// Controller is the Redis implementation over monitor.Client. It keeps one
// small client per node and credentials; every command name goes through the
// target's rename-command table, as redis-sentinel's do
// (sentinelInstanceMapCommand).
type Controller struct {
	// tls, if set, is the client configuration towards the nodes
	// (tls-replication).
	tls     *tls.Config
	mu      sync.Mutex
	clients map[string]*monitor.Client
	closed  bool
	// link, if set, carries the fence's CONFIG commands (UseLink).
	link Link
}

// Link sends one command on a connection kept to the node by someone else
// (the node passes the monitor's Call): the reply as strings, an error
// reply as an error, and monitor.ErrNoLink when it has no connected link
// to the node.
type Link func(ctx context.Context, a monitor.Addr, args ...string) ([]string, error)

// UseLink makes the engine's periodic fence checks (Fence and SetFence
// with a context from onLink) use l, falling back to a client of the
// controller's own for a node l cannot serve. The leader reads the fence
// of every master and replica again and again: at 1000 masters a client
// of its own per node was a thousand idle connections and 25 MB of buffers
// and garbage on the leader, where the monitor already keeps a connection
// to each of them (redis-sentinel sends every command on that one). A
// failover's own calls stay on the controller's clients: it pauses nodes
// itself (CLIENT PAUSE WRITE), and a paused node holds the link's hello
// PUBLISH and everything pipelined behind it. Call it before the
// controller is used.
func (c *Controller) UseLink(l Link) { c.link = l }

// onLinkKey marks a context whose Fence and SetFence calls may ride on the
// link (UseLink), with how a node the link cannot serve is asked.
type onLinkKey struct{}

type linkUse int

const (
	noLink        linkUse = iota
	linkOrClient          // a node the link cannot serve is asked on a client
	linkOrErrBusy         // a busy link returns monitor.ErrLinkBusy
)

// onLink marks ctx for the link: the periodic fence checks' calls.
func onLink(ctx context.Context) context.Context {
	return context.WithValue(ctx, onLinkKey{}, linkOrClient)
}

// onLinkOrLater marks ctx for the link, and a busy link makes the call
// fail with monitor.ErrLinkBusy instead of opening a connection: a
// periodic read that can be made at the next tick.
func onLinkOrLater(ctx context.Context) context.Context {
	return context.WithValue(ctx, onLinkKey{}, linkOrErrBusy)
}

func linkUseOf(ctx context.Context) linkUse {
	v, _ := ctx.Value(onLinkKey{}).(linkUse)
	return v
}

// The controller is the engine's Redis.
var _ Redis = (*Controller)(nil)

// errClosed is returned after Close.
var errClosed = errors.New("redis controller closed")

// NewController returns a controller with no connections yet; with a TLS
// configuration it speaks TLS to every node (tls-replication yes).
func NewController(tlsConf ...*tls.Config) *Controller {
	c := &Controller{clients: map[string]*monitor.Client{}}
	if len(tlsConf) > 0 {
		c.tls = tlsConf[0]
	}
	return c
}

// Close closes every cached client.
func (c *Controller) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	var errs []error
	for k, cl := range c.clients {
		if err := cl.Close(); err != nil {
			errs = append(errs, err)
		}
		delete(c.clients, k)
	}
	return errors.Join(errs...)
}

// forgetIfUnreachable drops the cached client of a node that could not be
// dialed, or whose reply timed out. After a partition its kept connections
// are stuck: the kernel retransmits what they sent with a backoff of
// seconds, so each of them would time out in turn after the heal before a
// fresh one is dialled (a cut-off sentinel whose replica PINGs went that
// way, on go-redis' pool, paused a healthy master right after a heal). A
// fresh client dials at once.
func (c *Controller) forgetIfUnreachable(t Target, cl *monitor.Client, err error) {
	var op *net.OpError
	var ne net.Error
	dial := errors.As(err, &op) && op.Op == "dial"
	timeout := errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
	if !dial && !timeout {
		return
	}
	c.mu.Lock()
	for k, v := range c.clients {
		if v == cl {
			delete(c.clients, k)
		}
	}
	c.mu.Unlock()
	cl.Close()
}

// cached returns the cached client for t, if there is one.
func (c *Controller) cached(t Target) (*monitor.Client, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, errClosed
	}
	return c.clients[c.key(t, mapCommand(t, "AUTH"))], nil
}

// key is a client's key in the cache: the node, its credentials and AUTH's
// name.
func (c *Controller) key(t Target, auth string) string {
	return t.Addr.String() + "\x00" + t.AuthUser + "\x00" + t.AuthPass + "\x00" + auth
}

// client returns the cached client for t, creating it on first use.
func (c *Controller) client(t Target) (*monitor.Client, error) {
	auth := mapCommand(t, "AUTH")
	key := c.key(t, auth)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, errClosed
	}
	if cl := c.clients[key]; cl != nil {
		return cl, nil
	}
	cl := c.newClient(t, auth)
	c.clients[key] = cl
	return cl, nil
}

// newClient makes a client for t (not cached): RESP2 and no identity (no
// HELLO, CLIENT SETNAME or SETINFO: the same wire redis-sentinel uses, and
// nothing a renamed or ACL-restricted command would refuse), AUTH through
// the rename map, and two connections kept at most. Its connections read
// through 4 KB buffers: the leader keeps a client per node it manages
// (at 1000 masters, over 1000), and the replies it reads (INFO
// replication, CONFIG GET, ROLE) are a few KB.
func (c *Controller) newClient(t Target, auth string) *monitor.Client {
	user, pass := t.AuthUser, t.AuthPass
	return monitor.NewClient(monitor.ClientOptions{
		Addr:        t.Addr.String(),
		TLS:         c.tls,
		DialTimeout: callTimeout,
		Timeout:     callTimeout,
		MaxIdle:     2,
		OnConnect: func(do func(args ...string) ([]string, error)) error {
			if pass == "" {
				return nil
			}
			args := []string{auth}
			if user != "" {
				args = append(args, user)
			}
			args = append(args, pass)
			_, err := do(args...)
			var rerr *monitor.ReplyError
			if errors.As(err, &rerr) {
				// As redis-sentinel, which ignores AUTH's reply: a node
				// without a password (auth-pass is often set before the
				// nodes get theirs) answers an error and serves us
				// anyway; a wrong password shows up as NOAUTH on the
				// next command.
				return nil
			}
			if err != nil {
				return fmt.Errorf("failed to authenticate: %w", err)
			}
			return nil
		},
	})
}

// mapCommand returns the name to send for cmd on t.
func mapCommand(t Target, cmd string) string {
	if n, ok := t.Rename[cmd]; ok {
		return n
	}
	return cmd
}

// SlaveOf sends the SLAVEOF transaction (sentinelSendSlaveOf).
func (c *Controller) SlaveOf(ctx context.Context, t Target, master *monitor.Addr) error {
	cl, err := c.client(t)
	if err != nil {
		return err
	}
	slaveof := []string{mapCommand(t, "SLAVEOF"), "NO", "ONE"}
	if master != nil {
		slaveof = []string{mapCommand(t, "SLAVEOF"), master.Host, strconv.Itoa(master.Port)}
	}
	client := mapCommand(t, "CLIENT")
	rs, err := cl.Pipeline(ctx,
		[]string{mapCommand(t, "MULTI")},
		slaveof,
		[]string{mapCommand(t, "CONFIG"), "REWRITE"},
		[]string{client, "KILL", "TYPE", "normal"},
		[]string{client, "KILL", "TYPE", "pubsub"},
		[]string{mapCommand(t, "EXEC")})
	if err != nil {
		c.forgetIfUnreachable(t, cl, err)
		return fmt.Errorf("failed to run the SLAVEOF transaction on %s: %w", t.Addr, err)
	}
	multi, so, exec := rs[0], rs[1], rs[5]
	switch {
	case multi.Err != nil:
		return fmt.Errorf("failed to send MULTI to %s: %w", t.Addr, multi.Err)
	case so.Err != nil:
		return fmt.Errorf("failed to queue SLAVEOF on %s: %w", t.Addr, so.Err)
	case exec.Err != nil:
		return fmt.Errorf("failed to run the SLAVEOF transaction on %s: %w", t.Addr, exec.Err)
	case len(exec.Elems) == 0:
		return fmt.Errorf("unexpected EXEC reply from %s: %+v", t.Addr, exec)
	}
	// Only SLAVEOF's own result matters: CONFIG REWRITE fails on nodes
	// started without a config file, and that is harmless.
	if e := exec.Elems[0].Err; e != nil {
		return fmt.Errorf("SLAVEOF refused by %s: %w", t.Addr, e)
	}
	return nil
}

// Replication reads INFO replication.
func (c *Controller) Replication(ctx context.Context, t Target) (Replication, error) {
	cl, err := c.client(t)
	if err != nil {
		return Replication{}, err
	}
	out, err := cl.Do(ctx, mapCommand(t, "INFO"), "replication")
	if err == nil && len(out) != 1 {
		err = fmt.Errorf("an array of %d elements", len(out))
	}
	if err != nil {
		c.forgetIfUnreachable(t, cl, err)
		return Replication{}, fmt.Errorf("failed to read INFO replication from %s: %w", t.Addr, err)
	}
	v := out[0]
	r := ParseReplication(v)
	if r.Role == "" {
		return r, fmt.Errorf("INFO replication from %s has no role: %q", t.Addr, firstLine(v))
	}
	return r, nil
}

// PauseWrites sends CLIENT PAUSE <ms> WRITE.
func (c *Controller) PauseWrites(ctx context.Context, t Target, d time.Duration) error {
	cl, err := c.client(t)
	if err != nil {
		return err
	}
	ms := max(d.Milliseconds(), 1)
	if _, err := cl.Do(ctx, mapCommand(t, "CLIENT"), "PAUSE", strconv.FormatInt(ms, 10), "WRITE"); err != nil {
		c.forgetIfUnreachable(t, cl, err)
		return fmt.Errorf("failed to pause writes on %s: %w", t.Addr, err)
	}
	return nil
}

// Unpause sends CLIENT UNPAUSE.
func (c *Controller) Unpause(ctx context.Context, t Target) error {
	cl, err := c.client(t)
	if err != nil {
		return err
	}
	if _, err := cl.Do(ctx, mapCommand(t, "CLIENT"), "UNPAUSE"); err != nil {
		c.forgetIfUnreachable(t, cl, err)
		return fmt.Errorf("failed to unpause %s: %w", t.Addr, err)
	}
	return nil
}

// Fence reads min-replicas-to-write and min-replicas-max-lag, one CONFIG
// GET each (several parameters in one CONFIG GET need Redis 7).
func (c *Controller) Fence(ctx context.Context, t Target) (FenceConfig, error) {
	var out FenceConfig
	for _, p := range []struct {
		name string
		v    *int
	}{{"min-replicas-to-write", &out.ToWrite}, {"min-replicas-max-lag", &out.MaxLag}} {
		kv, err := c.call(ctx, t, "CONFIG", "GET", p.name)
		if err != nil {
			return FenceConfig{}, fmt.Errorf("failed to read %s from %s: %w", p.name, t.Addr, err)
		}
		if len(kv) != 2 {
			return FenceConfig{}, fmt.Errorf("unexpected CONFIG GET %s reply from %s: %q", p.name, t.Addr, kv)
		}
		if *p.v, err = strconv.Atoi(kv[1]); err != nil {
			return FenceConfig{}, fmt.Errorf("unexpected CONFIG GET %s value from %s: %w", p.name, t.Addr, err)
		}
	}
	return out, nil
}

// SetFence sets max-lag (unless clearing) then to-write; a removal is
// persisted with CONFIG REWRITE.
func (c *Controller) SetFence(ctx context.Context, t Target, f FenceConfig) error {
	if f.ToWrite > 0 {
		if _, err := c.call(ctx, t, "CONFIG", "SET", "min-replicas-max-lag", strconv.Itoa(f.MaxLag)); err != nil {
			return fmt.Errorf("failed to set min-replicas-max-lag on %s: %w", t.Addr, err)
		}
	}
	if _, err := c.call(ctx, t, "CONFIG", "SET", "min-replicas-to-write", strconv.Itoa(f.ToWrite)); err != nil {
		return fmt.Errorf("failed to set min-replicas-to-write on %s: %w", t.Addr, err)
	}
	if f.ToWrite == 0 {
		// A removal is persisted: a CONFIG REWRITE (the SLAVEOF
		// transaction's, or the user's) may have written the fence into
		// the node's config file, which a restart would bring back. Fails
		// harmlessly on nodes started without a config file.
		_, _ = c.call(ctx, t, "CONFIG", "REWRITE")
	}
	return nil
}

// call runs one command whose reply is a status, a bulk or an array of
// them. A call marked onLink goes on the link when one is set and idle; a
// node the link cannot serve right now (onLinkOrLater: one whose link is
// down) is then asked on the client a failover made for it if there is
// one, else on a client for this call only: otherwise every node would
// end up with a client of its own again, one busy link at a time. Other calls use the cached client, made on
// first use. args[0] is the command's own name; both paths apply t's
// renames (the monitor's link those of the same master).
func (c *Controller) call(ctx context.Context, t Target, args ...string) ([]string, error) {
	var cl *monitor.Client
	var err error
	oneCall := false // cl serves this call only (not in the cache)
	use := linkUseOf(ctx)
	if c.link == nil || use == noLink {
		if cl, err = c.client(t); err != nil {
			return nil, err
		}
	} else {
		out, err := c.link(ctx, t.Addr, args...)
		if !errors.Is(err, monitor.ErrNoLink) || ctx.Err() != nil ||
			(use == linkOrErrBusy && errors.Is(err, monitor.ErrLinkBusy)) {
			return out, err
		}
		if cl, err = c.cached(t); err != nil {
			return nil, err
		}
		if cl == nil {
			cl, oneCall = c.newClient(t, mapCommand(t, "AUTH")), true
			defer cl.Close()
		}
	}
	out, err := cl.Do(ctx, append([]string{mapCommand(t, args[0])}, args[1:]...)...)
	if err != nil && !oneCall {
		c.forgetIfUnreachable(t, cl, err)
	}
	return out, err
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return strings.TrimSpace(l)
}

// Ping sends PING (the cut-off pause's probe of a node) on the cached
// client and, at the same time, on a fresh connection: the node answers if
// either gets PONG. Right after a partition heals the pooled connections
// are stuck behind the kernel's retransmission backoff while a fresh one
// connects at once; under random packet loss a fresh connection needs more
// packets through (a lost SYN waits a second) while a pooled one is
// usually fine. Only a node that is really out of reach fails both.
func (c *Controller) Ping(ctx context.Context, t Target) error {
	cl, err := c.client(t)
	if err != nil {
		return err
	}
	fresh := c.newClient(t, mapCommand(t, "AUTH"))
	defer fresh.Close()
	errs := make(chan error, 2)
	for _, client := range []*monitor.Client{cl, fresh} {
		go func() {
			_, err := client.Do(ctx, mapCommand(t, "PING"))
			errs <- err
		}()
	}
	var first error
	for range 2 {
		if err := <-errs; err == nil {
			return nil
		} else if first == nil {
			first = err
		}
	}
	c.forgetIfUnreachable(t, cl, first)
	return fmt.Errorf("failed to ping %s: %w", t.Addr, first)
}
