package redistest

import (
	"bufio"
	"fmt"
	"net"
	"strconv"
	"testing"
	"time"
)

// DefaultTimeout bounds each write and each reply read on a Conn unless
// Conn.Timeout is changed.
const DefaultTimeout = 5 * time.Second

// Conn is a raw RESP connection: it sends commands as RESP arrays (or raw
// bytes) and returns replies as Reply trees, keeping the exact bytes.
type Conn struct {
	// Timeout bounds each write and each Read.
	Timeout time.Duration
	nc      net.Conn
	br      *bufio.Reader
}

// Dial connects to addr (host:port) within timeout.
func Dial(addr string, timeout time.Duration) (*Conn, error) {
	nc, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	return newConn(nc), nil
}

func newConn(nc net.Conn) *Conn {
	return &Conn{Timeout: DefaultTimeout, nc: nc, br: bufio.NewReader(nc)}
}

// MustDial connects to addr or fails the test; the connection is closed in
// t.Cleanup.
func MustDial(t testing.TB, addr string) *Conn {
	t.Helper()
	c, err := Dial(addr, DefaultTimeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// EncodeCommand encodes args as a RESP array of bulk strings.
func EncodeCommand(args ...string) []byte {
	b := []byte("*" + strconv.Itoa(len(args)) + "\r\n")
	for _, a := range args {
		b = append(b, '$')
		b = strconv.AppendInt(b, int64(len(a)), 10)
		b = append(b, "\r\n"...)
		b = append(b, a...)
		b = append(b, "\r\n"...)
	}
	return b
}

// WriteRaw writes b as is (inline commands, malformed input, pipelines).
func (c *Conn) WriteRaw(b []byte) error {
	if err := c.nc.SetWriteDeadline(time.Now().Add(c.Timeout)); err != nil {
		return fmt.Errorf("set write deadline: %w", err)
	}
	if _, err := c.nc.Write(b); err != nil {
		return fmt.Errorf("write to %s: %w", c.nc.RemoteAddr(), err)
	}
	return nil
}

// Send writes one command without reading its reply.
func (c *Conn) Send(args ...string) error { return c.WriteRaw(EncodeCommand(args...)) }

// Read reads the next reply (also pushes and pub/sub messages).
func (c *Conn) Read() (*Reply, error) {
	if err := c.nc.SetReadDeadline(time.Now().Add(c.Timeout)); err != nil {
		return nil, fmt.Errorf("set read deadline: %w", err)
	}
	r, err := ReadReply(c.br)
	if err != nil {
		return nil, fmt.Errorf("read reply from %s: %w", c.nc.RemoteAddr(), err)
	}
	return r, nil
}

// Do sends one command and reads one reply. Error replies are returned as
// a Reply of kind KindError, not as a Go error; the Go error is for I/O and
// protocol failures only.
func (c *Conn) Do(args ...string) (*Reply, error) {
	if err := c.Send(args...); err != nil {
		return nil, err
	}
	return c.Read()
}

// DoOK sends one command and returns an error unless the reply is a status
// or a non-error value; it is for setup steps whose reply does not matter.
func (c *Conn) DoOK(args ...string) (*Reply, error) {
	r, err := c.Do(args...)
	if err != nil {
		return nil, err
	}
	if err := r.Err(); err != nil {
		return r, fmt.Errorf("%v: %w", args, err)
	}
	return r, nil
}

// Close closes the connection.
func (c *Conn) Close() error { return c.nc.Close() }

// LocalAddr is the client side address of the connection.
func (c *Conn) LocalAddr() string { return c.nc.LocalAddr().String() }
