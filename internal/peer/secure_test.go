package peer

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/internal/mux"
)

func ephemeralPub(t *testing.T) []byte {
	t.Helper()
	k, err := newEphemeral()
	if err != nil {
		t.Fatal(err)
	}
	return k.PublicKey().Bytes()
}

// guessedResponse is a well-formed message 2 from someone without a key.
func guessedResponse(t *testing.T) []byte {
	m := append([]byte(magic), make([]byte, nonceSize)...)
	m = append(m, ephemeralPub(t)...)
	m = append(m, 0, 0, 0, 1)
	guess := make([]byte, macSize)
	rand.Read(guess)
	return append(m, guess...)
}

// relay is a man in the middle holding no key: it accepts on its own port,
// dials target for each connection, and forwards both directions, passing
// each chunk through up (client to server) or down, which may rewrite it.
// inject writes raw bytes towards the server of the latest connection.
type relay struct {
	addr     string
	up, down func([]byte) []byte

	mu     sync.Mutex
	server net.Conn
	seen   bytes.Buffer // everything the client sent
}

func startRelay(t *testing.T, target string, up, down func([]byte) []byte) *relay {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &relay{addr: ln.Addr().String(), up: up, down: down}
	var conns []net.Conn
	var cmu sync.Mutex
	t.Cleanup(func() {
		ln.Close()
		cmu.Lock()
		for _, c := range conns {
			c.Close()
		}
		cmu.Unlock()
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			cmu.Lock()
			conns = append(conns, c, s)
			cmu.Unlock()
			r.mu.Lock()
			r.server = s
			r.mu.Unlock()
			go r.pump(c, s, r.up, true)
			go r.pump(s, c, r.down, false)
		}
	}()
	return r
}

func (r *relay) pump(from, to net.Conn, f func([]byte) []byte, up bool) {
	defer to.Close()
	buf := make([]byte, 64<<10)
	for {
		n, err := from.Read(buf)
		if n > 0 {
			chunk := append([]byte{}, buf[:n]...)
			if up {
				r.mu.Lock()
				r.seen.Write(chunk)
				r.mu.Unlock()
			}
			if f != nil {
				chunk = f(chunk)
			}
			if _, err := to.Write(chunk); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (r *relay) inject(b []byte) error {
	r.mu.Lock()
	s := r.server
	r.mu.Unlock()
	_, err := s.Write(b)
	return err
}

// joinServer is an RPC server on header HeaderRPC that records every
// cluster.join it serves.
func joinServer(t *testing.T, self Identity, rejected *atomic.Int64) (string, *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m := mux.New(ln)
	sub, err := m.Listen(HeaderRPC)
	if err != nil {
		t.Fatal(err)
	}
	go m.Serve()
	var joins atomic.Int64
	srv := NewServer(nil, nil)
	srv.Handle("cluster.join", func(ctx context.Context, body json.RawMessage) (any, error) {
		joins.Add(1)
		return "welcome", nil
	})
	pl := NewListener(sub, HeaderRPC, NewSecretKeys("s3cret"),
		WithIdentity(func() Identity { return self }),
		WithRejectHook(func(net.Addr, error) { rejected.Add(1) }))
	go srv.Serve(pl)
	t.Cleanup(func() { srv.Close(); m.Close() })
	return ln.Addr().String(), &joins
}

// TestRelay_AnnouncedAttackerGetsNoConnection is issue 10's attack: an
// attacker without the secret announces itself (id "attacker", its own
// address), a member dials it, and it relays the dial to another member,
// forwarding both directions. Before GSP3 the dial succeeded and the
// attacker kept an authenticated connection to the member; now the member
// proves who it is, the dialer (which wanted "attacker") refuses, and so
// does the member: no connection is accepted, no RPC runs.
func TestRelay_AnnouncedAttackerGetsNoConnection(t *testing.T) {
	var rejected atomic.Int64
	member, joins := joinServer(t, Identity{ID: "member-m", Addr: "10.0.0.1:26379"}, &rejected)
	r := startRelay(t, member, nil, nil)
	d := NewDialer(HeaderRPC, NewSecretKeys("s3cret"), WithSelf(func() Identity { return Identity{ID: "dialer-d", Addr: "10.0.0.2:26379"} }))
	cl := NewClient(d, nil)
	defer cl.Close()
	err := cl.Call(context.Background(), TargetAddr(r.addr, "attacker"), "cluster.join", nil, nil)
	if !errors.Is(err, ErrWrongIdentity) {
		t.Fatalf("dial through the relay to the announced attacker: %v, want ErrWrongIdentity", err)
	}
	waitCount(t, &rejected, 1)
	if joins.Load() != 0 {
		t.Fatal("cluster.join ran")
	}
}

// TestRelay_CannotInjectOrRead: the attacker announced the member's own id
// at its address, so the dial goes through the relay to the real member
// and is accepted: that is the dialer's genuine connection. The relay sees
// only sealed bytes (not the request) and every byte it injects towards the
// member (a plaintext cluster.join, or a record replayed from the dialer)
// fails authentication: the connection is closed, the rejection reported,
// and the handler never runs for the attacker.
func TestRelay_CannotInjectOrRead(t *testing.T) {
	for _, tc := range []struct {
		name   string
		inject func(seen []byte) []byte
	}{
		{"plaintext rpc", func([]byte) []byte {
			var b bytes.Buffer
			writeFrame(&b, request{Op: "cluster.join", Body: json.RawMessage(`{"id":"attacker"}`)})
			return b.Bytes()
		}},
		{"replayed record", func(seen []byte) []byte {
			// The last record the dialer sent: its cluster.join.
			recs := records(t, seen)
			return recs[len(recs)-1]
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var rejected atomic.Int64
			member, joins := joinServer(t, Identity{ID: "member-m"}, &rejected)
			r := startRelay(t, member, nil, nil)
			cl := NewClient(NewDialer(HeaderRPC, NewSecretKeys("s3cret")), nil)
			defer cl.Close()
			var reply string
			if err := cl.Call(context.Background(), TargetAddr(r.addr, "member-m"), "cluster.join",
				map[string]string{"id": "dialer-d", "secret-marker": "do-not-leak"}, &reply); err != nil || reply != "welcome" {
				t.Fatalf("the dialer's own call through the relay: %q, %v", reply, err)
			}
			if joins.Load() != 1 {
				t.Fatalf("joins = %d, want the dialer's 1", joins.Load())
			}
			r.mu.Lock()
			seen := append([]byte{}, r.seen.Bytes()...)
			r.mu.Unlock()
			if bytes.Contains(seen, []byte("cluster.join")) || bytes.Contains(seen, []byte("do-not-leak")) {
				t.Fatal("the relay read the request in clear")
			}
			if err := r.inject(tc.inject(seen[handshakeLen(t, seen):])); err != nil {
				t.Fatal(err)
			}
			waitCount(t, &rejected, 1)
			time.Sleep(50 * time.Millisecond) // a handler would have run by now
			if joins.Load() != 1 {
				t.Fatalf("joins = %d: the injected bytes reached the handler", joins.Load())
			}
		})
	}
}

// handshakeLen is the length of the client's handshake bytes (header byte
// and message 2) at the start of what it sent.
func handshakeLen(t *testing.T, sent []byte) int {
	t.Helper()
	i := 1 + len(magic) + nonceSize + pubSize
	for f := 0; f < 3; f++ {
		i += 1 + int(sent[i])
	}
	return i + 1 + int(sent[i])*macSize
}

// records splits raw record bytes.
func records(t *testing.T, b []byte) [][]byte {
	t.Helper()
	var out [][]byte
	for len(b) >= recordHeader {
		n := recordHeader + int(binary.BigEndian.Uint32(b))
		if n > len(b) {
			t.Fatalf("partial record: %d of %d bytes", len(b), n)
		}
		out = append(out, b[:n])
		b = b[n:]
	}
	if len(out) == 0 {
		t.Fatal("no record")
	}
	return out
}

func waitCount(t *testing.T, c *atomic.Int64, want int64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for c.Load() < want {
		if time.Now().After(deadline) {
			t.Fatalf("count = %d, want %d", c.Load(), want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestRelay_TamperedHandshakeRefused: a relay that rewrites what either
// side states (the dialer's id, the id it wants, the member's id, the
// member's ephemeral key) breaks the proofs: the handshake fails on the
// side that checks it, and nothing is accepted.
func TestRelay_TamperedHandshakeRefused(t *testing.T) {
	// flip rewrites the byte at offset (in the direction's stream) once.
	flip := func(offset int) func([]byte) []byte {
		var pos int
		var mu sync.Mutex
		return func(b []byte) []byte {
			mu.Lock()
			defer mu.Unlock()
			if offset >= pos && offset < pos+len(b) {
				b[offset-pos] ^= 1
			}
			pos += len(b)
			return b
		}
	}
	m2ids := 1 + len(magic) + nonceSize + pubSize // the header byte, then message 2
	for _, tc := range []struct {
		name     string
		up, down func([]byte) []byte
	}{
		{"client id", flip(m2ids + 1), nil},         // first byte of the dialer's id
		{"client nonce", flip(1 + len(magic)), nil}, // first byte of Nc
		{"wanted id", flip(m2ids + 1 + len("dialer-d") + 1 + len("10.0.0.2:1") + 1), nil},
		{"server id", nil, flip(len(magic) + nonceSize + pubSize + 1)},
		{"server key", nil, flip(len(magic) + nonceSize)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var rejected atomic.Int64
			member, joins := joinServer(t, Identity{ID: "member-m"}, &rejected)
			r := startRelay(t, member, tc.up, tc.down)
			d := NewDialer(HeaderRPC, NewSecretKeys("s3cret"), WithSelf(func() Identity { return Identity{ID: "dialer-d", Addr: "10.0.0.2:1"} }))
			_, err := d.Dial(TargetAddr(r.addr, "member-m"), 5*time.Second)
			if !errors.Is(err, ErrAuthFailed) {
				t.Fatalf("dial through a tampering relay: %v, want ErrAuthFailed", err)
			}
			if joins.Load() != 0 {
				t.Fatal("an rpc ran")
			}
		})
	}
}

// pair runs a handshake over a TCP loopback pair and returns both sealed
// ends and the client's raw socket (to write past the seal).
func pair(t *testing.T) (client, server *Conn, clientRaw net.Conn, rejected *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	keys := NewSecretKeys("s")
	rejected = new(atomic.Int64)
	type res struct {
		c   *Conn
		err error
	}
	ch := make(chan res, 1)
	go func() {
		raw, err := ln.Accept()
		if err != nil {
			ch <- res{err: err}
			return
		}
		c, err := Authenticate(raw, HeaderRaft, keys, Identity{ID: "srv"}, time.Now().Add(5*time.Second))
		if c != nil {
			c.onReject = func(net.Addr, error) { rejected.Add(1) }
		}
		ch <- res{c, err}
	}()
	clientRaw, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	client, err = ClientHandshake(clientRaw, HeaderRaft, keys, Identity{ID: "cli"}, "srv", time.Now().Add(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	r := <-ch
	if r.err != nil {
		t.Fatal(r.err)
	}
	t.Cleanup(func() { client.Close(); r.c.Close() })
	if got := r.c.Peer(); got.ID != "cli" {
		t.Fatalf("server sees peer %+v", got)
	}
	if got := client.Peer(); got.ID != "srv" {
		t.Fatalf("client sees peer %+v", got)
	}
	return client, r.c, clientRaw, rejected
}

// sealFor seals plain as record seq with the client's sending key: what a
// record from the client really looks like, to replay or reorder.
func captureRecords(t *testing.T, c *Conn, msgs ...string) [][]byte {
	t.Helper()
	var buf bytes.Buffer
	tap := &Conn{Conn: writerConn{&buf}, send: c.send, wseq: c.wseq, wbuf: make([]byte, 0, 64)}
	for _, m := range msgs {
		if _, err := tap.Write([]byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	return records(t, buf.Bytes())
}

type writerConn struct{ w io.Writer }

func (w writerConn) Write(p []byte) (int, error)    { return w.w.Write(p) }
func (writerConn) Read([]byte) (int, error)         { return 0, io.EOF }
func (writerConn) Close() error                     { return nil }
func (writerConn) LocalAddr() net.Addr              { return nil }
func (writerConn) RemoteAddr() net.Addr             { return nil }
func (writerConn) SetDeadline(time.Time) error      { return nil }
func (writerConn) SetReadDeadline(time.Time) error  { return nil }
func (writerConn) SetWriteDeadline(time.Time) error { return nil }

func readN(t *testing.T, c *Conn, n int) (string, error) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	b := make([]byte, n)
	_, err := io.ReadFull(c, b)
	return string(b), err
}

// TestConn_RejectsForgedReplayedReorderedReflected: after the handshake
// only the sender's records, in order, open; anything else closes the
// connection and is reported.
func TestConn_RejectsForgedReplayedReorderedReflected(t *testing.T) {
	for _, tc := range []struct {
		name string
		// attack returns the raw bytes to write from the client's socket,
		// given the two ends (records are sealed as the client would).
		attack func(t *testing.T, client, server *Conn) []byte
	}{
		{"forged", func(t *testing.T, client, server *Conn) []byte {
			rec := make([]byte, recordHeader+5+tagSize)
			binary.BigEndian.PutUint32(rec, 5+tagSize)
			rand.Read(rec[recordHeader:])
			return rec
		}},
		{"altered", func(t *testing.T, client, server *Conn) []byte {
			rec := captureRecords(t, client, "hello")[0]
			rec[recordHeader] ^= 1
			return rec
		}},
		{"replayed", func(t *testing.T, client, server *Conn) []byte {
			rec := captureRecords(t, client, "hello")[0]
			if _, err := client.Write([]byte("hello")); err != nil { // the genuine one, consumed
				t.Fatal(err)
			}
			if got, err := readN(t, server, 5); err != nil || got != "hello" {
				t.Fatalf("genuine record: %q, %v", got, err)
			}
			return rec
		}},
		{"reordered", func(t *testing.T, client, server *Conn) []byte {
			recs := captureRecords(t, client, "first", "second")
			return append(append([]byte{}, recs[1]...), recs[0]...)
		}},
		{"reflected", func(t *testing.T, client, server *Conn) []byte {
			// A record the server sealed for the client, sent back to it.
			return captureRecords(t, server, "hello")[0]
		}},
		{"oversized length", func(t *testing.T, client, server *Conn) []byte {
			return binary.BigEndian.AppendUint32(nil, 1<<30)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			client, server, raw, rejected := pair(t)
			if _, err := raw.Write(tc.attack(t, client, server)); err != nil {
				t.Fatal(err)
			}
			_, err := readN(t, server, 1)
			if !errors.Is(err, ErrBadRecord) {
				t.Fatalf("server read %v, want ErrBadRecord", err)
			}
			if rejected.Load() != 1 {
				t.Fatalf("rejections reported = %d", rejected.Load())
			}
			// The server closed the connection: the client sees it end.
			client.SetReadDeadline(time.Now().Add(5 * time.Second))
			if _, err := client.Read(make([]byte, 1)); err == nil {
				t.Fatal("the connection stayed open")
			} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Fatal("the server did not close the connection")
			}
		})
	}
}

// TestConn_LargeAndPartialReads: writes larger than a record arrive whole
// and in order, and a read deadline that fires mid-record loses nothing.
func TestConn_LargeAndPartialReads(t *testing.T) {
	client, server, _, _ := pair(t)
	big := make([]byte, 3*maxRecordPlain+123)
	rand.Read(big)
	go client.Write(big)
	got := make([]byte, len(big))
	server.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(server, got); err != nil || !bytes.Equal(got, big) {
		t.Fatalf("large write: %v, equal %v", err, bytes.Equal(got, big))
	}
	// Half a record, a read timeout, the other half: the record opens.
	rec := captureRecords(t, client, "patience")[0]
	client.wseq++ // the captured record took the client's next number
	raw := client.Conn
	raw.Write(rec[:7])
	server.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if _, err := server.Read(make([]byte, 8)); err == nil {
		t.Fatal("read returned a half record")
	} else if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
		t.Fatalf("half record: %v, want a timeout", err)
	}
	raw.Write(rec[7:])
	if got, err := readN(t, server, 8); err != nil || got != "patience" {
		t.Fatalf("after the timeout: %q, %v", got, err)
	}
	if _, err := client.Write([]byte("next")); err != nil {
		t.Fatal(err)
	}
	if got, err := readN(t, server, 4); err != nil || got != "next" {
		t.Fatalf("next record: %q, %v", got, err)
	}
}

// TestKeys_Rotation: a member that rotated proves and accepts both keys
// for the grace period, so it talks to members on either key both ways;
// after the grace, only the new key; two members with disjoint keys never
// talk.
func TestKeys_Rotation(t *testing.T) {
	oldK, newK := DeriveKey("old"), DeriveKey("new")
	now := time.Now()
	rotated := NewKeys(oldK)
	rotated.now = func() time.Time { return now }
	rotated.Rotate(newK, time.Minute)
	onlyOld, onlyNew := NewKeys(oldK), NewKeys(newK)
	handshake := func(client, server *Keys) error {
		a, b := net.Pipe()
		defer a.Close()
		defer b.Close()
		errc := make(chan error, 1)
		go func() {
			_, err := Authenticate(b, HeaderRaft, server, Identity{}, time.Now().Add(5*time.Second))
			if err != nil {
				b.Close()
			}
			errc <- err
		}()
		_, err := ClientHandshake(a, HeaderRaft, client, Identity{}, "", time.Now().Add(5*time.Second))
		if err != nil {
			a.Close() // the server may wait for more
		}
		if serr := <-errc; err == nil {
			err = serr
		}
		return err
	}
	for _, tc := range []struct {
		name           string
		client, server *Keys
		ok             bool
	}{
		{"rotated dials old", rotated, onlyOld, true},
		{"old dials rotated", onlyOld, rotated, true},
		{"rotated dials new", rotated, onlyNew, true},
		{"new dials rotated", onlyNew, rotated, true},
		{"old dials new", onlyOld, onlyNew, false},
	} {
		if err := handshake(tc.client, tc.server); (err == nil) != tc.ok {
			t.Fatalf("%s: %v", tc.name, err)
		}
	}
	now = now.Add(2 * time.Minute) // the grace is over
	if err := handshake(onlyOld, rotated); err == nil {
		t.Fatal("the old key is still accepted after the grace")
	}
	if err := handshake(rotated, onlyNew); err != nil {
		t.Fatalf("new key after the grace: %v", err)
	}
	// Restore keeps an unexpired previous key only.
	r := NewKeys(newK)
	r.Restore(newK, oldK, time.Now().Add(time.Minute))
	if _, prev, _, ok := r.State(); !ok || prev != oldK {
		t.Fatal("Restore dropped an unexpired previous key")
	}
	r.Restore(newK, oldK, time.Now().Add(-time.Second))
	if _, _, _, ok := r.State(); ok {
		t.Fatal("Restore kept an expired previous key")
	}
}

// sessionPair runs a handshake over a pipe and returns the client's and the
// server's sealed ends.
func sessionPair(t *testing.T, client, server *Keys) (*Conn, *Conn) {
	t.Helper()
	a, b := net.Pipe()
	t.Cleanup(func() { a.Close(); b.Close() })
	type result struct {
		c   *Conn
		err error
	}
	res := make(chan result, 1)
	go func() {
		c, err := Authenticate(b, HeaderRPC, server, Identity{}, time.Now().Add(5*time.Second))
		res <- result{c, err}
	}()
	cc, err := ClientHandshake(a, HeaderRPC, client, Identity{}, "", time.Now().Add(5*time.Second))
	r := <-res
	if err != nil || r.err != nil {
		t.Fatalf("handshake: client %v, server %v", err, r.err)
	}
	return cc, r.c
}

// closedByPeer reads from c until its peer closes it, within 5 s.
func closedByPeer(t *testing.T, c *Conn) error {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err := c.Read(make([]byte, 1))
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("still open after 5 s")
	}
	if err == nil {
		return fmt.Errorf("read a byte")
	}
	return nil
}

// sessionWorks sends a byte from c to s and reads it there.
func sessionWorks(t *testing.T, c, s *Conn) error {
	t.Helper()
	go c.Write([]byte("x"))
	s.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err := s.Read(make([]byte, 1))
	return err
}

// TestKeys_SecretSetClosesTheOpenKeysSessions: a secret set where there was
// none drops the empty secret's key, which is anybody's. New handshakes on
// it were refused, but a session made before the change (an attacker that
// connected while the port was open) stayed up until a restart.
func TestKeys_SecretSetClosesTheOpenKeysSessions(t *testing.T) {
	server := NewSecretKeys("")
	cc, _ := sessionPair(t, NewSecretKeys(""), server)
	server.Restore(DeriveKey("now a secret"), Key{}, time.Time{})
	if err := closedByPeer(t, cc); err != nil {
		t.Fatalf("the session made with the empty secret: %v", err)
	}
}

// TestKeys_GraceEndClosesThePreviousKeysSessions: a rotated secret's key is
// accepted for its grace, sessions on it included; once the grace ends they
// are closed, and sessions on the current key stay up.
func TestKeys_GraceEndClosesThePreviousKeysSessions(t *testing.T) {
	oldK, newK := DeriveKey("old"), DeriveKey("new")
	server := NewKeys(oldK)
	oldC, oldS := sessionPair(t, NewKeys(oldK), server)
	const grace = 300 * time.Millisecond
	rotated := time.Now()
	server.Rotate(newK, grace)
	if err := sessionWorks(t, oldC, oldS); err != nil {
		t.Fatalf("the old key's session during the grace: %v", err)
	}
	newC, newS := sessionPair(t, NewKeys(newK), server)
	if err := closedByPeer(t, oldC); err != nil {
		t.Fatalf("the old key's session after the grace: %v", err)
	}
	if since := time.Since(rotated); since < grace {
		t.Fatalf("the old key's session closed %v after the rotation, within its grace", since)
	}
	if err := sessionWorks(t, newC, newS); err != nil {
		t.Fatalf("the new key's session after the grace: %v", err)
	}
	server.mu.Lock()
	tracked := len(server.conns)
	server.mu.Unlock()
	if tracked != 1 {
		t.Fatalf("%d sessions tracked, want the new key's only", tracked)
	}
	newS.Close()
	server.mu.Lock()
	tracked = len(server.conns)
	server.mu.Unlock()
	if tracked != 0 {
		t.Fatalf("%d sessions tracked after the last closed", tracked)
	}
}

// TestHandshake_WithdrawnBeforeTheProof: a handshake the listener takes back
// (an eviction) ends before the server's proof goes out, so the client never
// holds a connection made that is then closed under its first request. The
// eviction could pick a handshake whose proof was already on its way.
func TestHandshake_WithdrawnBeforeTheProof(t *testing.T) {
	keys := NewSecretKeys("s")
	a, b := net.Pipe()
	defer a.Close()
	errc := make(chan error, 1)
	go func() {
		_, err := authenticate(b, HeaderRPC, keys, Identity{}, time.Now().Add(5*time.Second), func() bool { return false })
		b.Close()
		errc <- err
	}()
	if _, err := ClientHandshake(a, HeaderRPC, keys, Identity{}, "", time.Now().Add(5*time.Second)); err == nil {
		t.Fatal("the client completed a handshake the server withdrew")
	}
	if err := <-errc; !errors.Is(err, errHandshakeWithdrawn) {
		t.Fatalf("server: %v, want errHandshakeWithdrawn", err)
	}
}

// TestHandshake_OlderPeerRefusedCleanly: GSP2 (the previous protocol) and
// GSP3 refuse each other with ErrNotPeer, never a half-open connection.
func TestHandshake_OlderPeerRefusedCleanly(t *testing.T) {
	// A GSP2 server opens with "GSP2" | nonce.
	c1, s1 := net.Pipe()
	defer c1.Close()
	defer s1.Close()
	go func() { s1.Write(append([]byte("GSP2"), make([]byte, 32)...)); io.Copy(io.Discard, s1) }()
	_, err := ClientHandshake(c1, HeaderRaft, NewSecretKeys("s"), Identity{}, "", time.Now().Add(5*time.Second))
	if !errors.Is(err, ErrNotPeer) {
		t.Fatalf("client facing GSP2: %v, want ErrNotPeer", err)
	}
	// A GSP2 client answers the challenge with its nonce and a proof.
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	go func() {
		io.ReadFull(a, make([]byte, len(magic)+nonceSize+pubSize))
		a.Write(make([]byte, 64))
	}()
	_, err = Authenticate(b, HeaderRaft, NewSecretKeys("s"), Identity{}, time.Now().Add(5*time.Second))
	if !errors.Is(err, ErrNotPeer) {
		t.Fatalf("server facing GSP2: %v, want ErrNotPeer", err)
	}
}

// TestRecordBuffersGrowWithRecords: a connection's record buffers start
// empty and grow to the records that pass, so a connection that carries
// small calls holds about as much as they need, not 32 KB; a record of
// the largest size still passes, in both directions.
func TestRecordBuffersGrowWithRecords(t *testing.T) {
	client, server, _, _ := pair(t)
	if cap(client.rbuf)+cap(client.wbuf)+cap(server.rbuf)+cap(server.wbuf) != 0 {
		t.Fatalf("buffers made before any record: client %d+%d, server %d+%d",
			cap(client.rbuf), cap(client.wbuf), cap(server.rbuf), cap(server.wbuf))
	}
	echo := func(msg []byte) {
		t.Helper()
		if _, err := client.Write(msg); err != nil {
			t.Fatal(err)
		}
		got := make([]byte, len(msg))
		if _, err := io.ReadFull(server, got); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, msg) {
			t.Fatalf("read %d bytes that differ from the %d written", len(got), len(msg))
		}
	}
	echo([]byte("small call"))
	if c := cap(server.rbuf); c > minRecordBuf {
		t.Fatalf("a 10-byte record grew the reader's buffer to %d bytes", c)
	}
	if c := cap(client.wbuf); c > minRecordBuf {
		t.Fatalf("a 10-byte record grew the writer's buffer to %d bytes", c)
	}
	echo(bytes.Repeat([]byte{'x'}, 3*maxRecordPlain+5)) // whole records and a short one
	if c, most := cap(server.rbuf), recordHeader+maxRecordPlain+tagSize; c > most {
		t.Fatalf("reader's buffer %d bytes, more than a whole record (%d)", c, most)
	}
	echo([]byte("small again"))
}
