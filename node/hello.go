package node

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"

	"github.com/x0tta6bl4/gosentinel/monitor"
	"github.com/x0tta6bl4/gosentinel/quorum"
)

// announcedPort is the port our hellos carry: announce-port, else the
// configured port, else (port 0 in tests) the listener's port.
func (n *Node) announcedPort() int {
	n.mu.Lock()
	p := n.globals.announcePort
	n.mu.Unlock()
	if p != 0 {
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
	m, ok := n.sm().Master(name)
	if !ok {
		return "", false
	}
	n.mu.Lock()
	ip := localIP
	if n.globals.announceIPSet {
		ip = n.globals.announceIP
	}
	n.mu.Unlock()
	return fmt.Sprintf("%s,%d,%s,%d,%s,%s,%d,%d", ip, n.announcedPort(), n.myid, n.sm().CurrentEpoch(),
		m.Name, m.Addr.Host, m.Addr.Port, m.ConfigEpoch), true
}

// onHello applies the epoch part of a peer's hello (sentinelProcessHelloMessage
// steps 2 and 3): adopt a higher current epoch, and a higher master config
// epoch together with the master address it names. Going through the store
// keeps a single path for every state change.
func (n *Node) onHello(h monitor.Hello) {
	m, ok := n.master(h.Master)
	if !ok {
		return
	}
	ctx := context.Background()
	if h.CurrentEpoch > n.sm().CurrentEpoch() {
		if err := n.propose(ctx, &quorum.Command{Op: quorum.OpObserveEpoch, Epoch: h.CurrentEpoch, At: nowMs()}); err != nil {
			n.log.Warn("failed to adopt epoch from hello", "epoch", h.CurrentEpoch, "error", err)
			return
		}
		n.emitMsg(monitor.LevelWarning, "+new-epoch", m.Name, strconv.FormatUint(h.CurrentEpoch, 10))
	}
	// A hello from a sender we could not record (invalid address) does
	// not move our config, as in sentinel.c.
	if h.MasterConfigEpoch <= m.ConfigEpoch || !h.FromKnownSentinel {
		return
	}
	newAddr := quorum.Addr{Host: h.MasterAddr.Host, Port: h.MasterAddr.Port}
	if newAddr == m.Addr {
		if err := n.propose(ctx, &quorum.Command{Op: quorum.OpSetConfigEpoch, Name: m.Name, Epoch: h.MasterConfigEpoch, At: nowMs()}); err != nil {
			n.log.Warn("failed to adopt config epoch from hello", "master", m.Name, "error", err)
		}
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
		return
	}
	if m.ClientReconfigScript != "" {
		n.scripts.schedule([]string{m.ClientReconfigScript, m.Name, "observer", "start",
			m.Addr.Host, strconv.Itoa(m.Addr.Port), newAddr.Host, strconv.Itoa(newAddr.Port)})
	}
}
