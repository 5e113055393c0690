package metrics

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/x0tta6bl4/gosentinel/replication"
)

// Build names the binary for gosentinel_build_info.
type Build struct {
	Version      string // gosentinel's version
	RedisVersion string // the Redis version it reports (INFO, HELLO)
}

// Metrics is one sentinel's registry: a collector that reads the state at
// scrape time from a Source (no copy of the state is kept, so nothing is
// stale after a failover), and counters and histograms of events, fed by
// the failover engine through the replication.Observer it implements.
type Metrics struct {
	reg   *prometheus.Registry
	src   Source
	build Build

	failovers     *masterCounters
	duration      *prometheus.HistogramVec
	phases        *prometheus.HistogramVec
	notStarted    *masterCounters
	leaderChanges prometheus.Counter
}

// The engine's events are counted here.
var _ replication.Observer = (*Metrics)(nil)

// durationBuckets cover a failover's phases and ends: tens of
// milliseconds (a switchover's catch-up) to minutes (failover-timeout).
var durationBuckets = []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 180}

// New builds the registry over src.
func New(src Source, b Build) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(), src: src, build: b,
		failovers:     newMasterCounters(fFailovers, labelValues(outcomes)),
		duration:      prometheus.NewHistogramVec(hopts(fFailoverDuration), fFailoverDuration.labels),
		phases:        prometheus.NewHistogramVec(hopts(fFailoverPhase), fFailoverPhase.labels),
		notStarted:    newMasterCounters(fNotStarted, labelValues(reasons)),
		leaderChanges: prometheus.NewCounter(prometheus.CounterOpts{Name: fRaftLeaderChanges.name, Help: fRaftLeaderChanges.help}),
	}
	for _, o := range outcomes {
		m.duration.WithLabelValues(string(o))
	}
	for _, p := range phases {
		m.phases.WithLabelValues(string(p))
	}
	m.reg.MustRegister(stateCollector{m},
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func hopts(f family) prometheus.HistogramOpts {
	return prometheus.HistogramOpts{Name: f.name, Help: f.help, Buckets: durationBuckets}
}

// The label values of the engine's events, each series rendered at zero
// so that rate() and increase() see the first event.
var (
	outcomes = []replication.Outcome{replication.OutcomeSuccess, replication.OutcomeAborted, replication.OutcomeTimeout}
	phases   = []replication.Phase{replication.PhaseDecide, replication.PhaseCatchUp, replication.PhasePromote, replication.PhaseReconfigure}
	reasons  = []replication.NotStartedReason{replication.ReasonNoQuorum, replication.ReasonNoGoodReplica,
		replication.ReasonLagCap, replication.ReasonPaused, replication.ReasonBackoff, replication.ReasonNotElected, replication.ReasonCommitFailed}
)

// Registry is the registry /metrics serves.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus exposition formats.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		Timeout:             5 * time.Second,
		MaxRequestsInFlight: 4,
	})
}

// FailoverNotStarted counts a failover that was due but not started.
func (m *Metrics) FailoverNotStarted(master string, reason replication.NotStartedReason) {
	m.notStarted.inc(master, string(reason))
}

// FailoverPhase records the duration of a phase that ended.
func (m *Metrics) FailoverPhase(_ string, phase replication.Phase, d time.Duration) {
	m.phases.WithLabelValues(string(phase)).Observe(d.Seconds())
}

// FailoverFinished counts a failover this sentinel drove to an end.
func (m *Metrics) FailoverFinished(master string, outcome replication.Outcome, d time.Duration) {
	m.failovers.inc(master, string(outcome))
	m.duration.WithLabelValues(string(outcome)).Observe(d.Seconds())
}

// LeaderChanged counts a change of the Raft leader this sentinel knows.
func (m *Metrics) LeaderChanged() { m.leaderChanges.Inc() }

// stateCollector renders a Snapshot at each scrape, and the event
// counters after it (with a zero series per known master, outcome and
// reason: masterCounters).
type stateCollector struct{ m *Metrics }

func (c stateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, f := range families() {
		switch f.name {
		case fFailoverDuration.name, fFailoverPhase.name, fRaftLeaderChanges.name:
			continue
		}
		ch <- f.desc()
	}
	c.m.duration.Describe(ch)
	c.m.phases.Describe(ch)
	c.m.leaderChanges.Describe(ch)
}

func (c stateCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.m.src.Snapshot()
	w := writer{ch}
	w.sentinel(s)
	for i := range s.Masters {
		ms := &s.Masters[i]
		w.master(ms)
		w.nodes(ms)
	}
	w.own(s, c.m.build)
	c.m.failovers.collect(w, s.Masters)
	c.m.notStarted.collect(w, s.Masters)
	c.m.duration.Collect(ch)
	c.m.phases.Collect(ch)
	c.m.leaderChanges.Collect(ch)
}

// writer sends const metrics of the table's families.
type writer struct{ ch chan<- prometheus.Metric }

func (w writer) put(f family, v float64, labels ...string) {
	w.ch <- prometheus.MustNewConstMetric(f.desc(), f.valueType(), v, labels...)
}

// sentinel writes the families redis_exporter reads from INFO's
// # Sentinel section, parsed as it parses them (handleMetricsSentinel).
func (w writer) sentinel(s *Snapshot) {
	global := map[string]family{
		"sentinel_masters": fSentinelMasters, "sentinel_tilt": fSentinelTilt,
		"sentinel_running_scripts": fSentinelRunning, "sentinel_scripts_queue_length": fSentinelQueue,
		"sentinel_simulate_failure_flags": fSentinelSimFailure,
	}
	for _, line := range s.InfoSentinel {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		if f, ok := global[k]; ok {
			n, _ := strconv.Atoi(v)
			w.put(f, float64(n))
			continue
		}
		ml, ok := ParseInfoMaster(k, v)
		if !ok {
			continue
		}
		w.put(fMasterStatus, boolValue(ml.Status == "ok"), ml.Name, ml.Address, ml.Status)
		w.put(fMasterSlaves, float64(ml.Slaves), ml.Name, ml.Address)
		w.put(fMasterSentinels, float64(ml.Sentinels), ml.Name, ml.Address)
	}
}

// InfoMaster is one "masterN:name=...,status=...,address=...,slaves=N,
// sentinels=N" line of INFO's # Sentinel section.
type InfoMaster struct {
	Name, Status, Address string
	Slaves, Sentinels     int
}

// ParseInfoMaster parses a masterN line as redis_exporter does
// (parseSentinelMasterString): every one of the five fields is required.
func ParseInfoMaster(key, value string) (InfoMaster, bool) {
	var m InfoMaster
	if !strings.HasPrefix(key, "master") {
		return m, false
	}
	if _, err := strconv.Atoi(key[len("master"):]); err != nil {
		return m, false
	}
	kv := map[string]string{}
	for _, part := range strings.Split(value, ",") {
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return m, false
		}
		kv[k] = v
	}
	var ok1, ok2, ok3 bool
	m.Name, ok1 = kv["name"]
	m.Status, ok2 = kv["status"]
	m.Address, ok3 = kv["address"]
	slaves, err1 := strconv.Atoi(kv["slaves"])
	sentinels, err2 := strconv.Atoi(kv["sentinels"])
	if !ok1 || !ok2 || !ok3 || err1 != nil || err2 != nil {
		return m, false
	}
	m.Slaves, m.Sentinels = slaves, sentinels
	return m, true
}

// master writes the families redis_exporter derives from SENTINEL
// MASTERS, CKQUORUM, SENTINELS and SLAVES (extractSentinelMetrics), with
// its label values: the address is SENTINEL MASTER's ip:port.
func (w writer) master(ms *Master) {
	f := ms.Fields
	name := f["name"]
	addr := f["ip"] + ":" + f["port"]
	w.put(fMasterCKQuorum, boolValue(ms.CKQuorumOK), name, ms.CKQuorum)
	num := func(k string) float64 {
		v, _ := strconv.ParseFloat(f[k], 64)
		return v
	}
	w.put(fMasterQuorum, num("quorum"), name, addr)
	w.put(fMasterFailoverTO, num("failover-timeout"), name, addr)
	w.put(fMasterParallelSyncs, num("parallel-syncs"), name, addr)
	w.put(fMasterDownAfter, num("down-after-milliseconds"), name, addr)
	w.put(fMasterConfigEpoch, num("config-epoch"), name, addr)
	w.put(fMasterLastOKPing, num("last-ok-ping-reply")/1000, name, addr)
	okSentinels := 1
	for _, s := range ms.Sentinels {
		if flags, ok := s["flags"]; ok && okFlags(flags) {
			okSentinels++
		}
	}
	w.put(fMasterOKSentinels, float64(okSentinels), name, addr)
	okSlaves := 0
	for _, r := range ms.Replicas {
		if flags, ok := r["flags"]; ok && okFlags(flags) {
			okSlaves++
		}
	}
	w.put(fMasterOKSlaves, float64(okSlaves), name, addr)
	w.put(fSentinelSentinels, float64(1+len(ms.Sentinels)), ms.Name)
}

// okFlags: neither s_down nor o_down (redis_exporter's test).
func okFlags(flags string) bool {
	return !strings.Contains(flags, "o_down") && !strings.Contains(flags, "s_down")
}

// nodes writes the per data node families from the INFO the monitor
// keeps, and the link latencies.
func (w writer) nodes(ms *Master) {
	for _, n := range ms.Nodes {
		role := n.Role
		if role == "" {
			role = "slave"
			if n.Master {
				role = "master"
			}
		}
		labels := []string{ms.Name, n.Addr, role}
		w.put(fRedisUp, boolValue(!n.Down), labels...)
		if n.Info == "" {
			continue
		}
		info := ParseInfo(n.Info)
		for _, nf := range nodeInfoFields {
			if v, ok := info[nf.field]; ok {
				if x, err := strconv.ParseFloat(v, 64); err == nil {
					w.put(nf.f, x, labels...)
				}
			}
		}
		if v, ok := info["master_link_status"]; ok {
			w.put(fRedisMasterLinkUp, boolValue(v == "up"), labels...)
		}
	}
	for _, l := range ms.Links {
		if l.RTT > 0 {
			w.put(fLinkLatency, l.RTT.Seconds(), ms.Name, l.Node, l.Kind)
		}
	}
	w.put(fFailoversPaused, boolValue(ms.Paused), ms.Name)
}

// ParseInfo reads an INFO reply's "key:value" lines.
func ParseInfo(text string) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimRight(line, "\r")
		if line == "" || line[0] == '#' {
			continue
		}
		if k, v, ok := strings.Cut(line, ":"); ok {
			out[k] = v
		}
	}
	return out
}

// own writes gosentinel's state families.
func (w writer) own(s *Snapshot, b Build) {
	r := s.Raft
	if r == nil {
		r = &Raft{}
	}
	for _, st := range raftStates {
		w.put(fRaftState, boolValue(r.State == st), st)
	}
	w.put(fRaftTerm, float64(r.Term))
	w.put(fRaftCommit, float64(r.CommitIndex))
	w.put(fRaftApplied, float64(r.AppliedIndex))
	w.put(fRaftLeader, boolValue(r.LeaderID != ""))
	w.put(fRaftVoters, float64(r.Voters))
	for _, p := range groupPhases {
		w.put(fGroupPhase, boolValue(r.Phase == p), p)
	}
	for _, p := range failoverProtocols {
		w.put(fFailoverProtocol, boolValue(r.FailoverProtocol == p), p)
	}
	w.put(fForeignSentinels, float64(r.Foreign))
	w.put(fStateFresh, boolValue(s.Fresh))
	w.put(fFailoversPausedAll, boolValue(s.PausedAll))
	w.put(fBuildInfo, 1, b.Version, b.RedisVersion)
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// labelValues turns the values of one of the engine's label types into
// strings.
func labelValues[T ~string](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}
