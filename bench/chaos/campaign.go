package chaos

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/bench/harness"
	"github.com/x0tta6bl4/gosentinel/bench/partition"
	"github.com/x0tta6bl4/gosentinel/config"
	"github.com/x0tta6bl4/gosentinel/internal/netlab"
	"github.com/x0tta6bl4/gosentinel/internal/redistest"
)

// Options describe a campaign. Zero fields take the defaults documented
// on each.
type Options struct {
	// Bin is the sentinel executable; Raft says it is gosentinel.
	Bin  string
	Raft bool
	// Fence runs gosentinel with GOSENTINEL_FENCE=on.
	Fence bool
	// Faults is the schedule (Schedule).
	Faults []Fault
	// DownAfter defaults to 1 s, FailoverTimeout to 10 s.
	DownAfter, FailoverTimeout time.Duration
	// SettleTimeout bounds the wait for the deployment to settle after a
	// fault (default 60 s).
	SettleTimeout time.Duration
	// Interval is the writers' pause after each write (default 5 ms).
	Interval time.Duration
	// OnFault, if set, receives each fault's record and violations as soon
	// as they are known.
	OnFault func(Record, []Violation)
	// LogDir, if set, receives every sentinel's log of its current run
	// after a fault that broke an invariant (fault-<n>-<sentinel>.log), to
	// find the cause.
	LogDir string
	// Logf, if set, receives progress lines.
	Logf func(format string, args ...any)
}

func (o Options) withDefaults() Options {
	if o.DownAfter == 0 {
		o.DownAfter = time.Second
	}
	if o.FailoverTimeout == 0 {
		o.FailoverTimeout = 10 * time.Second
	}
	if o.SettleTimeout == 0 {
		o.SettleTimeout = 60 * time.Second
	}
	if o.Interval == 0 {
		o.Interval = 5 * time.Millisecond
	}
	if o.OnFault == nil {
		o.OnFault = func(Record, []Violation) {}
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	return o
}

// Report is a campaign's outcome: a record and its violations per fault.
type Report struct {
	Records    []Record
	Violations [][]Violation
	Took       time.Duration
	// Rebuilt counts the deployments started afresh after a fault that
	// did not settle.
	Rebuilt int
}

// Count returns how many faults broke inv.
func (r Report) Count(inv Invariant) int {
	n := 0
	for _, vs := range r.Violations {
		for _, v := range vs {
			if v.Invariant == inv {
				n++
			}
		}
	}
	return n
}

// Total returns how many faults broke any invariant.
func (r Report) Total() int {
	n := 0
	for _, vs := range r.Violations {
		if len(vs) > 0 {
			n++
		}
	}
	return n
}

// LeaderMissed counts the leader faults that found no failover to
// interrupt.
func (r Report) LeaderMissed() int {
	n := 0
	for _, rec := range r.Records {
		if rec.LeaderMissed {
			n++
		}
	}
	return n
}

// campaign is one deployment under a schedule.
type campaign struct {
	tb           testing.TB
	o            Options
	d            *partition.Deployment
	plain, wait1 *harness.Writer
	// checked counts each writer's acknowledged writes checked fully;
	// lost holds the keys of those found missing after an earlier fault,
	// which a later one's sample must not count again.
	checked map[*harness.Writer]int
	lost    map[*harness.Writer]map[string]bool
	// master is the index of the data node the sentinels agree on.
	master int
}

// Run starts a deployment (partition.Start) with both writers and runs
// o.Faults against it, one after another, each followed by the settle
// and the checks. A fault that does not settle is a violation, and the
// campaign goes on with a fresh deployment. Run returns an error only
// when a deployment cannot start.
func Run(tb testing.TB, o Options) (Report, error) {
	tb.Helper()
	o = o.withDefaults()
	if o.Raft && o.Fence {
		tb.Setenv(config.EnvFence, "on")
	}
	start := time.Now()
	var rep Report
	c := &campaign{tb: tb, o: o}
	if err := c.build(); err != nil {
		return rep, fmt.Errorf("start: %w", err)
	}
	defer c.stopWriters()
	for i, f := range o.Faults {
		r := c.fault(i+1, f)
		vs := Check(r)
		rep.Records = append(rep.Records, r)
		rep.Violations = append(rep.Violations, vs)
		if len(vs) > 0 && o.LogDir != "" {
			c.saveLogs(r.Index)
		}
		o.OnFault(r, vs)
		if !r.Settled && i+1 < len(o.Faults) {
			o.Logf("fault %d did not settle: a fresh deployment for the next faults", r.Index)
			c.teardown()
			if err := c.build(); err != nil {
				rep.Took = time.Since(start)
				return rep, fmt.Errorf("rebuild after fault %d: %w", r.Index, err)
			}
			rep.Rebuilt++
		}
	}
	rep.Took = time.Since(start)
	return rep, nil
}

// build starts a deployment and both writers, and waits until it settled.
func (c *campaign) build() error {
	d, err := partition.Start(c.tb, partition.Options{
		Bin: c.o.Bin, Raft: c.o.Raft, DownAfter: c.o.DownAfter, FailoverTimeout: c.o.FailoverTimeout,
		Interval: c.o.Interval, Logf: c.o.Logf,
	})
	if err != nil {
		return err
	}
	c.d, c.master = d, 0
	var addrs []string
	for _, s := range d.Sentinels {
		addrs = append(addrs, s.Addr())
	}
	wo := harness.WriterOptions{SentinelAddrs: addrs, Interval: c.o.Interval, Dialer: d.Client.DialContext, Prefix: "plain"}
	c.plain = harness.StartWriter(wo)
	wo.Prefix, wo.WaitReplicas = "wait1", 1
	c.wait1 = harness.StartWriter(wo)
	c.checked = map[*harness.Writer]int{}
	c.lost = map[*harness.Writer]map[string]bool{c.plain: {}, c.wait1: {}}
	var r Record
	c.settle(&r)
	if !r.Settled {
		return errors.New(r.SettleErr)
	}
	return nil
}

func (c *campaign) stopWriters() {
	for _, w := range []*harness.Writer{c.plain, c.wait1} {
		if w != nil {
			w.Stop()
		}
	}
}

// teardown stops the writers and every process of the deployment and
// removes its lab (the cleanups registered by the launchers and the lab
// find them gone).
func (c *campaign) teardown() {
	c.stopWriters()
	for _, n := range c.d.Nodes {
		_ = n.Stop(redistest.StopTimeout)
	}
	for _, s := range c.d.Sentinels {
		_ = s.Stop(redistest.StopTimeout)
	}
	if err := c.d.Lab.Close(); err != nil {
		c.o.Logf("close the lab: %v", err)
	}
}

// fault injects f, holds it, undoes it, waits for the settle and records
// what the checks need.
func (c *campaign) fault(index int, f Fault) Record {
	r := Record{Index: index, Fault: f, Deadline: f.Deadline(c.o.DownAfter, c.o.FailoverTimeout),
		FailoverAfter: -1, OldMaster: c.name(c.master)}
	old := c.d.Nodes[c.master].Addr()
	switches := harness.CountEvents(c.d.Sentinels, "+switch-master")
	probe := partition.StartProbe(c.d.Nodes, partition.ProbePeriod)
	start := time.Now()
	r.Start = start
	in, err := c.inject(f, &r, start, old)
	if err != nil {
		r.InjectErr = err.Error()
	}
	c.hold(f, &r, start, old, in.down)
	if in.undo != nil {
		if err := in.undo(); err != nil {
			r.InjectErr = strings.TrimPrefix(r.InjectErr+"; undo: "+err.Error(), "; ")
		}
	}
	c.settleAndCheck(&r)
	r.Probe = probe.Stop()
	r.Switches = harness.CountEvents(c.d.Sentinels, "+switch-master") - switches
	return r
}

// injected is a fault in place: how to undo it, and which sentinels do
// not answer while it lasts (stopped or killed).
type injected struct {
	undo func() error
	down map[int]bool
}

// inject puts f in place.
func (c *campaign) inject(f Fault, r *Record, start time.Time, old string) (injected, error) {
	d := c.d
	in := injected{down: map[int]bool{}}
	replica := c.replica(f.Replica)
	switch f.Kind {
	case KillMaster:
		in.undo = func() error { return c.restartNode(c.master) }
		return in, d.Nodes[c.master].Kill()
	case StopMaster:
		in.undo = d.Nodes[c.master].Resume
		return in, d.Nodes[c.master].Pause()
	case KillLeader, StopLeader:
		master := c.master
		in.undo = func() error { return c.restartNode(master) }
		if err := d.Nodes[master].Kill(); err != nil {
			return in, err
		}
		leader := c.failoverLeader(start.Add(r.Deadline), old)
		if leader < 0 {
			r.LeaderMissed = true
			return in, nil
		}
		s := d.Sentinels[leader]
		r.Leader = d.SentinelHosts[leader].Name
		in.down[leader] = true
		if f.Kind == KillLeader {
			in.undo = func() error { return errors.Join(s.Start(), c.restartNode(master)) }
			return in, s.Kill()
		}
		in.undo = func() error { return errors.Join(s.Resume(), c.restartNode(master)) }
		return in, s.Pause()
	case KillReplica:
		in.undo = func() error { return c.restartNode(replica) }
		return in, d.Nodes[replica].Kill()
	case StopReplica:
		in.undo = d.Nodes[replica].Resume
		return in, d.Nodes[replica].Pause()
	case CutMasterSentinel:
		in.undo = d.Lab.Heal
		minority := []*netlab.Host{d.NodeHosts[c.master], d.SentinelHosts[f.Sentinel], d.Client}
		return in, d.Lab.Cut(minority, c.otherHosts(minority))
	case CutSentinel:
		in.undo = d.Lab.Heal
		lone := []*netlab.Host{d.SentinelHosts[f.Sentinel]}
		return in, d.Lab.Cut(lone, c.otherHosts(lone))
	case CutReplica:
		in.undo = d.Lab.Heal
		lone := []*netlab.Host{d.NodeHosts[replica]}
		return in, d.Lab.Cut(lone, c.otherHosts(lone))
	case Loss:
		in.undo = d.Lab.Heal
		var errs []error
		for _, h := range d.Lab.Hosts() {
			errs = append(errs, d.Lab.Loss(h, f.Loss))
		}
		return in, errors.Join(errs...)
	case RestartSentinels:
		return in, c.restartSentinels(f.Rolling)
	}
	return in, fmt.Errorf("unknown fault kind %v", f.Kind)
}

// hold keeps the fault in place for f.Hold and, when f requires a
// failover, until a majority agrees on a new master or the deadline
// passed; meanwhile it records when a majority first agreed on a master
// other than old.
func (c *campaign) hold(f Fault, r *Record, start time.Time, old string, down map[int]bool) {
	holdEnd := start.Add(f.Hold)
	_ = redistest.PollErr(time.Until(start.Add(r.Deadline)), 20*time.Millisecond, func() error {
		if r.FailoverAfter < 0 {
			if a := c.majorityMaster(down); a != "" && a != old {
				r.FailoverAfter = time.Since(start)
			}
		}
		if time.Now().Before(holdEnd) || (f.Expect() == ExpectFailover && r.FailoverAfter < 0) {
			return redistest.ErrNotYet
		}
		return nil
	})
}

// failoverLeader polls until a failover of the master at old has begun
// and returns the index of the sentinel running it: gosentinel's Raft
// leader once the group recorded the failover, or the redis-sentinel
// whose failover-state is past wait_start (it won the election). It
// returns -1 when the failover ended (a majority agrees on another
// master) before it saw it, or the deadline passed.
func (c *campaign) failoverLeader(deadline time.Time, old string) int {
	leader := -1
	err := redistest.PollErr(time.Until(deadline), 10*time.Millisecond, func() error {
		if a := c.majorityMaster(nil); a != "" && a != old {
			return redistest.Abort(errMissed)
		}
		for i, s := range c.d.Sentinels {
			m, err := askMap(s, "SENTINEL", "MASTER", harness.MasterName)
			if err != nil {
				continue
			}
			if c.o.Raft {
				if !strings.Contains(m["flags"], "failover_in_progress") {
					continue
				}
				if l := c.raftLeader(); l >= 0 {
					leader = l
					return nil
				}
				continue
			}
			switch m["failover-state"] {
			case "", "none", "wait_start":
			default:
				leader = i
				return nil
			}
		}
		return redistest.ErrNotYet
	})
	if err != nil {
		return -1
	}
	return leader
}

var errMissed = errors.New("the failover ended before its leader was seen")

// raftLeader returns the index of the sentinel whose INFO raft says
// leader, or -1.
func (c *campaign) raftLeader() int {
	for i, s := range c.d.Sentinels {
		r, err := ask(s, "INFO", "raft")
		if err != nil || r.Kind == redistest.KindError {
			continue
		}
		if redistest.ParseInfo(r.Str)["raft_state"] == "leader" {
			return i
		}
	}
	return -1
}

// restartNode starts killed data node i again: as a replica of the master
// a majority of the sentinels agrees on, or as a master if that is i
// itself (no failover happened) or nobody agrees and i was the master.
func (c *campaign) restartNode(i int) error {
	n := c.d.Nodes[i]
	agreed := c.majorityMaster(nil)
	if agreed == "" && i != c.master {
		agreed = c.d.Nodes[c.master].Addr()
	}
	if agreed == "" || agreed == n.Addr() {
		return n.StartAsReplicaOf("", 0)
	}
	host, _, err := net.SplitHostPort(agreed)
	if err != nil {
		return err
	}
	return n.StartAsReplicaOf(host, partition.RedisPort)
}

// restartSentinels restarts every sentinel: one after another (each
// answering PING before the next stops), or all stopped, then all started.
func (c *campaign) restartSentinels(rolling bool) error {
	ss := c.d.Sentinels
	if rolling {
		for _, s := range ss {
			if err := s.Restart(); err != nil {
				return err
			}
		}
		return nil
	}
	errs := make([]error, len(ss))
	var wg sync.WaitGroup
	for i, s := range ss {
		wg.Go(func() { errs[i] = s.Stop(redistest.StopTimeout) })
	}
	wg.Wait()
	for i, s := range ss {
		wg.Go(func() { errs[i] = errors.Join(errs[i], s.Start()) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// settleAttempts bounds how often settleAndCheck settles again because
// the master changed while it read the writes.
const settleAttempts = 3

// settleAndCheck settles (settle), then reads the writers' acknowledged
// writes from the master, and keeps the result only if the sentinels
// still agree on that master afterwards: a failover during the reads
// would report writes the new master acknowledged as lost on the old one.
func (c *campaign) settleAndCheck(r *Record) {
	for range settleAttempts {
		c.settle(r)
		if !r.Settled {
			return
		}
		final := c.d.Nodes[c.master].Addr()
		w1, err := c.checkWrites(c.wait1, final)
		var pl writeCheck
		if err == nil {
			pl, err = c.checkWrites(c.plain, final)
		}
		if err != nil {
			r.Settled, r.SettleErr = false, err.Error()
			return
		}
		if i, err := c.settled(); err == nil && i == c.master {
			r.Wait1Checked, r.Wait1Lost, r.PlainChecked, r.PlainLost = w1.checked, len(w1.lost), pl.checked, len(pl.lost)
			for w, wc := range map[*harness.Writer]writeCheck{c.wait1: w1, c.plain: pl} {
				c.checked[w] = wc.through
				for _, k := range wc.lost {
					c.lost[w][k] = true
				}
			}
			return
		}
		c.o.Logf("fault %d: no longer settled on %s after its writes were read; settling again", r.Index, c.name(c.master))
	}
	r.Settled, r.SettleErr = false, fmt.Sprintf("no longer settled after the writes were read, %d times", settleAttempts)
}

// settle waits until the deployment has been settled (settled) on the
// same master for a down-after in a row, so that a failover already under
// way (a master about to be found down) is not taken for the end state,
// then until both writers acknowledged a write, and records it in r.
func (c *campaign) settle(r *Record) {
	start := time.Now()
	stable, since := -1, time.Time{}
	err := redistest.PollErr(c.o.SettleTimeout, 100*time.Millisecond, func() error {
		i, err := c.settled()
		if err != nil {
			stable = -1
			return err
		}
		if i != stable {
			stable, since = i, time.Now()
		}
		if time.Since(since) < c.o.DownAfter {
			return fmt.Errorf("settled on %s for %v only", c.name(i), time.Since(since).Round(time.Millisecond))
		}
		c.master = i
		return nil
	})
	if err == nil {
		at := time.Now()
		for _, w := range []*harness.Writer{c.plain, c.wait1} {
			if _, err = w.WaitAcksAfter(at, 1, max(time.Until(start.Add(c.o.SettleTimeout)), 5*time.Second)); err != nil {
				err = fmt.Errorf("writer after the settle: %w", err)
				break
			}
		}
	}
	r.SettleTook = time.Since(start)
	if err != nil {
		r.SettleErr = err.Error()
		return
	}
	r.Settled, r.FinalMaster = true, c.name(c.master)
}

// settled returns the index of the master when every sentinel agrees on
// it and sees it as a healthy master with every other data node a
// healthy replica, every other data node replicates from it with its link
// up, and (gosentinel) every sentinel knows the Raft leader.
func (c *campaign) settled() (int, error) {
	d := c.d
	addr, err := partition.AgreedMaster(d.Sentinels)
	if err != nil {
		return -1, err
	}
	mi := d.NodeByAddr(addr)
	if mi < 0 {
		return -1, fmt.Errorf("the sentinels agree on %s, not a data node", addr)
	}
	master := d.Nodes[mi]
	var replicaIPs []string
	for i, role := range harness.ReadRoles(d.Nodes, time.Second) {
		switch {
		case role.Err != nil:
			return -1, fmt.Errorf("%s: ROLE: %w", c.name(i), role.Err)
		case i == mi && role.Role != "master":
			return -1, fmt.Errorf("agreed master %s answers ROLE %s", c.name(i), role.Role)
		case i != mi && (role.Role != "slave" || role.MasterHost != master.Host() || role.State != "connected"):
			return -1, fmt.Errorf("%s is not a connected replica of %s: %s of %s (%s)", c.name(i), c.name(mi), role.Role, role.MasterHost, role.State)
		}
		if i != mi {
			replicaIPs = append(replicaIPs, d.NodeHosts[i].IP)
		}
	}
	for _, s := range d.Sentinels {
		m, err := askMap(s, "SENTINEL", "MASTER", harness.MasterName)
		if err != nil {
			return -1, fmt.Errorf("%s: %w", s.Name(), err)
		}
		if m["flags"] != "master" {
			return -1, fmt.Errorf("%s: master flags %q", s.Name(), m["flags"])
		}
		r, err := ask(s, "SENTINEL", "REPLICAS", harness.MasterName)
		if err != nil {
			return -1, fmt.Errorf("%s: %w", s.Name(), err)
		}
		reps, err := r.StringMaps()
		if err != nil {
			return -1, fmt.Errorf("%s: SENTINEL REPLICAS: %w", s.Name(), err)
		}
		var healthy []string
		for _, rep := range reps {
			if rep["flags"] == "slave" && rep["master-link-status"] == "ok" {
				healthy = append(healthy, rep["ip"])
			}
		}
		for _, ip := range replicaIPs {
			if !slices.Contains(healthy, ip) {
				return -1, fmt.Errorf("%s: replica %s not healthy (healthy: %v)", s.Name(), ip, healthy)
			}
		}
		if c.o.Raft {
			r, err := ask(s, "INFO", "raft")
			if err != nil {
				return -1, fmt.Errorf("%s: %w", s.Name(), err)
			}
			if info := redistest.ParseInfo(r.Str); info["raft_leader_addr"] == "" {
				return -1, fmt.Errorf("%s: no Raft leader known (raft_state %s)", s.Name(), info["raft_state"])
			}
		}
	}
	return mi, nil
}

// checkWritesStride: acknowledged writes checked after an earlier fault
// are checked again one in this many, so a later fault that loses old
// writes (replicas resyncing from an empty master) is still seen, without
// rereading the whole history after every fault.
const checkWritesStride = 50

// writeCheck is one writer's writes read from the master: checked were
// read, lost are the keys newly found missing, and the check covers every
// write up to through (the next check starts there).
type writeCheck struct {
	checked, through int
	lost             []string
}

// checkWrites reads w's acknowledged writes from the master at addr: those
// acknowledged since the last check, and a sample of the older ones; a
// write already found lost after an earlier fault is not counted again.
func (c *campaign) checkWrites(w *harness.Writer, addr string) (writeCheck, error) {
	res := w.Result()
	from := c.checked[w]
	var acks []harness.Ack
	for i := 0; i < from; i += checkWritesStride {
		acks = append(acks, res.Acks[i])
	}
	acks = append(acks, res.Acks[from:]...)
	missing, err := harness.Lost(addr, harness.Result{Prefix: res.Prefix, Acks: acks})
	if err != nil {
		return writeCheck{}, err
	}
	wc := writeCheck{checked: len(acks), through: len(res.Acks)}
	for _, k := range missing {
		if !c.lost[w][k] {
			wc.lost = append(wc.lost, k)
		}
	}
	return wc, nil
}

// majorityMaster returns the master address at least two sentinels (a
// majority of three) report, asking only those not in down; "" if none.
func (c *campaign) majorityMaster(down map[int]bool) string {
	votes := map[string]int{}
	for i, s := range c.d.Sentinels {
		if down[i] || !s.Running() {
			continue
		}
		r, err := ask(s, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", harness.MasterName)
		if err != nil || r.Kind == redistest.KindNull {
			continue
		}
		addr, err := r.Strings()
		if err != nil || len(addr) != 2 {
			continue
		}
		a := net.JoinHostPort(addr[0], addr[1])
		if votes[a]++; votes[a] >= 2 {
			return a
		}
	}
	return ""
}

// replica returns the index of the k-th data node that is not the master.
func (c *campaign) replica(k int) int {
	for i := range c.d.Nodes {
		if i == c.master {
			continue
		}
		if k == 0 {
			return i
		}
		k--
	}
	return -1
}

// otherHosts returns the lab's hosts not in hs.
func (c *campaign) otherHosts(hs []*netlab.Host) []*netlab.Host {
	var out []*netlab.Host
	for _, h := range c.d.Lab.Hosts() {
		if !slices.Contains(hs, h) {
			out = append(out, h)
		}
	}
	return out
}

func (c *campaign) name(i int) string { return c.d.NodeHosts[i].Name }

// queryTimeout bounds every query the campaign sends a sentinel: a
// sentinel under packet loss must not stall a poll for long.
const queryTimeout = time.Second

// ask sends one command to s on a new connection, within queryTimeout.
func ask(s *redistest.Sentinel, args ...string) (*redistest.Reply, error) {
	conn, err := redistest.Dial(s.Addr(), queryTimeout)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	conn.Timeout = queryTimeout
	return conn.Do(args...)
}

// askMap sends one command whose reply is a map.
func askMap(s *redistest.Sentinel, args ...string) (map[string]string, error) {
	r, err := ask(s, args...)
	if err != nil {
		return nil, err
	}
	return r.StringMap()
}

// saveLogs writes every sentinel's log of its current run to o.LogDir.
func (c *campaign) saveLogs(index int) {
	if err := os.MkdirAll(c.o.LogDir, 0o755); err != nil {
		c.o.Logf("fault %d: logs not kept: %v", index, err)
		return
	}
	for _, s := range c.d.Sentinels {
		name := filepath.Join(c.o.LogDir, fmt.Sprintf("fault-%d-%s.log", index, s.Name()))
		if err := os.WriteFile(name, []byte(harness.RunLog(s.Process)), 0o644); err != nil {
			c.o.Logf("fault %d: log not kept: %v", index, err)
		}
	}
	c.o.Logf("fault %d: sentinel logs in %s", index, c.o.LogDir)
}
