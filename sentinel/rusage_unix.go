//go:build unix

package sentinel

import "syscall"

// cpuUsage returns getrusage(RUSAGE_SELF) and getrusage(RUSAGE_CHILDREN).
func cpuUsage() (self, children cpuTimes) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err == nil {
		self = cpuTimes{formatTimeval(int64(ru.Stime.Sec), int64(ru.Stime.Usec)), formatTimeval(int64(ru.Utime.Sec), int64(ru.Utime.Usec))}
	}
	if err := syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ru); err == nil {
		children = cpuTimes{formatTimeval(int64(ru.Stime.Sec), int64(ru.Stime.Usec)), formatTimeval(int64(ru.Utime.Sec), int64(ru.Utime.Usec))}
	}
	return self, children
}
