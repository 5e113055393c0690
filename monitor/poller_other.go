//go:build !linux

package monitor

import "net"

// poller: without epoll, every connection keeps its reader goroutine.
type poller struct{}

func newPoller(*Monitor) *poller                     { return nil }
func (p *poller) close()                             {}
func (p *poller) takeOver(c *conn, nc net.Conn) bool { return false }
func (p *poller) release(c *conn)                    {}
func (c *conn) flushFD()                             {}
func (c *conn) writeFDLocked() error                 { return nil }
func unreadFD(int) int                               { return 0 }

// flushBatch: no connection is polled, so none is ever batched.
func (m *Monitor) flushBatch() {}
