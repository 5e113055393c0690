package peer

import (
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

// ErrNotPeer is returned by the client side when the other end does not open
// with the peer protocol's magic (it is not a gosentinel, or a different
// protocol version).
var ErrNotPeer = errors.New("remote does not speak the gosentinel peer protocol")

const (
	nonceSize = 32
	macSize   = sha256.Size
	magic     = "GSP2"
	// maxIdentity bounds the identity a server states (a sentinel id is
	// 40 hex characters).
	maxIdentity = 255
	labelClient = "gosentinel peer client"
	labelServer = "gosentinel peer server"
)

// proof computes HMAC-SHA256(secret, label | ns | nc | identity).
func proof(secret, label string, ns, nc []byte, identity string) []byte {
	h := hmac.New(sha256.New, []byte(secret))
	h.Write([]byte(label))
	h.Write(ns)
	h.Write(nc)
	h.Write([]byte(identity))
	return h.Sum(nil)
}

// ErrWrongIdentity is returned by the client side when the server proved
// the secret but is not the server the client meant to reach (its address
// now belongs to another sentinel).
var ErrWrongIdentity = errors.New("peer is not the expected server")

func newNonce() ([]byte, error) {
	n := make([]byte, nonceSize)
	if _, err := rand.Read(n); err != nil {
		return nil, fmt.Errorf("failed to draw a handshake nonce: %w", err)
	}
	return n, nil
}

// Authenticate runs the server side of the handshake on conn: it sends a
// fresh nonce, checks the client's proof and only then proves itself,
// stating its identity (may be empty) under its proof. It returns nil once
// the client has proven it holds secret; on error the caller must close
// conn. The deadline applies to the whole exchange and is cleared on
// success.
func Authenticate(conn net.Conn, secret, identity string, deadline time.Time) error {
	if len(identity) > maxIdentity {
		return fmt.Errorf("peer identity of %d bytes exceeds %d", len(identity), maxIdentity)
	}
	if err := conn.SetDeadline(deadline); err != nil {
		return fmt.Errorf("failed to set handshake deadline: %w", err)
	}
	ns, err := newNonce()
	if err != nil {
		return err
	}
	hello := append([]byte(magic), ns...)
	if _, err := conn.Write(hello); err != nil {
		return fmt.Errorf("failed to send handshake challenge: %w", err)
	}
	msg := make([]byte, nonceSize+macSize)
	if _, err := io.ReadFull(conn, msg); err != nil {
		return fmt.Errorf("failed to read handshake response: %w", err)
	}
	nc, got := msg[:nonceSize], msg[nonceSize:]
	if !hmac.Equal(got, proof(secret, labelClient, ns, nc, "")) {
		return ErrAuthFailed
	}
	reply := append([]byte{byte(len(identity))}, identity...)
	reply = append(reply, proof(secret, labelServer, ns, nc, identity)...)
	if _, err := conn.Write(reply); err != nil {
		return fmt.Errorf("failed to send handshake proof: %w", err)
	}
	if err := conn.SetDeadline(time.Time{}); err != nil {
		return fmt.Errorf("failed to clear handshake deadline: %w", err)
	}
	return nil
}

// ClientHandshake runs the client side of the handshake on conn (after the
// header byte): it answers the server's challenge and checks the server's
// proof and, when want is not empty, that the server's stated identity is
// want. On error the caller must close conn. The deadline applies to the
// whole exchange and is cleared on success.
func ClientHandshake(conn net.Conn, secret, want string, deadline time.Time) error {
	if err := conn.SetDeadline(deadline); err != nil {
		return fmt.Errorf("failed to set handshake deadline: %w", err)
	}
	hello := make([]byte, len(magic)+nonceSize)
	if _, err := io.ReadFull(conn, hello); err != nil {
		return fmt.Errorf("failed to read handshake challenge: %w", err)
	}
	if string(hello[:len(magic)]) != magic {
		return ErrNotPeer
	}
	ns := hello[len(magic):]
	nc, err := newNonce()
	if err != nil {
		return err
	}
	if _, err := conn.Write(append(nc, proof(secret, labelClient, ns, nc, "")...)); err != nil {
		return fmt.Errorf("failed to send handshake response: %w", err)
	}
	var idLen [1]byte
	if _, err := io.ReadFull(conn, idLen[:]); err != nil {
		// The server closes without a word when our proof is wrong.
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("%w: the server closed the connection (wrong secret?)", ErrAuthFailed)
		}
		return fmt.Errorf("failed to read handshake proof: %w", err)
	}
	rest := make([]byte, int(idLen[0])+macSize)
	if _, err := io.ReadFull(conn, rest); err != nil {
		return fmt.Errorf("failed to read handshake proof: %w", err)
	}
	identity, got := string(rest[:idLen[0]]), rest[idLen[0]:]
	if !hmac.Equal(got, proof(secret, labelServer, ns, nc, identity)) {
		return fmt.Errorf("%w: the server's proof is wrong", ErrAuthFailed)
	}
	if want != "" && identity != want {
		return fmt.Errorf("%w: want %q, the server is %q", ErrWrongIdentity, want, identity)
	}
	if err := conn.SetDeadline(time.Time{}); err != nil {
		return fmt.Errorf("failed to clear handshake deadline: %w", err)
	}
	return nil
}
