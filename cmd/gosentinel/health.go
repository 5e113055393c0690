package main

import (
	"bufio"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// healthUsage documents `gosentinel health`, the exec probe.
const healthUsage = `Usage: gosentinel health [options]

Checks a running gosentinel for an exec probe and exits 0 when it is
healthy, 1 otherwise, printing one line saying why on failure.

By default it PINGs the sentinel port (AUTH first when a password is set)
and expects PONG. With --http it GETs an endpoint of the metrics listener
(metrics-addr) instead and expects 200:
  /healthz   the command listener answers
  /readyz    in a Raft group with a leader, state fresh (or Raft off)
  /primary   the Redis node named by --query (node=host:port), or the one
             on this host, is the master of its set
  /replica   ... is a replica with its master link up

Options:
  -h <host>              sentinel host (default 127.0.0.1)
  -p <port>              sentinel port (default 26379)
  -a <password>          password (default: $REDISCLI_AUTH)
  --http <host:port>     check the HTTP endpoint at this address instead
  --path <path>          the endpoint (default /readyz)
  --query <query>        its query string, e.g. node=10.0.0.5:6379
  --timeout <duration>   give up after this long (default 1s)
` + tlsUsage

type healthOptions struct {
	sentinel string
	password string
	http     string
	path     string
	query    string
	timeout  time.Duration
	tls      *tls.Config // set with --tls
}

func parseHealth(args []string, stderr io.Writer) (healthOptions, error) {
	fs := flag.NewFlagSet("health", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, healthUsage) }
	var o healthOptions
	sf := addSentinelFlags(fs)
	fs.StringVar(&o.http, "http", "", "")
	fs.StringVar(&o.path, "path", "/readyz", "")
	fs.StringVar(&o.query, "query", "", "")
	fs.DurationVar(&o.timeout, "timeout", time.Second, "")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if o.timeout <= 0 {
		return o, fmt.Errorf("--timeout must be positive")
	}
	if !strings.HasPrefix(o.path, "/") {
		o.path = "/" + o.path
	}
	o.sentinel, o.password = sf.addr(), sf.password()
	var err error
	if o.tls, err = sf.tls.config(); err != nil {
		return o, err
	}
	return o, nil
}

// runHealth is `gosentinel health`.
func runHealth(args []string, stdout, stderr io.Writer) int {
	o, err := parseHealth(args, stderr)
	if err == flag.ErrHelp {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "gosentinel health:", err)
		return 1
	}
	if o.http != "" {
		err = checkHTTP(o)
	} else {
		err = checkPing(o)
	}
	if err != nil {
		fmt.Fprintln(stdout, "unhealthy:", err)
		return 1
	}
	return 0
}

// checkHTTP GETs the endpoint and wants 200.
func checkHTTP(o healthOptions) error {
	u := "http://" + o.http + o.path
	if o.query != "" {
		u += "?" + o.query
	}
	c := http.Client{Timeout: o.timeout}
	resp, err := c.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s: %s", u, resp.Status, strings.TrimSpace(string(body)))
	}
	return nil
}

// checkPing sends AUTH (if a password is set) and PING inline on one
// connection and wants +OK then +PONG.
func checkPing(o healthOptions) error {
	deadline := time.Now().Add(o.timeout)
	d := &net.Dialer{Timeout: o.timeout}
	var conn net.Conn
	var err error
	if o.tls != nil {
		conn, err = tls.DialWithDialer(d, "tcp", o.sentinel, o.tls)
	} else {
		conn, err = d.Dial("tcp", o.sentinel)
	}
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetDeadline(deadline)
	r := bufio.NewReader(conn)
	if o.password != "" {
		if _, err := fmt.Fprintf(conn, "*2\r\n$4\r\nAUTH\r\n$%d\r\n%s\r\n", len(o.password), o.password); err != nil {
			return err
		}
		line, err := r.ReadString('\n')
		if err != nil {
			return fmt.Errorf("%s: AUTH: %w", o.sentinel, err)
		}
		if line = strings.TrimSpace(line); line != "+OK" {
			return fmt.Errorf("%s: AUTH: %s", o.sentinel, strings.TrimPrefix(line, "-"))
		}
	}
	if _, err := io.WriteString(conn, "*1\r\n$4\r\nPING\r\n"); err != nil {
		return err
	}
	line, err := r.ReadString('\n')
	if err != nil {
		return fmt.Errorf("%s: PING: %w", o.sentinel, err)
	}
	if line = strings.TrimSpace(line); line != "+PONG" {
		return fmt.Errorf("%s: PING: %s", o.sentinel, strings.TrimPrefix(line, "-"))
	}
	return nil
}
