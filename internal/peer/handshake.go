package peer

import (
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"time"
)

// Header bytes written first by peer dialers. internal/mux routes a
// connection by its first byte; RESP clients never send a byte >= 0xF0.
const (
	// HeaderRaft starts a Raft transport connection.
	HeaderRaft byte = 0xF1
	// HeaderRPC starts a peer RPC connection.
	HeaderRPC byte = 0xF2
)

// DefaultHandshakeTimeout bounds a whole handshake when the caller gives no
// deadline of its own. Two round trips on a LAN take milliseconds; the bound
// only limits what a silent or slow peer can hold.
const DefaultHandshakeTimeout = 5 * time.Second

// ErrAuthFailed is returned when either side fails to prove it holds the
// shared secret.
var ErrAuthFailed = errors.New("peer authentication failed")

// ErrNotPeer is returned when the other end does not open with this
// protocol's magic: it is not a gosentinel, or one that speaks another
// version of the peer protocol (docs/DESIGN.md: old and new members do not
// talk).
var ErrNotPeer = errors.New("remote does not speak the gosentinel peer protocol GSP3")

// ErrWrongIdentity is returned when the server proved the secret but is not
// the server the dialer meant to reach (its address now belongs to another
// sentinel, or something relayed the dial to another member); a server
// returns it, and closes, when the dialer names another server than itself.
var ErrWrongIdentity = errors.New("peer is not the expected server")

// Identity is what a side of the handshake claims to be, under its proof:
// its sentinel id and the address it advertises. Either may be empty.
type Identity struct {
	ID, Addr string
}

const (
	magic     = "GSP3"
	nonceSize = 32
	pubSize   = 32 // an X25519 public key
	macSize   = sha256.Size
	// maxField bounds each identity field (a sentinel id is 40 hex
	// characters, an address host:port).
	maxField = 255
	// maxOffered is how many keys a client proves at once: the current
	// one and, during a rotation, the previous one.
	maxOffered = 2

	labelTranscript = "gosentinel peer v3"
	labelExtract    = "gosentinel peer v3 keys"
	labelClientMAC  = "client proof "
	labelServerMAC  = "server proof "
	labelC2S        = "client to server "
	labelS2C        = "server to client "
)

// session is the key schedule of one handshake under one candidate key:
// prk = HKDF-Extract(key | X25519 shared secret), and every output is
// HKDF-Expand(prk, label | SHA-256(transcript so far)), so each proof and
// each direction's key is bound to both nonces, both ephemeral keys, the
// header, and every identity either side stated.
type session struct {
	prk []byte
	key Key // the peer key it was made with, for Keys.track
}

func newSession(key Key, shared []byte) session {
	ikm := append(append([]byte{}, key[:]...), shared...)
	prk, err := hkdf.Extract(sha256.New, ikm, []byte(labelExtract))
	if err != nil {
		panic(fmt.Sprintf("peer: hkdf extract: %v", err))
	}
	return session{prk: prk, key: key}
}

func (s session) expand(label string, transcript []byte) []byte {
	h := sha256.Sum256(transcript)
	out, err := hkdf.Expand(sha256.New, s.prk, label+string(h[:]), 32)
	if err != nil {
		panic(fmt.Sprintf("peer: hkdf expand: %v", err))
	}
	return out
}

// transcript starts the bytes both sides hash: a label and the header byte
// (so a Raft connection's proof never opens an RPC connection).
func transcript(header byte) []byte {
	return append([]byte(labelTranscript), header)
}

func appendField(b []byte, s string) []byte {
	return append(append(b, byte(len(s))), s...)
}

func readField(r io.Reader) (string, error) {
	var n [1]byte
	if _, err := io.ReadFull(r, n[:]); err != nil {
		return "", err
	}
	b := make([]byte, n[0])
	if _, err := io.ReadFull(r, b); err != nil {
		return "", err
	}
	return string(b), nil
}

func checkIdentity(id Identity) error {
	if len(id.ID) > maxField || len(id.Addr) > maxField {
		return fmt.Errorf("peer identity %q/%q exceeds %d bytes", id.ID, id.Addr, maxField)
	}
	return nil
}

func newNonce() ([]byte, error) {
	n := make([]byte, nonceSize)
	if _, err := rand.Read(n); err != nil {
		return nil, fmt.Errorf("failed to draw a handshake nonce: %w", err)
	}
	return n, nil
}

func newEphemeral() (*ecdh.PrivateKey, error) {
	k, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("failed to draw a handshake key: %w", err)
	}
	return k, nil
}

func sharedSecret(priv *ecdh.PrivateKey, peerPub []byte) ([]byte, error) {
	pub, err := ecdh.X25519().NewPublicKey(peerPub)
	if err != nil {
		return nil, fmt.Errorf("%w: bad handshake key: %v", ErrAuthFailed, err)
	}
	z, err := priv.ECDH(pub)
	if err != nil { // a low-order point
		return nil, fmt.Errorf("%w: bad handshake key: %v", ErrAuthFailed, err)
	}
	return z, nil
}

// Authenticate runs the server side of the handshake on conn, the header
// byte already read: it sends its nonce and ephemeral key, checks that the
// client proved one of keys over the transcript, and only then proves
// itself, stating self. It returns the sealed connection (every byte after
// the handshake authenticated and encrypted) and the client's identity; on
// error the caller must close conn. The deadline applies to the whole
// exchange and is cleared on success.
func Authenticate(conn net.Conn, header byte, keys *Keys, self Identity, deadline time.Time) (*Conn, error) {
	return authenticate(conn, header, keys, self, deadline, nil)
}

// errHandshakeWithdrawn is authenticate's error when claim refused: the
// listener took the handshake's slot back before its proof went out.
var errHandshakeWithdrawn = errors.New("peer handshake withdrawn before its proof was sent")

// authenticate is Authenticate with claim, if not nil, asked once the
// client's proof checked out and before this side's proof goes out: false
// ends the handshake there, so a client never completes a handshake whose
// connection is being closed under it.
func authenticate(conn net.Conn, header byte, keys *Keys, self Identity, deadline time.Time, claim func() bool) (*Conn, error) {
	if err := checkIdentity(self); err != nil {
		return nil, err
	}
	if err := conn.SetDeadline(deadline); err != nil {
		return nil, fmt.Errorf("failed to set handshake deadline: %w", err)
	}
	ns, err := newNonce()
	if err != nil {
		return nil, err
	}
	eph, err := newEphemeral()
	if err != nil {
		return nil, err
	}
	m1 := append(append([]byte(magic), ns...), eph.PublicKey().Bytes()...)
	if _, err := conn.Write(m1); err != nil {
		return nil, fmt.Errorf("failed to send handshake challenge: %w", err)
	}
	// Message 2: magic | Nc | Ec | client id | client addr | wanted id |
	// count | count proofs.
	fixed := make([]byte, len(magic)+nonceSize+pubSize)
	if _, err := io.ReadFull(conn, fixed[:len(magic)]); err != nil {
		return nil, fmt.Errorf("failed to read handshake response: %w", err)
	}
	if string(fixed[:len(magic)]) != magic {
		return nil, fmt.Errorf("%w: the client is not a GSP3 peer (an older gosentinel?)", ErrNotPeer)
	}
	if _, err := io.ReadFull(conn, fixed[len(magic):]); err != nil {
		return nil, fmt.Errorf("failed to read handshake response: %w", err)
	}
	var client Identity
	var want string
	for _, f := range []*string{&client.ID, &client.Addr, &want} {
		if *f, err = readField(conn); err != nil {
			return nil, fmt.Errorf("failed to read handshake response: %w", err)
		}
	}
	var count [1]byte
	if _, err := io.ReadFull(conn, count[:]); err != nil {
		return nil, fmt.Errorf("failed to read handshake response: %w", err)
	}
	if count[0] < 1 || count[0] > maxOffered {
		return nil, fmt.Errorf("%w: %d proofs offered", ErrAuthFailed, count[0])
	}
	offered := make([]byte, int(count[0])*macSize)
	if _, err := io.ReadFull(conn, offered); err != nil {
		return nil, fmt.Errorf("failed to read handshake proof: %w", err)
	}
	z, err := sharedSecret(eph, fixed[len(magic)+nonceSize:])
	if err != nil {
		return nil, err
	}
	t := transcript(header)
	t = append(t, m1...)
	t = append(t, fixed...)
	t = appendField(appendField(appendField(t, client.ID), client.Addr), want)
	var match *session
	for _, k := range keys.list() {
		s := newSession(k, z)
		expect := s.expand(labelClientMAC, t)
		for i := 0; i < len(offered); i += macSize {
			if hmac.Equal(offered[i:i+macSize], expect) {
				match = &s
			}
		}
		if match != nil {
			break
		}
	}
	if match == nil {
		return nil, ErrAuthFailed
	}
	if claim != nil && !claim() {
		return nil, errHandshakeWithdrawn
	}
	t = appendField(appendField(t, self.ID), self.Addr)
	m3 := appendField(appendField(nil, self.ID), self.Addr)
	m3 = append(m3, match.expand(labelServerMAC, t)...)
	if _, err := conn.Write(m3); err != nil {
		return nil, fmt.Errorf("failed to send handshake proof: %w", err)
	}
	// The client proved a key, so it may learn who this is: it refuses
	// with a precise error, and so does this side.
	if want != "" && want != self.ID {
		return nil, fmt.Errorf("%w: the client %q (%s) dialled %q, this is %q", ErrWrongIdentity, client.ID, client.Addr, want, self.ID)
	}
	if err := conn.SetDeadline(time.Time{}); err != nil {
		return nil, fmt.Errorf("failed to clear handshake deadline: %w", err)
	}
	c, err := newConn(conn, match.expand(labelS2C, t), match.expand(labelC2S, t), client)
	if err != nil {
		return nil, err
	}
	if err := keys.track(c, match.key); err != nil {
		return nil, err
	}
	return c, nil
}

// ClientHandshake runs the client side of the handshake on conn, after the
// header byte: it proves each of keys (the current one and, during a
// rotation, the previous) over the transcript, which names self and want,
// then checks the server's proof and, when want is not empty, that the
// server is want. It returns the sealed connection and the server's
// identity; on error the caller must close conn. The deadline applies to
// the whole exchange and is cleared on success.
func ClientHandshake(conn net.Conn, header byte, keys *Keys, self Identity, want string, deadline time.Time) (*Conn, error) {
	if err := checkIdentity(self); err != nil {
		return nil, err
	}
	if len(want) > maxField {
		return nil, fmt.Errorf("peer id %q exceeds %d bytes", want, maxField)
	}
	if err := conn.SetDeadline(deadline); err != nil {
		return nil, fmt.Errorf("failed to set handshake deadline: %w", err)
	}
	m1 := make([]byte, len(magic)+nonceSize+pubSize)
	if _, err := io.ReadFull(conn, m1[:len(magic)]); err != nil {
		return nil, fmt.Errorf("failed to read handshake challenge: %w", err)
	}
	if got := string(m1[:len(magic)]); got != magic {
		return nil, fmt.Errorf("%w (it opened with %q)", ErrNotPeer, got)
	}
	if _, err := io.ReadFull(conn, m1[len(magic):]); err != nil {
		return nil, fmt.Errorf("failed to read handshake challenge: %w", err)
	}
	nc, err := newNonce()
	if err != nil {
		return nil, err
	}
	eph, err := newEphemeral()
	if err != nil {
		return nil, err
	}
	z, err := sharedSecret(eph, m1[len(magic)+nonceSize:])
	if err != nil {
		return nil, err
	}
	m2 := append(append([]byte(magic), nc...), eph.PublicKey().Bytes()...)
	m2 = appendField(appendField(appendField(m2, self.ID), self.Addr), want)
	t := append(append(transcript(header), m1...), m2...)
	list := keys.list()
	sessions := make([]session, len(list))
	m2 = append(m2, byte(len(list)))
	for i, k := range list {
		sessions[i] = newSession(k, z)
		m2 = append(m2, sessions[i].expand(labelClientMAC, t)...)
	}
	if _, err := conn.Write(m2); err != nil {
		return nil, fmt.Errorf("failed to send handshake response: %w", err)
	}
	var server Identity
	for _, f := range []*string{&server.ID, &server.Addr} {
		if *f, err = readField(conn); err != nil {
			// The server closes without a word when it refuses.
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return nil, fmt.Errorf("%w: the server closed the connection (wrong secret, or it is not %q)", ErrAuthFailed, want)
			}
			return nil, fmt.Errorf("failed to read handshake proof: %w", err)
		}
	}
	got := make([]byte, macSize)
	if _, err := io.ReadFull(conn, got); err != nil {
		return nil, fmt.Errorf("failed to read handshake proof: %w", err)
	}
	t = appendField(appendField(t, server.ID), server.Addr)
	var match *session
	for i := range sessions {
		if hmac.Equal(got, sessions[i].expand(labelServerMAC, t)) {
			match = &sessions[i]
			break
		}
	}
	if match == nil {
		return nil, fmt.Errorf("%w: the server's proof is wrong", ErrAuthFailed)
	}
	if want != "" && server.ID != want {
		return nil, fmt.Errorf("%w: want %q, the server is %q", ErrWrongIdentity, want, server.ID)
	}
	if err := conn.SetDeadline(time.Time{}); err != nil {
		return nil, fmt.Errorf("failed to clear handshake deadline: %w", err)
	}
	c, err := newConn(conn, match.expand(labelC2S, t), match.expand(labelS2C, t), server)
	if err != nil {
		return nil, err
	}
	if err := keys.track(c, match.key); err != nil {
		return nil, err
	}
	return c, nil
}
