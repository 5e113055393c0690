package node

import (
	"net"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/config"
)

func TestBacklogWarning(t *testing.T) {
	for _, tc := range []struct {
		backlog   int
		somaxconn string
		want      string
	}{
		{511, "4096\n", ""},
		{4096, "4096\n", ""},
		{8192, "4096\n", "WARNING: The TCP backlog setting of 8192 cannot be enforced because /proc/sys/net/core/somaxconn is set to the lower value of 4096."},
		{511, "128\n", "WARNING: The TCP backlog setting of 511 cannot be enforced because /proc/sys/net/core/somaxconn is set to the lower value of 128."},
		{511, "", ""},
		{511, "0\n", ""},
		{511, "junk", ""},
	} {
		if got := backlogWarning(tc.backlog, tc.somaxconn); got != tc.want {
			t.Errorf("backlogWarning(%d, %q) = %q, want %q", tc.backlog, tc.somaxconn, got, tc.want)
		}
	}
}

// TestListenersTakeTCPBacklog: the port and the unixsocket listen with
// tcp-backlog's backlog, as redis' do. Go's listener asked for the
// kernel's ceiling (4096 here) whatever tcp-backlog said. Nothing accepts
// here, so the kernel queues backlog+1 connections and refuses (unix) or
// leaves unanswered (TCP) the others.
func TestListenersTakeTCPBacklog(t *testing.T) {
	const backlog = 2
	free, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := free.Addr().(*net.TCPAddr).Port
	free.Close()
	cfg, err := config.Parse("x.conf", []byte("bind 127.0.0.1\ntcp-backlog "+strconv.Itoa(backlog)+"\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.TCPBacklog(); got != backlog {
		t.Fatalf("TCPBacklog() = %d, want %d", got, backlog)
	}
	lns, err := listen(cfg, port)
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(t.TempDir(), "s.sock")
	uln, err := listenUnix(sock, 0, cfg.TCPBacklog())
	if err != nil {
		t.Fatal(err)
	}
	lns = append(lns, uln)
	t.Cleanup(func() {
		for _, ln := range lns {
			ln.Close()
		}
	})
	for _, ln := range lns {
		addr := ln.Addr()
		var conns []net.Conn
		for range 8 {
			// A TCP SYN the full queue drops is sent again after a
			// second: 300 ms tells a queued connection from a dropped one.
			c, err := net.DialTimeout(addr.Network(), addr.String(), 300*time.Millisecond)
			if err != nil {
				continue
			}
			conns = append(conns, c)
		}
		for _, c := range conns {
			c.Close()
		}
		if len(conns) == 0 || len(conns) > backlog+1 {
			t.Errorf("%s %s with tcp-backlog %d: %d of 8 connections queued, want 1 to %d", addr.Network(), addr, backlog, len(conns), backlog+1)
		}
	}
	if def, _ := config.Parse("x.conf", []byte("port 26379\n"), nil); def.TCPBacklog() != 511 {
		t.Errorf("default TCPBacklog() = %d, want redis' 511", def.TCPBacklog())
	}
}
