package netlab

import (
	"context"
	"errors"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/internal/redistest"
)

// newLab creates a lab closed in t.Cleanup. The lab needs root: without it
// the test fails (it is not skipped), because make test relies on it.
func newLab(t *testing.T) *Lab {
	t.Helper()
	l, err := New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Error(err)
		}
	})
	return l
}

func addHosts(t *testing.T, l *Lab, names ...string) []*Host {
	t.Helper()
	var out []*Host
	for _, n := range names {
		h, err := l.AddHost(n)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, h)
	}
	return out
}

// echoServer accepts TCP connections in h on port 7 and echoes them.
func echoServer(t *testing.T, h *Host) {
	t.Helper()
	ln, err := h.Listen("tcp", h.Addr(7))
	if err != nil {
		t.Fatal(err)
	}
	redistest.Serve(t, ln, func(c net.Conn) {
		buf := make([]byte, 64)
		n, _ := c.Read(buf)
		_, _ = c.Write(buf[:n])
	})
}

// roundTrip connects from `from` to `to`'s echo server and checks the echo.
func roundTrip(from, to *Host, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	c, err := from.DialContext(ctx, "tcp", to.Addr(7))
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(timeout))
	if _, err := c.Write([]byte("hello")); err != nil {
		return err
	}
	buf := make([]byte, 5)
	if _, err := c.Read(buf); err != nil {
		return err
	}
	if string(buf) != "hello" {
		return errors.New("bad echo " + string(buf))
	}
	return nil
}

// TestLab: two namespaces reach each other and the observer reaches both;
// each has its own port space; Cut makes a TCP connect time out (both
// ways) without touching a third host or the observer, Heal restores it;
// Loss drops about the given share of datagrams; Close leaves no
// namespace, link or rule behind, and a dead lab's leftovers are removed.
func TestLab(t *testing.T) {
	l := newLab(t)
	hs := addHosts(t, l, "a", "b", "c")
	a, b, c := hs[0], hs[1], hs[2]
	for _, h := range hs {
		echoServer(t, h) // the same port in each: separate port spaces
	}
	if err := roundTrip(a, b, 2*time.Second); err != nil {
		t.Fatalf("a to b before any fault: %v", err)
	}
	var d net.Dialer
	if c, err := d.Dial("tcp", b.Addr(7)); err != nil {
		t.Fatalf("observer to b: %v", err)
	} else {
		c.Close()
	}

	if err := l.Cut([]*Host{a}, []*Host{b}); err != nil {
		t.Fatal(err)
	}
	for _, pair := range [][2]*Host{{a, b}, {b, a}} {
		err := roundTrip(pair[0], pair[1], 300*time.Millisecond)
		if !errors.Is(err, context.DeadlineExceeded) && !isTimeout(err) {
			t.Fatalf("%s to %s during the cut: %v, want a timeout", pair[0].Name, pair[1].Name, err)
		}
	}
	if err := roundTrip(a, c, 2*time.Second); err != nil {
		t.Fatalf("a to c during the a|b cut: %v", err)
	}
	if c, err := d.Dial("tcp", a.Addr(7)); err != nil {
		t.Fatalf("observer to a during the cut: %v", err)
	} else {
		c.Close()
	}
	if err := l.Heal(); err != nil {
		t.Fatal(err)
	}
	if err := roundTrip(a, b, 2*time.Second); err != nil {
		t.Fatalf("a to b after Heal: %v", err)
	}

	const p, n = 0.3, 1000
	if err := l.Loss(b, p); err != nil {
		t.Fatal(err)
	}
	got := datagramsThrough(t, a, b, n)
	lost := float64(n-got) / n
	t.Logf("loss %.2f: %d of %d datagrams arrived (%.3f lost)", p, got, n, lost)
	if lost < p-0.08 || lost > p+0.08 {
		t.Errorf("lost %.3f of the datagrams, want about %.2f", lost, p)
	}
	if err := l.Heal(); err != nil {
		t.Fatal(err)
	}
	if r := b.Rules(); strings.Contains(r, "DROP") {
		t.Errorf("rules left after Heal:\n%s", r)
	}

	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if left := Leftovers(os.Getpid()); len(left) > 0 {
		t.Errorf("after Close: %v", left)
	}
}

// datagramsThrough sends n UDP datagrams from a to b and counts those b
// received; the count ends when nothing arrived for a second after the
// last send.
func datagramsThrough(t *testing.T, a, b *Host, n int) int {
	t.Helper()
	rx, err := b.ListenPacket("udp", b.Addr(9))
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	ctx := context.Background()
	tx, err := a.DialContext(ctx, "udp", b.Addr(9))
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	got := make(chan int)
	go func() {
		count := 0
		buf := make([]byte, 16)
		for {
			_ = rx.SetReadDeadline(time.Now().Add(time.Second))
			if _, _, err := rx.ReadFrom(buf); err != nil {
				got <- count
				return
			}
			count++
		}
	}()
	for range n {
		if _, err := tx.Write([]byte("x")); err != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Microsecond) // pacing, not synchronisation: no socket buffer overflow
	}
	return <-got
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// TestRemoveStale: the objects of a lab whose pid is dead are removed by
// the next lab's start.
func TestRemoveStale(t *testing.T) {
	if err := Available(); err != nil {
		t.Fatal(err)
	}
	// A pid that cannot be alive: above the kernel's pid_max limit.
	const dead = 4194305
	ns := Prefix + "-4194305-x"
	link := Prefix + "4194305"
	if err := run("ip", "netns", "add", ns); err != nil {
		t.Fatal(err)
	}
	if err := run("ip", "link", "add", link, "type", "bridge"); err != nil {
		_ = run("ip", "netns", "del", ns)
		t.Fatal(err)
	}
	if len(Leftovers(dead)) != 2 {
		t.Fatalf("setup: %v", Leftovers(dead))
	}
	newLab(t)
	if left := Leftovers(dead); len(left) > 0 {
		t.Errorf("a new lab left a dead lab's objects: %v", left)
	}
}
