//go:build linux && !race

package monitor

import (
	"syscall"
	"unsafe"
)

// sysRead and sysWrite are read(2) and write(2) on the poller's
// descriptors as raw system calls, which the scheduler does not watch: the
// descriptors are non-blocking, so a call never waits (poller explains
// what a watched call cost). Under the race detector they are syscall.Read
// and syscall.Write instead (rawio_race_linux.go).
func sysRead(fd int, b []byte) (int, error) {
	n, _, errno := syscall.RawSyscall(syscall.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)))
	if errno != 0 {
		return -1, errno
	}
	return int(n), nil
}

func sysWrite(fd int, b []byte) (int, error) {
	n, _, errno := syscall.RawSyscall(syscall.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)))
	if errno != 0 {
		return -1, errno
	}
	return int(n), nil
}
