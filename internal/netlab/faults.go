package netlab

import (
	"context"
	"fmt"
	"net"
	"runtime"
	"strconv"

	"golang.org/x/sys/unix"
)

// faultChain is the iptables chain, in each host's filter table, that holds
// the lab's faults; INPUT and OUTPUT jump to it, and Heal flushes it.
// Rules name peers by address, so established connections are cut too
// (every packet is dropped, whatever its conntrack state).
const faultChain = "GSL-FAULTS"

// ipt runs the lab's iptables inside h (-w: wait for the xtables lock
// instead of failing when two rules are added at once).
func (h *Host) ipt(args ...string) error {
	full := append([]string{"netns", "exec", h.NS, h.lab.ipt, "-w"}, args...)
	if err := run("ip", full...); err != nil {
		return fmt.Errorf("netlab: %s: %w", h.Name, err)
	}
	return nil
}

// ensureChain creates faultChain in h and the jumps to it, once.
func (h *Host) ensureChain() error {
	if h.ipt("-S", faultChain) == nil {
		return nil
	}
	if err := h.ipt("-N", faultChain); err != nil {
		return err
	}
	if err := h.ipt("-A", "INPUT", "-j", faultChain); err != nil {
		return err
	}
	return h.ipt("-A", "OUTPUT", "-j", faultChain)
}

// Cut drops every packet between each host of a and each host of b, in
// both directions: on both ends, INPUT from the peer's address and OUTPUT
// to it. Hosts outside a and b, and the observer, are not affected.
func (l *Lab) Cut(a, b []*Host) error {
	for _, x := range a {
		for _, y := range b {
			for _, pair := range [][2]*Host{{x, y}, {y, x}} {
				self, peer := pair[0], pair[1]
				if err := self.ensureChain(); err != nil {
					return err
				}
				if err := self.ipt("-A", faultChain, "-s", peer.IP, "-j", "DROP"); err != nil {
					return err
				}
				if err := self.ipt("-A", faultChain, "-d", peer.IP, "-j", "DROP"); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// Loss makes h drop each packet it receives from the lab's subnet with the
// given probability (iptables' statistic match in random mode; this kernel
// has no netem). Loopback traffic inside h is not affected.
func (l *Lab) Loss(h *Host, probability float64) error {
	if probability <= 0 || probability > 1 {
		return fmt.Errorf("netlab: loss probability %v not in (0, 1]", probability)
	}
	if err := h.ensureChain(); err != nil {
		return err
	}
	return h.ipt("-A", faultChain, "-s", l.Subnet(), "-m", "statistic", "--mode", "random",
		"--probability", strconv.FormatFloat(probability, 'f', 4, 64), "-j", "DROP")
}

// Heal removes every fault (cuts and losses) from every host.
func (l *Lab) Heal() error {
	for _, h := range l.Hosts() {
		if h.ipt("-S", faultChain) != nil {
			continue // never faulted
		}
		if err := h.ipt("-F", faultChain); err != nil {
			return err
		}
	}
	return nil
}

// Rules returns h's fault rules (iptables -S of the lab's chain), empty
// when h was never faulted.
func (h *Host) Rules() string {
	out, err := output("ip", "netns", "exec", h.NS, h.lab.ipt, "-w", "-S", faultChain)
	if err != nil {
		return ""
	}
	return out
}

// DialContext opens a connection from inside h: the socket is created by
// a thread that entered h's namespace for that call only (a socket belongs
// to the namespace it was created in), so this process can be a client in
// h, e.g. as go-redis' Dialer.
func (h *Host) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	var c net.Conn
	err := h.inNamespace(func() error {
		var d net.Dialer
		var err error
		c, err = d.DialContext(ctx, network, addr)
		return err
	})
	return c, err
}

// Listen opens a listener inside h (see DialContext).
func (h *Host) Listen(network, addr string) (net.Listener, error) {
	var l net.Listener
	err := h.inNamespace(func() error {
		var err error
		l, err = net.Listen(network, addr)
		return err
	})
	return l, err
}

// ListenPacket opens a packet socket inside h (see DialContext).
func (h *Host) ListenPacket(network, addr string) (net.PacketConn, error) {
	var pc net.PacketConn
	err := h.inNamespace(func() error {
		var err error
		pc, err = net.ListenPacket(network, addr)
		return err
	})
	return pc, err
}

// inNamespace runs f on a locked OS thread switched into h's namespace,
// in a goroutine of its own. If the thread cannot switch back, it stays
// locked and the runtime discards it when that goroutine ends, so no
// other goroutine ever runs in h by accident.
func (h *Host) inNamespace(f func() error) error {
	target, err := unix.Open("/run/netns/"+h.NS, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("netlab: open namespace %s: %w", h.NS, err)
	}
	defer unix.Close(target)
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			done <- fmt.Errorf("netlab: open own namespace: %w", err)
			return
		}
		defer unix.Close(orig)
		if err := unix.Setns(target, unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			done <- fmt.Errorf("netlab: enter %s: %w", h.NS, err)
			return
		}
		ferr := f()
		if unix.Setns(orig, unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		}
		done <- ferr
	}()
	return <-done
}
