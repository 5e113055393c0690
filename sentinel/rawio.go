//go:build !race

package sentinel

import (
	"syscall"
	"unsafe"
)

// sysRead and sysWrite are read(2) and write(2) as raw system calls, which
// the scheduler does not watch (see client.writeOnce). Under the race
// detector they are syscall.Read and syscall.Write instead (rawio_race.go):
// those tell the detector that what one side wrote happens before what the
// other side read, which the tests rely on.
func sysRead(fd uintptr, b []byte) (int, syscall.Errno) {
	n, _, errno := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)))
	return int(n), errno
}

func sysWrite(fd uintptr, b []byte) (int, syscall.Errno) {
	n, _, errno := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)))
	return int(n), errno
}
