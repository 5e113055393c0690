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

// hostAsAnnounced is how events, scripts and INFO name a host of master
// name's group, as redis-sentinel's announceSentinelAddr: a hostname only
// under announce-hostnames, else its IP (resolve-hostnames): the one the
// monitor connected to, else the last one hostIPs looked up. Never a DNS
// lookup of its own: events, the FSM's apply and INFO wait on this, and a
// resolver that does not answer held each for seconds. redis-sentinel
// resolves a hostname once, when it makes the instance; the monitor
// resolves when it connects, so a hostname neither has resolved yet (just
// added, a node that refuses connections) is named as it is meanwhile.
func (n *Node) hostAsAnnounced(name string, a monitor.Addr) string {
	if a.Host == "" || isIP(a.Host) || n.announceHostnames() {
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
