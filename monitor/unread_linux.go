//go:build linux

package monitor

import (
	"crypto/tls"
	"net"
	"syscall"
	"unsafe"
)

// unreadBytes is the number of bytes waiting in nc's socket receive queue
// (ioctl FIONREAD; for TLS, of the connection under it), 0 when unknown.
func unreadBytes(nc net.Conn) int {
	if tc, ok := nc.(*tls.Conn); ok {
		nc = tc.NetConn()
	}
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return 0
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return 0
	}
	n := int32(0)
	_ = rc.Control(func(fd uintptr) {
		if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCINQ, uintptr(unsafe.Pointer(&n))); errno != 0 {
			n = 0
		}
	})
	return int(n)
}
