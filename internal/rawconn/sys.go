//go:build !race

package rawconn

import (
	"syscall"
	"unsafe"
)

// SysRead and SysWrite are read(2) and write(2) as raw system calls, which
// the scheduler does not watch (the package comment says why), for a
// non-blocking descriptor. Under the race detector they are syscall.Read
// and syscall.Write instead (sys_race.go): those tell the detector that
// what one side wrote happens before what the other side read, which the
// tests rely on.
func SysRead(fd uintptr, b []byte) (int, syscall.Errno) {
	n, _, errno := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)))
	return int(n), errno
}

func SysWrite(fd uintptr, b []byte) (int, syscall.Errno) {
	n, _, errno := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)))
	return int(n), errno
}
