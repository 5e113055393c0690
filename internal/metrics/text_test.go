package metrics

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/x0tta6bl4/gosentinel/replication"
)

// PlainInfo is an INFO reply held as its text, as the tests' snapshots
// give it.
type PlainInfo string

// AppendTo appends the text to dst.
func (p PlainInfo) AppendTo(dst []byte) []byte { return append(dst, p...) }

// richSnapshot has two masters, a replica with INFO, links of every kind,
// a CKQUORUM text that needs escaping and a master name that is not
// valid UTF-8.
func richSnapshot() *Snapshot {
	master := func(name, ip string, port int) Master {
		return Master{
			Name: name,
			Fields: map[string]string{"name": name, "ip": ip, "port": strconv.Itoa(port), "quorum": "2",
				"failover-timeout": "180000", "parallel-syncs": "1", "down-after-milliseconds": "5000",
				"config-epoch": "0", "last-ok-ping-reply": "712"},
			CKQuorum:      "NOQUORUM 1 usable Sentinels. \"Quorum\" \\ not reached\nsecond line",
			ReplicaFlags:  []string{"slave"},
			SentinelFlags: []string{"sentinel", "s_down,sentinel"},
			Nodes: []DataNode{
				{Addr: fmt.Sprintf("%s:%d", ip, port), Master: true, Role: "master",
					Info: PlainInfo("# Server\r\nuptime_in_seconds:42\r\n# Clients\r\nconnected_clients:3\r\n# Replication\r\nrole:master\r\nconnected_slaves:1\r\nmaster_repl_offset:1.5e9\r\n")},
				{Addr: fmt.Sprintf("%s:%d", ip, port+1), Down: true,
					Info: PlainInfo("role:slave\r\nmaster_link_status:down\r\nslave_repl_offset:77\r\nused_memory:1024\r\nused_memory:2048\r\nmaxmemory:5\r\nmaxmemory:none\r\n")},
			},
			Links: []Link{{Node: fmt.Sprintf("%s:%d", ip, port), Kind: "master", RTT: 1500 * time.Microsecond},
				{Node: "10.9.9.9:26379", Kind: "sentinel", RTT: 3 * time.Millisecond},
				{Node: fmt.Sprintf("%s:%d", ip, port+1), Kind: "replica"}},
		}
	}
	beta := master("b\xffeta", "10.0.0.2", 6379)
	beta.CKQuorum = `NOQUORUM "quoted" only` // a quote and nothing else to escape
	return &Snapshot{
		InfoSentinel: []string{"sentinel_masters:2", "sentinel_tilt:0", "sentinel_running_scripts:0",
			"sentinel_scripts_queue_length:0", "sentinel_simulate_failure_flags:0",
			"master0:name=alpha,status=ok,address=10.0.0.1:6379,slaves=1,sentinels=3",
			"master1:name=b\xffeta,status=sdown,address=10.0.0.2:6379,slaves=1,sentinels=3"},
		Masters: []Master{master("alpha", "10.0.0.1", 6379), beta},
		Raft:    &Raft{Phase: "member", State: "follower", Term: 7, CommitIndex: 99, AppliedIndex: 98, LeaderID: "x", Voters: 3, FailoverProtocol: "raft"},
		Fresh:   true,
	}
}

func newRich(t *testing.T) *Metrics {
	t.Helper()
	m := New(fakeSource{richSnapshot()}, Build{Version: "7.0.15", RedisVersion: "7.0.15"})
	m.FailoverFinished("alpha", replication.OutcomeSuccess, 2*time.Second)
	m.FailoverPhase("alpha", replication.PhasePromote, time.Second)
	m.FailoverNotStarted("b\xffeta", replication.ReasonNoQuorum)
	m.FailoverNotStarted("gone", replication.ReasonPaused) // a master no longer watched
	m.LeaderChanged()
	return m
}

func scrape(t *testing.T, m *Metrics, header http.Header) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	for k, vs := range header {
		req.Header[k] = vs
	}
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", rec.Code, rec.Body)
	}
	return rec
}

// samples renders a family as "labels -> value" lines, labels sorted, so
// that two renderings of the same series compare equal whatever their
// order. A histogram's value is its count, sum and buckets.
func samples(mf *dto.MetricFamily) map[string]string {
	out := map[string]string{}
	for _, m := range mf.GetMetric() {
		var ls []string
		for _, lp := range m.GetLabel() {
			ls = append(ls, lp.GetName()+"="+strconv.Quote(lp.GetValue()))
		}
		slices.Sort(ls)
		var v string
		switch {
		case m.Histogram != nil:
			h := m.GetHistogram()
			v = fmt.Sprintf("count=%d sum=%g", h.GetSampleCount(), h.GetSampleSum())
			for _, b := range h.GetBucket() {
				if math.IsInf(b.GetUpperBound(), 1) {
					continue // implicit in client_golang's, a line in the text
				}
				v += fmt.Sprintf(" le%g=%d", b.GetUpperBound(), b.GetCumulativeCount())
			}
		case m.Counter != nil:
			v = strconv.FormatFloat(m.GetCounter().GetValue(), 'g', -1, 64)
		default:
			v = strconv.FormatFloat(m.GetGauge().GetValue(), 'g', -1, 64)
		}
		out[strings.Join(ls, ",")] = v
	}
	return out
}

// The text /metrics writes is what client_golang renders of the same
// series: every family, HELP, TYPE, label and value, escaping included,
// parsed back by Prometheus' own parser.
func TestHandlerTextIsTheRegistry(t *testing.T) {
	m := newRich(t)
	rec := scrape(t, m, nil)
	p := expfmt.NewTextParser(model.UTF8Validation)
	got, err := p.TextToMetricFamilies(rec.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v\n%s", err, rec.Body)
	}
	mfs, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]*dto.MetricFamily{}
	for _, mf := range mfs {
		want[mf.GetName()] = mf
	}
	for name, w := range want {
		g, ok := got[name]
		if !ok {
			t.Errorf("family %s: not in the text", name)
			continue
		}
		if g.GetHelp() != w.GetHelp() || g.GetType() != w.GetType() {
			t.Errorf("family %s: HELP %q TYPE %v, want %q %v", name, g.GetHelp(), g.GetType(), w.GetHelp(), w.GetType())
		}
		if strings.HasPrefix(name, "go_") || strings.HasPrefix(name, "process_") {
			continue // the runtime's values move between the two reads
		}
		gs, ws := samples(g), samples(w)
		for k, v := range ws {
			if gs[k] != v {
				t.Errorf("%s{%s} = %q in the text, want %q", name, k, gs[k], v)
			}
		}
		for k := range gs {
			if _, ok := ws[k]; !ok {
				t.Errorf("%s{%s}: in the text only", name, k)
			}
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("family %s: in the text only", name)
		}
	}
	// The snapshot's oddities reached the text as valid series.
	for _, k := range []string{
		`master_address="10.0.0.2:6379",master_name="b` + "\uFFFD" + `eta"`,
	} {
		if _, ok := samples(got[fMasterQuorum.name])[k]; !ok {
			t.Errorf("%s{%s} missing: %v", fMasterQuorum.name, k, samples(got[fMasterQuorum.name]))
		}
	}
	ck := samples(got[fMasterCKQuorum.name])
	if _, ok := ck[`master_name="alpha",message=`+strconv.Quote(richSnapshot().Masters[0].CKQuorum)]; !ok {
		t.Errorf("CKQUORUM's text did not survive escaping: %v", ck)
	}
	if v := samples(got[fRedisMemUsed.name])[`master_name="alpha",node="10.0.0.1:6380",role="slave"`]; v != "2048" {
		t.Errorf("the last used_memory line wins, as in INFO's map: got %q", v)
	}
	if v, ok := samples(got[fRedisMemMax.name])[`master_name="alpha",node="10.0.0.1:6380",role="slave"`]; ok {
		t.Errorf("maxmemory's last line is not a number, yet a series has %q", v)
	}
}

// A scraper that accepts gzip gets the same text compressed; one that
// asks for protobuf gets text too, with the negotiated content type.
func TestHandlerGzipAndContentType(t *testing.T) {
	m := newRich(t)
	plain := scrape(t, m, nil)
	if ct := plain.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4; charset=utf-8") {
		t.Errorf("Content-Type %q", ct)
	}
	gz := scrape(t, m, http.Header{"Accept-Encoding": {"deflate, gzip;q=0.9"}})
	if ce := gz.Header().Get("Content-Encoding"); ce != "gzip" {
		t.Fatalf("Content-Encoding %q, want gzip", ce)
	}
	zr, err := gzip.NewReader(gz.Body)
	if err != nil {
		t.Fatal(err)
	}
	unzipped, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if !stateEqual(unzipped, plain.Body.Bytes()) {
		t.Errorf("the gzip body differs from the plain one:\n%s\n---\n%s", unzipped, plain.Body)
	}
	pb := scrape(t, m, http.Header{"Accept": {"application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.9,text/plain;q=0.1"}})
	if ct := pb.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("Content-Type for a protobuf scraper %q, want text", ct)
	}
	if ce := plain.Header().Get("Content-Encoding"); ce != "" {
		t.Errorf("Content-Encoding %q without Accept-Encoding", ce)
	}
	for _, ae := range []string{"gzip;q=0", "identity", "x-gzip2"} {
		if ce := scrape(t, m, http.Header{"Accept-Encoding": {ae}}).Header().Get("Content-Encoding"); ce != "" {
			t.Errorf("Accept-Encoding %q: Content-Encoding %q", ae, ce)
		}
	}
}

// stateEqual compares two scrapes without the runtime's lines, whose
// values move.
func stateEqual(a, b []byte) bool {
	keep := func(x []byte) string {
		var out []string
		for _, l := range strings.Split(string(x), "\n") {
			if !strings.Contains(l, "go_") && !strings.Contains(l, "process_") {
				out = append(out, l)
			}
		}
		return strings.Join(out, "\n")
	}
	return keep(a) == keep(b)
}

// At most maxScrapes are rendered at once; the next is refused at once.
func TestHandlerLimitsConcurrentScrapes(t *testing.T) {
	m := newRich(t)
	for range maxScrapes {
		m.scrapes <- struct{}{}
	}
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("a fifth scrape: %d, want 503", rec.Code)
	}
	<-m.scrapes
	scrape(t, m, nil)
}

// A series costs the text no allocation once its family's buffer has
// grown: the label values stay on the caller's stack.
func TestTextSinkPutAllocations(t *testing.T) {
	var s textSink
	w := writer{text: &s}
	for range 100 {
		w.put(fRedisUp, 1, "mymaster", "10.0.0.1:6379", "master")
	}
	allocs := testing.AllocsPerRun(100, func() {
		for i := range s.bufs {
			s.bufs[i] = s.bufs[i][:0]
		}
		w.put(fRedisUp, 1, "mymaster", "10.0.0.1:6379", "master")
		w.put(fMasterLastOKPing, 0.712, "mymaster", "10.0.0.1:6379")
	})
	if allocs != 0 {
		t.Errorf("%v allocations per two series, want 0", allocs)
	}
	var buf bytes.Buffer
	s.bufs = nil
	w.put(fMasterLastOKPing, 0.712, "m", "a:1")
	w.put(fRaftTerm, 3)
	if err := s.writeTo(bufio.NewWriter(&buf)); err != nil {
		t.Fatal(err)
	}
	want := "# HELP redis_sentinel_master_last_ok_ping_reply_seconds " + fMasterLastOKPing.help + "\n" +
		"# TYPE redis_sentinel_master_last_ok_ping_reply_seconds gauge\n" +
		"redis_sentinel_master_last_ok_ping_reply_seconds{master_name=\"m\",master_address=\"a:1\"} 0.712\n" +
		"# HELP gosentinel_raft_term " + fRaftTerm.help + "\n" +
		"# TYPE gosentinel_raft_term gauge\n" +
		"gosentinel_raft_term 3\n"
	if buf.String() != want {
		t.Errorf("text:\n%s\nwant:\n%s", buf.String(), want)
	}
}

// detailSource records the Detail each request asked for.
type detailSource struct {
	s     *Snapshot
	asked []Detail
}

func (d *detailSource) Snapshot(dt Detail) *Snapshot {
	d.asked = append(d.asked, dt)
	return d.s
}

// Each endpoint asks for what it reads: a readiness probe every 5 s must
// not cost a scrape's snapshot.
func TestEndpointsAskForTheirDetail(t *testing.T) {
	src := &detailSource{s: richSnapshot()}
	m := New(src, Build{Version: "7.0.15", RedisVersion: "7.0.15"})
	mux := m.Mux(HealthOptions{Serving: func(context.Context) bool { return true }, IsLocal: func(string) bool { return false }})
	for _, tc := range []struct {
		path string
		want Detail
	}{
		{"/readyz", DetailPauses},
		{"/primary?node=10.0.0.1:6379", DetailNodes},
		{"/replica?node=10.0.0.1:6380", DetailNodes},
		{"/metrics", DetailAll},
	} {
		src.asked = nil
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tc.path, nil))
		if !slices.Equal(src.asked, []Detail{tc.want}) {
			t.Errorf("%s asked for %v, want [%v] (status %d)", tc.path, src.asked, tc.want, rec.Code)
		}
	}
}
