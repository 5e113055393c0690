package node

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/x0tta6bl4/gosentinel/config"
	"github.com/x0tta6bl4/gosentinel/internal/logging"
	"github.com/x0tta6bl4/gosentinel/internal/redisargs"
	"github.com/x0tta6bl4/gosentinel/monitor"
	"github.com/x0tta6bl4/gosentinel/quorum"
	"github.com/x0tta6bl4/gosentinel/replication"
	"github.com/x0tta6bl4/gosentinel/sentinel"
)

// The node is the command surface's backend.
var _ sentinel.Backend = (*Node)(nil)

// status returns the replicated master and the monitor's live view of it.
func (n *Node) status(name string) (*quorum.Master, *monitor.MasterStatus, bool) {
	m, ok := n.master(name)
	if !ok {
		return nil, nil, false
	}
	ms, ok := n.mon.Status(name)
	if !ok {
		ms = monitor.MasterStatus{Master: unwatched(m)}
	}
	return m, &ms, true
}

// viewOf is the monitor's view of m for SENTINEL MASTER and MASTERS, which
// show the replicas and sentinels only as counts (monitor.View).
func (n *Node) viewOf(m *quorum.Master) monitor.MasterView {
	v, ok := n.mon.View(m.Name)
	if !ok {
		v = monitor.MasterView{Master: unwatched(m)}
	}
	return v
}

// listed renders SENTINEL REPLICAS or SENTINELS of a known master: the
// statuses of appendOf (Monitor.AppendReplicas or AppendSentinels), copied
// into a buffer reused across calls, and given to render. Only whether the
// master is known is read of the replicated state (a copy of the master
// was a fifth of SENTINEL REPLICAS' cost); a master not yet watched has
// nothing to list.
func (n *Node) listed(name string, appendOf func([]monitor.InstanceStatus, string) ([]monitor.InstanceStatus, bool), render func([]monitor.InstanceStatus)) error {
	if _, ok := n.sm().MasterAddr(name); !ok {
		return sentinel.ErrNoSuchMaster
	}
	buf := statusBufs.Get().(*[]monitor.InstanceStatus)
	list, _ := appendOf((*buf)[:0], name)
	render(list)
	clear(list) // the pool keeps no node's strings alive
	*buf = list[:0]
	statusBufs.Put(buf)
	return nil
}

// statusBufs are listed's buffers.
var statusBufs = sync.Pool{New: func() any { return new([]monitor.InstanceStatus) }}

// unwatched is the monitor's view of a master just added and not yet
// watched: an empty one.
func unwatched(m *quorum.Master) monitor.InstanceStatus {
	a := monitor.Addr(m.Addr)
	return monitor.InstanceStatus{
		Ref:          monitor.Ref{Kind: monitor.KindMaster, Name: m.Name, Addr: a, Master: m.Name, MasterAddr: a},
		Disconnected: true, LinkRefcount: 1,
	}
}

// MasterNames lists the masters (ROLE).
func (n *Node) MasterNames() []string { return n.sm().Names() }

// RenderMasters writes SENTINEL MASTERS.
func (n *Node) RenderMasters(w sentinel.MapWriter) {
	names := n.MasterNames()
	masters := make([]*quorum.Master, 0, len(names))
	for _, name := range names {
		if m, ok := n.master(name); ok {
			masters = append(masters, m)
		}
	}
	w.Len(len(masters))
	now := time.Now()
	for _, m := range masters {
		v := n.viewOf(m)
		n.renderMaster(w, now, m, &v)
	}
}

// RenderMaster writes SENTINEL MASTER <name>.
func (n *Node) RenderMaster(name string, w sentinel.MapWriter) error {
	m, ok := n.master(name)
	if !ok {
		return sentinel.ErrNoSuchMaster
	}
	v := n.viewOf(m)
	n.renderMaster(w, time.Now(), m, &v)
	return nil
}

// RenderReplicas writes SENTINEL REPLICAS <name>,
// skipping replicas that announce themselves as hidden (replica-announced
// 0), like redis-sentinel.
func (n *Node) RenderReplicas(name string, w sentinel.MapWriter) error {
	return n.listed(name, n.mon.AppendReplicas, func(replicas []monitor.InstanceStatus) {
		shown := 0
		for i := range replicas {
			if shownReplica(&replicas[i]) {
				shown++
			}
		}
		w.Len(shown)
		now, hostnames := time.Now(), n.announceHostnames()
		var promoted monitor.Addr
		n.sm().ReadMaster(name, func(m *quorum.Master) {
			if m.Failover != nil {
				promoted = monitor.Addr(m.Failover.Replica)
			}
		})
		for i := range replicas {
			if shownReplica(&replicas[i]) {
				r := &replicas[i]
				renderReplica(w, now, r, hostnames, promoted.Port != 0 && r.Ref.Addr == promoted)
			}
		}
	})
}

// shownReplica: SENTINEL REPLICAS lists the replica. One that announces
// itself hidden (replica-announced 0 in its INFO) is left out, as
// redis-sentinel leaves it out.
func shownReplica(r *monitor.InstanceStatus) bool {
	return r.ReplicaAnnounced || r.InfoRefresh.IsZero()
}

// RenderSentinels writes SENTINEL SENTINELS <name>.
func (n *Node) RenderSentinels(name string, w sentinel.MapWriter) error {
	return n.listed(name, n.mon.AppendSentinels, func(sentinels []monitor.InstanceStatus) {
		w.Len(len(sentinels))
		now, hostnames := time.Now(), n.announceHostnames()
		for i := range sentinels {
			renderSentinel(w, now, &sentinels[i], hostnames)
		}
	})
}

// MasterAddr answers GET-MASTER-ADDR-BY-NAME from the replicated state:
// the promoted replica from the failover's promotion on, as the hellos
// (quorum.Master.CurrentAddr). It named the old master until the switch
// was committed, for as long as an election when the leader was lost in
// between.
func (n *Node) MasterAddr(name string) (string, string, bool) {
	addr, ok := n.sm().CurrentMasterAddr(name)
	if !ok || !n.vouches() {
		// A member cut off from the group's leader for longer than the
		// stale bound cannot vouch for the address: null makes go-redis,
		// ioredis and Jedis ask the next sentinel.
		return "", "", false
	}
	if t := lastAddrText.Load(); t != nil && t.addr == addr {
		return addr.Host, t.port, true
	}
	host, port := n.hostAsAnnounced(name, monitor.Addr(addr)), strconv.Itoa(addr.Port)
	if isIP(addr.Host) {
		lastAddrText.Store(&addrText{addr: addr, port: port})
	}
	return host, port, true
}

// addrText is the reply to GET-MASTER-ADDR-BY-NAME for a master at an IP
// address: the host as given whether or not announce-hostnames is on
// (hostAsAnnounced), and the port in decimal. It depends on the address
// alone, so the last one is kept for every node of the process: clients
// ask again and again for the same master, and telling an IP and
// formatting the port were a tenth of the command's time.
type addrText struct {
	addr quorum.Addr
	port string
}

var lastAddrText atomic.Pointer[addrText]

// isIP is net.ParseIP(host) != nil without its allocation (ParseIP is
// netip.ParseAddr refusing zones).
func isIP(host string) bool {
	a, err := netip.ParseAddr(host)
	return err == nil && a.Zone() == ""
}

// IsMasterDownByAddr answers a peer's question about a master found by
// address, and casts this sentinel's vote when a runid is given
// (sentinelVoteLeader: at most one vote per master per epoch, persisted
// before the reply).
func (n *Node) IsMasterDownByAddr(ip string, port int, epoch uint64, runid string) (bool, string, uint64) {
	// By name and address only: a peer asks about every master it sees
	// down, and a copy of the whole state per ask (as before) was O(masters)
	// per ask at 1000 masters.
	// Kept as inet_ntop prints it (Monitor, the config file): a peer that
	// announces hostnames may ask by another form (127.1).
	if norm, ok := config.NormalizeIP(ip); ok {
		ip = norm
	}
	var found *quorum.NamedAddr
	for _, m := range n.sm().Addrs() {
		// Peers ask by IP unless they announce hostnames: match either
		// the name the master was given or its address.
		if m.Addr.Port == port && (m.Addr.Host == ip || n.hostIP(m.Name, monitor.Addr(m.Addr)) == ip) {
			found = &m
			break
		}
	}
	if found == nil {
		return false, "*", 0
	}
	// Not down while in TILT, as redis-sentinel answers (monitor/tilt.go);
	// votes are still granted.
	down := false
	if tilt, _ := n.mon.Tilt(); !tilt {
		down, _ = n.mon.MasterSDown(found.Name)
	}
	if runid == "*" {
		return down, "*", 0
	}
	// An epoch beyond monitor.MaxEpoch ("-1" cast, as redis casts it) is
	// neither adopted nor voted in: it would wrap the next failover's
	// epoch to 0. The reply is the standing vote, as redis answers a
	// vote asked in an epoch it will not vote in.
	if epoch > monitor.MaxEpoch {
		n.mu.Lock()
		defer n.mu.Unlock()
		if l := n.local[found.Name]; l != nil && l.leader != "" {
			return down, l.leader, l.leaderEpoch
		}
		return down, "*", 0
	}
	if epoch > n.sm().CurrentEpoch() {
		if err := n.propose(context.Background(), &quorum.Command{Op: quorum.OpObserveEpoch, Epoch: epoch, At: nowMs()}); err == nil {
			n.emitMsg(monitor.LevelWarning, "+new-epoch", found.Name, strconv.FormatUint(epoch, 10))
		}
	}
	cur := n.sm().CurrentEpoch()
	// A member votes for nobody unless the group's failovers follow
	// redis-sentinel's protocol and it is not quiet: otherwise its
	// failovers are the Raft leader's, and a vote could let a
	// redis-sentinel fail the master over beside them (docs/DESIGN.md,
	// "Mixed sets").
	// A member of a previous run still connected to Raft votes for
	// nobody either: it cuts itself off first (raftConnected).
	n.voteMu.RLock()
	member := n.cl != nil && (n.cl.isActive() || n.cl.memberMode() != modeNone || n.cl.raftConnected()) &&
		!n.localVoteMode()
	n.mu.Lock()
	l := n.local[found.Name]
	if l == nil {
		n.mu.Unlock()
		n.voteMu.RUnlock()
		return down, "*", 0
	}
	voted := false
	prevLeader, prevEpoch := l.leader, l.leaderEpoch
	if !member && l.leaderEpoch < epoch && cur <= epoch {
		l.leader, l.leaderEpoch = runid, cur
		voted = true
		if !strings.EqualFold(runid, n.myid) {
			l.failoverStart = time.Now()
		}
	}
	leader, leaderEpoch := l.leader, l.leaderEpoch
	n.mu.Unlock()
	n.voteMu.RUnlock()
	if voted && !n.saveVote(found.Name, leader, leaderEpoch) {
		// Not on disk: not given (saveVote), neither in the reply nor
		// to a later ask in this epoch, which tries to save it again.
		leader, leaderEpoch = prevLeader, prevEpoch
		n.unvote(found.Name, runid, cur, prevLeader, prevEpoch)
	}
	if leader == "" {
		leader = "*"
	}
	return down, leader, leaderEpoch
}

// Reset answers SENTINEL RESET <pattern>: matching masters forget their
// replicas and sentinels and rediscover them.
func (n *Node) Reset(pattern string) int {
	count := 0
	for _, name := range n.MasterNames() {
		if !sentinel.Match(pattern, name, false) { // stringmatch(pattern, ri->name, 0)
			continue
		}
		m, ok := n.master(name)
		if !ok {
			continue
		}
		n.mon.Reset(name)
		n.mu.Lock()
		if l := n.local[name]; l != nil {
			n.setODownLocked(l, false)
			l.failoverStart = time.Time{}
		}
		n.mu.Unlock()
		n.emit(monitor.LevelWarning, "+reset-master", n.masterRef(m), "")
		count++
	}
	return count
}

// CKQuorum answers SENTINEL CKQUORUM (sentinelIsQuorumReachable).
func (n *Node) CKQuorum(name string) (string, error) {
	m, ms, ok := n.status(name)
	if !ok {
		return "", sentinel.ErrNoSuchMaster
	}
	usable := 1
	for _, s := range ms.Sentinels {
		if !s.SDown {
			usable++
		}
	}
	voters := len(ms.Sentinels) + 1
	noQuorum := usable < m.Quorum
	noAuth := usable < voters/2+1
	if !noQuorum && !noAuth {
		return fmt.Sprintf("OK %d usable Sentinels. Quorum and failover authorization can be reached", usable), nil
	}
	e := fmt.Sprintf("NOQUORUM %d usable Sentinels. ", usable)
	if noQuorum {
		e += "Not enough available Sentinels to reach the specified quorum for this master"
	}
	if noAuth {
		if noQuorum {
			e += ". "
		}
		e += "Not enough available Sentinels to reach the majority and authorize a failover"
	}
	return "", sentinel.ReplyError(e)
}

// FlushConfig answers SENTINEL FLUSHCONFIG.
func (n *Node) FlushConfig() error { return n.flushConfigAndReply() }

// Monitor answers SENTINEL MONITOR with redis-sentinel's validation order.
func (n *Node) Monitor(name, host, portStr, quorumStr string) error {
	// redis reads both with getLongFromObjectOrReply: no '+', no leading
	// zeros.
	q, ok := redisargs.String2ll(quorumStr)
	if !ok {
		return sentinel.ReplyError("ERR Invalid quorum")
	}
	port, ok := redisargs.String2ll(portStr)
	if !ok {
		return sentinel.ReplyError("ERR Invalid port")
	}
	if q <= 0 {
		return sentinel.ReplyError("ERR Quorum must be 1 or greater.")
	}
	if q > math.MaxInt32 { // as SENTINEL SET's (checkSetValue)
		return sentinel.ReplyError("ERR Invalid quorum")
	}
	n.mu.Lock()
	resolve := n.globals.resolveHostnames
	n.mu.Unlock()
	// As createSentinelAddr: a numeric address in any form getaddrinfo
	// takes (127.1, 0x7f.0.0.1, 0:0:0:0:0:0:0:1, fe80::1%lo) is kept as
	// inet_ntop prints it, which is what redis names it by; it was kept as
	// typed (and "127.1" refused), so a peer asking is-master-down-by-addr
	// by the printed form did not find it. With announce-hostnames redis
	// would announce the typed form, but it dials the IP, and Go's dialer
	// takes "127.1" for a name it cannot resolve: the IP it is. The config
	// file's lines go through the same rule (config.instanceHost).
	if ip, ok := config.NormalizeIP(host); ok {
		host = ip
	} else {
		if !resolve {
			return sentinel.ReplyError("ERR Invalid IP address or hostname specified")
		}
		if _, err := net.LookupHost(host); err != nil {
			return sentinel.ReplyError("ERR Invalid IP address or hostname specified")
		}
	}
	// createSentinelRedisInstance checks the address before the name.
	if port < 0 || port > 65535 {
		return sentinel.ReplyError("ERR Invalid port number.")
	}
	want := quorum.Addr{Host: host, Port: int(port)}
	n.awaitGroup()
	if existing, ok := n.sm().Master(name); ok {
		return n.adoptOrDuplicate(existing, want, int(q))
	}
	m := &quorum.Master{Name: name, Addr: want, Origin: n.myid, Settings: quorum.Settings{Quorum: int(q), ParallelSyncs: config.DefaultParallelSyncs}}
	n.fillDefaults(m)
	n.mu.Lock()
	n.setLocalLocked(name, &masterLocal{})
	n.mu.Unlock()
	n.replaceSettings(m)
	if err := n.proposeCommand(&quorum.Command{Op: quorum.OpMonitor, Master: m, At: nowMs()}); err != nil {
		if errors.Is(err, quorum.ErrDuplicateMaster) {
			// Another member's identical MONITOR won the race.
			if existing, ok := n.sm().Master(name); ok {
				return n.adoptOrDuplicate(existing, want, int(q))
			}
			return sentinel.ReplyError("ERR Duplicate master name.")
		}
		return replyError(err)
	}
	return n.flushConfigAndReply()
}

// adoptOrDuplicate answers a MONITOR of a name the group already has. In a
// Raft group every member sees a master that any member added, while
// redis-sentinel's users (and the official suite's init) send the same
// MONITOR to each sentinel: an identical MONITOR (same address and quorum)
// of a master another sentinel added is adopted once with OK; anything else
// is a duplicate, as on a lone redis-sentinel.
func (n *Node) adoptOrDuplicate(existing *quorum.Master, addr quorum.Addr, q int) error {
	key := adoptionKey(existing)
	n.mu.Lock()
	l := n.local[existing.Name]
	if l == nil {
		l = &masterLocal{}
		n.local[existing.Name] = l
	}
	ok := existing.Origin != n.myid && existing.Addr == addr && existing.Quorum == q && l.adoptedOf != key
	if ok {
		l.adoptedOf = key
	}
	n.mu.Unlock()
	if !ok {
		return sentinel.ReplyError("ERR Duplicate master name.")
	}
	// A MONITOR here starts this sentinel's settings afresh, as on a
	// lone redis-sentinel.
	fresh := &quorum.Master{Name: existing.Name, Settings: quorum.Settings{Quorum: q, ParallelSyncs: config.DefaultParallelSyncs}}
	n.fillDefaults(fresh)
	n.replaceSettings(fresh)
	if cur, ok := n.master(existing.Name); ok {
		n.mon.Watch(n.specFor(cur))
	}
	return n.flushConfigAndReply()
}

// adoptionKey identifies a replicated master record (who created it, and
// when): a sentinel adopts a MONITOR of another's record once.
func adoptionKey(m *quorum.Master) string {
	return m.Origin + "@" + strconv.FormatInt(m.CreatedAt, 10)
}

// replyError renders an error for the command surface, once, at the edge:
// the values of quorum and replication (also when they came back from the
// leader over the peer RPC) get redis-sentinel's texts; texts that already
// start with a Redis error code (ERR, NOQUORUM, INPROG, ...) pass through,
// anything else becomes "ERR <text>".
func replyError(err error) error {
	var re sentinel.ReplyError
	var rr replication.ReplyError
	switch {
	case errors.As(err, &re):
		return re
	case errors.As(err, &rr):
		return sentinel.ReplyError(string(rr))
	case errors.Is(err, quorum.ErrNoSuchMaster):
		return sentinel.ErrNoSuchMaster
	case errors.Is(err, quorum.ErrDuplicateMaster):
		return sentinel.ReplyError("ERR Duplicate master name.")
	case errors.Is(err, quorum.ErrNotLeader), errors.Is(err, quorum.ErrClosed):
		return ErrNoLeader
	}
	msg := err.Error()
	if code, _, ok := strings.Cut(msg, " "); ok && code != "" && strings.ToUpper(code) == code && !strings.ContainsAny(code, ":,.") {
		return sentinel.ReplyError(msg)
	}
	return sentinel.ReplyError("ERR " + msg)
}

// AfterMonitor announces +monitor once MONITOR's reply is queued.
func (n *Node) AfterMonitor(name string) {
	if m, ok := n.master(name); ok {
		n.emit(monitor.LevelWarning, "+monitor", n.masterRef(m), fmt.Sprintf("quorum %d", m.Quorum))
	}
}

// Remove answers SENTINEL REMOVE.
func (n *Node) Remove(name string) error {
	n.awaitGroup()
	m, ok := n.sm().Master(name)
	if !ok {
		return sentinel.ErrNoSuchMaster
	}
	ref := n.masterRef(m) // the apply forgets the master
	if err := n.proposeCommand(&quorum.Command{Op: quorum.OpRemove, Name: name, At: nowMs()}); err != nil {
		if errors.Is(err, quorum.ErrNoSuchMaster) {
			return sentinel.ErrNoSuchMaster
		}
		return replyError(err)
	}
	// Only once removed: a refused REMOVE (NOQUORUM) told subscribers the
	// master was gone while it was still monitored.
	n.emit(monitor.LevelWarning, "-monitor", ref, "")
	return n.flushConfigAndReply()
}

// Set answers SENTINEL SET <name> <opt> <val> ...: options apply left to
// right, each valid one at once with its +set event; the first bad one
// stops with an error and earlier ones stay (sentinelSetCommand).
func (n *Node) Set(name string, args []string) error {
	m, ok := n.master(name)
	if !ok {
		return sentinel.ErrNoSuchMaster
	}
	n.mu.Lock()
	deny := n.globals.denyScripts
	n.mu.Unlock()
	changes := 0
	var failure error
	for j := 0; j < len(args); j++ {
		opt := args[j]
		more := len(args) - 1 - j
		lopt := redisargs.Lower(opt)
		badfmt := func(v string) error {
			return sentinel.ReplyError(fmt.Sprintf("ERR Invalid argument '%s' for SENTINEL SET '%s'", v, opt))
		}
		o, ok := quorum.LookupOption(lopt)
		if !ok || more < o.Arity() {
			failure = sentinel.ReplyError(fmt.Sprintf("ERR Unknown option or number of arguments for SENTINEL SET '%s'", opt))
			break
		}
		vals := args[j+1 : j+1+o.Arity()]
		j += o.Arity()
		if failure = checkSetValue(o, vals, deny, badfmt); failure != nil {
			break
		}
		p := quorum.Param{Key: o.Name, Value: append([]string(nil), vals...)}
		event := opt + " " + strings.Join(vals, " ")
		if o.Kind == quorum.OptSecret {
			event = opt + " ******"
		}
		// Settings are this sentinel's own (settings.go): no other
		// sentinel changes, as with redis-sentinel.
		if err := n.setParam(name, p); err != nil {
			failure = replyError(err)
			break
		}
		if cur, ok := n.master(name); ok {
			n.mon.Watch(n.specFor(cur))
		}
		changes++
		n.emit(monitor.LevelWarning, "+set", n.masterRef(m), event)
	}
	if failure != nil {
		if changes > 0 {
			if err := n.flushConfig(); err != nil {
				n.log.Warn("WARNING: Sentinel was not able to save the new configuration on disk!!!: " + err.Error())
			}
		}
		return failure
	}
	return n.flushConfigAndReply()
}

// checkSetValue is sentinelSetCommand's check of one option's values.
func checkSetValue(o *quorum.Option, v []string, denyScripts bool, badfmt func(string) error) error {
	switch o.Kind {
	case quorum.OptMillis, quorum.OptCount, quorum.OptMillisOrZero:
		n, ok := redisargs.String2ll(v[0])
		if !ok || n < 0 || (n == 0 && o.Kind != quorum.OptMillisOrZero) {
			return badfmt(v[0])
		}
		// A count past 32 bits is refused: redis-sentinel wraps it (a
		// quorum of 4294967297 is 1), and the config file, read with
		// atoi as redis reads it, would wrap it at the next start.
		if o.Kind == quorum.OptCount && n > math.MaxInt32 {
			return badfmt(v[0])
		}
	case quorum.OptScript:
		if denyScripts {
			return sentinel.ReplyError("ERR Reconfiguration of scripts path is denied for security reasons. Check the deny-scripts-reconfig configuration directive in your Sentinel configuration")
		}
		if v[0] != "" && !isExecutable(v[0]) {
			return sentinel.ReplyError("ERR " + o.ScriptError)
		}
	case quorum.OptRename:
		if v[0] == "" || v[1] == "" {
			return badfmt("") // the empty name
		}
	}
	return nil
}

// isExecutable is access(path, X_OK).
func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// configOptions are SENTINEL CONFIG's parameters, in the order CONFIG GET
// lists them (sentinelConfigGetCommand); loglevel only in profiles that
// have it.
func (n *Node) configOptions() []string {
	opts := []string{"resolve-hostnames", "announce-hostnames", "announce-ip", "announce-port", "sentinel-user", "sentinel-pass"}
	if n.compat.ConfigLoglevel() {
		opts = append(opts, "loglevel")
	}
	return opts
}

// ConfigGet answers SENTINEL CONFIG GET <pattern> [<pattern> ...] (glob,
// case-insensitive): each parameter once, in the order of the patterns
// that first matched it, as 8.0's sentinelConfigGetCommand; the 7.0
// profile is given one pattern (the command layer checks the arity).
func (n *Node) ConfigGet(patterns []string) sentinel.Fields {
	n.mu.Lock()
	g := n.globals
	n.mu.Unlock()
	yesno := func(b bool) string {
		if b {
			return "yes"
		}
		return "no"
	}
	value := func(opt string) string {
		switch opt {
		case "resolve-hostnames":
			return yesno(g.resolveHostnames)
		case "announce-hostnames":
			return yesno(g.announceHostnames)
		case "announce-ip":
			return g.announceIP
		case "announce-port":
			return strconv.Itoa(g.announcePort)
		case "sentinel-user":
			return g.sentinelUser
		case "sentinel-pass":
			return g.sentinelPass
		case "loglevel":
			return g.logLevel
		}
		return ""
	}
	opts := n.configOptions()
	out := sentinel.Fields{}
	seen := map[string]bool{}
	for _, pattern := range patterns {
		for _, opt := range opts {
			if !seen[opt] && sentinel.Match(pattern, opt, true) { // stringmatch(pattern, name, 1)
				seen[opt] = true
				out = append(out, sentinel.Field{Key: opt, Value: value(opt)})
			}
		}
	}
	return out
}

// ConfigSet answers SENTINEL CONFIG SET <param> <value> [<param> <value>
// ...], as 8.0's sentinelConfigSetCommand: every pair is checked in order
// (a known parameter, not given twice, with a value, a valid one) before
// any is applied, so one bad pair changes nothing. The 7.0 profile is
// given one pair (the command layer checks the arity).
func (n *Node) ConfigSet(args []string) error {
	yesno := func(v string) (bool, bool) {
		switch redisargs.Lower(v) {
		case "yes":
			return true, true
		case "no":
			return false, true
		}
		return false, false
	}
	known := n.configOptions()
	seen := map[string]bool{}
	for i := 0; i < len(args); i += 2 {
		param := redisargs.Lower(args[i])
		if !slices.Contains(known, param) {
			return sentinel.ReplyError(fmt.Sprintf("ERR Invalid argument '%s' to SENTINEL CONFIG SET", args[i]))
		}
		if seen[param] {
			return sentinel.ReplyError(fmt.Sprintf("ERR Duplicate argument '%s' to SENTINEL CONFIG SET", args[i]))
		}
		seen[param] = true
		if i+1 == len(args) {
			return sentinel.ReplyError(fmt.Sprintf("ERR Missing argument '%s' value", args[i]))
		}
		value := args[i+1]
		ok := true
		switch param {
		case "resolve-hostnames", "announce-hostnames":
			_, ok = yesno(value)
		case "announce-port":
			var v int64
			v, ok = redisargs.String2ll(value)
			ok = ok && v >= 0 && v <= 65535
		case "loglevel":
			_, err := logging.ParseLevel(value)
			ok = err == nil && value != ""
		}
		if !ok {
			return sentinel.ReplyError(fmt.Sprintf("ERR Invalid value '%s' to SENTINEL CONFIG SET '%s'", value, args[i]))
		}
	}
	dropPeers := false
	n.mu.Lock()
	for i := 0; i+1 < len(args); i += 2 {
		value := args[i+1]
		switch redisargs.Lower(args[i]) {
		case "resolve-hostnames":
			n.globals.resolveHostnames, _ = yesno(value)
		case "announce-hostnames":
			n.globals.announceHostnames, _ = yesno(value)
		case "announce-ip":
			n.globals.announceIP, n.globals.announceIPSet = value, true
		case "announce-port":
			v, _ := strconv.Atoi(value)
			n.globals.announcePort = v
		case "sentinel-user":
			n.globals.sentinelUser = value
			dropPeers = true
		case "sentinel-pass":
			n.globals.sentinelPass = value
			dropPeers = true
		case "loglevel":
			level, _ := logging.ParseLevel(value)
			n.logLevel.Set(level)
			n.globals.logLevel = redisargs.Lower(value)
		}
	}
	user, pass := n.globals.sentinelUser, n.sentinelPassForPeers()
	resolve, announce := n.globals.resolveHostnames, n.globals.announceHostnames
	n.mu.Unlock()
	n.mon.SetHostnames(resolve, announce)
	reply := n.flushConfigAndReply()
	if dropPeers {
		n.mon.SetSentinelAuth(user, pass)
		if n.cl != nil {
			n.cl.peerSecretChanged() // sentinel-pass may be the peer secret
		}
	}
	return reply
}

// InfoCache answers SENTINEL INFO-CACHE.
func (n *Node) InfoCache(names []string) []sentinel.InfoCacheMaster {
	if len(names) == 0 {
		names = n.MasterNames()
	}
	now := time.Now()
	var out []sentinel.InfoCacheMaster
	seen := map[string]bool{}
	for _, name := range names {
		if seen[name] {
			continue
		}
		_, ms, ok := n.status(name)
		if !ok {
			continue
		}
		seen[name] = true
		e := sentinel.InfoCacheMaster{Name: name}
		e.Entries = append(e.Entries, infoEntry(now, &ms.Master, ms.Master.InfoRefresh))
		for i := range ms.Replicas {
			// sentinel.c quirk: a replica's age is 0 when the master never
			// answered INFO, and now-0 when the replica never did.
			ref := ms.Replicas[i].InfoRefresh
			if ms.Master.InfoRefresh.IsZero() {
				ref = time.Time{}
			} else if ref.IsZero() {
				ref = time.UnixMilli(0)
			}
			e.Entries = append(e.Entries, infoEntry(now, &ms.Replicas[i], ref))
		}
		out = append(out, e)
	}
	return out
}

func infoEntry(now time.Time, st *monitor.InstanceStatus, refresh time.Time) sentinel.InfoCacheEntry {
	return sentinel.InfoCacheEntry{AgeMillis: sinceMs(now, refresh), Info: st.Info.String(), Valid: !st.Info.Empty()}
}

// PendingScripts answers SENTINEL PENDING-SCRIPTS.
func (n *Node) PendingScripts() []sentinel.PendingScript { return n.scripts.pending() }

// SimulateFailure sets the SIMULATE-FAILURE flags.
func (n *Node) SimulateFailure(flags []string) {
	v := 0
	for _, f := range flags {
		switch f {
		case "crash-after-election":
			v |= 1
			n.log.Warn("Failure simulation: this Sentinel will crash after being successfully elected as failover leader")
		case "crash-after-promotion":
			v |= 2
			n.log.Warn("Failure simulation: this Sentinel will crash after promoting the selected replica to master")
		}
	}
	n.mu.Lock()
	n.globals.simFailure = v
	n.mu.Unlock()
}

// Debug answers SENTINEL DEBUG.
func (n *Node) Debug(args []string) (sentinel.Fields, error) { return n.timing.debug(args) }

// Hello processes a hello PUBLISHed to us by a peer.
func (n *Node) Hello(payload string) { n.mon.ProcessHello(payload) }

// InfoSentinel renders INFO's # Sentinel section.
func (n *Node) InfoSentinel() []string {
	names := n.MasterNames()
	n.mu.Lock()
	sim := n.globals.simFailure
	n.mu.Unlock()
	running, queued := n.scripts.counts()
	tiltFlag, tiltSince := "0", "-1"
	if on, since := n.mon.Tilt(); on {
		tiltFlag, tiltSince = "1", strconv.FormatInt(int64(time.Since(since)/time.Second), 10)
	}
	lines := []string{
		"sentinel_masters:" + strconv.Itoa(len(names)),
		"sentinel_tilt:" + tiltFlag,
		"sentinel_tilt_since_seconds:" + tiltSince,
		"sentinel_running_scripts:" + strconv.Itoa(running),
		"sentinel_scripts_queue_length:" + strconv.Itoa(queued),
		"sentinel_simulate_failure_flags:" + strconv.Itoa(sim),
	}
	for i, name := range names {
		m, ms, ok := n.status(name)
		if !ok {
			continue
		}
		status := "ok"
		n.mu.Lock()
		if l := n.local[name]; l != nil && l.odown {
			status = "odown"
		} else if ms.Master.SDown {
			status = "sdown"
		}
		n.mu.Unlock()
		lines = append(lines, fmt.Sprintf("master%d:name=%s,status=%s,address=%s:%d,slaves=%d,sentinels=%d",
			i, name, status, n.hostAsAnnounced(name, monitor.Addr(m.Addr)), m.Addr.Port, len(ms.Replicas), len(ms.Sentinels)+1))
	}
	return lines
}
