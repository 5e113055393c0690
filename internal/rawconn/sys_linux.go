//go:build linux && !race

package rawconn

import (
	"syscall"
	"unsafe"
)

const supported = true

// sysRead and sysWrite are read(2) and write(2) as raw system calls. Under
// the race detector they are syscall.Read and syscall.Write instead
// (sys_race_linux.go).
func sysRead(fd uintptr, b []byte) (int, syscall.Errno) {
	n, _, errno := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)))
	return int(n), errno
}

func sysWrite(fd uintptr, b []byte) (int, syscall.Errno) {
	n, _, errno := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)))
	return int(n), errno
}
