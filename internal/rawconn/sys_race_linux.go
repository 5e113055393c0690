//go:build linux && race

package rawconn

import "syscall"

const supported = true

// See sys_linux.go. syscall.Read and syscall.Write tell the race detector
// that what goes through a socket orders the two sides, as net.Conn's do.
func sysRead(fd uintptr, b []byte) (int, syscall.Errno) {
	n, err := syscall.Read(int(fd), b)
	return n, errnoOf(err)
}

func sysWrite(fd uintptr, b []byte) (int, syscall.Errno) {
	n, err := syscall.Write(int(fd), b)
	return n, errnoOf(err)
}

func errnoOf(err error) syscall.Errno {
	if err == nil {
		return 0
	}
	return err.(syscall.Errno)
}
