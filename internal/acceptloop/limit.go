package acceptloop

import (
	"net"
	"sync"
	"sync/atomic"
)

// Limit wraps ln so that at most max of its connections are open at once:
// one accepted past that is closed at once, and Accept goes on to the next.
// For a listener whose connections are not clients (the metrics and health
// endpoints): unbounded, idle keep-alive connections took every descriptor
// of the process, and the sentinel could not redial the master it watches.
func Limit(ln net.Listener, max int) net.Listener {
	return &limitListener{Listener: ln, max: int64(max)}
}

type limitListener struct {
	net.Listener
	max    int64
	active atomic.Int64
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.active.Add(1) > l.max {
			l.active.Add(-1)
			c.Close()
			continue
		}
		return &limitConn{Conn: c, l: l}, nil
	}
}

// Active is how many of the listener's connections are open.
func (l *limitListener) Active() int { return int(l.active.Load()) }

type limitConn struct {
	net.Conn
	l    *limitListener
	once sync.Once
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.active.Add(-1) })
	return err
}
