package sentinel

import (
	"errors"
	"io"
	"net"
	"sync"
	"time"
)

// memConn is one end of an in-memory connection with half-close, so that
// fuzzing does not exhaust loopback ports. Deadlines are not supported
// (the server does not use them).
type memConn struct {
	r      *io.PipeReader
	w      *io.PipeWriter
	once   sync.Once
	closeR func()
}

func memPipe() (client, server *memConn) {
	c2sR, c2sW := io.Pipe()
	s2cR, s2cW := io.Pipe()
	client = &memConn{r: s2cR, w: c2sW}
	server = &memConn{r: c2sR, w: s2cW}
	return client, server
}

func (m *memConn) Read(b []byte) (int, error)  { return m.r.Read(b) }
func (m *memConn) Write(b []byte) (int, error) { return m.w.Write(b) }

// CloseWrite signals EOF to the peer.
func (m *memConn) CloseWrite() error { return m.w.Close() }

func (m *memConn) Close() error {
	m.once.Do(func() {
		_ = m.w.Close()
		_ = m.r.CloseWithError(net.ErrClosed)
	})
	return nil
}

type memAddr struct{}

func (memAddr) Network() string { return "mem" }
func (memAddr) String() string  { return "mem:0" }

func (m *memConn) LocalAddr() net.Addr              { return memAddr{} }
func (m *memConn) RemoteAddr() net.Addr             { return memAddr{} }
func (m *memConn) SetDeadline(time.Time) error      { return nil }
func (m *memConn) SetReadDeadline(time.Time) error  { return nil }
func (m *memConn) SetWriteDeadline(time.Time) error { return nil }

// memListener hands out the server ends of memPipe connections.
type memListener struct {
	conns  chan net.Conn
	closed chan struct{}
	once   sync.Once
}

func newMemListener() *memListener {
	return &memListener{conns: make(chan net.Conn), closed: make(chan struct{})}
}

func (l *memListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *memListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

func (l *memListener) Addr() net.Addr { return memAddr{} }

// dial connects a new client end.
func (l *memListener) dial() (*memConn, error) {
	client, server := memPipe()
	select {
	case l.conns <- server:
		return client, nil
	case <-l.closed:
		return nil, errors.New("listener closed")
	}
}
