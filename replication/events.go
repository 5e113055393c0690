package replication

import (
	"github.com/x0tta6bl4/gosentinel/monitor"
)

// FormatEvent renders an event the way sentinelEvent does: "%@ text" for an
// instance ref, the bare text for events without an instance. master is the
// master the event belongs to ("" if none), whose notification-script a
// warning runs.
func FormatEvent(ref *monitor.Ref, text string) (master, msg string) {
	if ref == nil {
		return "", text
	}
	if ref.Kind == "" {
		return ref.Master, text
	}
	msg = ref.String()
	if text != "" {
		msg += " " + text
	}
	return ref.Master, msg
}

// masterOnly is the ref of an event that belongs to a master but has no %@
// prefix (+new-epoch, +vote-for-leader).
func masterOnly(name string) *monitor.Ref { return &monitor.Ref{Master: name} }

// masterRef is the %@ of master name at addr.
func masterRef(name string, addr monitor.Addr) *monitor.Ref {
	return &monitor.Ref{Kind: monitor.KindMaster, Name: name, Addr: addr, Master: name, MasterAddr: addr}
}

// replicaRef is the %@ of replica a of master name at masterAddr.
func replicaRef(name string, masterAddr, a monitor.Addr) *monitor.Ref {
	return &monitor.Ref{Kind: monitor.KindReplica, Name: a.String(), Addr: a, Master: name, MasterAddr: masterAddr}
}

func (e *Engine) emit(level monitor.Level, typ string, ref *monitor.Ref, text string) {
	if e.cfg.Emit != nil {
		e.cfg.Emit(level, typ, ref, text)
	}
}
