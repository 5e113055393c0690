package fakefleet

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Fleet is a set of fake masters, one listener each.
type Fleet struct {
	masters []*master
	started time.Time

	// Fleet-wide counters (FAKEFLEET STATS): connections accepted and
	// commands received by name (statNames), the rest as "other".
	accepted atomic.Int64
	commands [len(statNames) + 1]atomic.Int64

	wg     sync.WaitGroup
	mu     sync.Mutex
	closed bool
	conns  map[net.Conn]struct{}
	done   chan struct{} // closed by Close: wakes clients waiting on a dark master
}

// Listen binds one listener per address ("127.0.0.1:0" asks the kernel for
// a port) and starts serving. Either every listener is bound or none is.
func Listen(addrs []string) (*Fleet, error) {
	f := &Fleet{started: time.Now(), conns: map[net.Conn]struct{}{}, done: make(chan struct{})}
	lns := make([]net.Listener, 0, len(addrs))
	for _, a := range addrs {
		ln, err := net.Listen("tcp", a)
		if err != nil {
			for _, l := range lns {
				l.Close()
			}
			return nil, fmt.Errorf("listen on %s: %w", a, err)
		}
		lns = append(lns, ln)
	}
	for i, ln := range lns {
		m := &master{
			fleet:  f,
			index:  i,
			ln:     ln,
			port:   ln.Addr().(*net.TCPAddr).Port,
			runID:  randomHex(),
			replID: randomHex(),
			subs:   map[string]map[*client]struct{}{},
			config: maps.Clone(configDefaults),
		}
		f.masters = append(f.masters, m)
	}
	for _, m := range f.masters {
		f.wg.Add(1)
		go m.accept()
	}
	return f, nil
}

// ListenPorts is Listen on 127.0.0.1 at the given ports (0: a free port).
func ListenPorts(ports []int) (*Fleet, error) {
	addrs := make([]string, len(ports))
	for i, p := range ports {
		addrs[i] = net.JoinHostPort("127.0.0.1", strconv.Itoa(p))
	}
	return Listen(addrs)
}

// Ports returns the masters' ports, in order.
func (f *Fleet) Ports() []int {
	out := make([]int, len(f.masters))
	for i, m := range f.masters {
		out[i] = m.port
	}
	return out
}

// SetDark makes master i dark (true) or answering again (false).
func (f *Fleet) SetDark(i int, dark bool) { f.masters[i].setDark(dark) }

// ReplicaOf returns what master i was told by REPLICAOF ("host:port", or
// "" for none).
func (f *Fleet) ReplicaOf(i int) string {
	m := f.masters[i]
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.replicaOf
}

// Close closes every listener and connection and waits for the goroutines.
func (f *Fleet) Close() error {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return nil
	}
	f.closed = true
	close(f.done)
	for c := range f.conns {
		c.Close()
	}
	f.mu.Unlock()
	var errs []error
	for _, m := range f.masters {
		if err := m.ln.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	f.wg.Wait()
	return errors.Join(errs...)
}

// track registers a connection so that Close closes it; false once closed.
func (f *Fleet) track(c net.Conn, add bool) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !add {
		delete(f.conns, c)
		return true
	}
	if f.closed {
		return false
	}
	f.conns[c] = struct{}{}
	return true
}

// statNames are the commands FAKEFLEET STATS counts by name, in its
// order.
var statNames = [...]string{"ping", "info", "publish", "subscribe", "client", "role", "replicaof", "slaveof", "multi", "exec", "script", "auth", "fakefleet"}

func (f *Fleet) count(name string) {
	for i, n := range statNames {
		if strings.EqualFold(name, n) {
			f.commands[i].Add(1)
			return
		}
	}
	f.commands[len(statNames)].Add(1)
}

// Stats renders the fleet-wide counters: "accepted=N ping=N info=N ...
// other=N", every command received since the start.
func (f *Fleet) Stats() string {
	var b strings.Builder
	fmt.Fprintf(&b, "accepted=%d", f.accepted.Load())
	for i, n := range statNames {
		fmt.Fprintf(&b, " %s=%d", n, f.commands[i].Load())
	}
	fmt.Fprintf(&b, " other=%d", f.commands[len(statNames)].Load())
	return b.String()
}

func randomHex() string {
	var b [20]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	return hex.EncodeToString(b[:])
}

// master is one fake Redis master.
type master struct {
	fleet  *Fleet
	index  int
	ln     net.Listener
	port   int
	runID  string
	replID string

	mu    sync.Mutex
	light chan struct{} // non-nil while dark; closed by LIGHT
	// darkPings is, per client name, when the first PING of a named
	// client arrived since FAKEFLEET DARK: the start of a sentinel's SDOWN
	// clock (its first unanswered PING).
	darkPings map[string]time.Time
	replicaOf string
	config    map[string]string // CONFIG GET/SET parameters, from configDefaults
	clients   int
	subs      map[string]map[*client]struct{} // channel -> subscribers
}

func (m *master) accept() {
	defer m.fleet.wg.Done()
	for {
		nc, err := m.ln.Accept()
		if err != nil {
			return // closed by Fleet.Close
		}
		m.fleet.accepted.Add(1)
		if !m.fleet.track(nc, true) {
			nc.Close()
			return
		}
		m.fleet.wg.Add(1)
		go func() {
			defer m.fleet.wg.Done()
			defer m.fleet.track(nc, false)
			newClient(m, nc).serve()
		}()
	}
}

func (m *master) setDark(dark bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case dark && m.light == nil:
		m.light = make(chan struct{})
		m.darkPings = map[string]time.Time{}
	case !dark && m.light != nil:
		close(m.light)
		m.light = nil
	}
}

// waitLight blocks while the master is dark; false if the fleet closed.
func (m *master) waitLight() bool {
	m.mu.Lock()
	light := m.light
	m.mu.Unlock()
	if light == nil {
		return true
	}
	select {
	case <-light:
		return true
	case <-m.fleet.done:
		return false
	}
}

// notePing records the first PING of a named client while dark.
func (m *master) notePing(name string, args []string, at time.Time) {
	if name == "" || len(args) == 0 || !strings.EqualFold(args[0], "ping") {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.light == nil {
		return
	}
	if _, ok := m.darkPings[name]; !ok {
		m.darkPings[name] = at
	}
}

func (m *master) info(section string) string {
	m.mu.Lock()
	st := infoState{
		port: m.port, pid: os.Getpid(), runID: m.runID, replID: m.replID,
		started: m.fleet.started, now: time.Now(), clients: m.clients, replicaOf: m.replicaOf,
	}
	m.mu.Unlock()
	return renderInfo(st, section)
}

// subscribe adds c to channel ch and returns c's channel count.
func (m *master) subscribe(c *client, ch string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.subs[ch]
	if s == nil {
		s = map[*client]struct{}{}
		m.subs[ch] = s
	}
	s[c] = struct{}{}
}

func (m *master) unsubscribe(c *client, ch string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.subs[ch], c)
	if len(m.subs[ch]) == 0 {
		delete(m.subs, ch)
	}
}

// publish delivers a message to ch's subscribers on this master and
// returns how many there were.
func (m *master) publish(ch, msg string) int {
	m.mu.Lock()
	subs := make([]*client, 0, len(m.subs[ch]))
	for c := range m.subs[ch] {
		subs = append(subs, c)
	}
	m.mu.Unlock()
	if len(subs) == 0 {
		return 0
	}
	frame := appendArrayHeader(nil, 3)
	frame = appendBulk(frame, "message")
	frame = appendBulk(frame, ch)
	frame = appendBulk(frame, msg)
	for _, c := range subs {
		c.push(frame)
	}
	return len(subs)
}

// client is one connection to a master.
type client struct {
	m  *master
	nc net.Conn
	br *bufio.Reader

	// wmu orders writes: a client's own replies (written by its goroutine)
	// and messages published by other clients.
	wmu sync.Mutex

	// name is set by CLIENT SETNAME, read by the feed's reader too.
	name atomic.Pointer[string]

	// feed, once a command met a dark master, brings the commands read
	// by a second goroutine, so that the ones behind it (a sentinel's PING
	// after its hello PUBLISH) are seen while dark (FAKEFLEET PINGS).
	feed     chan request
	feedDone chan struct{}

	// Owned by the client's goroutine.
	out      []byte
	channels map[string]struct{}
	multi    [][]string // queued commands while in MULTI; nil outside
	inMulti  bool
	quit     bool
}

// pushTimeout bounds a write of a published message to a subscriber that
// does not read: the subscriber is disconnected rather than stalling the
// publisher.
const pushTimeout = 5 * time.Second

// request is one command read by the feed's reader, or its read error.
type request struct {
	args []string
	err  error
}

func newClient(m *master, nc net.Conn) *client {
	return &client{m: m, nc: nc, br: bufio.NewReaderSize(nc, 1024)}
}

func (c *client) serve() {
	c.m.mu.Lock()
	c.m.clients++
	c.m.mu.Unlock()
	defer func() {
		for ch := range c.channels {
			c.m.unsubscribe(c, ch)
		}
		c.m.mu.Lock()
		c.m.clients--
		c.m.mu.Unlock()
		c.nc.Close()
		if c.feedDone != nil {
			close(c.feedDone)
		}
	}()
	for !c.quit {
		args, err := c.next()
		if err != nil {
			var pe protocolError
			if errors.As(err, &pe) {
				c.out = appendError(c.out, "ERR "+pe.Error())
				c.flush()
			}
			return
		}
		if len(args) == 0 {
			continue
		}
		c.m.fleet.count(args[0])
		if !isControl(args) {
			c.m.notePing(c.clientName(), args, time.Now())
			if c.m.isDark() {
				c.startFeed()
			}
			if !c.m.waitLight() {
				return
			}
		}
		c.out = c.exec(c.out, args)
		// Replies to pipelined commands go out together.
		if c.nothingBuffered() || len(c.out) > 16<<10 {
			if !c.flush() {
				return
			}
		}
	}
	c.flush()
}

// next returns the next command, from the feed once it runs.
func (c *client) next() ([]string, error) {
	if c.feed == nil {
		return readCommand(c.br)
	}
	r := <-c.feed
	return r.args, r.err
}

// startFeed starts reading commands on a second goroutine, noting PINGs
// while the master is dark, unless it runs already.
func (c *client) startFeed() {
	if c.feed != nil {
		return
	}
	c.feed, c.feedDone = make(chan request, 64), make(chan struct{})
	go func() {
		for {
			args, err := readCommand(c.br)
			if err == nil {
				c.m.notePing(c.clientName(), args, time.Now())
			}
			select {
			case c.feed <- request{args, err}:
			case <-c.feedDone:
				return
			}
			if err != nil {
				return
			}
		}
	}()
}

// nothingBuffered says whether no command already received waits.
func (c *client) nothingBuffered() bool {
	if c.feed != nil {
		return len(c.feed) == 0
	}
	return c.br.Buffered() == 0
}

func (c *client) clientName() string {
	if p := c.name.Load(); p != nil {
		return *p
	}
	return ""
}

func (m *master) isDark() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.light != nil
}

// flush writes the pending replies; false if the connection broke.
func (c *client) flush() bool {
	if len(c.out) == 0 {
		return true
	}
	c.wmu.Lock()
	_, err := c.nc.Write(c.out)
	c.wmu.Unlock()
	c.out = c.out[:0]
	if cap(c.out) > 64<<10 {
		c.out = nil // an INFO burst should not pin memory
	}
	return err == nil
}

// push writes a published message to a subscriber.
func (c *client) push(frame []byte) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.nc.SetWriteDeadline(time.Now().Add(pushTimeout))
	if _, err := c.nc.Write(frame); err != nil {
		c.nc.Close()
	}
	c.nc.SetWriteDeadline(time.Time{})
}
