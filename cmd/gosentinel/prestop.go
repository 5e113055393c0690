package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/x0tta6bl4/gosentinel/internal/tlsconf"
	"github.com/x0tta6bl4/gosentinel/monitor"
)

// prestopUsage documents `gosentinel prestop`, the preStop hook of a pod
// that runs a Redis node and a gosentinel side by side.
const prestopUsage = `Usage: gosentinel prestop [options]

Hands the master role away before the pod stops: if the Redis node of this
pod (--redis) is the master of the set (--master-set) as the local sentinel
reports it, asks the local sentinel for SENTINEL FAILOVER (gosentinel's
zero-loss switchover: writes paused, the replica caught up, then promoted)
and waits until the master has moved and the node follows it. A node that
is a replica, or is not reachable, has nothing to hand over: exit 0 at once.
A node that refuses the hook (NOAUTH, WRONGPASS, a failed TLS handshake)
fails it: exit 1.

Options:
  --master-set <name>    master name (default mymaster)
  -h <host>              local sentinel host (default 127.0.0.1)
  -p <port>              local sentinel port (default 26379)
  --redis <host:port>    the pod's Redis node (default 127.0.0.1:6379)
  -a <password>          password for the sentinel and the node (default:
                         $REDISCLI_AUTH, else the file of --password-file)
  --password-file <f>    file holding the password (the Bitnami chart's
                         /opt/bitnami/redis/secrets/redis-password)
` + tlsUsage + `                         (--tls applies to the sentinel and the node)
  --timeout <duration>   give up after this long, exit 1 (default 25s: keep
                         it below terminationGracePeriodSeconds)

Exit status: 0 when the node is not (or no longer) the master, 1 when the
master did not move in time or the sentinel could not be asked.
`

// prestopOptions are the parsed flags of `gosentinel prestop`.
type prestopOptions struct {
	masterSet string
	sentinel  string
	redis     string
	password  string
	timeout   time.Duration
	// tls is set with --tls: the sentinel and the node speak TLS.
	tls *tls.Config
}

func parsePrestop(args []string, stderr io.Writer) (prestopOptions, error) {
	fs := flag.NewFlagSet("prestop", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, prestopUsage) }
	var o prestopOptions
	sf := addSentinelFlags(fs)
	fs.StringVar(&o.masterSet, "master-set", "mymaster", "")
	fs.StringVar(&o.redis, "redis", "127.0.0.1:6379", "")
	passFile := fs.String("password-file", "", "")
	fs.DurationVar(&o.timeout, "timeout", 25*time.Second, "")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	o.sentinel, o.password = sf.addr(), sf.password()
	var err error
	if o.tls, err = sf.tls.config(); err != nil {
		return o, err
	}
	if o.password == "" && *passFile != "" {
		b, err := os.ReadFile(*passFile)
		if err != nil {
			return o, fmt.Errorf("password file: %w", err)
		}
		o.password = strings.TrimRight(string(b), "\r\n")
	}
	return o, nil
}

// sentinelFlags are the options naming the local sentinel that every
// subcommand takes, as redis-cli spells them: -h, -p, -a (else
// $REDISCLI_AUTH).
type sentinelFlags struct {
	host, pass *string
	port       *int
	tls        tlsFlags
}

func addSentinelFlags(fs *flag.FlagSet) sentinelFlags {
	return sentinelFlags{
		host: fs.String("h", "127.0.0.1", ""),
		port: fs.Int("p", 26379, ""),
		pass: fs.String("a", "", ""),
		tls:  addTLSFlags(fs),
	}
}

func (f sentinelFlags) addr() string { return net.JoinHostPort(*f.host, strconv.Itoa(*f.port)) }

func (f sentinelFlags) password() string {
	if *f.pass != "" {
		return *f.pass
	}
	return os.Getenv("REDISCLI_AUTH")
}

// runPrestop is `gosentinel prestop`.
func runPrestop(args []string, stdout, stderr io.Writer) int {
	o, err := parsePrestop(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "gosentinel prestop: %s\n", err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	msg, err := handOver(ctx, o)
	if err != nil {
		fmt.Fprintf(stderr, "gosentinel prestop: %s\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "gosentinel prestop: %s\n", msg)
	return 0
}

// handOver does the work of runPrestop and says what happened.
func handOver(ctx context.Context, o prestopOptions) (string, error) {
	node := dialAuthenticated(ctx, o.redis, o.password, o.tls)
	defer node.Close()
	isMaster, runID, err := nodeRole(ctx, node)
	for err != nil && slowAnswer(err) && ctx.Err() == nil {
		// Reached but silent past the client's timeout (a slow
		// command, a fork, CPU throttling): still the node to hand
		// over, not one that is gone. Ask again within the budget.
		if !pause(ctx, prestopRetryEvery) {
			break
		}
		isMaster, runID, err = nodeRole(ctx, node)
	}
	if err != nil && refusal(err, o.tls != nil) {
		return "", fmt.Errorf("redis at %s refused the hook (%w): check the password (-a, REDISCLI_AUTH) and TLS flags", o.redis, err)
	}
	if err != nil {
		return fmt.Sprintf("redis at %s does not answer (%s): nothing to hand over", o.redis, err), nil
	}
	if !isMaster {
		return fmt.Sprintf("redis at %s is a replica: nothing to hand over", o.redis), nil
	}
	sent := dialAuthenticated(ctx, o.sentinel, o.password, o.tls)
	defer sent.Close()
	fields, err := sentinelMaster(ctx, sent, o.masterSet)
	if err != nil {
		return "", fmt.Errorf("SENTINEL MASTER %s at %s: %w", o.masterSet, o.sentinel, err)
	}
	// The sentinel reads a master's INFO every 10 s: within that of the
	// node's restart it still holds the previous process's run id. Ask
	// again for a while before taking the node for a stale master.
	for waitUntil := time.Now().Add(staleRunIDWait); field(fields, "runid") != runID && time.Now().Before(waitUntil); {
		if !pause(ctx, prestopRetryEvery) {
			break
		}
		if fields, err = sentinelMaster(ctx, sent, o.masterSet); err != nil {
			return "", fmt.Errorf("SENTINEL MASTER %s at %s: %w", o.masterSet, o.sentinel, err)
		}
	}
	if field(fields, "runid") != runID {
		// Our node says master but the set follows another one: it is a
		// stale master the sentinels demote, not ours to hand over.
		return fmt.Sprintf("redis at %s claims the master role but %s's master is %s:%s: nothing to hand over",
			o.redis, o.masterSet, field(fields, "ip"), field(fields, "port")), nil
	}
	from := net.JoinHostPort(field(fields, "ip"), field(fields, "port"))
	// SENTINEL FAILOVER is refused while another failover runs (INPROG) or
	// while the group is forming: ask again until it is accepted, the
	// master has moved anyway, or time is up.
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	asked := false
	var lastErr error
	for {
		if !asked {
			if _, err := sent.Do(ctx, "SENTINEL", "FAILOVER", o.masterSet); err == nil {
				asked = true
			} else {
				lastErr = err
			}
		}
		moved, to, err := masterMoved(ctx, sent, node, o.masterSet, from)
		if err == nil && moved {
			return fmt.Sprintf("master of %s handed over from %s to %s", o.masterSet, from, to), nil
		}
		if err != nil {
			lastErr = err
		}
		select {
		case <-ctx.Done():
			if lastErr == nil {
				lastErr = errors.New("the master did not move")
			}
			return "", fmt.Errorf("master of %s still at %s after %s: %w", o.masterSet, from, o.timeout, lastErr)
		case <-tick.C:
		}
	}
}

// masterMoved tells whether the set's master is no longer from and the
// pod's node follows the new one (role slave): only then may the node stop
// without losing writes acknowledged to clients that follow the sentinels.
func masterMoved(ctx context.Context, sent, node *monitor.Client, set, from string) (bool, string, error) {
	addr, err := sent.Do(ctx, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", set)
	if err != nil {
		return false, "", err
	}
	if len(addr) != 2 {
		return false, "", fmt.Errorf("GET-MASTER-ADDR-BY-NAME %s: %d elements", set, len(addr))
	}
	to := net.JoinHostPort(addr[0], addr[1])
	if to == from {
		return false, to, nil
	}
	isMaster, _, err := nodeRole(ctx, node)
	if err != nil {
		return false, to, err
	}
	return !isMaster, to, nil
}

// nodeRole reads ROLE and the run id of a Redis node.
func nodeRole(ctx context.Context, c *monitor.Client) (master bool, runID string, err error) {
	rs, err := c.Pipeline(ctx, []string{"ROLE"}, []string{"INFO", "server"})
	if err != nil {
		return false, "", err
	}
	role, info := rs[0], rs[1]
	for _, r := range rs {
		if r.Err != nil {
			return false, "", r.Err
		}
	}
	if len(role.Elems) == 0 {
		return false, "", errors.New("empty ROLE reply")
	}
	for _, line := range strings.Split(info.Str, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "run_id:"); ok {
			runID = v
		}
	}
	return role.Elems[0].Str == "master", runID, nil
}

// prestopRetryEvery spaces the hook's questions it asks again;
// staleRunIDWait is how long it waits for the sentinel to learn the node's
// run id (an INFO period, 10 s, and a little).
const (
	prestopRetryEvery = 200 * time.Millisecond
	staleRunIDWait    = 11 * time.Second
)

// pause waits d, or until ctx ends (false).
func pause(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// slowAnswer tells an error of a node reached but silent past the client's
// timeout from one of a node that is gone (refused, reset, closed).
func slowAnswer(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}

// sentinelMaster is SENTINEL MASTER's fields once they name the master's
// run id: a sentinel that has not read its master's INFO yet (seconds old)
// answers an empty one, which matched no node, and the hook reported
// nothing to hand over. It asks again every 200 ms until ctx ends.
func sentinelMaster(ctx context.Context, sent *monitor.Client, name string) ([]string, error) {
	for {
		fields, err := sent.Do(ctx, "SENTINEL", "MASTER", name)
		if err != nil || field(fields, "runid") != "" {
			return fields, err
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("the sentinel has not learnt its master's run id: %w", ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// refusal tells whether err is the node's answer rather than its silence:
// an error reply (NOAUTH, WRONGPASS) or a failed TLS handshake. Those are
// the hook's own misconfiguration, and taking them for a node that is gone
// would let the pod stop while it holds the master role.
func refusal(err error, tlsOn bool) bool {
	var (
		reply  *monitor.ReplyError
		header tls.RecordHeaderError
		verify *tls.CertificateVerificationError
	)
	// The server's alert: a client certificate missing or refused.
	remoteAlert := tlsconf.RemoteAlert(err)
	// Under TLS 1.3 the client's side of the handshake ends before the
	// server checks the client certificate, so a refused one often shows
	// only as the connection reset or closed at the first request.
	closedUnderTLS := tlsOn && (errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF))
	return errors.As(err, &reply) || errors.As(err, &header) || errors.As(err, &verify) || remoteAlert || closedUnderTLS
}

// dialRedis returns a RESP2 client that sends nothing but the commands
// asked (no CLIENT SETINFO), authenticating with password when set.
func dialRedis(addr, password string, tlsConf *tls.Config) *monitor.Client {
	return monitor.NewClient(monitor.ClientOptions{
		Addr:        addr,
		TLS:         tlsConf,
		DialTimeout: time.Second,
		Timeout:     2 * time.Second,
		OnConnect: func(do func(args ...string) ([]string, error)) error {
			if password == "" {
				return nil
			}
			_, err := do("AUTH", password)
			return err
		},
	})
}

// dialAuthenticated is dialRedis, except that a server without a password
// (AUTH answered "called without any password configured") gets a client
// that does not send one: one --password serves a pod whose sentinel has
// requirepass and whose Redis node has none, and the other way round.
func dialAuthenticated(ctx context.Context, addr, password string, tlsConf *tls.Config) *monitor.Client {
	c := dialRedis(addr, password, tlsConf)
	if password == "" {
		return c
	}
	if _, err := c.Do(ctx, "PING"); err != nil && strings.Contains(err.Error(), "without any password configured") {
		c.Close()
		return dialRedis(addr, "", tlsConf)
	}
	return c
}

// field returns the value of key in a flat key/value list.
func field(kv []string, key string) string {
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i] == key {
			return kv[i+1]
		}
	}
	return ""
}
