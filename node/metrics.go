package node

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/x0tta6bl4/gosentinel/config"
	"github.com/x0tta6bl4/gosentinel/internal/acceptloop"
	"github.com/x0tta6bl4/gosentinel/internal/beat"
	"github.com/x0tta6bl4/gosentinel/internal/metrics"
	"github.com/x0tta6bl4/gosentinel/internal/tlsconf"
	"github.com/x0tta6bl4/gosentinel/monitor"
	"github.com/x0tta6bl4/gosentinel/replication"
	"github.com/x0tta6bl4/gosentinel/sentinel"
)

// nodeMetrics is the node's side of internal/metrics: the registry (whose
// Observer the failover engine reports to), and the HTTP listener of
// /metrics and the health endpoints when metrics-addr is set.
type nodeMetrics struct {
	reg  *metrics.Metrics
	ln   net.Listener // nil: no listener
	srv  *http.Server
	idle idleConns
}

// idleConns are the metrics listener's keep-alive connections waiting for
// their next request, and since when (http.Server.ConnState).
type idleConns struct {
	mu    sync.Mutex
	since map[net.Conn]time.Time
}

func (i *idleConns) track(c net.Conn, s http.ConnState) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if s == http.StateIdle {
		if i.since == nil {
			i.since = map[net.Conn]time.Time{}
		}
		i.since[c] = time.Now()
		return
	}
	delete(i.since, c)
}

// evictOldest closes the connection idle the longest, if any, to make room
// for a new one at the limit (acceptloop.Limit).
func (i *idleConns) evictOldest() bool {
	i.mu.Lock()
	var oldest net.Conn
	var at time.Time
	for c, t := range i.since {
		if oldest == nil || t.Before(at) {
			oldest, at = c, t
		}
	}
	delete(i.since, oldest)
	i.mu.Unlock()
	if oldest == nil {
		return false
	}
	oldest.Close()
	return true
}

// Timing of the metrics side.
const (
	// noQuorumEvery paces the no_quorum count (once per second per master,
	// as the engine's reasons).
	noQuorumEvery = time.Second
	// leaderPollEvery paces the observation of Raft leader changes.
	leaderPollEvery = 100 * time.Millisecond
	// metricsMaxConns bounds the metrics listener's open connections (a
	// scraper or two and the kubelet's probes need a few); the descriptors
	// are kept from maxclients with redis' 32 (fitMaxClients). Unbounded,
	// idle keep-alive connections took every descriptor of the process. At
	// the bound, a new connection closes the one idle the longest: held
	// idle, they kept every probe out.
	metricsMaxConns = 16
	// servingTimeout bounds /healthz's PING of the command listener.
	servingTimeout = 500 * time.Millisecond
)

// newMetrics builds the registry and opens the listener, if configured:
// GOSENTINEL_METRICS_ADDR, else metrics-addr. A bad or busy address is an
// error (the process exits 1).
func (n *Node) newMetrics(version string) (*nodeMetrics, error) {
	m := &nodeMetrics{reg: metrics.New(metricsSource{n}, metrics.Build{Version: version, RedisVersion: n.compat.RedisVersion()})}
	addr := n.cfg.MetricsAddr
	if v := os.Getenv(config.EnvMetricsAddr); v != "" {
		a, err := config.ParseMetricsAddr(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", config.EnvMetricsAddr, err)
		}
		addr = a
	}
	if addr == "" {
		return m, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("failed to listen on metrics-addr %s: %w", addr, err)
	}
	m.ln = acceptloop.Limit(ln, metricsMaxConns, m.idle.evictOldest)
	profiles := config.ProfilesOn()
	if profiles {
		// Sampled, so that the profiles cost little while they are on.
		runtime.SetMutexProfileFraction(100)
		runtime.SetBlockProfileRate(int(100 * time.Microsecond))
	}
	m.srv = &http.Server{
		Handler:           m.reg.Mux(metrics.HealthOptions{Serving: n.serving, Profiles: profiles}),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      15 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    1 << 16,
		ConnState:         m.idle.track,
	}
	return m, nil
}

// serveMetrics runs the listener and the observations the registry needs
// (no_quorum counts, leader changes) until ctx ends. It returns at once
// when metrics-addr is unset.
func (n *Node) serveMetrics(ctx context.Context) {
	m := n.mx
	if m == nil || m.ln == nil {
		return
	}
	n.log.Info("Metrics and health endpoints listening on " + m.ln.Addr().String())
	n.wg.Add(2)
	go func() {
		defer n.wg.Done()
		if err := m.srv.Serve(m.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			n.log.Warn("metrics listener stopped: " + err.Error())
		}
	}()
	go func() {
		defer n.wg.Done()
		n.observe(ctx)
	}()
}

// closeMetrics stops the listener (Close calls it before waiting for the
// node's goroutines).
func (n *Node) closeMetrics() {
	if m := n.mx; m != nil && m.srv != nil {
		m.srv.Close()
	} else if m != nil && m.ln != nil {
		m.ln.Close()
	}
}

// MetricsAddr returns the metrics listener's address, nil when there is
// none.
func (n *Node) MetricsAddr() net.Addr {
	if n.mx == nil || n.mx.ln == nil {
		return nil
	}
	return n.mx.ln.Addr()
}

// observe counts no_quorum once per second per master, and Raft leader
// changes, until ctx ends.
func (n *Node) observe(ctx context.Context) {
	poll := beat.NewTicker(leaderPollEvery)
	defer poll.Stop()
	var lastLeader string
	var lastCount time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-poll.C:
			if id := n.raftLeaderID(); id != "" && id != lastLeader {
				if lastLeader != "" {
					n.mx.reg.LeaderChanged()
				}
				lastLeader = id
			}
			if now.Sub(lastCount) >= noQuorumEvery {
				lastCount = now
				n.countNoQuorum()
			}
		}
	}
}

// raftLeaderID is the Raft leader this sentinel knows ("" if none).
func (n *Node) raftLeaderID() string {
	if n.cl == nil {
		return ""
	}
	st := n.cl.getStore()
	if st == nil {
		return ""
	}
	id, _ := st.Leader()
	return id
}

// countNoQuorum counts, for every master that is s_down here with no
// failover in progress, a failover not started for no_quorum when it is
// not o_down or the group has no leader (the engine, which runs on the
// leader only, counts the other reasons).
func (n *Node) countNoQuorum() {
	// In a mixed set a non-member needs no Raft leader: redis-sentinel's
	// election decides (its failures count as not_elected).
	noLeader := n.cl != nil && n.raftLeaderID() == "" && !n.localVoteMode()
	// Only the masters SDOWN here can count: looking at every master each
	// second cost a copy of each one's status (at 1000 masters, half of a
	// follower's allocations).
	for _, name := range n.mon.SDownMasters() {
		m, ok := n.master(name)
		if !ok || m.Failover != nil {
			continue
		}
		n.mu.Lock()
		odown := n.local[name] != nil && n.local[name].odown
		n.mu.Unlock()
		if !odown || noLeader {
			n.mx.reg.FailoverNotStarted(name, replication.ReasonNoQuorum)
		}
	}
}

// observer is the failover engine's Observer.
func (n *Node) observer() replication.Observer { return n.mx.reg }

// serving tells whether the command listener answers a PING (+PONG, or
// an error such as -NOAUTH: either way a RESP reply) within ctx.
func (n *Node) serving(ctx context.Context) bool {
	select {
	case <-n.shutdown:
		return false
	default:
	}
	ctx, cancel := context.WithTimeout(ctx, servingTimeout)
	defer cancel()
	host, port, err := net.SplitHostPort(n.Addr().String())
	if err != nil {
		return false
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
		if ip != nil && ip.To4() == nil {
			host = "::1"
		}
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", net.JoinHostPort(host, port))
	if err != nil {
		return false
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		c.SetDeadline(dl)
	}
	if _, ok := n.lns[0].(*tlsListener); ok {
		// A TLS-only sentinel (port 0, tls-port): the PING goes over TLS
		// (tlsconf.SelfProbe). A handshake the port refused with an alert
		// (our certificate is not a client's it accepts) still shows the
		// port answering, as -NOAUTH does below.
		tc := tls.Client(c, n.tls.SelfProbe())
		if err := tc.HandshakeContext(ctx); err != nil {
			return tlsconf.RemoteAlert(err)
		}
		c = tc
	}
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		// Under TLS 1.3 the port refuses a client certificate after
		// the client's side of the handshake: at the first read, as an
		// alert, or as the connection closed or reset.
		_, underTLS := c.(*tls.Conn)
		return tlsconf.RemoteAlert(err) ||
			underTLS && (errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET))
	}
	return strings.HasPrefix(line, "+") || strings.HasPrefix(line, "-")
}

// metricsSource is the node as internal/metrics reads it: the replies of
// the command surface (so every value equals what the commands report)
// plus the monitor's per-node INFO and links.
type metricsSource struct{ n *Node }

func (s metricsSource) Snapshot(d metrics.Detail) *metrics.Snapshot {
	n := s.n
	all, _ := n.Maintenance()
	n.mu.Lock()
	announceIP := n.globals.announceIP
	n.mu.Unlock()
	snap := &metrics.Snapshot{
		Raft:       n.raftSnapshot(),
		Fresh:      n.vouches(),
		PausedAll:  all,
		AnnounceIP: announceIP,
	}
	if d == metrics.DetailAll {
		snap.InfoSentinel = n.InfoSentinel()
	}
	for _, name := range n.MasterNames() {
		if d == metrics.DetailPauses {
			snap.Masters = append(snap.Masters, metrics.Master{Name: name, Paused: n.FailoversPaused(name)})
		} else if ms, ok := n.masterSnapshot(name, d == metrics.DetailAll); ok {
			snap.Masters = append(snap.Masters, ms)
		}
	}
	return snap
}

// masterSnapshot is one master's part of the snapshot: SENTINEL MASTER's
// reply and the flags SENTINEL REPLICAS and SENTINELS would show, from one
// copy of the monitor's view (each command takes its own: four copies of
// every master's instances per scrape were a third of its time at 1000
// masters, and the replies' other fields were never read).
// Without all, only what the health endpoints read: the data nodes
// without their INFO.
func (n *Node) masterSnapshot(name string, all bool) (metrics.Master, bool) {
	m, st, ok := n.status(name)
	if !ok {
		return metrics.Master{}, false
	}
	out := metrics.Master{Name: name, Down: st.Master.SDown, Paused: n.FailoversPaused(name)}
	n.mu.Lock()
	out.ODown = n.local[name] != nil && n.local[name].odown
	n.mu.Unlock()
	cur := monitor.Addr(m.Addr)
	out.Nodes = append(out.Nodes, dataNode(&st.Master, cur, true, all))
	for i := range st.Replicas {
		r := &st.Replicas[i]
		if !shownReplica(r) || r.Ref.Addr == cur {
			continue
		}
		out.Nodes = append(out.Nodes, dataNode(r, r.Ref.Addr, false, all))
	}
	if !all {
		return out, true
	}
	v := st.View()
	var l sentinel.FieldsList
	n.renderMaster(&l, time.Now(), m, &v)
	out.Fields = fieldMap(l.List[0])
	if msg, err := n.CKQuorum(name); err == nil {
		out.CKQuorum, out.CKQuorumOK = msg, true
	} else {
		out.CKQuorum = err.Error()
	}
	for i := range st.Replicas {
		if shownReplica(&st.Replicas[i]) {
			out.ReplicaFlags = append(out.ReplicaFlags, flagsOf(&st.Replicas[i], false))
		}
	}
	for i := range st.Sentinels {
		out.SentinelFlags = append(out.SentinelFlags, flagsOf(&st.Sentinels[i], false))
	}
	out.Links = append(out.Links, metrics.Link{Node: st.Master.Ref.Addr.String(), Kind: "master", RTT: st.Master.PingRTT})
	for _, r := range st.Replicas {
		out.Links = append(out.Links, metrics.Link{Node: r.Ref.Addr.String(), Kind: "replica", RTT: r.PingRTT})
	}
	for _, r := range st.Sentinels {
		out.Links = append(out.Links, metrics.Link{Node: r.Ref.Addr.String(), Kind: "sentinel", RTT: r.PingRTT})
	}
	return out, true
}

func dataNode(st *monitor.InstanceStatus, a monitor.Addr, master, withInfo bool) metrics.DataNode {
	d := metrics.DataNode{
		Addr: a.String(), Host: a.Host, IP: st.IP,
		Master: master, Role: st.RoleReported, Down: st.SDown, MasterLinkUp: st.MasterLinkUp,
	}
	if withInfo && !st.Info.Empty() {
		d.Info = st.Info
	}
	return d
}

func fieldMap(f sentinel.Fields) map[string]string {
	out := make(map[string]string, len(f))
	for _, kv := range f {
		out[kv.Key] = kv.Value
	}
	return out
}

// raftSnapshot is the Raft part of the snapshot, nil without Raft.
func (n *Node) raftSnapshot() *metrics.Raft {
	if n.cl == nil {
		return nil
	}
	info := n.cl.grp.Info()
	r := &metrics.Raft{Phase: info.Phase, Voters: len(info.Voters), FailoverProtocol: n.failoverProtocol(),
		Foreign: len(n.cl.foreign())}
	if st := n.cl.getStore(); st != nil {
		r.State = strings.ToLower(st.Stats()["state"])
		r.Term, r.CommitIndex, r.AppliedIndex = st.Term(), st.CommitIndex(), st.AppliedIndex()
		r.LeaderID, _ = st.Leader()
		if err := st.LogStoreError(); err != nil {
			r.LogStoreError = err.Error()
		}
	}
	return r
}
