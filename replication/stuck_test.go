package replication

import (
	"bufio"
	"context"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/monitor"
)

// stuckServer answers PING on every connection until freeze; after it, the
// connections open then never answer again (as after a partition, whose
// retransmissions the kernel backs off for seconds), while new ones do.
type stuckServer struct {
	ln     net.Listener
	mu     sync.Mutex
	frozen map[net.Conn]bool
	conns  []net.Conn
}

func newStuckServer(t *testing.T) *stuckServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &stuckServer{ln: ln, frozen: map[net.Conn]bool{}}
	t.Cleanup(func() {
		ln.Close()
		s.mu.Lock()
		for _, c := range s.conns {
			c.Close()
		}
		s.mu.Unlock()
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns = append(s.conns, c)
			s.mu.Unlock()
			go s.serve(c)
		}
	}()
	return s
}

// serve answers each command (RESP arrays of bulks) like a Redis 5 would
// answer a client's handshake and PING, unless c is frozen.
func (s *stuckServer) serve(c net.Conn) {
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		if len(line) < 2 || line[0] != '*' {
			continue
		}
		n, _ := strconv.Atoi(line[1 : len(line)-2])
		var name string
		for i := range 2 * n {
			arg, err := r.ReadString('\n')
			if err != nil {
				return
			}
			if i == 1 {
				name = strings.ToUpper(strings.TrimSpace(arg))
			}
		}
		s.mu.Lock()
		frozen := s.frozen[c]
		s.mu.Unlock()
		switch {
		case frozen:
		case name == "PING":
			c.Write([]byte("+PONG\r\n"))
		case name == "HELLO":
			c.Write([]byte("-ERR unknown command 'HELLO'\r\n"))
		default:
			c.Write([]byte("+OK\r\n"))
		}
	}
}

func (s *stuckServer) freeze() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.conns {
		s.frozen[c] = true
	}
}

// TestControllerForgetsStuckConnections: once a reply times out, the next
// command goes out on a fresh connection instead of the next stuck one the
// client kept (before, on go-redis' pool, with two pooled connections
// stuck, the second command timed out too: a cut-off sentinel's replica
// PINGs did, right after a heal, and it paused a healthy master). And Ping, the cut-off
// pause's probe, is answered at once on a fresh connection.
func TestControllerForgetsStuckConnections(t *testing.T) {
	srv := newStuckServer(t)
	port := srv.ln.Addr().(*net.TCPAddr).Port
	tgt := Target{Addr: monitor.Addr{Host: "127.0.0.1", Port: port}}
	c := NewController()
	defer c.Close()
	// stuckPool fills the client's pool with two answered connections,
	// then makes them stuck.
	stuckPool := func() *monitor.Client {
		cl, err := c.client(tgt)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for range 2 {
			wg.Go(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				defer cancel()
				if _, err := cl.Do(ctx, "PING"); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		srv.freeze()
		return cl
	}

	cl := stuckPool()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	_, err := cl.Do(ctx, "PING")
	cancel()
	if err == nil {
		t.Fatal("a PING on a stuck connection was answered")
	}
	c.forgetIfUnreachable(tgt, cl, err)
	next, err := c.client(tgt)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel = context.WithTimeout(context.Background(), 500*time.Millisecond)
	_, err = next.Do(ctx, "PING")
	cancel()
	if err != nil {
		t.Fatalf("the command after a timeout did not go out on a fresh connection: %v", err)
	}

	stuckPool()
	ctx, cancel = context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if err := c.Ping(ctx, tgt); err != nil {
		t.Fatalf("Ping with every pooled connection stuck: %v", err)
	}
}
