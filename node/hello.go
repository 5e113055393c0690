package node

import (
	"context"
	"errors"
	"net"
	"strconv"

	"github.com/x0tta6bl4/gosentinel/monitor"
	"github.com/x0tta6bl4/gosentinel/quorum"
)

// announcedPort is the port our hellos carry: announce-port, else the
// tls-port with tls-replication (sentinelSendHello), else the configured
// port, else (port 0 in tests) the listener's port.
func (n *Node) announcedPort() int {
	n.mu.Lock()
	p := n.globals.announcePort
	n.mu.Unlock()
	if p != 0 {
		return p
	}
	if p := n.tlsPort(); p != 0 {
		return p
	}
	if n.cfg.Port != 0 {
		return n.cfg.Port
	}
	if a, ok := n.lns[0].Addr().(*net.TCPAddr); ok {
		return a.Port
	}
	return 0
}

// helloPayload builds the 8-field hello about master name (sentinelSendHello):
// <ip>,<port>,<myid>,<current-epoch>,<name>,<master-ip>,<master-port>,<config-epoch>.
func (n *Node) helloPayload(name, localIP string) (string, bool) {
	var addr quorum.Addr
	var configEpoch uint64
	if !n.sm().ReadMaster(name, func(m *quorum.Master) {
		addr, configEpoch = helloMasterAddr(m), m.ConfigEpoch
	}) {
		return "", false
	}
	n.mu.Lock()
	ip := localIP
	if n.globals.announceIPSet {
		ip = n.globals.announceIP
	}
	n.mu.Unlock()
	return formatHello(ip, n.announcedPort(), n.myid, n.sm().CurrentEpoch(), name, addr.Host, addr.Port, configEpoch), true
}

// formatHello renders the hello's eight comma-separated fields. Appended
// rather than formatted: built for every master every 2 s, fmt's boxing of
// the numbers was a tenth of a follower's allocations at 500 masters.
func formatHello(ip string, port int, myid string, epoch uint64, name, masterHost string, masterPort int, configEpoch uint64) string {
	var buf [192]byte
	b := append(buf[:0], ip...)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(port), 10)
	b = append(b, ',')
	b = append(b, myid...)
	b = append(b, ',')
	b = strconv.AppendUint(b, epoch, 10)
	b = append(b, ',')
	b = append(b, name...)
	b = append(b, ',')
	b = append(b, masterHost...)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(masterPort), 10)
	b = append(b, ',')
	b = strconv.AppendUint(b, configEpoch, 10)
	return string(b)
}

// helloMasterAddr is the master address our hellos announce with the
// master's config epoch (sentinelGetCurrentMasterAddress): once the
// promotion is recorded the config epoch is the failover's, and the
// address that goes with it is the promoted replica's. A hello naming the
// old address with the new epoch made a redis-sentinel adopt that epoch
// for the old master and then ignore the switch's hellos, whose epoch was
// no newer: it kept the dead master.
func helloMasterAddr(m *quorum.Master) quorum.Addr { return m.CurrentAddr() }

// helloDecision is what a peer's hello changes here.
type helloDecision struct {
	adoptEpoch     bool // OpObserveEpoch with the hello's current epoch
	setConfigEpoch bool // OpSetConfigEpoch: newer config epoch, same address
	switchTo       bool // OpSwitchMaster to the hello's master address
}

// decideHello is sentinelProcessHelloMessage steps 2 and 3 as a pure
// function: adopt a higher current epoch, and a higher master config epoch
// together with the master address it names. Unlike redis, which takes
// both from any hello naming a known master, only a sender whose id our own
// link confirmed (Hello.FromConfirmedSentinel, monitor/confirm.go) moves
// anything: a hello is unauthenticated, and these go to the Raft log. The
// fields were validated by the monitor (ports, epochs, runid); an address
// this sentinel cannot use (a hostname without resolve-hostnames) is not
// switched to, as sentinelResetMasterAndChangeAddress refuses it.
func decideHello(h monitor.Hello, m *quorum.Master, currentEpoch uint64) helloDecision {
	if !h.FromKnownSentinel || !h.FromConfirmedSentinel {
		return helloDecision{}
	}
	d := helloDecision{adoptEpoch: h.CurrentEpoch > currentEpoch}
	if h.MasterConfigEpoch <= m.ConfigEpoch || !h.MasterAddrUsable {
		return d
	}
	if m.Failover != nil && h.MasterConfigEpoch == m.Failover.Epoch && quorum.Addr(h.MasterAddr) == m.Failover.Replica {
		// The failover recorded here announces its promotion (the
		// leader's hellos name the promoted replica once it applied
		// OpFailoverPromoted, a follower may not have yet): its own
		// switch follows through the log. Switched from the hello, the
		// record ended before it and its driver, finding its switch
		// refused, stopped without repointing the replicas or demoting
		// the old master.
		return d
	}
	if (quorum.Addr(h.MasterAddr)) == m.Addr {
		d.setConfigEpoch = true
	} else {
		d.switchTo = true
	}
	return d
}

// hello is the monitor's OnHello: it queues for onHello only the hellos
// that may change something. Nearly none does, and each queued one cost a
// closure and a copy of the hello (1,500 hellos a second reach every
// sentinel at 1000 masters); onHello decides again on the state it finds.
func (n *Node) hello(h monitor.Hello) {
	if n.helloMatters(&h) {
		n.queueHello(h)
	}
}

// queueHello is not inlined: inlined, the closure's copy of the hello was
// made on every call of hello, queued or not.
//
//go:noinline
func (n *Node) queueHello(h monitor.Hello) { n.queue.Push(func() { n.onHello(h) }) }

// helloMatters decides on the state as it is, without a copy of the
// master (ReadMaster): false if h changes nothing.
func (n *Node) helloMatters(h *monitor.Hello) bool {
	var d helloDecision
	epoch := n.sm().CurrentEpoch()
	return n.sm().ReadMaster(h.Master, func(m *quorum.Master) { d = decideHello(*h, m, epoch) }) && d != (helloDecision{})
}

// onHello applies what decideHello allows. Going through the store keeps a
// single path for every state change.
func (n *Node) onHello(h monitor.Hello) {
	if !n.helloMatters(&h) {
		return
	}
	m, ok := n.master(h.Master)
	if !ok {
		return
	}
	d := decideHello(h, m, n.sm().CurrentEpoch())
	ctx := context.Background()
	if d.adoptEpoch {
		if err := n.propose(ctx, &quorum.Command{Op: quorum.OpObserveEpoch, Epoch: h.CurrentEpoch, At: nowMs()}); err != nil {
			n.log.Warn("failed to adopt epoch from hello", "epoch", h.CurrentEpoch, "error", err)
			return
		}
		n.emitMsg(monitor.LevelWarning, "+new-epoch", m.Name, strconv.FormatUint(h.CurrentEpoch, 10))
	}
	newAddr := quorum.Addr(h.MasterAddr)
	switch {
	case d.setConfigEpoch:
		if err := n.propose(ctx, &quorum.Command{Op: quorum.OpSetConfigEpoch, Name: m.Name, Epoch: h.MasterConfigEpoch, At: nowMs()}); err != nil {
			n.log.Warn("failed to adopt config epoch from hello", "master", m.Name, "error", err)
		}
		return
	case !d.switchTo:
		return
	}
	ref := h.Sentinel
	n.emit(monitor.LevelWarning, "+config-update-from", &ref, "")
	if err := n.propose(ctx, &quorum.Command{Op: quorum.OpSwitchMaster, Name: m.Name, Addr: newAddr,
		From: m.Addr, Epoch: h.MasterConfigEpoch, At: nowMs()}); err != nil {
		if errors.Is(err, quorum.ErrStaleSwitch) {
			// The group committed this switch already; our view was a
			// moment old.
			return
		}
		n.log.Warn("failed to switch master from hello", "master", m.Name, "error", err)
	}
	// The applied switch runs the observer's client-reconfig-script
	// (switchedMaster), here and on every other member.
}
