package redistest

import (
	"fmt"
	"net"
)

// FreePort asks the kernel for a free TCP port on 127.0.0.1 by listening on
// port 0 and closing the listener. Another process may grab the port before
// ours binds it, so starters retry with a new port when the bind fails
// (see startWithPortRetry).
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("listen on 127.0.0.1:0: %w", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := l.Close(); err != nil {
		return 0, fmt.Errorf("close probe listener: %w", err)
	}
	return port, nil
}

// Addr returns "127.0.0.1:<port>".
func Addr(port int) string { return fmt.Sprintf("127.0.0.1:%d", port) }
