package sentinel

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"

	"github.com/x0tta6bl4/gosentinel/internal/redistest"
)

// The command surface's hot path under redis-benchmark (issue 12):
// SENTINEL GET-MASTER-ADDR-BY-NAME at pipeline 1 and 16. bench/cmdrate
// measures the whole process side by side with redis-sentinel; these
// measure this package alone.

var getMasterAddrRequest = redistest.EncodeCommand("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster")

const getMasterAddrReply = "*2\r\n$9\r\n127.0.0.1\r\n$4\r\n6379\r\n"

// benchClient is a client of srv with no connection and no goroutines:
// processInput runs on the benchmark's goroutine and its output is
// discarded.
func benchClient(tb testing.TB, srv *Server) *client {
	tb.Helper()
	a, b := net.Pipe()
	tb.Cleanup(func() { _ = a.Close(); _ = b.Close() })
	c := &client{srv: srv, conn: a, id: 1, addr: "127.0.0.1:1", laddr: "127.0.0.1:2", fd: -1,
		out: newOutbuf(), killCh: make(chan struct{}), user: srv.acl.defaultUser, lastCmd: "NULL"}
	c.resp.Store(2)
	c.authenticated = true
	return c
}

// BenchmarkProcessInput runs batches of pipelined GET-MASTER-ADDR-BY-NAME
// through the parser, dispatch and reply writer, without sockets.
func BenchmarkProcessInput(b *testing.B) {
	for _, pipeline := range []int{1, 16} {
		b.Run(fmt.Sprintf("P%d", pipeline), func(b *testing.B) {
			srv, err := NewServer(Config{Backend: &fakeBackend{}, RunID: strings.Repeat("ab", 20)})
			if err != nil {
				b.Fatal(err)
			}
			c := benchClient(b, srv)
			batch := bytes.Repeat(getMasterAddrRequest, pipeline)
			want := strings.Repeat(getMasterAddrReply, pipeline)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i += pipeline {
				c.parser.buf = append(c.parser.buf, batch...)
				if !c.processInput() {
					b.Fatal("processInput stopped")
				}
				data, _, _ := c.out.take()
				if len(data) != len(want) {
					b.Fatalf("reply %q, want %q", data, want)
				}
				c.out.written(data)
			}
		})
	}
}

// BenchmarkLoopback runs 8 connections over loopback TCP, each sending
// batches of pipelined GET-MASTER-ADDR-BY-NAME and reading the replies:
// the whole server path, syscalls and goroutine hand-offs included.
func BenchmarkLoopback(b *testing.B) {
	for _, pipeline := range []int{1, 16} {
		b.Run(fmt.Sprintf("P%d", pipeline), func(b *testing.B) {
			_, addr := startServer(b, Config{})
			batch := bytes.Repeat(getMasterAddrRequest, pipeline)
			want := []byte(strings.Repeat(getMasterAddrReply, pipeline))
			b.ReportAllocs()
			b.SetParallelism(4) // 8 connections on 2 cores, like redis-benchmark's 50 on one
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				nc, err := net.Dial("tcp", addr)
				if err != nil {
					b.Error(err)
					return
				}
				defer nc.Close()
				br := bufio.NewReader(nc)
				got := make([]byte, len(want))
				for pb.Next() {
					if _, err := nc.Write(batch); err != nil {
						b.Error(err)
						return
					}
					if _, err := io.ReadFull(br, got); err != nil {
						b.Error(err)
						return
					}
					if !bytes.Equal(got, want) {
						b.Errorf("reply %q, want %q", got, want)
						return
					}
				}
			})
			b.ReportMetric(float64(pipeline)*float64(b.N)/b.Elapsed().Seconds(), "cmds/s")
		})
	}
}
