package redistest

import (
	"net"
	"os"
	"syscall"
)

// EMFILEListener fails its first Fails Accepts with EMFILE, as a process
// out of file descriptors does, then accepts from Listener.
type EMFILEListener struct {
	net.Listener
	Fails int
}

// Accept returns EMFILE while Fails lasts, then Listener's next connection.
func (l *EMFILEListener) Accept() (net.Conn, error) {
	if l.Fails > 0 {
		l.Fails--
		return nil, &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", syscall.EMFILE)}
	}
	return l.Listener.Accept()
}
