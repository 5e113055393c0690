package sentinel

import (
	"bytes"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a log destination the server's goroutines share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestSecurityWarningOncePerMinute: the cross-protocol guard closes every
// connection that sends POST or Host:, and logs redis' line at most once a
// minute (securityWarningCommand). It logged every one: anyone who could
// reach the port could write the log as fast as they could connect.
func TestSecurityWarningOncePerMinute(t *testing.T) {
	var log lockedBuffer
	_, addr := startServer(t, Config{Logger: slog.New(slog.NewTextHandler(&log, nil))})
	for _, req := range []string{"POST / HTTP/1.1\r\n", "Host: example\r\n", "POST / HTTP/1.1\r\n", "host: x\r\n"} {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Write([]byte(req)); err != nil {
			t.Fatal(err)
		}
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		if got, err := io.ReadAll(conn); err != nil || len(got) != 0 {
			t.Fatalf("%q: read %q, %v; want the connection closed without a reply", req, got, err)
		}
		conn.Close()
	}
	const line = "Possible SECURITY ATTACK detected. It looks like somebody is sending POST or Host: commands to Redis."
	if n := strings.Count(log.String(), line); n != 1 {
		t.Fatalf("%d warnings logged for 4 requests, want 1:\n%s", n, log.String())
	}
}
