//go:build linux

package monitor

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// poller is the monitor's event loop for its plain TCP connections: one
// goroutine waits on an epoll set for every link and reads and decodes
// what arrives, as redis-sentinel's single thread does, instead of a
// reader goroutine parked per connection (issue 12: at 1000 masters, 2,000
// goroutines whose stacks alone were 16 MB, and a goroutine wakeup, a read
// and a second read ending in EAGAIN for every reply).
//
// A connection is dialled by the net package (dialPaced: its attempts,
// timeouts and TLS stay as they are), then its socket is taken out of the
// runtime's poller: the descriptor is duplicated and the net.Conn closed
// (which removes the original from the runtime's epoll set; the socket
// lives on through the duplicate). From then on the conn owns a raw
// non-blocking descriptor (conn.fd, guarded by conn.wmu: every read,
// write and the close take that lock, so a descriptor number is never
// used after it was closed and possibly reused by another socket).
//
// The set itself waits in the runtime's poller (an epoll descriptor is
// readable while its set has events): the loop harvests it without
// blocking (epoll_wait with no timeout) and parks like any goroutine
// reading a socket when it is empty. It used to block in epoll_wait, a
// system call the scheduler watches: with one processor (GOMAXPROCS 1)
// the scheduler's monitor thread took the processor from that thread
// every time (20 µs into the call), kept itself polling at its fastest
// rate, and the loop's thread had to get a processor back at each wakeup
// (at 1000 masters, 1,160 of the monitor thread's sleeps and 158 futex
// calls a second; 460 and 86 since). Reads and writes on the descriptors
// are raw system calls for the same reason (rawio_linux.go): the sockets
// never block.
//
// The set is level-triggered: each readiness event gets one read of up to
// pollReadSize bytes; whatever is left is reported again. Writes stay
// where they were (conn.flush); one that would block leaves the rest
// queued and asks the set for writability (EPOLLOUT), and the loop
// finishes it.
type poller struct {
	mon  *Monitor
	epfd int
	file *os.File        // epfd, in the runtime's poller (file.Fd would make it blocking)
	raw  syscall.RawConn // file's
	wake int             // eventfd: stop
	// blocking: the runtime could not poll the set, so the loop waits in
	// epoll_wait itself, as it did before (loop).
	blocking atomic.Bool

	mu    sync.Mutex
	conns map[int32]*conn

	done chan struct{}
	// Used by the loop goroutine only.
	buf  []byte
	vals []value
}

// pollReadSize is the loop's one read buffer: a batch of replies or a
// large INFO in one read.
const pollReadSize = 64 << 10

// newPoller starts the event loop; nil if the system refuses (the
// monitor then reads with a goroutine per connection).
func newPoller(m *Monitor) *poller {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil
	}
	wake, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		unix.Close(epfd)
		return nil
	}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, wake, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(wake)}); err != nil {
		unix.Close(wake)
		unix.Close(epfd)
		return nil
	}
	// Non-blocking, so that os.NewFile puts it in the runtime's poller.
	if err := unix.SetNonblock(epfd, !setOutsideRuntime); err != nil {
		unix.Close(wake)
		unix.Close(epfd)
		return nil
	}
	file := os.NewFile(uintptr(epfd), "monitor-epoll")
	raw, err := file.SyscallConn()
	if err != nil {
		unix.Close(wake)
		file.Close()
		return nil
	}
	p := &poller{
		mon: m, epfd: epfd, file: file, raw: raw, wake: wake,
		conns: map[int32]*conn{},
		done:  make(chan struct{}),
		buf:   make([]byte, pollReadSize),
	}
	go p.loop()
	return p
}

// close stops the loop and waits for it. Every conn must be closed first.
func (p *poller) close() {
	var one [8]byte
	one[0] = 1
	_, _ = unix.Write(p.wake, one[:])
	<-p.done
	unix.Close(p.wake)
	p.file.Close()
}

// takeOver moves nc's socket to a raw descriptor served by the loop. It
// reports false (nc untouched) for a connection it cannot take: TLS, or
// anything but a TCP socket.
func (p *poller) takeOver(c *conn, nc net.Conn) bool {
	tc, ok := nc.(*net.TCPConn)
	if p == nil || !ok {
		return false
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return false
	}
	fd := -1
	var derr error
	if err := raw.Control(func(s uintptr) {
		fd, derr = unix.FcntlInt(s, unix.F_DUPFD_CLOEXEC, 0)
	}); err != nil || derr != nil {
		return false
	}
	_ = nc.Close()
	if err := p.add(c, fd); err != nil {
		c.mon.connFailed(c, err, false)
	}
	return true
}

// add serves c on the non-blocking descriptor fd, which it now owns, and
// starts writing what is queued. On an error fd is closed.
func (p *poller) add(c *conn, fd int) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.polled = true
	if c.dead {
		unix.Close(fd)
		return nil
	}
	p.mu.Lock()
	p.conns[int32(fd)] = c
	p.mu.Unlock()
	if err := unix.EpollCtl(p.epfd, unix.EPOLL_CTL_ADD, fd, &unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP, Fd: int32(fd)}); err != nil {
		p.mu.Lock()
		delete(p.conns, int32(fd))
		p.mu.Unlock()
		unix.Close(fd)
		return fmt.Errorf("epoll: %w", err)
	}
	c.fd = fd
	// What was queued while it dialled goes out now, from the dialling
	// goroutine (a non-blocking write; the loop finishes what the socket
	// does not take). A flush goroutine per new connection was most of
	// the goroutines a fleet's first pass started (issue 12).
	if err := c.writeFDLocked(); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	return nil
}

// release takes c's descriptor out of the set and closes it. Caller holds
// c.wmu.
func (p *poller) release(c *conn) {
	if c.fd < 0 {
		return
	}
	p.mu.Lock()
	if p.conns[int32(c.fd)] == c {
		delete(p.conns, int32(c.fd))
	}
	p.mu.Unlock()
	_ = unix.EpollCtl(p.epfd, unix.EPOLL_CTL_DEL, c.fd, nil)
	unix.Close(c.fd)
	c.fd = -1
}

// wantWritable asks (or stops asking) for c's writability. Caller holds
// c.wmu.
func (p *poller) wantWritable(c *conn, on bool) {
	if c.fd < 0 || c.wantOut == on {
		return
	}
	c.wantOut = on
	ev := uint32(unix.EPOLLIN | unix.EPOLLRDHUP)
	if on {
		ev |= unix.EPOLLOUT
	}
	_ = unix.EpollCtl(p.epfd, unix.EPOLL_CTL_MOD, c.fd, &unix.EpollEvent{Events: ev, Fd: int32(c.fd)})
}

func (p *poller) loop() {
	defer close(p.done)
	events := make([]unix.EpollEvent, 128)
	n := 0
	var werr error
	// harvest takes what the set has; false (wait for the set) when
	// nothing. The runtime forgets the set's readiness before calling it,
	// and it looks at the set after that, so no event is missed.
	harvest := func(fd uintptr) bool {
		for {
			n, werr = epollWaitNow(int(fd), events)
			if !errors.Is(werr, unix.EINTR) {
				return n > 0 || werr != nil
			}
		}
	}
	for {
		if p.blocking.Load() {
			n, werr = unix.EpollWait(p.epfd, events, -1)
			if errors.Is(werr, unix.EINTR) {
				continue
			}
		} else if err := p.raw.Read(harvest); err != nil {
			// The runtime cannot poll the set (never seen on Linux, where
			// an epoll descriptor is pollable; a sandboxed kernel might
			// refuse): wait in epoll_wait from now on. The set is closed
			// only after the loop returned, so this is not a close.
			p.blocking.Store(true)
			continue
		}
		if werr != nil {
			// Only a bug gets here (EBADF, EFAULT, EINVAL; the set is
			// closed after the loop returned).
			panic(fmt.Sprintf("monitor: epoll_wait: %v", werr))
		}
		for _, ev := range events[:n] {
			if int(ev.Fd) == p.wake {
				return
			}
			p.mu.Lock()
			c := p.conns[ev.Fd]
			p.mu.Unlock()
			if c == nil {
				// Released after epoll_wait reported it.
				continue
			}
			if ev.Events&unix.EPOLLOUT != 0 {
				p.writable(c)
			}
			if ev.Events&^unix.EPOLLOUT != 0 {
				p.readable(c)
			}
		}
	}
}

// writable finishes c's queued writes.
func (p *poller) writable(c *conn) {
	c.wmu.Lock()
	err := c.writeFDLocked()
	c.wmu.Unlock()
	if err != nil {
		c.mon.connFailed(c, err, false)
	}
}

// readable reads what c's node sent, once, and hands the complete replies
// to their handlers.
func (p *poller) readable(c *conn) {
	c.wmu.Lock()
	if c.fd < 0 {
		c.wmu.Unlock()
		return
	}
	n, err := readFD(c.fd, p.buf)
	if n > 0 {
		c.held.Store(true)
	}
	c.wmu.Unlock()
	if errors.Is(err, unix.EAGAIN) {
		return
	}
	if err == nil && n == 0 {
		err = io.EOF
	}
	if err != nil {
		c.mon.connFailed(c, err, false)
		return
	}
	p.vals = p.vals[:0]
	perr := c.parser.feed(p.buf[:n], func(v value) bool {
		p.vals = append(p.vals, v)
		return true
	})
	if len(p.vals) > 0 {
		c.mon.deliverAll(c, p.vals)
		clear(p.vals)
	}
	c.held.Store(false)
	if perr != nil {
		c.mon.connFailed(c, perr, false)
	}
}

// readFD is one read(2) and writeFD one write(2), each retried on EINTR
// only (rawio_linux.go).
func readFD(fd int, buf []byte) (int, error) {
	return retryEINTR(func() (int, error) { return sysRead(fd, buf) })
}

func writeFD(fd int, buf []byte) (int, error) {
	return retryEINTR(func() (int, error) { return sysWrite(fd, buf) })
}

func retryEINTR(call func() (int, error)) (int, error) {
	for {
		n, err := call()
		if !errors.Is(err, unix.EINTR) {
			return max(n, 0), err
		}
	}
}

// setOutsideRuntime makes newPoller leave the set blocking, which the
// runtime does not poll, so the loop takes its fallback (tests only).
var setOutsideRuntime = false

// epollWaitNow is epoll_wait(2) without a timeout, as a raw system call:
// it never waits.
func epollWaitNow(epfd int, events []unix.EpollEvent) (int, error) {
	n, _, errno := syscall.RawSyscall6(unix.SYS_EPOLL_PWAIT, uintptr(epfd),
		uintptr(unsafe.Pointer(unsafe.SliceData(events))), uintptr(len(events)), 0, 0, 0)
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}

// unreadFD is FIONREAD on a raw descriptor.
func unreadFD(fd int) int {
	n, err := unix.IoctlGetInt(fd, unix.TIOCINQ)
	if err != nil {
		return 0
	}
	return n
}

// flushBatch writes what the timer queued on the connections of its
// batch (Monitor.batching), one write each, then empties the batch.
// Called by the Run goroutine, without mu.
func (m *Monitor) flushBatch() {
	for i, c := range m.batch {
		c.batched = false
		m.batch[i] = nil
		c.wmu.Lock()
		var err error
		// A flush goroutine started meanwhile (a command sent between
		// the timer's two holds of mu) writes it all; one that ran
		// already left nothing.
		if !c.dead && !c.flushing && c.fd >= 0 && !c.wantOut {
			err = c.writeFDLocked()
		}
		c.wmu.Unlock()
		if err != nil {
			m.connFailed(c, err, false)
		}
	}
	m.batch = m.batch[:0]
}

// flushFD writes c's queued commands on its raw descriptor: what the
// socket takes now, the rest once it is writable (the loop).
func (c *conn) flushFD() {
	defer c.mon.wg.Done()
	c.wmu.Lock()
	err := c.writeFDLocked()
	c.flushing = false
	c.wmu.Unlock()
	if err != nil {
		c.mon.connFailed(c, err, false)
	}
}

// writeFDLocked writes what is queued until done or the socket is full,
// then asks the loop for writability. Caller holds c.wmu.
func (c *conn) writeFDLocked() error {
	for len(c.wbuf) > 0 && c.fd >= 0 {
		n, err := writeFD(c.fd, c.wbuf)
		if errors.Is(err, unix.EAGAIN) {
			c.poll.wantWritable(c, true)
			return nil
		}
		if err != nil {
			return err
		}
		if n < len(c.wbuf) {
			c.wbuf = append(c.wbuf[:0], c.wbuf[n:]...)
			continue
		}
		if cap(c.wbuf) <= c.spareLimit {
			c.spare = c.wbuf[:0]
		}
		c.wbuf = nil
	}
	c.poll.wantWritable(c, false)
	return nil
}
