package rawconn

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"testing"
	"time"
)

// pair returns both ends of a TCP connection on 127.0.0.1, each wrapped.
func pair(t *testing.T) (client, server net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			accepted <- nil
			return
		}
		accepted <- c
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s := <-accepted
	if s == nil {
		t.Fatal("accept failed")
	}
	client, server = Wrap(c), Wrap(s)
	t.Cleanup(func() { client.Close(); server.Close() })
	if _, ok := client.(*Conn); !ok {
		t.Fatalf("Wrap returned %T", client)
	}
	return client, server
}

// Both directions at once, each write far larger than the socket buffers
// (so writes wait for the reader, in the runtime's poller), read in small
// pieces: every byte arrives, in order.
func TestWrapFullDuplex(t *testing.T) {
	a, b := pair(t)
	data := func(seed uint64) []byte {
		r := rand.New(rand.NewPCG(seed, seed))
		p := make([]byte, 8<<20)
		for i := range p {
			p[i] = byte(r.Uint32())
		}
		return p
	}
	toB, toA := data(1), data(2)
	errs := make(chan error, 2)
	write := func(c net.Conn, p []byte) {
		n, err := c.Write(p)
		if err == nil && n != len(p) {
			err = errors.New("short write")
		}
		errs <- err
	}
	go write(a, toB)
	go write(b, toA)
	read := func(c net.Conn, want []byte) []byte {
		got := make([]byte, 0, len(want))
		buf := make([]byte, 1500)
		for len(got) < len(want) {
			n, err := c.Read(buf)
			if err != nil {
				t.Fatalf("read after %d bytes: %v", len(got), err)
			}
			got = append(got, buf[:n]...)
		}
		return got
	}
	gotA := make(chan []byte, 1)
	go func() { gotA <- read(a, toA) }()
	if got := read(b, toB); !bytes.Equal(got, toB) {
		t.Fatal("b received other bytes than a sent")
	}
	if got := <-gotA; !bytes.Equal(got, toA) {
		t.Fatal("a received other bytes than b sent")
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

// A read deadline ends a read with a timeout, as net.Conn's does, and the
// connection stays usable.
func TestWrapReadDeadline(t *testing.T) {
	a, b := pair(t)
	a.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	n, err := a.Read(make([]byte, 10))
	var ne net.Error
	if n != 0 || !errors.As(err, &ne) || !ne.Timeout() || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read past its deadline: %d, %v", n, err)
	}
	a.SetReadDeadline(time.Time{})
	if _, err := b.Write([]byte("hi")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 10)
	if n, err := io.ReadFull(a, buf[:2]); err != nil || string(buf[:n]) != "hi" {
		t.Fatalf("read after the deadline was lifted: %q, %v", buf[:n], err)
	}
}

// A write to a peer that does not read waits until its deadline, then
// reports how much went.
func TestWrapWriteDeadline(t *testing.T) {
	a, _ := pair(t)
	a.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
	p := make([]byte, 64<<20)
	n, err := a.Write(p)
	if !errors.Is(err, os.ErrDeadlineExceeded) || n <= 0 || n >= len(p) {
		t.Fatalf("write past its deadline: %d of %d, %v", n, len(p), err)
	}
}

// The end of the stream is io.EOF; a read on a closed connection, and one
// waiting when it is closed, fail with net.ErrClosed.
func TestWrapEOFAndClose(t *testing.T) {
	a, b := pair(t)
	b.Close()
	if n, err := a.Read(make([]byte, 10)); n != 0 || err != io.EOF {
		t.Fatalf("read after the peer closed: %d, %v", n, err)
	}

	c, _ := pair(t)
	done := make(chan error, 1)
	go func() {
		_, err := c.Read(make([]byte, 10))
		done <- err
	}()
	// The read is waiting (or about to): closing must end it either way.
	c.Close()
	select {
	case err := <-done:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("read ended by Close: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a read still waits 5 s after Close")
	}
	if _, err := c.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("write after Close: %v", err)
	}
}

// Anything but a TCP connection is returned as it is.
func TestWrapLeavesOtherConns(t *testing.T) {
	p, q := net.Pipe()
	defer p.Close()
	defer q.Close()
	if got := Wrap(p); got != p {
		t.Fatalf("Wrap(net.Pipe) = %T", got)
	}
}
