package redistest

import (
	"crypto/tls"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// ReferenceSentinelBin is the reference sentinel: env REFERENCE_SENTINEL or
// Debian's redis-sentinel.
var ReferenceSentinelBin = EnvOr("REFERENCE_SENTINEL", "/usr/bin/redis-sentinel")

// DefaultMasterName is the master name used when SentinelOptions.MasterName
// is empty.
const DefaultMasterName = "mymaster"

// SentinelOptions configures one sentinel process and the master it
// monitors.
type SentinelOptions struct {
	// Bin is the sentinel executable (redis-sentinel or gosentinel); it is
	// run as `Bin <config file> Args...`.
	Bin string
	// MasterName defaults to DefaultMasterName.
	MasterName string
	// MasterPort is the port of the monitored master on 127.0.0.1 (or on
	// MasterHost); 0 means no `sentinel monitor` line.
	MasterPort int
	// MasterHost is the master's address if not 127.0.0.1.
	MasterHost string
	// Host is the address to bind (default 127.0.0.1); Port a fixed port
	// (default: a free one). A sentinel in its own network namespace
	// (internal/netlab) uses the usual 26379 on its own address.
	Host string
	Port int
	// Wrap is a command prefix (ProcessSpec.Wrap), e.g. `ip netns exec`.
	Wrap []string
	// Quorum defaults to 2.
	Quorum int
	// DownAfter is written as `sentinel down-after-milliseconds` if > 0.
	DownAfter time.Duration
	// FailoverTimeout is written as `sentinel failover-timeout` if > 0.
	FailoverTimeout time.Duration
	// RequirePass is the sentinel's own password (requirepass).
	RequirePass string
	// AuthPass is the data nodes' password (`sentinel auth-pass`).
	AuthPass string
	// SentinelPass is the password for other sentinels
	// (`sentinel sentinel-pass`).
	SentinelPass string
	// Extra are more config lines, written as given.
	Extra []string
	// Args are extra command-line arguments after the config path.
	Args []string
	// TLS, if set, makes the sentinel TLS-only (port 0, tls-port, the
	// files, tls-replication yes, tls-auth-clients yes), written in the
	// config file unless TLSOnCommandLine, where they go as the Bitnami
	// chart passes them (TLSFiles.RedisArgs); the harness dials it with
	// TLS.Client.
	TLS              *TLSFiles
	TLSOnCommandLine bool
	// Env are NAME=value pairs for the sentinel process (ProcessSpec.Env).
	Env []string
}

// Sentinel is a sentinel process started by a test.
type Sentinel struct {
	*Process
	Opts SentinelOptions
	// ConfigPath is the config file the sentinel reads and rewrites.
	ConfigPath string
}

// withDefaults fills the defaults documented on SentinelOptions.
func (o SentinelOptions) withDefaults() SentinelOptions {
	if o.Bin == "" {
		o.Bin = ReferenceSentinelBin
	}
	if o.MasterName == "" {
		o.MasterName = DefaultMasterName
	}
	if o.Quorum == 0 {
		o.Quorum = 2
	}
	return o
}

// SentinelConfig renders the config file for a sentinel listening on port.
func SentinelConfig(o SentinelOptions, port int) string {
	o = o.withDefaults()
	host, masterHost := o.Host, o.MasterHost
	if host == "" {
		host = "127.0.0.1"
	}
	if masterHost == "" {
		masterHost = "127.0.0.1"
	}
	lines := []string{
		"port " + strconv.Itoa(port),
		"bind " + host,
	}
	if o.TLS != nil && !o.TLSOnCommandLine {
		args := o.TLS.RedisArgs(port)
		lines = lines[1:]
		for i := 0; i+1 < len(args); i += 2 {
			lines = append(lines, args[i][2:]+" "+args[i+1])
		}
	}
	if o.RequirePass != "" {
		lines = append(lines, "requirepass "+o.RequirePass)
	}
	if o.MasterPort != 0 {
		lines = append(lines, fmt.Sprintf("sentinel monitor %s %s %d %d", o.MasterName, masterHost, o.MasterPort, o.Quorum))
		if o.DownAfter > 0 {
			lines = append(lines, fmt.Sprintf("sentinel down-after-milliseconds %s %d", o.MasterName, o.DownAfter.Milliseconds()))
		}
		if o.FailoverTimeout > 0 {
			lines = append(lines, fmt.Sprintf("sentinel failover-timeout %s %d", o.MasterName, o.FailoverTimeout.Milliseconds()))
		}
		if o.AuthPass != "" {
			lines = append(lines, fmt.Sprintf("sentinel auth-pass %s %s", o.MasterName, o.AuthPass))
		}
	}
	if o.SentinelPass != "" {
		lines = append(lines, "sentinel sentinel-pass "+o.SentinelPass)
	}
	lines = append(lines, o.Extra...)
	return strings.Join(lines, "\n") + "\n"
}

// StartSentinel writes a config file into a fresh temp dir (the sentinel's
// working directory), starts the sentinel and waits until it answers PING.
// It fails the test on error.
func StartSentinel(t testing.TB, opts SentinelOptions) *Sentinel {
	t.Helper()
	s, err := StartSentinelErr(t, opts)
	if err != nil {
		t.Fatalf("start sentinel %s: %v", opts.Bin, err)
	}
	return s
}

// StartSentinelErr is StartSentinel returning the error instead of failing.
func StartSentinelErr(t testing.TB, opts SentinelOptions) (*Sentinel, error) {
	t.Helper()
	opts = opts.withDefaults()
	var confPath string
	p, err := startAt(t, opts.Port, func(port int) (ProcessSpec, error) {
		dir := t.TempDir()
		confPath = filepath.Join(dir, "sentinel.conf")
		if err := os.WriteFile(confPath, []byte(SentinelConfig(opts, port)), 0o644); err != nil {
			return ProcessSpec{}, fmt.Errorf("write sentinel config: %w", err)
		}
		name := fmt.Sprintf("sentinel-%d", port)
		if opts.Host != "" {
			name = fmt.Sprintf("sentinel-%s-%d", opts.Host, port)
		}
		args := []string{confPath}
		var tlsConf *tls.Config
		if opts.TLS != nil {
			tlsConf = opts.TLS.Client
			if opts.TLSOnCommandLine {
				args = append(args, opts.TLS.RedisArgs(port)...)
			}
		}
		args = append(args, opts.Args...)
		return ProcessSpec{
			TLS:  tlsConf,
			Name: name,
			Bin:  opts.Bin,
			Args: args,
			Dir:  dir,
			Port: port,
			Host: opts.Host,
			Wrap: opts.Wrap,
			Env:  opts.Env,
		}, nil
	})
	if err != nil {
		return nil, err
	}
	return &Sentinel{Process: p, Opts: opts, ConfigPath: confPath}, nil
}

// StartSentinels starts n sentinels with the same options.
func StartSentinels(t testing.TB, n int, opts SentinelOptions) []*Sentinel {
	t.Helper()
	out := make([]*Sentinel, n)
	for i := range out {
		out[i] = StartSentinel(t, opts)
	}
	return out
}

// DialErr opens a connection, authenticated with AUTH if the sentinel has a
// password; the caller closes it.
func (s *Sentinel) DialErr() (*Conn, error) {
	return dialAuth(s.Addr(), s.Opts.RequirePass, s.spec.TLS)
}

// Dial opens an authenticated connection (closed in t.Cleanup).
func (s *Sentinel) Dial(t testing.TB) *Conn {
	t.Helper()
	c, err := s.DialErr()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// Do runs one command on a new authenticated connection.
func (s *Sentinel) Do(args ...string) (*Reply, error) {
	c, err := s.DialErr()
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return c.Do(args...)
}

// ReadConfig returns the current content of the config file.
func (s *Sentinel) ReadConfig() (string, error) {
	b, err := os.ReadFile(s.ConfigPath)
	if err != nil {
		return "", fmt.Errorf("read sentinel config: %w", err)
	}
	return string(b), nil
}

// MyID returns SENTINEL MYID.
func (s *Sentinel) MyID() (string, error) {
	r, err := s.Do("SENTINEL", "MYID")
	if err != nil {
		return "", err
	}
	if err := r.Err(); err != nil {
		return "", err
	}
	return r.Str, nil
}

// Master returns SENTINEL MASTER <name> as a map.
func (s *Sentinel) Master(name string) (map[string]string, error) {
	r, err := s.Do("SENTINEL", "MASTER", name)
	if err != nil {
		return nil, err
	}
	return r.StringMap()
}

// Replicas returns SENTINEL REPLICAS <name> as maps.
func (s *Sentinel) Replicas(name string) ([]map[string]string, error) {
	r, err := s.Do("SENTINEL", "REPLICAS", name)
	if err != nil {
		return nil, err
	}
	return r.StringMaps()
}

// Sentinels returns SENTINEL SENTINELS <name> as maps.
func (s *Sentinel) Sentinels(name string) ([]map[string]string, error) {
	r, err := s.Do("SENTINEL", "SENTINELS", name)
	if err != nil {
		return nil, err
	}
	return r.StringMaps()
}

// CheckDiscovered returns nil once the sentinel sees the master with exactly
// the given replica ports (each with flags "slave", link ok and a runid, so
// it has read their INFO) and exactly the given other sentinel ports (flags
// "sentinel").
func (s *Sentinel) CheckDiscovered(name string, replicaPorts, sentinelPorts []int) error {
	m, err := s.Master(name)
	if err != nil {
		return err
	}
	if m["flags"] != "master" || m["runid"] == "" {
		return fmt.Errorf("%s: master flags=%q runid=%q", s.Name(), m["flags"], m["runid"])
	}
	reps, err := s.Replicas(name)
	if err != nil {
		return err
	}
	if err := samePorts("replicas", reps, replicaPorts, func(r map[string]string) error {
		if r["flags"] != "slave" || r["master-link-status"] != "ok" || r["runid"] == "" {
			return fmt.Errorf("replica %s: flags=%q master-link-status=%q runid=%q", r["name"], r["flags"], r["master-link-status"], r["runid"])
		}
		return nil
	}); err != nil {
		return fmt.Errorf("%s: %w", s.Name(), err)
	}
	sens, err := s.Sentinels(name)
	if err != nil {
		return err
	}
	if err := samePorts("sentinels", sens, sentinelPorts, func(r map[string]string) error {
		if r["flags"] != "sentinel" {
			return fmt.Errorf("sentinel %s: flags=%q", r["name"], r["flags"])
		}
		return nil
	}); err != nil {
		return fmt.Errorf("%s: %w", s.Name(), err)
	}
	return nil
}

// samePorts checks that the instance maps are exactly the 127.0.0.1
// instances on ports, each passing check.
func samePorts(what string, got []map[string]string, ports []int, check func(map[string]string) error) error {
	want := map[string]bool{}
	for _, p := range ports {
		want[strconv.Itoa(p)] = true
	}
	if len(got) != len(ports) {
		var have []string
		for _, g := range got {
			have = append(have, g["ip"]+":"+g["port"])
		}
		return fmt.Errorf("%s: have %v, want ports %v", what, have, ports)
	}
	for _, g := range got {
		if g["ip"] != "127.0.0.1" || !want[g["port"]] {
			return fmt.Errorf("%s: unexpected %s:%s, want ports %v", what, g["ip"], g["port"], ports)
		}
		if err := check(g); err != nil {
			return err
		}
	}
	return nil
}

// WaitDiscovered polls every sentinel until each sees all replicas of tp
// and all the other sentinels (see CheckDiscovered).
func WaitDiscovered(t testing.TB, sentinels []*Sentinel, tp *Topology, timeout time.Duration) {
	t.Helper()
	if err := WaitDiscoveredErr(sentinels, tp, timeout); err != nil {
		t.Fatal(err)
	}
}

// WaitDiscoveredErr is WaitDiscovered returning the error.
func WaitDiscoveredErr(sentinels []*Sentinel, tp *Topology, timeout time.Duration) error {
	var replicaPorts []int
	for _, r := range tp.Replicas {
		replicaPorts = append(replicaPorts, r.Port())
	}
	return PollErr(timeout, 100*time.Millisecond, func() error {
		for _, s := range sentinels {
			var others []int
			for _, o := range sentinels {
				if o != s {
					others = append(others, o.Port())
				}
			}
			if err := s.CheckDiscovered(s.Opts.MasterName, replicaPorts, others); err != nil {
				return err
			}
		}
		return nil
	})
}
