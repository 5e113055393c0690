// Package partition runs the partition scenario of issue 9 in a network
// lab (internal/netlab): a redis-server master with two replicas watched
// by three sentinels (gosentinel or redis-sentinel), each in its own
// network namespace, and a go-redis FailoverClient in a namespace of its
// own. {master, one sentinel, client} are cut from {two sentinels, two
// replicas} by iptables DROP for a while, then healed, and Run measures
// what a user of that deployment sees: when the majority side announced a
// new master, how long two data nodes accepted writes at once, which
// acknowledged writes the final master does not have, and when the old
// master was demoted after the heal.
//
// It is shared by the benchmark (bench/partition/cmd, side by side with
// redis-sentinel) and the system test (test/netlab_test.go, which asserts
// what gosentinel guarantees today), so both run the same scenario.
package partition

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/bench/harness"
	"github.com/x0tta6bl4/gosentinel/internal/netlab"
	"github.com/x0tta6bl4/gosentinel/internal/redistest"
)

// Every host has its own network namespace and so its own port space:
// every data node listens on Redis' usual port and every sentinel on the
// sentinel's, each on its own address.
const (
	RedisPort    = 6379
	SentinelPort = 26379
)

// Options describe one run. Zero fields take the defaults documented on
// each.
type Options struct {
	// Bin is the sentinel executable; Raft says it is gosentinel.
	Bin  string
	Raft bool
	// DownAfter defaults to 1 s, Cut (how long the partition lasts) to 8 s,
	// FailoverTimeout to 10 s.
	DownAfter, Cut, FailoverTimeout time.Duration
	// StaleAfter is GOSENTINEL_STALE_AFTER_MS if > 0.
	StaleAfter time.Duration
	// Interval is the writers' pause after each write (default 2 ms).
	Interval time.Duration
	// ReadyTimeout bounds the deployment's start (default 60 s);
	// SettleTimeout how long after the heal the run waits for the old
	// master's demotion and for every sentinel to agree (default 60 s).
	ReadyTimeout, SettleTimeout time.Duration
	// Logf, if set, receives progress lines.
	Logf func(format string, args ...any)
}

func (o Options) withDefaults() Options {
	if o.DownAfter == 0 {
		o.DownAfter = time.Second
	}
	if o.Cut == 0 {
		o.Cut = 8 * time.Second
	}
	if o.FailoverTimeout == 0 {
		o.FailoverTimeout = 10 * time.Second
	}
	if o.Interval == 0 {
		o.Interval = 2 * time.Millisecond
	}
	if o.ReadyTimeout == 0 {
		o.ReadyTimeout = 60 * time.Second
	}
	if o.SettleTimeout == 0 {
		o.SettleTimeout = 60 * time.Second
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	return o
}

// Deployment is the scenario's processes in a lab. Index 0 of Nodes and
// Sentinels is on the side that is cut off with the client.
type Deployment struct {
	Opts Options
	Lab  *netlab.Lab
	// NodeHosts[i] runs Nodes[i]; SentinelHosts[i] runs Sentinels[i].
	NodeHosts, SentinelHosts []*netlab.Host
	Client                   *netlab.Host
	Nodes                    []*redistest.Redis
	Sentinels                []*redistest.Sentinel
}

// AllBut is every host of the deployment (nodes, sentinels, the client)
// except h: what to cut h from to isolate it.
func (d *Deployment) AllBut(h *netlab.Host) []*netlab.Host {
	var out []*netlab.Host
	for _, x := range append(append(append([]*netlab.Host{}, d.NodeHosts...), d.SentinelHosts...), d.Client) {
		if x != h {
			out = append(out, x)
		}
	}
	return out
}

// Start creates a lab (closed in tb's cleanup, after the processes are
// stopped) and starts the deployment in it, then waits until every
// sentinel has discovered every replica and every other sentinel and, for
// gosentinel, until they formed one Raft group.
func Start(tb testing.TB, o Options) (*Deployment, error) {
	tb.Helper()
	o = o.withDefaults()
	lab, err := netlab.New()
	if err != nil {
		return nil, err
	}
	// Registered first, so it runs last: every process of the run is
	// stopped (by the launchers' cleanups) before its namespace goes.
	tb.Cleanup(func() {
		if err := lab.Close(); err != nil {
			tb.Errorf("close the lab: %v", err)
		}
	})
	if o.Raft && o.StaleAfter > 0 {
		tb.Setenv("GOSENTINEL_STALE_AFTER_MS", strconv.FormatInt(o.StaleAfter.Milliseconds(), 10))
	}
	d := &Deployment{Opts: o, Lab: lab}
	for _, name := range []string{"m", "r1", "r2"} {
		h, err := lab.AddHost(name)
		if err != nil {
			return nil, err
		}
		d.NodeHosts = append(d.NodeHosts, h)
	}
	for _, name := range []string{"s1", "s2", "s3"} {
		h, err := lab.AddHost(name)
		if err != nil {
			return nil, err
		}
		d.SentinelHosts = append(d.SentinelHosts, h)
	}
	if d.Client, err = lab.AddHost("client"); err != nil {
		return nil, err
	}
	master := d.NodeHosts[0]
	for i, h := range d.NodeHosts {
		// Protected mode refuses clients from other addresses when there
		// is no password: every peer here is on another address.
		ro := redistest.RedisOptions{Host: h.IP, Port: RedisPort, Wrap: h.Wrap(), Args: []string{"--protected-mode", "no"}}
		if i > 0 {
			ro.ReplicaOf, ro.ReplicaOfHost = RedisPort, master.IP
		}
		d.Nodes = append(d.Nodes, redistest.StartRedis(tb, ro))
	}
	tp := &redistest.Topology{Master: d.Nodes[0], Replicas: d.Nodes[1:]}
	tp.WaitReplicasOnline(tb, o.ReadyTimeout)
	for _, h := range d.SentinelHosts {
		s, err := redistest.StartSentinelErr(tb, redistest.SentinelOptions{
			Bin: o.Bin, Host: h.IP, Port: SentinelPort, Wrap: h.Wrap(),
			MasterHost: master.IP, MasterPort: RedisPort, Quorum: 2,
			DownAfter: o.DownAfter, FailoverTimeout: o.FailoverTimeout,
			Extra: []string{"protected-mode no"},
		})
		if err != nil {
			return nil, err
		}
		d.Sentinels = append(d.Sentinels, s)
	}
	if err := d.waitDiscovered(o.ReadyTimeout); err != nil {
		return nil, err
	}
	if o.Raft {
		hd := &harness.Deployment{Sentinels: d.Sentinels}
		if err := hd.WaitGroupActive(d.Sentinels, o.ReadyTimeout); err != nil {
			return nil, err
		}
		if err := harness.OneNewGroup(d.Sentinels); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// waitDiscovered polls until every sentinel reports the master, both
// replicas (by address, link ok) and the two other sentinels.
// redistest.WaitDiscovered tells instances apart by port, which is the
// same for every host here.
func (d *Deployment) waitDiscovered(timeout time.Duration) error {
	var replicaIPs, sentinelIPs []string
	for _, h := range d.NodeHosts[1:] {
		replicaIPs = append(replicaIPs, h.IP)
	}
	for _, h := range d.SentinelHosts {
		sentinelIPs = append(sentinelIPs, h.IP)
	}
	return redistest.PollErr(timeout, 100*time.Millisecond, func() error {
		for i, s := range d.Sentinels {
			m, err := s.Master(harness.MasterName)
			if err != nil {
				return err
			}
			if m["flags"] != "master" || m["runid"] == "" {
				return fmt.Errorf("%s: master flags=%q runid=%q", s.Name(), m["flags"], m["runid"])
			}
			reps, err := s.Replicas(harness.MasterName)
			if err != nil {
				return err
			}
			var got []string
			for _, r := range reps {
				if r["flags"] == "slave" && r["master-link-status"] == "ok" && r["runid"] != "" {
					got = append(got, r["ip"])
				}
			}
			if !sameSet(got, replicaIPs) {
				return fmt.Errorf("%s: healthy replicas %v, want %v", s.Name(), got, replicaIPs)
			}
			sens, err := s.Sentinels(harness.MasterName)
			if err != nil {
				return err
			}
			got = got[:0]
			for _, r := range sens {
				if r["flags"] == "sentinel" {
					got = append(got, r["ip"])
				}
			}
			others := slices.Delete(slices.Clone(sentinelIPs), i, i+1)
			if !sameSet(got, others) {
				return fmt.Errorf("%s: sentinels %v, want %v", s.Name(), got, others)
			}
		}
		return nil
	})
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// MasterAddr asks s for GET-MASTER-ADDR-BY-NAME; "" means a null reply.
func MasterAddr(s *redistest.Sentinel) (string, error) {
	r, err := s.Do("SENTINEL", "GET-MASTER-ADDR-BY-NAME", harness.MasterName)
	if err != nil {
		return "", err
	}
	if r.Kind == redistest.KindNull {
		return "", nil
	}
	addr, err := r.Strings()
	if err != nil {
		return "", err
	}
	if len(addr) != 2 {
		return "", fmt.Errorf("%s: GET-MASTER-ADDR-BY-NAME = %s", s.Name(), r)
	}
	return net.JoinHostPort(addr[0], addr[1]), nil
}

// AgreedMaster returns the master every sentinel of ss reports, or an
// error if one fails, answers null or they disagree.
func AgreedMaster(ss []*redistest.Sentinel) (string, error) {
	agreed := ""
	for _, s := range ss {
		a, err := MasterAddr(s)
		if err != nil {
			return "", err
		}
		if a == "" {
			return "", fmt.Errorf("%s answers null", s.Name())
		}
		if agreed != "" && a != agreed {
			return "", fmt.Errorf("sentinels disagree: %s and %s", agreed, a)
		}
		agreed = a
	}
	return agreed, nil
}

// nodeRole reads ROLE's first element from n ("master", "slave"), "" if
// it does not answer.
func nodeRole(n *redistest.Redis) string {
	r := harness.ReadRole(n, 200*time.Millisecond)
	if r.Err != nil {
		return ""
	}
	return r.Role
}

// names lists the hosts' names, for messages.
func names(hs []*netlab.Host) string {
	var out []string
	for _, h := range hs {
		out = append(out, h.Name)
	}
	return strings.Join(out, ",")
}
