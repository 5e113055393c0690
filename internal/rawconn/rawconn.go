// Package rawconn reads and writes a TCP connection with raw system calls.
//
// A read or write through the net package is a system call the Go
// scheduler watches (entersyscall): if its monitor thread, sysmon, is
// asleep because every processor was idle, the call wakes it, and a woken
// sysmon polls every 20 µs for as long as the processor stays busy. A
// sentinel's peer traffic (Raft's heartbeats and their answers, about 13 a
// second per follower) is small and regular, so each message woke sysmon
// for the work that followed it. The socket is non-blocking, so read(2) and
// write(2) never wait: made raw, they are not watched, and the runtime's
// poller still does the waiting, deadlines included (syscall.RawConn). The
// command surface does the same for its clients (sentinel/client.go, with
// SysRead and SysWrite), and the monitor's event loop for its links
// (monitor/poller_linux.go; monitor imports nothing of ours, so it has its
// own pair).
package rawconn

import (
	"io"
	"net"
	"os"
	"sync"
	"syscall"
)

// Conn is a TCP connection whose Read and Write are raw read(2) and
// write(2) on its socket. Everything else is the TCPConn's.
type Conn struct {
	*net.TCPConn
	rc syscall.RawConn

	rmu  sync.Mutex // one Read at a time: rbuf, rn and rerr are its
	rbuf []byte
	rn   int
	rerr error
	read func(fd uintptr) bool

	wmu   sync.Mutex // one Write at a time: wbuf, wn and werr are its
	wbuf  []byte
	wn    int
	werr  error
	write func(fd uintptr) bool
}

// Wrap returns c as a Conn when it is a TCP connection, otherwise c
// itself.
func Wrap(c net.Conn) net.Conn {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return c
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return c
	}
	rw := &Conn{TCPConn: tc, rc: rc}
	rw.read, rw.write = rw.readFD, rw.writeFD
	return rw
}

// Read reads as net.Conn's Read does: io.EOF at the end of the stream, and
// errors as *net.OpError.
func (c *Conn) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	c.rmu.Lock()
	defer c.rmu.Unlock()
	c.rbuf, c.rn, c.rerr = b, 0, nil
	err := c.rc.Read(c.read)
	n := c.rn
	if err == nil {
		err = c.rerr
	}
	c.rbuf, c.rerr = nil, nil
	if err != nil {
		return 0, c.opError("read", err)
	}
	if n == 0 {
		return 0, io.EOF
	}
	return n, nil
}

// readFD is one attempt: false when the socket has nothing yet (the
// runtime's poller then waits until it has).
func (c *Conn) readFD(fd uintptr) bool {
	for {
		n, errno := SysRead(fd, c.rbuf)
		switch errno {
		case 0:
			c.rn = n
			return true
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return false
		}
		c.rerr = os.NewSyscallError("read", errno)
		return true
	}
}

// Write writes all of b, as net.Conn's Write does, waiting in the runtime's
// poller while the socket's buffer is full.
func (c *Conn) Write(b []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.wbuf, c.wn, c.werr = b, 0, nil
	err := c.rc.Write(c.write)
	n := c.wn
	if err == nil {
		err = c.werr
	}
	c.wbuf, c.werr = nil, nil
	if err != nil {
		return n, c.opError("write", err)
	}
	return n, nil
}

func (c *Conn) writeFD(fd uintptr) bool {
	for c.wn < len(c.wbuf) {
		n, errno := SysWrite(fd, c.wbuf[c.wn:])
		switch errno {
		case 0:
			c.wn += n
			continue
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return false
		}
		c.werr = os.NewSyscallError("write", errno)
		return true
	}
	return true
}

// opError wraps err as the net package does for a TCP connection, so
// callers that look for a timeout (net.Error) or a closed connection
// (net.ErrClosed) find them.
func (c *Conn) opError(op string, err error) error {
	return &net.OpError{Op: op, Net: "tcp", Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: err}
}
