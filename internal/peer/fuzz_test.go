package peer

import (
	"bytes"
	"encoding/binary"
	"io"
	"testing"
	"time"
)

// bytesConn is a net.Conn that reads from a fixed input and discards
// writes: a peer that sends exactly that input.
type bytesConn struct {
	writerConn
	r io.Reader
}

func (c bytesConn) Read(p []byte) (int, error)  { return c.r.Read(p) }
func (c bytesConn) Write(p []byte) (int, error) { return len(p), nil }

var fuzzKeys = NewSecretKeys("fuzz")

// FuzzAuthenticate: whatever a client sends as message 2, the server side
// of the handshake returns an error (the input holds no valid proof)
// without panicking or allocating beyond its bounds.
func FuzzAuthenticate(f *testing.F) {
	m2 := append([]byte(magic), make([]byte, nonceSize+pubSize)...)
	m2 = appendField(appendField(appendField(m2, "id"), "127.0.0.1:26379"), "want")
	f.Add(append(append(m2, 1), make([]byte, macSize)...))
	f.Add(append(append(m2, 2), make([]byte, 2*macSize)...))
	f.Add(append(m2, 255))
	f.Add([]byte("GSP2"))
	f.Fuzz(func(t *testing.T, in []byte) {
		c, err := Authenticate(bytesConn{r: bytes.NewReader(in)}, HeaderRaft, fuzzKeys, Identity{ID: "s"}, time.Time{})
		if err == nil || c != nil {
			t.Fatalf("accepted %x", in)
		}
	})
}

// FuzzRecords: whatever bytes follow a handshake, Conn.Read returns an
// error (no record is sealed with the session key) and never panics.
func FuzzRecords(f *testing.F) {
	rec := binary.BigEndian.AppendUint32(nil, 5+tagSize)
	f.Add(append(rec, make([]byte, 5+tagSize)...))
	f.Add(binary.BigEndian.AppendUint32(nil, 1<<31))
	f.Add([]byte{0, 0, 0})
	key := make([]byte, 32)
	f.Fuzz(func(t *testing.T, in []byte) {
		c, err := newConn(bytesConn{r: bytes.NewReader(in)}, key, key, Identity{})
		if err != nil {
			t.Fatal(err)
		}
		n, err := c.Read(make([]byte, 64))
		if err == nil || n != 0 {
			t.Fatalf("read %d bytes from %x", n, in)
		}
	})
}
