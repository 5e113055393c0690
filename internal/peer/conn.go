package peer

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
)

// ErrBadRecord is returned by Conn.Read, and the connection closed, when a
// record fails authentication: forged, altered, replayed, reordered, cut,
// or sealed for the other direction.
var ErrBadRecord = errors.New("peer record failed authentication")

const (
	// maxRecordPlain is the most plaintext one record carries.
	maxRecordPlain = 16 << 10
	recordHeader   = 4
	tagSize        = 16
	// minRecordBuf is the first size of a connection's read buffer.
	minRecordBuf = 512
)

// Conn is an authenticated peer connection. Every byte written is sealed
// in records:
//
//	length (4 bytes, big endian, of what follows) | AES-256-GCM(plaintext)
//
// with the length as additional data and, as nonce, a counter of the
// records sent in that direction. Each direction has its own key from the
// handshake, so a record replayed, reordered, dropped from the middle, or
// reflected back to its sender fails to open; the first such record closes
// the connection and is reported to the hook (the listener's or the
// dialer's reject hook).
type Conn struct {
	net.Conn
	peer     Identity
	onReject func(net.Addr, error)
	keys     *Keys // closes it once its key is no longer accepted (Keys.track)

	rmu     sync.Mutex
	recv    cipher.AEAD
	rseq    uint64
	rbuf    []byte // the record being read; rbuf[:rlen] arrived (grown to the records seen)
	rlen    int
	plain   []byte // opened, not yet returned
	readErr error  // sticky: a bad record or a broken stream

	wmu      sync.Mutex
	send     cipher.AEAD
	wseq     uint64
	wbuf     []byte // the last record sent, reused (grown to the records sent)
	writeErr error  // sticky: a partly written record breaks the stream
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("failed to create the record cipher: %w", err)
	}
	return cipher.NewGCM(b)
}

func newConn(c net.Conn, sendKey, recvKey []byte, peer Identity) (*Conn, error) {
	send, err := newAEAD(sendKey)
	if err != nil {
		return nil, err
	}
	recv, err := newAEAD(recvKey)
	if err != nil {
		return nil, err
	}
	// The record buffers grow with the records, up to a whole one each
	// (16 KB): a connection that only proves who answers (node's kind
	// probe, one a second per peer) or carries small calls never needed
	// the 32 KB made here for every connection before.
	return &Conn{Conn: c, peer: peer, send: send, recv: recv}, nil
}

// Peer is the identity the other side proved in the handshake.
func (c *Conn) Peer() Identity { return c.peer }

// Close closes the connection and forgets it in the key set that tracks it.
func (c *Conn) Close() error {
	if c.keys != nil {
		c.keys.untrack(c)
	}
	return c.Conn.Close()
}

func seqNonce(seq uint64) []byte {
	n := make([]byte, 12)
	binary.BigEndian.PutUint64(n[4:], seq)
	return n
}

// Write seals p into one or more records. An error leaves the stream
// broken (a record may be half sent): later writes fail too.
func (c *Conn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.writeErr != nil {
		return 0, c.writeErr
	}
	written := 0
	for len(p) > 0 {
		chunk := p[:min(len(p), maxRecordPlain)]
		if c.wseq == ^uint64(0) {
			c.writeErr = errors.New("peer connection sent 2^64 records")
			return written, c.writeErr
		}
		rec := binary.BigEndian.AppendUint32(c.wbuf[:0], uint32(len(chunk)+tagSize))
		rec = c.send.Seal(rec, seqNonce(c.wseq), chunk, rec[:recordHeader])
		c.wbuf = rec[:0]
		c.wseq++
		if _, err := c.Conn.Write(rec); err != nil {
			c.writeErr = err
			return written, err
		}
		written += len(chunk)
		p = p[len(chunk):]
	}
	return written, nil
}

// Read returns opened plaintext. A read that times out part-way through a
// record keeps what arrived, so the next Read continues it. A record that
// fails to open closes the connection.
func (c *Conn) Read(p []byte) (int, error) {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	for len(c.plain) == 0 {
		if c.readErr != nil {
			return 0, c.readErr
		}
		if len(p) == 0 {
			return 0, nil
		}
		if err := c.readRecord(); err != nil {
			return 0, err
		}
	}
	n := copy(p, c.plain)
	c.plain = c.plain[n:]
	return n, nil
}

// readRecord reads until one whole record arrived and opens it into plain.
func (c *Conn) readRecord() error {
	need := recordHeader
	for {
		if c.rlen >= recordHeader {
			size := int(binary.BigEndian.Uint32(c.rbuf[:recordHeader]))
			if size < tagSize || size > maxRecordPlain+tagSize {
				return c.reject(fmt.Errorf("%w: record of %d bytes", ErrBadRecord, size))
			}
			need = recordHeader + size
		}
		if c.rlen == need {
			break
		}
		if len(c.rbuf) < need {
			// need is at most a whole record (checked above).
			grown := make([]byte, max(need, min(max(2*len(c.rbuf), minRecordBuf), recordHeader+maxRecordPlain+tagSize)))
			copy(grown, c.rbuf[:c.rlen])
			c.rbuf = grown
		}
		m, err := c.Conn.Read(c.rbuf[c.rlen:need])
		c.rlen += m
		if err != nil {
			if c.rlen == need {
				break // the record is whole; the error shows on the next read
			}
			if errors.Is(err, io.EOF) && c.rlen > 0 {
				err = io.ErrUnexpectedEOF
			}
			var ne net.Error
			if !(errors.As(err, &ne) && ne.Timeout()) {
				c.readErr = err
			}
			return err
		}
	}
	rec := c.rbuf[:c.rlen]
	c.rlen = 0
	plain, err := c.recv.Open(rec[recordHeader:recordHeader], seqNonce(c.rseq), rec[recordHeader:], rec[:recordHeader])
	if err != nil {
		return c.reject(fmt.Errorf("%w (record %d)", ErrBadRecord, c.rseq))
	}
	c.rseq++
	c.plain = plain
	return nil
}

func (c *Conn) reject(err error) error {
	c.readErr = err
	c.Conn.Close()
	if c.onReject != nil {
		c.onReject(c.Conn.RemoteAddr(), err)
	}
	return err
}
