package node

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// setBacklog gives a listening socket tcp-backlog's value as its backlog.
// Go's listener asks listen(2) for the kernel's ceiling (somaxconn, 4096
// here), redis for tcp-backlog (511 unless set), and Linux takes a second
// listen(2) on a listening socket as its new backlog.
func setBacklog(ln net.Listener, backlog int) error {
	sc, ok := ln.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return fmt.Errorf("failed to set the listen backlog: %w", err)
	}
	var lerr error
	if err := rc.Control(func(fd uintptr) { lerr = syscall.Listen(int(fd), backlog) }); err != nil {
		return fmt.Errorf("failed to set the listen backlog: %w", err)
	}
	if lerr != nil {
		return fmt.Errorf("failed to set the listen backlog: %w", lerr)
	}
	return nil
}

// backlogWarning is redis' start-up warning (checkTcpBacklogSettings) when
// the kernel caps tcp-backlog below what it asks for, or "" when it does
// not; somaxconn is /proc/sys/net/core/somaxconn's text.
func backlogWarning(backlog int, somaxconn string) string {
	n, err := strconv.Atoi(strings.TrimSpace(somaxconn))
	if err != nil || n <= 0 || n >= backlog {
		return ""
	}
	return fmt.Sprintf("WARNING: The TCP backlog setting of %d cannot be enforced because /proc/sys/net/core/somaxconn is set to the lower value of %d.", backlog, n)
}

// somaxconn reads the kernel's ceiling on listen backlogs ("" where there
// is none to read, as redis then says nothing).
func somaxconn() string {
	b, err := os.ReadFile("/proc/sys/net/core/somaxconn")
	if err != nil {
		return ""
	}
	return string(b)
}
