package monitor

import (
	"fmt"
	"net"
	"strings"
	"time"
)

// address is sentinelAddr: the host as given (IP or hostname) and, when
// known, its IP. Hostnames are only accepted with resolve-hostnames; they
// are resolved when a connection is made.
type address struct {
	Addr
	ip string // resolved IP; the host itself for IP literals; "" if unknown
}

// newAddress validates an address like createSentinelAddr: the port must be
// in 0..65535 and, unless resolveHostnames, the host must be an IP.
func newAddress(a Addr, resolveHostnames bool) (address, error) {
	if a.Port < 0 || a.Port > 65535 {
		return address{}, fmt.Errorf("address %s: port out of range", a)
	}
	if ip := net.ParseIP(a.Host); ip != nil {
		return address{Addr: a, ip: a.Host}, nil
	}
	if !resolveHostnames {
		return address{}, fmt.Errorf("address %s: not an IP and resolve-hostnames is off", a)
	}
	return address{Addr: a}, nil
}

// same is sentinelAddrOrHostnameEqual: same port and same IP or same
// hostname (case-insensitive).
func (a address) same(b address) bool {
	return a.Port == b.Port &&
		((a.ip != "" && a.ip == b.ip) || strings.EqualFold(a.Host, b.Host))
}

// instance is sentinelRedisInstance: a master, a replica or another
// sentinel. Guarded by Monitor.mu.
type instance struct {
	kind    Kind
	name    string // master name, replica ip:port, sentinel runid
	addr    address
	runID   string
	master  *instance // owning master; nil for masters
	link    *link
	removed bool // released; replies still queued on a shared link are dropped

	// limitWarned: the kinds of instance (a master's "replicas",
	// "sentinels") already logged as over their limit (warnLimit).
	limitWarned    map[string]bool
	sdown          bool
	sdownSince     time.Time
	scriptKillSent bool
	rebooting      bool
	rebootSince    time.Time
	lastPubTime    time.Time
	// infoConn is the connection an INFO awaits its reply on (nil: none):
	// no other INFO is sent on it meanwhile (sendPeriodicCommands).
	infoConn *conn
	// pubConn is the connection a hello PUBLISH awaits its reply on (nil:
	// none): no other hello is sent on it meanwhile (helloDue).
	pubConn *conn

	// Masters and replicas.
	info                string // the last INFO reply, encoded (infotext.go)
	infoRefresh         time.Time
	roleReported        string
	roleReportedTime    time.Time
	slaveConfChangeTime time.Time
	masterLinkDownTime  time.Duration
	slaveMasterHost     string
	slaveMasterHostSet  bool // slave_master_host != NULL: "" is a host a replica can report
	slaveMasterPort     int
	slaveMasterLinkUp   bool
	slavePriority       int
	slaveReplOffset     int64
	replicaAnnounced    bool
	masterReplOffset    int64

	// Sentinels.
	lastHelloTime           time.Time
	helloReceived           time.Time // zero until a hello arrives
	lastMasterDownReplyTime time.Time
	masterDown              bool
	leader                  string
	leaderEpoch             uint64

	// Masters only.
	spec MasterSpec
	// electionEpoch is the epoch of this sentinel's running leader
	// election for the master (0: none): the is-master-down-by-addr asks
	// carry our run id and that epoch, asking for votes (SetElection).
	// electionAsk forces the next ask at once (SENTINEL_ASK_FORCED).
	electionEpoch uint64
	electionAsk   bool
	// verdictsHeld: some sentinel of this master may hold a down verdict
	// or a vote (set by isMasterDownReply, cleared by the ask pass once
	// none does), so a master neither SDOWN nor holding any skips the ask
	// pass without visiting its sentinels.
	verdictsHeld bool
	replicas     []*instance
	sentinels    []*instance
}

// newInstance is createSentinelRedisInstance without the table insertion.
func newInstance(kind Kind, name string, addr address, master *instance, now time.Time) *instance {
	ri := &instance{
		kind:                    kind,
		name:                    name,
		addr:                    addr,
		master:                  master,
		link:                    newLink(now),
		lastPubTime:             now,
		lastHelloTime:           now,
		lastMasterDownReplyTime: now,
		slavePriority:           100,
		replicaAnnounced:        true,
		roleReportedTime:        now,
		slaveConfChangeTime:     now,
	}
	switch kind {
	case KindMaster:
		ri.roleReported = roleMaster
	case KindReplica:
		ri.roleReported = roleSlave
	}
	return ri
}

// owner is the master whose settings (down-after, auth, renames) apply.
func (ri *instance) owner() *instance {
	if ri.master != nil {
		return ri.master
	}
	return ri
}

func (ri *instance) downAfter() time.Duration {
	if d := ri.owner().spec.DownAfter; d > 0 {
		return d
	}
	return defaultDownAfter
}

// defaultDownAfter is SENTINEL_DEFAULT_DOWN_AFTER, used when a spec has none.
const defaultDownAfter = 30 * time.Second

// command maps a command name through the master's rename-command table
// (sentinelInstanceMapCommand).
func (ri *instance) command(name string) string {
	if n, ok := ri.owner().spec.RenameCommands[strings.ToUpper(name)]; ok {
		return n
	}
	for k, n := range ri.owner().spec.RenameCommands {
		if strings.EqualFold(k, name) {
			return n
		}
	}
	return name
}

func (ri *instance) ref() *Ref {
	r := &Ref{Kind: ri.kind, Name: ri.name, Addr: ri.addr.Addr}
	if m := ri.master; m != nil {
		r.Master = m.name
		r.MasterAddr = m.addr.Addr
	} else {
		r.Master = ri.name
	}
	return r
}

func (ri *instance) findReplica(a Addr) *instance {
	name := a.String()
	for _, r := range ri.replicas {
		if r.name == name {
			return r
		}
	}
	return nil
}

// status copies the live view.
func (ri *instance) status(keys *infoKeys) InstanceStatus {
	lk := ri.link
	st := InstanceStatus{
		Ref:                 *ri.ref(),
		RunID:               ri.runID,
		IP:                  ri.addr.ip,
		Disconnected:        lk.shownDisconnected(),
		SDown:               ri.sdown,
		SDownSince:          ri.sdownSince,
		ScriptKillSent:      ri.scriptKillSent,
		MasterReboot:        ri.rebooting,
		MasterRebootSince:   ri.rebootSince,
		LinkPendingCommands: lk.pending,
		LinkRefcount:        lk.refcount,
		PingPendingSince:    lk.actPingTime,
		LastOKPingReply:     lk.lastAvail,
		LastPingReply:       lk.lastPong,
		PingRTT:             lk.pingRTT,
		DownAfter:           ri.downAfter(),
	}
	if ri.kind == KindSentinel {
		st.LastHello = ri.lastHelloTime
		st.HelloReceived = ri.helloReceived
		st.LastMasterDownReply = ri.lastMasterDownReplyTime
		st.MasterDown = ri.masterDown
		st.VotedLeader = ri.leader
		st.VotedLeaderEpoch = ri.leaderEpoch
		st.IDConfirmed = ri.idConfirmed()
		st.Declined = lk.declinedKept()
		return st
	}
	st.InfoRefresh = ri.infoRefresh
	st.Info = keys.text(ri.info)
	st.RoleReported = ri.roleReported
	st.RoleReportedTime = ri.roleReportedTime
	st.SlaveConfChangeTime = ri.slaveConfChangeTime
	st.MasterLinkDownTime = ri.masterLinkDownTime
	st.MasterLinkUp = ri.slaveMasterLinkUp
	st.MasterHost = ri.slaveMasterHost
	if !ri.slaveMasterHostSet {
		st.MasterHost = "?"
	}
	st.MasterPort = ri.slaveMasterPort
	st.SlavePriority = ri.slavePriority
	st.SlaveReplOffset = ri.slaveReplOffset
	st.ReplicaAnnounced = ri.replicaAnnounced
	st.MasterReplOffset = ri.masterReplOffset
	return st
}
