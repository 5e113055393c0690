//go:build linux && race

package monitor

import "syscall"

// See rawio_linux.go. syscall.Read and syscall.Write tell the race
// detector that what goes through a descriptor orders the two sides, as
// net.Conn's do: without it, a test's fake node reading what the test
// wrote before the monitor sent a command is reported as a race.
func sysRead(fd int, b []byte) (int, error)  { return syscall.Read(fd, b) }
func sysWrite(fd int, b []byte) (int, error) { return syscall.Write(fd, b) }
