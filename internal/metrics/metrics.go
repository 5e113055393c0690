package metrics

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

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
	reg   *prometheus.Registry // everything: the state's collector and events
	src   Source
	build Build
	// events holds the collectors /metrics gathers through client_golang:
	// the event counters and histograms, and the Go and process
	// collectors; the state's families are rendered as text (textSink).
	events  *prometheus.Registry
	scrapes chan struct{} // one token per scrape being rendered

	mu        sync.Mutex
	textSizes []int // each state family's text at the last scrape (newTextSink)

	failovers     *masterCounters
	duration      *prometheus.HistogramVec
	phases        *prometheus.HistogramVec
	notStarted    *masterCounters
	leaderChanges prometheus.Counter
}

// The engine's events are counted here.
var _ replication.Observer = (*Metrics)(nil)

// durationBuckets cover a failover's phases and ends: tens of
// milliseconds (a switchover's catch-up) to minutes (failover-timeout),
// with a bucket every 5 s up to 30 s, so that a quantile near the SLA
// (failover under 30 s, 5 s of it detection) is not interpolated across
// a 20 s bucket.
var durationBuckets = []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 20, 25, 30, 45, 60, 120, 180}

// New builds the registry over src.
func New(src Source, b Build) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(), events: prometheus.NewRegistry(), src: src, build: b,
		scrapes:       make(chan struct{}, maxScrapes),
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
	events := []prometheus.Collector{m.duration, m.phases, m.leaderChanges,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})}
	m.events.MustRegister(events...)
	m.reg.MustRegister(append(events, stateCollector{m})...)
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

// Registry holds every series /metrics serves, the state's through
// client_golang's const metrics (what Handler's text is checked against).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves /metrics in Prometheus' text format (serveMetrics).
func (m *Metrics) Handler() http.Handler { return http.HandlerFunc(m.serveMetrics) }

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

// stateCollector is the state's families as client_golang's const
// metrics, for Registry(); /metrics renders the same writer's series as
// text.
type stateCollector struct{ m *Metrics }

func (c stateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, f := range families() {
		if !isEvent(f) {
			ch <- f.desc()
		}
	}
}

func (c stateCollector) Collect(ch chan<- prometheus.Metric) {
	c.m.collectState(writer{ch: ch})
}

// isEvent tells the families the events registry holds.
func isEvent(f family) bool {
	switch f.name {
	case fFailoverDuration.name, fFailoverPhase.name, fRaftLeaderChanges.name:
		return true
	}
	return false
}

// collectState writes a Snapshot's series, and the per-master event
// counters after it (with a zero series per known master, outcome and
// reason: masterCounters).
func (m *Metrics) collectState(w writer) {
	s := m.src.Snapshot(DetailAll)
	w.sentinel(s)
	var info []byte // each node's INFO text in turn
	for i := range s.Masters {
		ms := &s.Masters[i]
		w.master(ms)
		w.nodes(ms, &info)
	}
	w.own(s, m.build)
	m.failovers.collect(w, s.Masters)
	m.notStarted.collect(w, s.Masters)
}

// writer puts series of the table's families: as const metrics on ch, or
// as text.
type writer struct {
	ch   chan<- prometheus.Metric
	text *textSink
}

func (w writer) put(f family, v float64, labels ...string) {
	for i, l := range labels {
		labels[i] = validLabel(l)
	}
	if w.text != nil {
		w.text.put(f, v, labels)
		return
	}
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
	for _, flags := range ms.SentinelFlags {
		if okFlags(flags) {
			okSentinels++
		}
	}
	w.put(fMasterOKSentinels, float64(okSentinels), name, addr)
	okSlaves := 0
	for _, flags := range ms.ReplicaFlags {
		if okFlags(flags) {
			okSlaves++
		}
	}
	w.put(fMasterOKSlaves, float64(okSlaves), name, addr)
	w.put(fSentinelSentinels, float64(1+len(ms.SentinelFlags)), ms.Name)
}

// okFlags: neither s_down nor o_down (redis_exporter's test).
func okFlags(flags string) bool {
	return !strings.Contains(flags, "o_down") && !strings.Contains(flags, "s_down")
}

// nodes writes the per data node families from the INFO the monitor
// keeps, and the link latencies. info is the buffer the INFO texts are
// read into, one after the other.
func (w writer) nodes(ms *Master, info *[]byte) {
	vals, have := make([]float64, len(nodeInfoFields)), make([]bool, len(nodeInfoFields))
	for _, n := range ms.Nodes {
		role := n.Role
		if role == "" {
			role = "slave"
			if n.Master {
				role = "master"
			}
		}
		w.put(fRedisUp, boolValue(!n.Down), ms.Name, n.Addr, role)
		if n.Info == nil {
			continue
		}
		*info = n.Info.AppendTo((*info)[:0])
		clear(have)
		// A view of the buffer, not a copy: scanInfo keeps nothing of it.
		text := unsafe.String(unsafe.SliceData(*info), len(*info))
		linkUp, haveLink := scanInfo(text, vals, have)
		for i, nf := range nodeInfoFields {
			if have[i] {
				w.put(nf.f, vals[i], ms.Name, n.Addr, role)
			}
		}
		if haveLink {
			w.put(fRedisMasterLinkUp, boolValue(linkUp), ms.Name, n.Addr, role)
		}
	}
	for _, l := range ms.Links {
		if l.RTT > 0 {
			w.put(fLinkLatency, l.RTT.Seconds(), ms.Name, l.Node, l.Kind)
		}
	}
	w.put(fFailoversPaused, boolValue(ms.Paused), ms.Name)
}

// infoFieldPos is each nodeInfoFields field's position.
var infoFieldPos = func() map[string]int {
	out := make(map[string]int, len(nodeInfoFields))
	for i, nf := range nodeInfoFields {
		out[nf.field] = i
	}
	return out
}()

// scanInfo reads the fields of nodeInfoFields (into vals, have: a field
// whose value is not a number is not had) and master_link_status from an
// INFO reply as a map of its key:value lines would give them (the last
// line of a key wins), without building that map: a map of every field
// of every node was a sixth of a scrape's allocation at 1000 masters.
func scanInfo(text string, vals []float64, have []bool) (linkUp, haveLink bool) {
	for text != "" {
		var line string
		line, text, _ = strings.Cut(text, "\n")
		line = strings.TrimRight(line, "\r")
		if line == "" || line[0] == '#' {
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		if k == "master_link_status" {
			linkUp, haveLink = v == "up", true
		} else if i, ok := infoFieldPos[k]; ok {
			x, err := strconv.ParseFloat(v, 64)
			vals[i], have[i] = x, err == nil
		}
	}
	return linkUp, haveLink
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
