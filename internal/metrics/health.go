package metrics

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"slices"
	"strings"
	"time"
)

// Readiness is /readyz's body: the decision and the facts it rests on.
type Readiness struct {
	Ready bool `json:"ready"`
	// Raft is false when the sentinel runs without Raft.
	Raft   bool   `json:"raft"`
	Phase  string `json:"phase,omitempty"`
	Leader string `json:"leader,omitempty"`
	Fresh  bool   `json:"fresh"`
	// Serving: the command listener answers.
	Serving bool `json:"serving"`
	// Paused failovers are shown, and do not make the sentinel unready.
	PausedAll     bool     `json:"paused_all"`
	PausedMasters []string `json:"paused_masters"`
	Reason        string   `json:"reason,omitempty"`
}

// Ready decides /readyz. A sentinel is ready when its command listener
// answers and either it runs without Raft, or it is a member of a Raft
// group and it vouches for its state (it answers GET-MASTER-ADDR-BY-NAME:
// its Raft log accepts appends, and it heard from a leader within the
// stale bound or its silent peers are provably dead). Paused failovers do not make it unready: it
// still answers correctly, and taking every sentinel out of a Service
// during maintenance would leave clients without any.
func Ready(s *Snapshot, serving bool) Readiness {
	r := Readiness{Raft: s.Raft != nil, Fresh: s.Fresh, Serving: serving, PausedAll: s.PausedAll, PausedMasters: []string{}}
	for _, m := range s.Masters {
		if m.Paused {
			r.PausedMasters = append(r.PausedMasters, m.Name)
		}
	}
	if s.Raft != nil {
		r.Phase, r.Leader = s.Raft.Phase, s.Raft.LeaderID
	}
	switch {
	case !serving:
		r.Reason = "the command listener does not answer"
	case s.Raft == nil:
		r.Ready = true
	case s.Raft.Phase != "member":
		r.Reason = "not a member of a Raft group (phase " + s.Raft.Phase + ")"
	case !s.Fresh && s.Raft.LogStoreError != "":
		r.Reason = "state not fresh: the Raft log cannot be written (" + s.Raft.LogStoreError + ")"
	case !s.Fresh && s.Raft.LeaderID == "":
		r.Reason = "the Raft group has no leader"
	case !s.Fresh:
		r.Reason = "state not fresh: no word from the leader within the stale bound"
	default:
		r.Ready = true
	}
	return r
}

// Role names what /primary and /replica check.
type Role string

const (
	RolePrimary Role = "primary"
	RoleReplica Role = "replica"
)

// RoleAnswer is the outcome of a role check: an HTTP status and why.
type RoleAnswer struct {
	Status int    `json:"-"`
	Master string `json:"master,omitempty"`
	Node   string `json:"node,omitempty"`
	Role   string `json:"role,omitempty"` // as this sentinel sees it: primary, replica, down
	Reason string `json:"reason"`
}

// located is a data node and its master set.
type located struct {
	master string
	node   DataNode
}

// CheckRole decides /primary and /replica for the data node named node
// ("host:port"), in master set master if given; with node "" for the one
// co-located with this sentinel (see Colocated). 200: it has the role in
// this sentinel's view (primary: the set's current master address and not
// s_down; replica: listed as a replica, not s_down, master link up); 503:
// it has the other role or is down; 404: unknown (or no single co-located
// node).
func CheckRole(s *Snapshot, want Role, node, master string, isLocal func(host string) bool) RoleAnswer {
	var found []located
	if node == "" {
		var reason string
		found, reason = Colocated(s, master, isLocal)
		if len(found) != 1 {
			return RoleAnswer{Status: http.StatusNotFound, Master: master, Reason: reason}
		}
	} else {
		for _, m := range s.Masters {
			if master != "" && m.Name != master {
				continue
			}
			for _, n := range m.Nodes {
				if n.Addr == node {
					found = append(found, located{m.Name, n})
				}
			}
		}
		switch len(found) {
		case 0:
			return RoleAnswer{Status: http.StatusNotFound, Master: master, Node: node, Reason: "unknown node"}
		case 1:
		default:
			return RoleAnswer{Status: http.StatusNotFound, Node: node, Reason: "the node is known in several master sets: name one with master="}
		}
	}
	l := found[0]
	a := RoleAnswer{Master: l.master, Node: l.node.Addr}
	switch {
	case l.node.Down:
		a.Role, a.Reason = "down", "s_down in this sentinel's view"
	case l.node.Master:
		a.Role, a.Reason = string(RolePrimary), "the current master of "+l.master
	case !l.node.MasterLinkUp:
		a.Role, a.Reason = string(RoleReplica), "a replica whose link to its master is down"
		a.Status = http.StatusServiceUnavailable
		return a
	default:
		a.Role, a.Reason = string(RoleReplica), "a replica of "+l.master+" with its link up"
	}
	if a.Role == string(want) {
		a.Status = http.StatusOK
	} else {
		a.Status = http.StatusServiceUnavailable
	}
	return a
}

// Colocated finds the data node that runs on this sentinel's host, in
// master set master if given: the known nodes whose host (or resolved IP)
// is the sentinel's announce-ip; failing that, or without announce-ip,
// those whose host is one of this host's interface addresses or a name
// resolving to one (isLocal). It returns them with a reason when there is
// not exactly one.
func Colocated(s *Snapshot, master string, isLocal func(host string) bool) ([]located, string) {
	var all []located
	for _, m := range s.Masters {
		if master != "" && m.Name != master {
			continue
		}
		for _, n := range m.Nodes {
			all = append(all, located{m.Name, n})
		}
	}
	pick := func(match func(n DataNode) bool) []located {
		var out []located
		for _, l := range all {
			if match(l.node) {
				out = append(out, l)
			}
		}
		return out
	}
	var found []located
	if s.AnnounceIP != "" {
		found = pick(func(n DataNode) bool { return n.Host == s.AnnounceIP || n.IP == s.AnnounceIP })
	}
	rule := "announce-ip " + s.AnnounceIP
	if len(found) == 0 {
		found = pick(func(n DataNode) bool { return isLocal(n.Host) || (n.IP != "" && isLocal(n.IP)) })
		rule = "this host's addresses"
	}
	switch len(found) {
	case 0:
		return nil, "no known data node on this host (none matches announce-ip or this host's addresses): name one with node=host:port"
	case 1:
		return found, ""
	}
	names := make([]string, len(found))
	for i, l := range found {
		names[i] = l.node.Addr
	}
	return found, fmt.Sprintf("several known data nodes match %s (%s): name one with node=host:port", rule, strings.Join(names, ", "))
}

// LocalHost tells whether a host (an IP or a name) is one of this
// machine's interface addresses or resolves to one. Name lookups are
// bounded by timeout.
func LocalHost(timeout time.Duration) func(host string) bool {
	return func(host string) bool {
		addrs, err := net.InterfaceAddrs()
		if err != nil {
			return false
		}
		var local []string
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok {
				local = append(local, ipn.IP.String())
			}
		}
		if ip := net.ParseIP(host); ip != nil {
			return slices.Contains(local, ip.String())
		}
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		ips, err := net.DefaultResolver.LookupHost(ctx, host)
		if err != nil {
			return false
		}
		for _, ip := range ips {
			if p := net.ParseIP(ip); p != nil && slices.Contains(local, p.String()) {
				return true
			}
		}
		return false
	}
}

// HealthOptions are what the health endpoints need besides the Source.
type HealthOptions struct {
	// Serving tells whether the command listener answers, within ctx.
	Serving func(ctx context.Context) bool
	// IsLocal decides the co-located node (LocalHost by default).
	IsLocal func(host string) bool
	// Profiles also serves Go's profiles under /debug/pprof/.
	Profiles bool
}

// handlerTimeout bounds every health request.
const handlerTimeout = 2 * time.Second

// Mux serves /metrics and the health endpoints: /healthz, /readyz,
// /primary and /replica.
func (m *Metrics) Mux(o HealthOptions) *http.ServeMux {
	if o.IsLocal == nil {
		o.IsLocal = LocalHost(500 * time.Millisecond)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", m.Handler())
	bounded := func(h http.HandlerFunc) http.Handler {
		return http.TimeoutHandler(h, handlerTimeout, "timed out\n")
	}
	mux.Handle("/healthz", bounded(func(w http.ResponseWriter, r *http.Request) {
		if o.Serving(r.Context()) {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			fmt.Fprintln(w, "ok")
			return
		}
		http.Error(w, "the command listener does not answer", http.StatusServiceUnavailable)
	}))
	mux.Handle("/readyz", bounded(func(w http.ResponseWriter, r *http.Request) {
		rd := Ready(m.src.Snapshot(DetailPauses), o.Serving(r.Context()))
		status := http.StatusOK
		if !rd.Ready {
			status = http.StatusServiceUnavailable
		}
		writeJSON(w, status, rd)
	}))
	role := func(want Role) http.Handler {
		return bounded(func(w http.ResponseWriter, r *http.Request) {
			q := r.URL.Query()
			a := CheckRole(m.src.Snapshot(DetailNodes), want, q.Get("node"), q.Get("master"), o.IsLocal)
			writeJSON(w, a.Status, a)
		})
	}
	mux.Handle("/primary", role(RolePrimary))
	mux.Handle("/replica", role(RoleReplica))
	if o.Profiles {
		// Not bounded by handlerTimeout: a CPU profile runs for its
		// ?seconds=.
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	return mux
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}
