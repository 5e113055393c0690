//go:build !linux

package rawconn

import "syscall"

// Elsewhere Wrap returns the connection as it is.
const supported = false

func sysRead(uintptr, []byte) (int, syscall.Errno)  { return 0, syscall.ENOSYS }
func sysWrite(uintptr, []byte) (int, syscall.Errno) { return 0, syscall.ENOSYS }
