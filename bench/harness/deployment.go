package harness

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/internal/redistest"
)

// What gosentinel logs about its Raft group (internal/group, node): once
// it is a member; when it bootstraps the group's chosen configuration
// (every member of that configuration does, with the same voters); when
// it joined through a leader; and when it opened Raft as a voter the
// group lists (it lost its state, or it missed the bootstrap of the
// configuration it had promised).
const (
	GroupActiveLine = "Sentinel Raft group active"
	BootstrapLine   = "Bootstrapping the Sentinel Raft group"
	JoinedLine      = "Joined the Sentinel Raft group"
	RejoinedLine    = "Rejoining the Sentinel Raft group as one of its voters"
	FormedWithLine  = "Joining the Sentinel Raft group it was formed with as one of its voters"
)

// Options describe a deployment. Zero fields take the defaults documented
// on each.
type Options struct {
	// Bin is the sentinel executable (gosentinel or redis-sentinel).
	Bin string
	// Raft says Bin is gosentinel: Start waits until every sentinel logged
	// GroupActiveLine and checks that they formed one group.
	Raft bool
	// Settle is GOSENTINEL_SETTLE_MS if > 0 (else gosentinel's default).
	Settle time.Duration
	// StaleAfter is GOSENTINEL_STALE_AFTER_MS if > 0.
	StaleAfter time.Duration
	// Sentinels defaults to 3, Replicas to 2, Quorum to 2.
	Sentinels, Replicas, Quorum int
	// DownAfter defaults to 1 s.
	DownAfter time.Duration
	// FailoverTimeout defaults to 10 s.
	FailoverTimeout time.Duration
	// Secret, if set, is the sentinels' requirepass and sentinel-pass (and
	// so gosentinel's Raft secret).
	Secret string
	// Extra are more sentinel config lines.
	Extra []string
	// ReadyTimeout bounds discovery and group formation (default 60 s).
	ReadyTimeout time.Duration
	// DiscoveryOnly makes Start return as soon as every sentinel has
	// discovered every replica and every other sentinel, which is when a
	// fresh deployment looks ready to a user: for gosentinel it neither
	// waits for GroupActiveLine nor checks OneNewGroup, so the Raft group
	// may not exist yet (or may still split). Deployment.Discovered says
	// when that was.
	DiscoveryOnly bool
}

func (o Options) withDefaults() Options {
	if o.Sentinels == 0 {
		o.Sentinels = 3
	}
	if o.Replicas == 0 {
		o.Replicas = 2
	}
	if o.Quorum == 0 {
		o.Quorum = 2
	}
	if o.DownAfter == 0 {
		o.DownAfter = time.Second
	}
	if o.FailoverTimeout == 0 {
		o.FailoverTimeout = 10 * time.Second
	}
	if o.ReadyTimeout == 0 {
		o.ReadyTimeout = 60 * time.Second
	}
	return o
}

// Deployment is a master with replicas watched by sentinels, all started
// by one test (or one benchmark run).
type Deployment struct {
	Opts      Options
	Topology  *redistest.Topology
	Sentinels []*redistest.Sentinel
	// Nodes are the data nodes in start order: the first master, then its
	// replicas. Roles change with failovers; ports do not.
	Nodes []*redistest.Redis
	// Discovered is when Start saw every sentinel report every replica and
	// every other sentinel (redistest.WaitDiscovered returned). It is late
	// by up to that poll's interval (100 ms) plus the time of one round of
	// queries, never early.
	Discovered time.Time
}

// MasterName is the name every sentinel monitors.
const MasterName = redistest.DefaultMasterName

// Start starts the deployment and waits until every sentinel has
// discovered every replica and every other sentinel and, for gosentinel
// unless o.DiscoveryOnly, until every sentinel is a member of the Raft
// group. It fails tb on error.
func Start(tb testing.TB, o Options) *Deployment {
	tb.Helper()
	o = o.withDefaults()
	tp := redistest.StartTopology(tb, o.Replicas, redistest.RedisOptions{})
	d := &Deployment{Opts: o, Topology: tp}
	d.Nodes = append([]*redistest.Redis{tp.Master}, tp.Replicas...)
	d.Sentinels = redistest.StartSentinels(tb, o.Sentinels, d.SentinelOptions())
	redistest.WaitDiscovered(tb, d.Sentinels, tp, o.ReadyTimeout)
	d.Discovered = time.Now()
	if o.Raft && !o.DiscoveryOnly {
		if err := d.WaitGroupActive(d.Sentinels, o.ReadyTimeout); err != nil {
			tb.Fatal(err)
		}
		if err := OneNewGroup(d.Sentinels); err != nil {
			tb.Fatal(err)
		}
	}
	return d
}

// SentinelOptions are the options every sentinel of d was started with;
// tests start extra sentinels (intruders) from a modified copy.
func (d *Deployment) SentinelOptions() redistest.SentinelOptions {
	o := d.Opts
	so := redistest.SentinelOptions{
		Bin: o.Bin, MasterPort: d.Topology.Master.Port(), Quorum: o.Quorum,
		DownAfter: o.DownAfter, FailoverTimeout: o.FailoverTimeout,
		RequirePass: o.Secret, SentinelPass: o.Secret, Extra: o.Extra,
	}
	// In each sentinel's environment rather than the test's (t.Setenv),
	// so that tests may run in parallel.
	if o.Raft && o.Settle > 0 {
		so.Env = append(so.Env, "GOSENTINEL_SETTLE_MS="+strconv.FormatInt(o.Settle.Milliseconds(), 10))
	}
	if o.Raft && o.StaleAfter > 0 {
		so.Env = append(so.Env, "GOSENTINEL_STALE_AFTER_MS="+strconv.FormatInt(o.StaleAfter.Milliseconds(), 10))
	}
	return so
}

// SentinelAddrs are the sentinels' host:port addresses.
func (d *Deployment) SentinelAddrs() []string {
	out := make([]string, len(d.Sentinels))
	for i, s := range d.Sentinels {
		out[i] = s.Addr()
	}
	return out
}

// Node returns the data node listening on port, or nil.
func (d *Deployment) Node(port int) *redistest.Redis {
	for _, n := range d.Nodes {
		if n.Port() == port {
			return n
		}
	}
	return nil
}

// WaitGroupActive polls the logs of ss until each one's current run logged
// GroupActiveLine.
func (d *Deployment) WaitGroupActive(ss []*redistest.Sentinel, timeout time.Duration) error {
	return redistest.PollErr(timeout, 50*time.Millisecond, func() error {
		for _, s := range ss {
			if !s.Running() {
				return redistest.Abort(fmt.Errorf("%s is not running", s.Name()))
			}
			if !strings.Contains(RunLog(s.Process), GroupActiveLine) {
				return fmt.Errorf("%s has not logged %q yet", s.Name(), GroupActiveLine)
			}
		}
		return nil
	})
}

// GroupActive counts the sentinels of ss whose current run logged
// GroupActiveLine.
func GroupActive(ss []*redistest.Sentinel) int {
	n := 0
	for _, s := range ss {
		if strings.Contains(RunLog(s.Process), GroupActiveLine) {
			n++
		}
	}
	return n
}

// OneNewGroup checks that freshly started sentinels formed one Raft group:
// at least one of them bootstrapped it, all those that bootstrapped used
// the same voters, and every other one joined it or was counted as one of
// its voters. Each of them logging GroupActiveLine proves nothing by
// itself: a sentinel that bootstrapped a group of its own logs it too.
func OneNewGroup(ss []*redistest.Sentinel) error {
	var boot, alone []string
	configs := map[string]bool{}
	for _, s := range ss {
		log := RunLog(s.Process)
		switch {
		case strings.Contains(log, BootstrapLine):
			line := LineWith(log, BootstrapLine)
			boot = append(boot, s.Name()+": "+line)
			_, voters, _ := strings.Cut(line, "voters=")
			voters, _, _ = strings.Cut(voters, " ")
			configs[voters] = true
		case !strings.Contains(log, JoinedLine) && !strings.Contains(log, RejoinedLine) && !strings.Contains(log, FormedWithLine):
			alone = append(alone, s.Name())
		}
	}
	if len(boot) == 0 || len(configs) != 1 || len(alone) > 0 {
		return fmt.Errorf("%d sentinels bootstrapped %d different Raft configurations (want 1), %d neither bootstrapped nor joined one %v; split brain:\n%s",
			len(boot), len(configs), len(alone), alone, strings.Join(boot, "\n"))
	}
	return nil
}

// LineWith returns the first line of log containing s, or "".
func LineWith(log, s string) string {
	i := strings.Index(log, s)
	if i < 0 {
		return ""
	}
	start := strings.LastIndexByte(log[:i], '\n') + 1
	end := strings.IndexByte(log[i:], '\n')
	if end < 0 {
		return log[start:]
	}
	return log[start : i+end]
}

// MasterPort asks s for GET-MASTER-ADDR-BY-NAME; 0 means a null reply.
func MasterPort(s *redistest.Sentinel) (int, error) {
	r, err := s.Do("SENTINEL", "GET-MASTER-ADDR-BY-NAME", MasterName)
	if err != nil {
		return 0, err
	}
	if r.Kind == redistest.KindNull {
		return 0, nil
	}
	addr, err := r.Strings()
	if err != nil {
		return 0, err
	}
	if len(addr) != 2 {
		return 0, fmt.Errorf("%s: GET-MASTER-ADDR-BY-NAME = %s", s.Name(), r)
	}
	return strconv.Atoi(addr[1])
}

// AgreedMasterPort returns the master port every running sentinel of d
// reports, or an error if one fails, answers null or disagrees.
func (d *Deployment) AgreedMasterPort() (int, error) {
	port := 0
	for _, s := range d.Sentinels {
		if !s.Running() {
			continue
		}
		p, err := MasterPort(s)
		if err != nil {
			return 0, err
		}
		if p == 0 {
			return 0, fmt.Errorf("%s answers GET-MASTER-ADDR-BY-NAME with null", s.Name())
		}
		if port != 0 && p != port {
			return 0, fmt.Errorf("sentinels disagree on the master: %d and %d", port, p)
		}
		port = p
	}
	if port == 0 {
		return 0, fmt.Errorf("no running sentinel")
	}
	return port, nil
}

// WaitSwitched polls until every running sentinel reports the same master
// port other than old, and returns it.
func (d *Deployment) WaitSwitched(old int, timeout time.Duration) (int, error) {
	var port int
	err := redistest.PollErr(timeout, 10*time.Millisecond, func() error {
		p, err := d.AgreedMasterPort()
		if err != nil {
			return err
		}
		if p == old {
			return fmt.Errorf("every sentinel still reports master %d", old)
		}
		port = p
		return nil
	})
	return port, err
}

// ConfigEpoch returns SENTINEL MASTER's config-epoch on s.
func ConfigEpoch(s *redistest.Sentinel) (int, error) {
	m, err := s.Master(MasterName)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(m["config-epoch"])
}

// ManualFailover sends SENTINEL FAILOVER to the sentinels in order and
// returns the index of the first that accepted it. allowNotLeader lets it
// skip a gosentinel that is not the Raft leader; otherwise any error reply
// is returned.
func (d *Deployment) ManualFailover(order []int, allowNotLeader bool) (int, error) {
	var errs []string
	for _, i := range order {
		r, err := d.Sentinels[i].Do("SENTINEL", "FAILOVER", MasterName)
		if err != nil {
			return -1, err
		}
		if r.Kind != redistest.KindError {
			return i, nil
		}
		errs = append(errs, fmt.Sprintf("%s: %s", d.Sentinels[i].Name(), r.Str))
		if !allowNotLeader || !strings.Contains(r.Str, "not the failover leader") {
			break
		}
	}
	return -1, fmt.Errorf("SENTINEL FAILOVER refused: %s", strings.Join(errs, "; "))
}
