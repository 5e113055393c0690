package redistest

import (
	"crypto/tls"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// RedisServerBin is the redis-server executable used by StartRedis.
var RedisServerBin = EnvOr("REDIS_SERVER", "/usr/bin/redis-server")

// RedisCLIBin is the redis-cli executable the tests drive.
var RedisCLIBin = EnvOr("REDIS_CLI", "/usr/bin/redis-cli")

// RequireBin fails the test when the executable bin is missing: a test
// that cannot run must not pass as skipped (make deps installs them all).
func RequireBin(t testing.TB, bin string) {
	t.Helper()
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("%s is needed: %v (make deps installs it, or set its variable: REDIS_SERVER, REDIS_CLI, REFERENCE_SENTINEL)", bin, err)
	}
}

// EnvOr is the environment's value of key, or def: every executable the
// tests start can be overridden for a machine that keeps it elsewhere.
func EnvOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// RedisOptions configures a redis-server started by StartRedis.
type RedisOptions struct {
	// Password sets requirepass and, on replicas, masterauth.
	Password string
	// ReplicaOf is the port of the master on 127.0.0.1 (or on
	// ReplicaOfHost); 0 for a master.
	ReplicaOf int
	// ReplicaOfHost is the master's address if not 127.0.0.1.
	ReplicaOfHost string
	// Host is the address to bind (default 127.0.0.1); Port a fixed port
	// (default: a free one picked by the kernel, retried if taken). A node
	// in its own network namespace (internal/netlab) has a port space of
	// its own and uses Redis' usual 6379 on its own address.
	Host string
	Port int
	// Wrap is a command prefix (ProcessSpec.Wrap), e.g. `ip netns exec`.
	Wrap []string
	// Args are extra command-line arguments ("--name value" pairs).
	Args []string
	// TLS, if set, makes the node TLS-only (TLSFiles.RedisArgs: port 0,
	// the tls-port, tls-replication and client certificates required);
	// the harness dials it with TLS.Client.
	TLS *TLSFiles
}

// Redis is a redis-server process started by a test.
type Redis struct {
	*Process
	Opts RedisOptions
}

// startAttempts bounds retries when a kernel-picked port was taken by
// someone else between probing and binding.
const startAttempts = 5

// startWithPortRetry starts the process built by spec for a kernel-picked
// port, retrying with a new port when the bind failed.
func startWithPortRetry(t testing.TB, spec func(port int) (ProcessSpec, error)) (*Process, error) {
	t.Helper()
	var lastErr error
	for range startAttempts {
		port, err := FreePort()
		if err != nil {
			return nil, err
		}
		s, err := spec(port)
		if err != nil {
			return nil, err
		}
		p, err := NewProcess(t, s)
		if err != nil {
			return nil, err
		}
		err = p.Start()
		if err == nil {
			return p, nil
		}
		lastErr = err
		_ = p.Stop(StopTimeout)
		if !strings.Contains(strings.ToLower(p.Log()), "address already in use") {
			return nil, err
		}
	}
	return nil, fmt.Errorf("no free port after %d attempts: %w", startAttempts, lastErr)
}

// startAt starts the process built by spec on port, or on a free port
// (startWithPortRetry) if port is 0.
func startAt(t testing.TB, port int, spec func(port int) (ProcessSpec, error)) (*Process, error) {
	t.Helper()
	if port == 0 {
		return startWithPortRetry(t, spec)
	}
	s, err := spec(port)
	if err != nil {
		return nil, err
	}
	p, err := NewProcess(t, s)
	if err != nil {
		return nil, err
	}
	return p, p.Start()
}

// StartRedis starts a redis-server on 127.0.0.1 (or opts.Host) without persistence and waits
// until it answers PING; it fails the test on error.
func StartRedis(t testing.TB, opts RedisOptions) *Redis {
	t.Helper()
	spec := func(port int) (ProcessSpec, error) {
		host := opts.Host
		if host == "" {
			host = "127.0.0.1"
		}
		args := []string{"--port", strconv.Itoa(port)}
		var tlsConf *tls.Config
		if opts.TLS != nil {
			args, tlsConf = opts.TLS.RedisArgs(port), opts.TLS.Client
		}
		args = append(args,
			"--bind", host,
			"--save", "",
			"--appendonly", "no",
			"--daemonize", "no",
			"--repl-diskless-sync-delay", "0",
		)
		if opts.Password != "" {
			args = append(args, "--requirepass", opts.Password, "--masterauth", opts.Password)
		}
		if opts.ReplicaOf != 0 {
			master := opts.ReplicaOfHost
			if master == "" {
				master = "127.0.0.1"
			}
			args = append(args, "--replicaof", master, strconv.Itoa(opts.ReplicaOf))
		}
		args = append(args, opts.Args...)
		name := fmt.Sprintf("redis-%d", port)
		if opts.Host != "" {
			name = fmt.Sprintf("redis-%s-%d", opts.Host, port)
		}
		return ProcessSpec{Name: name, Bin: RedisServerBin, Args: args, Port: port, Host: opts.Host, Wrap: opts.Wrap, TLS: tlsConf}, nil
	}
	p, err := startAt(t, opts.Port, spec)
	if err != nil {
		t.Fatalf("start redis-server: %v", err)
	}
	return &Redis{Process: p, Opts: opts}
}

// Dial opens an authenticated connection (closed in t.Cleanup).
func (r *Redis) Dial(t testing.TB) *Conn {
	t.Helper()
	c, err := r.DialErr()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// DialErr opens an authenticated connection; the caller closes it.
func (r *Redis) DialErr() (*Conn, error) {
	return dialAuth(r.Addr(), r.Opts.Password, r.spec.TLS)
}

// dialAuth dials addr (over TLS if tlsConf is set) and, if password is
// set, authenticates with AUTH.
func dialAuth(addr, password string, tlsConf *tls.Config) (*Conn, error) {
	c, err := dialMaybeTLS(addr, tlsConf, DefaultTimeout)
	if err != nil {
		return nil, err
	}
	if password != "" {
		if _, err := c.DoOK("AUTH", password); err != nil {
			c.Close()
			return nil, fmt.Errorf("auth on %s: %w", addr, err)
		}
	}
	return c, nil
}

// Info returns the parsed fields of INFO <section> ("key:value" lines).
func (r *Redis) Info(section string) (map[string]string, error) {
	c, err := r.DialErr()
	if err != nil {
		return nil, err
	}
	defer c.Close()
	reply, err := c.DoOK("INFO", section)
	if err != nil {
		return nil, err
	}
	return ParseInfo(reply.Str), nil
}

// RunID returns the server's INFO run_id.
func (r *Redis) RunID() (string, error) {
	info, err := r.Info("server")
	if err != nil {
		return "", err
	}
	return info["run_id"], nil
}

// ParseInfo parses INFO text into its key:value fields (section headers and
// blank lines are skipped).
func ParseInfo(text string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(text, "\r\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if k, v, ok := strings.Cut(line, ":"); ok {
			m[k] = v
		}
	}
	return m
}

// Topology is a master with replicas, all on 127.0.0.1.
type Topology struct {
	Master   *Redis
	Replicas []*Redis
}

// StartTopology starts a master and n replicas of it (sharing opts, e.g. the
// password) and waits until the master reports every replica online.
func StartTopology(t testing.TB, replicas int, opts RedisOptions) *Topology {
	t.Helper()
	master := StartRedis(t, RedisOptions{Password: opts.Password, Args: opts.Args, TLS: opts.TLS})
	tp := &Topology{Master: master}
	for range replicas {
		tp.AddReplica(t)
	}
	tp.WaitReplicasOnline(t, 30*time.Second)
	return tp
}

// AddReplica starts one more replica of the master (it does not wait for
// the sync to finish).
func (tp *Topology) AddReplica(t testing.TB) *Redis {
	t.Helper()
	opts := tp.Master.Opts
	opts.ReplicaOf = tp.Master.Port()
	r := StartRedis(t, opts)
	tp.Replicas = append(tp.Replicas, r)
	return r
}

// WaitReplicasOnline polls the master's INFO replication until it lists
// every running replica with state=online.
func (tp *Topology) WaitReplicasOnline(t testing.TB, timeout time.Duration) {
	t.Helper()
	Poll(t, timeout, 50*time.Millisecond, func() error {
		info, err := tp.Master.Info("replication")
		if err != nil {
			return err
		}
		for _, r := range tp.Replicas {
			if !r.Running() {
				continue
			}
			if !replicaOnline(info, r.Opts.Host, r.Port()) {
				return fmt.Errorf("replica %d not online at master %d", r.Port(), tp.Master.Port())
			}
		}
		return nil
	})
}

// replicaOnline tells whether master INFO replication lists the replica on
// port (and host, if not empty) with state=online.
func replicaOnline(info map[string]string, host string, port int) bool {
	want := ",port=" + strconv.Itoa(port) + ",state=online,"
	if host != "" {
		want = "ip=" + host + want
	}
	for k, v := range info {
		if strings.HasPrefix(k, "slave") && strings.Contains(v, want) {
			return true
		}
	}
	return false
}

// Ports returns the master port followed by the replica ports.
func (tp *Topology) Ports() []int {
	ports := []int{tp.Master.Port()}
	for _, r := range tp.Replicas {
		ports = append(ports, r.Port())
	}
	return ports
}

// StartAsReplicaOf starts a node that is not running (killed, stopped)
// again as a replica of host:port, or as a master if port is 0, and waits
// for PING. A node without persistence restarted with its original
// arguments would come back as whatever it was started as (the first
// master: an empty master), where a deployment whose sentinel rewrote the
// node's config brings it back as a replica of the current master. The
// change sticks for later starts; Opts keeps the original options.
func (r *Redis) StartAsReplicaOf(host string, port int) error {
	r.mu.Lock()
	args := withoutReplicaOf(r.spec.Args)
	if port != 0 {
		args = append(args, "--replicaof", host, strconv.Itoa(port))
	}
	r.spec.Args = args
	r.mu.Unlock()
	return r.Start()
}

// withoutReplicaOf returns args without any "--replicaof <host> <port>".
func withoutReplicaOf(args []string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		if args[i] == "--replicaof" && i+2 < len(args) {
			i += 2
			continue
		}
		out = append(out, args[i])
	}
	return out
}
