package acceptloop

import (
	"net"
	"sync"
	"sync/atomic"
)

// Limit wraps ln so that at most max of its connections are open at once.
// With max open, a new one asks evict (if not nil) to close one of them
// (the HTTP server's oldest idle keep-alive connection) and is kept if it
// did; else it is closed at once, and Accept goes on to the next. For a
// listener whose connections are not clients (the metrics and health
// endpoints): unbounded, idle keep-alive connections took every descriptor
// of the process, and the sentinel could not redial the master it watches;
// without the eviction, 16 idle ones held turned every health probe away.
func Limit(ln net.Listener, max int, evict func() bool) net.Listener {
	return &limitListener{Listener: ln, max: int64(max), evict: evict}
}

type limitListener struct {
	net.Listener
	max    int64
	evict  func() bool
	active atomic.Int64
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.active.Add(1) > l.max && (l.evict == nil || !l.evict()) {
			l.active.Add(-1)
			c.Close()
			continue
		}
		// Within max, or one evicted: its Close took its count back.
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
