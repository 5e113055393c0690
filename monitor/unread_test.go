package monitor

import (
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/internal/redistest"
)

// unreadBytes counts what waits in the socket; conn.behind relies on it
// for replies the reader has not taken yet.
func TestUnreadBytes(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("FIONREAD is read on Linux only")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	server, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	if n := unreadBytes(client); n != 0 {
		t.Fatalf("unreadBytes = %d before anything was sent", n)
	}
	if _, err := server.Write([]byte("+PONG\r\n")); err != nil {
		t.Fatal(err)
	}
	redistest.Until(t, 5*time.Second, "7 bytes waiting", func() bool { return unreadBytes(client) == 7 })
	buf := make([]byte, 16)
	if n, err := client.Read(buf); err != nil || n != 7 {
		t.Fatalf("read %d, %v", n, err)
	}
	if n := unreadBytes(client); n != 0 {
		t.Fatalf("unreadBytes = %d after the read", n)
	}
}
