package peer

import (
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/internal/mux"
)

// serveMux listens on a kernel port, registers header behind an
// authenticated listener with secret, and serves the mux until cleanup.
func serveMux(t *testing.T, header byte, secret string, opts ...ListenerOption) (string, *Listener) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m := mux.New(ln)
	sub, err := m.Listen(header)
	if err != nil {
		t.Fatal(err)
	}
	pl := NewListener(sub, header, NewSecretKeys(secret), opts...)
	go m.Serve()
	t.Cleanup(func() { pl.Close(); m.Close() })
	return ln.Addr().String(), pl
}

// acceptOne returns the next authenticated connection, or nil if none comes
// within d.
func acceptOne(l *Listener, d time.Duration) net.Conn {
	ch := make(chan net.Conn, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			ch <- nil
			return
		}
		ch <- c
	}()
	select {
	case c := <-ch:
		return c
	case <-time.After(d):
		return nil
	}
}

func waitFailed(t *testing.T, l *Listener, want uint64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for l.Failed() < want {
		if time.Now().After(deadline) {
			t.Fatalf("failed handshakes = %d, want %d", l.Failed(), want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestHandshake_HappyPath(t *testing.T) {
	for _, secret := range []string{"s3cret", ""} {
		addr, l := serveMux(t, HeaderRaft, secret)
		accepted := make(chan net.Conn, 1)
		go func() {
			c, err := l.Accept()
			if err == nil {
				accepted <- c
			}
		}()
		c, err := NewDialer(HeaderRaft, NewSecretKeys(secret)).Dial(addr, 5*time.Second)
		if err != nil {
			t.Fatalf("secret %q: dial: %v", secret, err)
		}
		defer c.Close()
		var s net.Conn
		select {
		case s = <-accepted:
		case <-time.After(5 * time.Second):
			t.Fatalf("secret %q: authenticated conn never accepted", secret)
		}
		defer s.Close()
		// Payload flows both ways after the handshake, byte for byte.
		if _, err := c.Write([]byte("append")); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 6)
		s.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.ReadFull(s, buf); err != nil || string(buf) != "append" {
			t.Fatalf("server read %q, %v", buf, err)
		}
		s.Write([]byte("ok"))
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.ReadFull(c, buf[:2]); err != nil || string(buf[:2]) != "ok" {
			t.Fatalf("client read %q, %v", buf[:2], err)
		}
		if l.Failed() != 0 {
			t.Fatalf("failed = %d", l.Failed())
		}
	}
}

func TestHandshake_WrongSecretRejected(t *testing.T) {
	addr, l := serveMux(t, HeaderRaft, "right")
	_, err := NewDialer(HeaderRaft, NewSecretKeys("wrong")).Dial(addr, 5*time.Second)
	if !errors.Is(err, ErrAuthFailed) {
		t.Fatalf("dial with wrong secret: %v, want ErrAuthFailed", err)
	}
	// The empty secret is a secret like any other: it does not open the door.
	if _, err := NewDialer(HeaderRaft, NewSecretKeys("")).Dial(addr, 5*time.Second); !errors.Is(err, ErrAuthFailed) {
		t.Fatalf("dial with empty secret: %v, want ErrAuthFailed", err)
	}
	waitFailed(t, l, 2)
	if c := acceptOne(l, 200*time.Millisecond); c != nil {
		t.Fatal("a connection with the wrong secret was accepted")
	}
}

// A process that does not hold the secret learns nothing but the magic and a
// nonce: the server sends not one byte more before closing.
func TestHandshake_NoSecretGetsOnlyTheNonce(t *testing.T) {
	addr, l := serveMux(t, HeaderRaft, "right")
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte{HeaderRaft})
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	hello := make([]byte, len(magic)+nonceSize+pubSize)
	if _, err := io.ReadFull(c, hello); err != nil {
		t.Fatal(err)
	}
	if string(hello[:4]) != magic {
		t.Fatalf("magic %q", hello[:4])
	}
	// A well-formed response with a guessed proof, then a would-be Raft RPC.
	c.Write(guessedResponse(t))
	c.Write([]byte("\x00raft append entries"))
	rest, err := io.ReadAll(c)
	if len(rest) != 0 {
		t.Fatalf("server sent %d bytes after a bad proof: %q", len(rest), rest)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatal("server did not close the connection after a bad proof")
	}
	waitFailed(t, l, 1)
	if c := acceptOne(l, 200*time.Millisecond); c != nil {
		t.Fatal("an unauthenticated connection was accepted")
	}
}

// The client checks the server too: a server that cannot prove the secret
// is refused.
func TestHandshake_ClientRejectsFakeServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		io.ReadFull(c, make([]byte, 1)) // header
		c.Write(append(append([]byte(magic), make([]byte, nonceSize)...), ephemeralPub(t)...))
		io.ReadFull(c, make([]byte, len(magic)+nonceSize+pubSize+3+1+macSize)) // one key, no identity
		c.Write(make([]byte, 2+macSize))                                       // no identity, not a proof
		io.Copy(io.Discard, c)
	}()
	_, err = NewDialer(HeaderRaft, NewSecretKeys("s")).Dial(ln.Addr().String(), 5*time.Second)
	if !errors.Is(err, ErrAuthFailed) {
		t.Fatalf("fake server: %v, want ErrAuthFailed", err)
	}
}

func TestHandshake_Timeouts(t *testing.T) {
	addr, l := serveMux(t, HeaderRaft, "s", WithHandshakeTimeout(time.Second))

	// A peer that sends the header and then nothing holds its handshake...
	silent, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	silent.Write([]byte{HeaderRaft})

	// ...without delaying anyone else's Accept.
	good, err := NewDialer(HeaderRaft, NewSecretKeys("s")).Dial(addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer good.Close()
	c := acceptOne(l, 5*time.Second)
	if c == nil {
		t.Fatal("good peer not accepted")
	}
	c.Close()
	if l.Failed() != 0 {
		t.Fatal("good peer was accepted only after the silent one timed out")
	}

	// The silent one is cut off at the deadline.
	silent.SetReadDeadline(time.Now().Add(5 * time.Second))
	got, err := io.ReadAll(silent)
	if err != nil {
		t.Fatalf("silent peer: %v (server never closed it)", err)
	}
	if len(got) != len(magic)+nonceSize+pubSize {
		t.Fatalf("silent peer got %d bytes", len(got))
	}
	waitFailed(t, l, 1)

	// Client side: a server that never speaks makes Dial fail at its timeout.
	mute, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer mute.Close()
	go func() {
		c, err := mute.Accept()
		if err == nil {
			defer c.Close()
			io.Copy(io.Discard, c)
		}
	}()
	start := time.Now()
	if _, err := NewDialer(HeaderRaft, NewSecretKeys("s")).Dial(mute.Addr().String(), 300*time.Millisecond); err == nil {
		t.Fatal("dial to a mute server succeeded")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("dial to a mute server took %v, want about 300ms", d)
	}
}

func TestListener_CloseStopsAccept(t *testing.T) {
	_, l := serveMux(t, HeaderRaft, "s")
	errc := make(chan error, 1)
	go func() { _, err := l.Accept(); errc <- err }()
	l.Close()
	select {
	case err := <-errc:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("accept after close: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Accept still blocked after Close")
	}
}

// TestHandshake_Identity: a dial that names the server it means to reach
// is refused by a server with another identity (an address that moved to
// another sentinel), and goes through to the right one or without a name.
func TestHandshake_Identity(t *testing.T) {
	addr, l := serveMux(t, HeaderRaft, "s", WithIdentity(func() Identity { return Identity{ID: "sentinel-b"} }))
	d := NewDialer(HeaderRaft, NewSecretKeys("s"))
	for _, tc := range []struct {
		target string
		ok     bool
	}{
		{TargetAddr(addr, "sentinel-b"), true},
		{addr, true},
		{TargetAddr(addr, "sentinel-a"), false},
	} {
		c, err := d.Dial(tc.target, 5*time.Second)
		if tc.ok != (err == nil) {
			t.Fatalf("dial %s: %v", tc.target, err)
		}
		if err != nil {
			if !errors.Is(err, ErrWrongIdentity) {
				t.Fatalf("dial %s: %v, want ErrWrongIdentity", tc.target, err)
			}
			continue
		}
		if acceptOne(l, 5*time.Second) == nil {
			t.Fatalf("dial %s: the listener yielded no connection", tc.target)
		}
		c.Close()
	}
	if a, id := SplitTarget(TargetAddr("[::1]:26379", "x")); a != "[::1]:26379" || id != "x" {
		t.Fatalf("SplitTarget = %q, %q", a, id)
	}
}

// TestListener_SilentConnectionsDoNotLockOutPeers: connections that send
// the header byte and then nothing fill every handshake slot; a peer that
// dials then still gets in (the oldest silent one gives up its slot).
// Turned away instead, the peer could not connect until they timed out.
func TestListener_SilentConnectionsDoNotLockOutPeers(t *testing.T) {
	addr, l := serveMux(t, HeaderRaft, "s3cret", withMaxPending(3))
	for i := 0; i < 3; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		c.Write([]byte{HeaderRaft})
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		l.mu.Lock()
		n := len(l.pending)
		l.mu.Unlock()
		if n == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d silent handshakes pending, want 3", n)
		}
		time.Sleep(time.Millisecond)
	}
	accepted := make(chan net.Conn, 1)
	go func() {
		if c, err := l.Accept(); err == nil {
			accepted <- c
		}
	}()
	c, err := NewDialer(HeaderRaft, NewSecretKeys("s3cret")).Dial(addr, 2*time.Second)
	if err != nil {
		t.Fatalf("peer dial with every slot held by silent connections: %v", err)
	}
	defer c.Close()
	select {
	case s := <-accepted:
		s.Close()
	case <-time.After(5 * time.Second):
		t.Fatal("the peer's connection was never accepted")
	}
	if l.Failed() != 1 {
		t.Fatalf("failed = %d, want 1 (the oldest silent connection)", l.Failed())
	}
}
