package netlab

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"

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

// createChain creates faultChain in h and the jumps to it from INPUT and
// OUTPUT (AddHost does, so every fault only adds rules to it).
func (h *Host) createChain() error {
	if err := h.ipt("-N", faultChain); err != nil {
		return err
	}
	if err := h.ipt("-A", "INPUT", "-j", faultChain); err != nil {
		return err
	}
	return h.ipt("-A", "OUTPUT", "-j", faultChain)
}

// addRules appends rules (each the arguments after "-A <chain>") to h's
// faultChain in one iptables-restore transaction, so a host's part of a
// fault takes effect at once rather than rule by rule.
func (h *Host) addRules(rules [][]string) error {
	var b strings.Builder
	b.WriteString("*filter\n")
	for _, r := range rules {
		b.WriteString("-A " + faultChain + " " + strings.Join(r, " ") + "\n")
	}
	b.WriteString("COMMIT\n")
	cmd := exec.Command("ip", "netns", "exec", h.NS, h.lab.ipt+"-restore", "-w", "--noflush")
	cmd.Stdin = strings.NewReader(b.String())
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("netlab: %s: %s-restore: %w: %s", h.Name, h.lab.ipt, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// eachHost runs f for every host of hs at once, so a fault starts (or
// ends) on every host within one iptables call's time.
func eachHost(hs []*Host, f func(*Host) error) error {
	errs := make([]error, len(hs))
	var wg sync.WaitGroup
	for i, h := range hs {
		wg.Go(func() { errs[i] = f(h) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Cut drops every packet between each host of a and each host of b, in
// both directions: on both ends, INPUT from the peer's address and OUTPUT
// to it. Hosts outside a and b, and the observer, are not affected. Each
// host's rules are added in one transaction, all hosts at once.
func (l *Lab) Cut(a, b []*Host) error {
	rules := map[*Host][][]string{}
	var hosts []*Host
	add := func(self, peer *Host) {
		if _, ok := rules[self]; !ok {
			hosts = append(hosts, self)
		}
		rules[self] = append(rules[self],
			[]string{"-s", peer.IP, "-j", "DROP"},
			[]string{"-d", peer.IP, "-j", "DROP"})
	}
	for _, x := range a {
		for _, y := range b {
			add(x, y)
			add(y, x)
		}
	}
	return eachHost(hosts, func(h *Host) error { return h.addRules(rules[h]) })
}

// Loss makes h drop each packet it receives from the lab's subnet with the
// given probability (iptables' statistic match in random mode; this kernel
// has no netem). Loopback traffic inside h is not affected.
func (l *Lab) Loss(h *Host, probability float64) error {
	if probability <= 0 || probability > 1 {
		return fmt.Errorf("netlab: loss probability %v not in (0, 1]", probability)
	}
	return h.addRules([][]string{{"-s", l.Subnet(), "-m", "statistic", "--mode", "random",
		"--probability", strconv.FormatFloat(probability, 'f', 4, 64), "-j", "DROP"}})
}

// Heal removes every fault (cuts and losses) from every host, all hosts
// at once.
func (l *Lab) Heal() error {
	return eachHost(l.Hosts(), func(h *Host) error { return h.ipt("-F", faultChain) })
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
