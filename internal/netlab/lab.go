// Package netlab is a network-fault lab on one Linux machine: a bridge and
// one network namespace per host, each with its own address in a private
// 10.x.y.0/24, and faults applied with iptables inside the namespaces
// (partitions by peer address, random packet loss; the kernel here has no
// netem). It needs root, iproute2 (ip) and iptables.
//
// Everything a lab creates is named with Prefix and the creating pid, and
// removed by Close; a new lab first removes the objects of labs whose pid
// is dead, so a killed test never leaves the machine dirty. Nothing is
// routed off the machine: the bridge has no uplink, no forwarding is
// enabled, and the only addresses are the lab's own.
//
// Processes run inside a namespace through `ip netns exec <ns>` (Host.Wrap,
// a command prefix the launchers of internal/redistest take): ip execs the
// program in place, so the pid a launcher signals is the program's own.
// Go's exec.Cmd cannot enter a network namespace itself (SysProcAttr has no
// setns), and setns in a multi-threaded Go process moves only one thread.
// Sockets of this process that must live in a host's namespace (the
// client's) are created by Host.DialContext on a locked thread that enters
// the namespace for the socket call only: a socket stays in the namespace
// it was created in.
//
// The bridge itself holds the address <subnet>.1 in the root namespace:
// the creating process (a test or a benchmark, an observer) reaches every
// host through it, and no cut ever drops it, because cuts name the hosts'
// addresses only.
package netlab

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Prefix starts the name of every namespace and link a lab creates
// ("gsl<pid>" for the bridge, "gsl<pid>v<i>" for a host's veth in the root
// namespace, "gsl-<pid>-<host>" for a namespace). Interface names are at
// most 15 bytes: "gsl" + 7 pid digits + "v" + 2 digits fits.
const Prefix = "gsl"

// lockPath serialises the creation of labs on this machine, so two labs
// started at once never pick the same subnet.
const lockPath = "/run/gosentinel-netlab.lock"

// Lab is a bridge with hosts, each in its own network namespace.
type Lab struct {
	pid    int
	bridge string
	subnet [3]byte // 10.x.y
	ipt    string  // the iptables executable that works in a namespace

	mu     sync.Mutex
	hosts  []*Host
	closed bool
}

// Host is one network namespace on the lab's bridge.
type Host struct {
	lab  *Lab
	Name string
	// NS is the namespace's name (for `ip netns exec`).
	NS string
	// IP is the host's address on the bridge.
	IP   string
	veth string
}

// Available says why a lab cannot be created here, or nil: it needs root,
// ip and iptables.
func Available() error {
	if os.Geteuid() != 0 {
		return errors.New("netlab needs root (network namespaces, bridge, iptables)")
	}
	for _, bin := range []string{"ip", "iptables"} {
		if _, err := exec.LookPath(bin); err != nil {
			return fmt.Errorf("netlab needs %s (Debian packages iproute2, iptables): %w", bin, err)
		}
	}
	return nil
}

// New creates a lab: it removes the leftovers of dead labs, picks a free
// 10.x.y.0/24 and creates the bridge with the observer address 10.x.y.1.
func New() (*Lab, error) {
	if err := Available(); err != nil {
		return nil, err
	}
	unlock, err := lockMachine()
	if err != nil {
		return nil, err
	}
	defer unlock()
	RemoveStale()
	l := &Lab{pid: os.Getpid()}
	l.bridge = fmt.Sprintf("%s%d", Prefix, l.pid)
	if l.subnet, err = freeSubnet(l.pid); err != nil {
		return nil, err
	}
	steps := [][]string{
		{"link", "add", l.bridge, "type", "bridge"},
		{"addr", "add", l.observerIP() + "/24", "dev", l.bridge},
		{"link", "set", l.bridge, "up"},
	}
	for _, s := range steps {
		if err := run("ip", s...); err != nil {
			l.Close()
			return nil, err
		}
	}
	return l, nil
}

// ObserverIP is the creating process's own address on the bridge.
func (l *Lab) ObserverIP() string { return l.observerIP() }

func (l *Lab) observerIP() string { return l.ip(1) }

func (l *Lab) ip(last int) string {
	return fmt.Sprintf("10.%d.%d.%d", l.subnet[1], l.subnet[2], last)
}

// Subnet returns the lab's 10.x.y.0/24.
func (l *Lab) Subnet() string { return l.ip(0) + "/24" }

// AddHost creates a namespace named after name with a veth into the
// bridge, the next address of the subnet, and lo up. Every host has its
// own port space: processes in different hosts may listen on the same
// port.
func (l *Lab) AddHost(name string) (*Host, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil, errors.New("netlab: lab closed")
	}
	i := len(l.hosts)
	if i > 250 {
		return nil, errors.New("netlab: at most 250 hosts per lab")
	}
	h := &Host{
		lab:  l,
		Name: name,
		NS:   fmt.Sprintf("%s-%d-%s", Prefix, l.pid, name),
		IP:   l.ip(i + 2),
		veth: fmt.Sprintf("%s%dv%d", Prefix, l.pid, i),
	}
	steps := [][]string{
		{"netns", "add", h.NS},
		{"link", "add", h.veth, "type", "veth", "peer", "name", "eth0", "netns", h.NS},
		{"link", "set", h.veth, "master", l.bridge, "up"},
		{"-n", h.NS, "addr", "add", h.IP + "/24", "dev", "eth0"},
		{"-n", h.NS, "link", "set", "eth0", "up"},
		{"-n", h.NS, "link", "set", "lo", "up"},
	}
	for _, s := range steps {
		if err := run("ip", s...); err != nil {
			_ = run("ip", "netns", "del", h.NS)
			return nil, fmt.Errorf("netlab: host %s: %w", name, err)
		}
	}
	if l.ipt == "" {
		ipt, err := pickIptables(h.NS)
		if err != nil {
			_ = run("ip", "netns", "del", h.NS)
			return nil, err
		}
		l.ipt = ipt
	}
	if err := h.createChain(); err != nil {
		_ = run("ip", "netns", "del", h.NS)
		return nil, err
	}
	l.hosts = append(l.hosts, h)
	return h, nil
}

// pickIptables returns the first iptables that can list the filter table
// in a fresh namespace: Debian's default (iptables-nft through
// alternatives) needs nf_tables, iptables-legacy needs ip_tables; a
// kernel may have either.
func pickIptables(ns string) (string, error) {
	var errs []string
	for _, bin := range []string{"iptables", "iptables-nft", "iptables-legacy"} {
		if _, err := exec.LookPath(bin); err != nil {
			continue
		}
		err := run("ip", "netns", "exec", ns, bin, "-w", "-S", "INPUT")
		if err == nil {
			return bin, nil
		}
		errs = append(errs, err.Error())
	}
	return "", fmt.Errorf("netlab: no iptables works in a namespace: %s", strings.Join(errs, "; "))
}

// Wrap is the command prefix that runs a program inside h (for the
// launchers' Wrap option): `ip netns exec <ns>`.
func (h *Host) Wrap() []string { return []string{"ip", "netns", "exec", h.NS} }

// Command returns an exec.Cmd running name inside h.
func (h *Host) Command(name string, args ...string) *exec.Cmd {
	w := h.Wrap()
	return exec.Command(w[0], append(append(w[1:], name), args...)...)
}

// Addr returns IP:port.
func (h *Host) Addr(port int) string { return net.JoinHostPort(h.IP, strconv.Itoa(port)) }

// Hosts returns the lab's hosts in creation order.
func (l *Lab) Hosts() []*Host {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]*Host(nil), l.hosts...)
}

// Namespaces returns the names of the lab's namespaces.
func (l *Lab) Namespaces() []string {
	var out []string
	for _, h := range l.Hosts() {
		out = append(out, h.NS)
	}
	return out
}

// Bridge returns the bridge's name.
func (l *Lab) Bridge() string { return l.bridge }

// Close removes every namespace (their iptables rules go with them) and
// the bridge, and waits until the kernel no longer lists them.
func (l *Lab) Close() error {
	l.mu.Lock()
	l.closed = true
	hosts := l.hosts
	l.hosts = nil
	l.mu.Unlock()
	var errs []error
	for _, h := range hosts {
		// The veth goes explicitly: a namespace whose name is deleted
		// lives on, with its end of the pair, while any socket in it
		// is open (this process's own, or a process still exiting).
		if err := run("ip", "link", "del", h.veth); err != nil && !strings.Contains(err.Error(), "Cannot find device") {
			errs = append(errs, err)
		}
		if err := run("ip", "netns", "del", h.NS); err != nil {
			errs = append(errs, err)
		}
	}
	if err := run("ip", "link", "del", l.bridge); err != nil && !strings.Contains(err.Error(), "Cannot find device") {
		errs = append(errs, err)
	}
	// A deleted namespace's veth pair disappears asynchronously.
	deadline := time.Now().Add(10 * time.Second)
	for {
		left := leftovers(l.pid)
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			errs = append(errs, fmt.Errorf("netlab: still present after Close: %v", left))
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	return errors.Join(errs...)
}

// Leftovers lists the namespaces and links of the lab created by pid that
// the kernel still has.
func Leftovers(pid int) []string { return leftovers(pid) }

func leftovers(pid int) []string {
	var out []string
	for _, ns := range listNamespaces() {
		if p, ok := nsPid(ns); ok && p == pid {
			out = append(out, "netns "+ns)
		}
	}
	for _, link := range listLinks() {
		if p, ok := linkPid(link); ok && p == pid {
			out = append(out, "link "+link)
		}
	}
	return out
}

// RemoveStale removes the namespaces and links of labs whose creating
// process no longer exists.
func RemoveStale() {
	for _, ns := range listNamespaces() {
		if p, ok := nsPid(ns); ok && !alive(p) {
			_ = run("ip", "netns", "del", ns)
		}
	}
	for _, link := range listLinks() {
		if p, ok := linkPid(link); ok && !alive(p) {
			_ = run("ip", "link", "del", link)
		}
	}
}

func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// nsPid parses "gsl-<pid>-<host>".
func nsPid(ns string) (int, bool) {
	rest, ok := strings.CutPrefix(ns, Prefix+"-")
	if !ok {
		return 0, false
	}
	digits, _, ok := strings.Cut(rest, "-")
	if !ok {
		return 0, false
	}
	p, err := strconv.Atoi(digits)
	return p, err == nil && p > 0
}

// linkPid parses "gsl<pid>" and "gsl<pid>v<i>".
func linkPid(link string) (int, bool) {
	rest, ok := strings.CutPrefix(link, Prefix)
	if !ok {
		return 0, false
	}
	digits, _, _ := strings.Cut(rest, "v")
	p, err := strconv.Atoi(digits)
	return p, err == nil && p > 0
}

func listNamespaces() []string {
	out, err := output("ip", "netns", "list")
	if err != nil {
		return nil
	}
	var names []string
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			names = append(names, f[0])
		}
	}
	return names
}

func listLinks() []string {
	out, err := output("ip", "-o", "link", "show")
	if err != nil {
		return nil
	}
	var names []string
	for _, line := range strings.Split(out, "\n") {
		// "7: gsl123v0@if2: <...>"
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		name, _, _ := strings.Cut(strings.TrimSuffix(f[1], ":"), "@")
		names = append(names, name)
	}
	return names
}

// freeSubnet picks 10.x.y.0/24 from pid, skipping any /24 an address of
// the root namespace already uses (another lab's bridge, a real network).
func freeSubnet(pid int) ([3]byte, error) {
	out, err := output("ip", "-o", "-4", "addr", "show")
	if err != nil {
		return [3]byte{}, err
	}
	used := map[[2]byte]bool{}
	for _, f := range strings.Fields(out) {
		ip, _, err := net.ParseCIDR(f)
		if err != nil {
			continue
		}
		if v4 := ip.To4(); v4 != nil && v4[0] == 10 {
			used[[2]byte{v4[1], v4[2]}] = true
		}
	}
	// 10.200.0.0 to 10.249.255.0: away from the low 10.x ranges that
	// container runtimes and VPNs tend to take.
	const span = 50 * 256
	for i := range span {
		n := (pid + i) % span
		xy := [2]byte{byte(200 + n/256), byte(n % 256)}
		if !used[xy] {
			return [3]byte{10, xy[0], xy[1]}, nil
		}
	}
	return [3]byte{}, errors.New("netlab: no free 10.x.y.0/24")
}

func lockMachine() (func(), error) {
	f, err := os.OpenFile(lockPath, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("netlab: lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("netlab: lock: %w", err)
	}
	return func() { f.Close() }, nil
}

func run(name string, args ...string) error {
	_, err := output(name, args...)
	return err
}

func output(name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}
