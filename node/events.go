package node

import (
	"context"
	"log/slog"

	"github.com/x0tta6bl4/gosentinel/internal/logging"
	"github.com/x0tta6bl4/gosentinel/monitor"
	"github.com/x0tta6bl4/gosentinel/quorum"
)

// masterRef is the event reference of a master; emit names its hosts as
// announced.
func (n *Node) masterRef(m *quorum.Master) *monitor.Ref {
	a := monitor.Addr(m.Addr)
	return &monitor.Ref{Kind: monitor.KindMaster, Name: m.Name, Addr: a, Master: m.Name, MasterAddr: a}
}

// hostAsAnnounced is how events, scripts, INFO and GET-MASTER-ADDR-BY-NAME
// name a host of master name's group, as redis-sentinel's
// announceSentinelAddr: a hostname only under announce-hostnames, else its
// IP (hostIP).
func (n *Node) hostAsAnnounced(name string, a monitor.Addr) string {
	if n.announceHostnames() {
		return a.Host
	}
	return n.hostIP(name, a)
}

// hostIP is the IP of a host of master name's group (resolve-hostnames):
// the host itself when it is an IP, else the one the monitor connected to,
// else the last one hostIPs looked up, else the hostname as it is. Never a
// DNS lookup of its own: events, the FSM's apply, INFO,
// GET-MASTER-ADDR-BY-NAME and is-master-down-by-addr wait on this, and a
// resolver that does not answer held each for seconds.
//
// redis-sentinel resolves a hostname when it creates the address
// (createSentinelAddr) and names the stored IP; the lookup starts here at
// the same moment (resolveAhead), but a hostname neither the monitor nor
// hostIPs has resolved yet (just added, a resolver that does not answer)
// is named as it is meanwhile. redis-sentinel 7.0.15 names "" for a
// config file's hostname it could not resolve at load: clients dial ""
// as their own host (go-redis joins it into ":6379", which net.Dial takes
// as the local system), where the hostname still leads a client with a
// working resolver to the master.
func (n *Node) hostIP(name string, a monitor.Addr) string {
	if a.Host == "" || isIP(a.Host) {
		return a.Host
	}
	if ms, ok := n.mon.Status(name); ok {
		if ms.Master.Ref.Addr == a && ms.Master.IP != "" {
			return ms.Master.IP
		}
		for _, r := range ms.Replicas {
			if r.Ref.Addr == a && r.IP != "" {
				return r.IP
			}
		}
	}
	if ip := n.hostIPs.lookup(a.Host); ip != "" {
		return ip
	}
	return a.Host
}

// resolveAhead starts hostIPs' lookup of a master's hostname when the
// group creates or moves the master, as redis-sentinel resolves when it
// creates the address, so that GET-MASTER-ADDR-BY-NAME and
// is-master-down-by-addr have its IP by the time they are asked.
func (n *Node) resolveAhead(a quorum.Addr) {
	if a.Host != "" && !isIP(a.Host) {
		n.hostIPs.lookup(a.Host)
	}
}

// announcedRef is ref with its hosts as hostAsAnnounced names them.
func (n *Node) announcedRef(ref *monitor.Ref) *monitor.Ref {
	named := func(h string) bool { return h == "" || isIP(h) }
	if ref == nil || named(ref.Addr.Host) && named(ref.MasterAddr.Host) {
		return ref
	}
	r := *ref
	r.Addr.Host = n.hostAsAnnounced(r.Master, r.Addr)
	r.MasterAddr.Host = n.hostAsAnnounced(r.Master, r.MasterAddr)
	return &r
}

// emit is sentinelEvent with the %@ prefix: "<ref> <text>".
func (n *Node) emit(level monitor.Level, typ string, ref *monitor.Ref, text string) {
	if ref == nil {
		n.emitMsg(level, typ, "", text)
		return
	}
	msg := n.announcedRef(ref).String() // the %@ prefix of sentinelEvent
	if text != "" {
		msg += " " + text
	}
	n.emitMsg(level, typ, ref.Master, msg)
}

// emitMsg logs the event, publishes it on the channel named after its type
// (unless debug), and queues the notification script of master (if any)
// for warnings, as sentinelEvent does for events attached to an instance.
func (n *Node) emitMsg(level monitor.Level, typ, master, msg string) {
	n.log.Log(context.Background(), slogLevel(level), typ+" "+msg)
	if level == monitor.LevelDebug {
		return
	}
	n.srv.Publish(typ, msg)
	if level == monitor.LevelWarning && master != "" {
		if m, ok := n.master(master); ok && m.NotificationScript != "" {
			n.scripts.schedule([]string{m.NotificationScript, typ, msg})
		}
	}
}

// emitMonitorEvent forwards an event observed by the monitor, and reacts to
// the ones that change local decisions.
func (n *Node) emitMonitorEvent(e monitor.Event) {
	n.emit(e.Level, e.Type, e.Ref, e.Text)
	if e.Type == "+sdown" && e.Ref != nil && e.Ref.Kind == monitor.KindMaster {
		// The peers may have said "down" already: decide ODOWN now.
		n.checkMasterObjectivelyDown(e.Ref.Master)
	}
}

func slogLevel(l monitor.Level) slog.Level {
	switch l {
	case monitor.LevelDebug:
		return slog.LevelDebug
	case monitor.LevelVerbose:
		return logging.LevelVerbose
	case monitor.LevelNotice:
		return slog.LevelInfo
	default:
		return slog.LevelWarn
	}
}
