package sentinel

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/x0tta6bl4/gosentinel/internal/rawconn"
)

// client is one connection. Its own goroutine (serve) reads, parses and
// executes commands one at a time, like redis' single-threaded loop does
// for one client; a second goroutine (writeLoop) writes its output so that
// a slow reader never blocks publishers or other clients.
//
// Field ownership: fields marked (mu) are written by the client's own
// goroutine with srv.mu held and read by other clients (CLIENT LIST, ACL,
// CLIENT KILL) under srv.mu; the owner reads them without the lock. Fields
// marked (psmu) are guarded the same way by srv.psmu. Unmarked fields
// belong to the client's goroutine alone.
type client struct {
	srv   *Server
	conn  net.Conn
	id    uint64
	addr  string
	laddr string
	unix  bool // arrived on the unixsocket (flag U)
	fd    int
	ctime time.Time

	out *outbuf
	// The socket under conn, read and written with raw system calls (see
	// socketOf); nil when conn is not a plain socket (TLS). rawRead and
	// rawWrite are readOnce and writeOnce bound once, with their buffers
	// and outcomes in fields, so that a call allocates nothing.
	raw      syscall.RawConn
	readBuf  bufferedConn // conn's own read buffer, drained before raw reads; nil if none
	rawRead  func(fd uintptr) bool
	rawWrite func(fd uintptr) bool
	rbuf     []byte
	rn       int
	rerr     error
	wbuf     []byte
	wn       int
	werr     error
	killOnce sync.Once
	killCh   chan struct{}
	killed   atomic.Bool
	resp     atomic.Int32 // protocol version; read by publishers

	// (mu)
	name            string
	libName         string // CLIENT SETINFO LIB-NAME
	libVer          string // CLIENT SETINFO LIB-VER
	user            *aclUser
	authenticated   bool
	lastInteraction time.Time
	lastCmd         string
	curQbuf         int
	curArgvMem      int
	blocked         bool
	closeAfterReply bool
	writerDone      bool
	noEvict         bool
	tracking        trackingState

	// (psmu)
	channels orderedSet
	patterns orderedSet

	// pushMu orders pub/sub messages around a command that defers them
	// (compat DeferOwnPushes): while executing, messages wait in deferred
	// and follow the command's reply.
	pushMu    sync.Mutex
	executing bool     // (pushMu)
	deferred  [][]byte // (pushMu)

	parser        requestParser
	reply         []byte
	pushing       bool
	replyOff      bool
	replySkip     bool
	replySkipNext bool
	dropOutput    bool
	curCmd        *command
	argsLent      bool // the last command executed kept nothing of its argv
	lastLookup    lookupCache
	maps          *mapEncoder // the instance maps' encoder (Backend's Render methods)
}

// trackingState is what CLIENT TRACKING configured (there are no keys in a
// sentinel, so nothing is ever invalidated, but the state is reported).
type trackingState struct {
	on, bcast, optin, optout, noloop, caching, brokenRedir bool
	redirect                                               int64
	prefixes                                               []string // sorted
}

func (c *client) proto() int { return int(c.resp.Load()) }

// subscriptions is the number of channels plus patterns (psmu or owner).
func (c *client) subscriptions() int { return c.channels.len() + c.patterns.len() }

// kill closes the connection now, dropping pending output (freeClient).
// Safe from any goroutine.
func (c *client) kill() {
	c.killOnce.Do(func() {
		c.killed.Store(true)
		close(c.killCh)
		c.out.kill()
		_ = c.conn.Close()
	})
}

// bufferedConn is a connection that buffers what it read ahead (the port
// mux replays the bytes it peeked): its socket may be read directly only
// when nothing is buffered.
type bufferedConn interface {
	Buffered() int
}

// socketOf returns the socket under conn, and conn's read buffer if it has
// one, when the command loop may read and write the socket directly: conn
// is a TCP or Unix connection, or a wrapper that gives its socket and says
// what it buffered (the mux's). Otherwise (TLS, whose bytes are records,
// or an unknown wrapper) nil: conn's own Read and Write are used.
func socketOf(conn net.Conn) (syscall.RawConn, bufferedConn) {
	var readBuf bufferedConn
	switch conn.(type) {
	case *net.TCPConn, *net.UnixConn:
	default:
		b, ok := conn.(bufferedConn)
		if !ok {
			return nil, nil
		}
		readBuf = b
	}
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return nil, nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil, nil
	}
	return raw, readBuf
}

// connFD returns the socket's file descriptor for CLIENT LIST, or -1.
func connFD(raw syscall.RawConn) int {
	fd := -1
	if raw != nil {
		_ = raw.Control(func(f uintptr) { fd = int(f) })
	}
	return fd
}

// flush writes the replies to the commands just processed. With a socket
// the command loop writes them itself, with one write(2) that does not
// wait: the writer goroutine gets only what the socket did not take (and
// everything when something else is being written), so a reader that
// stops reading never blocks the command loop beyond outputHighWater, as
// before. This saves a hand-off between goroutines per batch of commands.
func (c *client) flush() {
	if c.raw == nil {
		c.out.flush()
		return
	}
	data := c.out.flushOwn()
	if data == nil {
		return
	}
	c.wbuf, c.wn = data, 0 // a Write that fails before writing leaves no count behind
	err := c.raw.Write(c.rawWrite)
	n := max(c.wn, 0)
	if err == nil && c.werr != syscall.EAGAIN {
		err = c.werr
	}
	c.wbuf, c.werr = nil, nil
	c.srv.stats.netOutput.Add(int64(n))
	c.out.writtenOwn(data, n)
	if err != nil {
		c.kill()
	}
}

// read reads what the client sent into buf, like conn.Read. On a socket it
// is a raw system call (readOnce), for the reason writeOnce gives; when
// the socket has nothing, the runtime's poller waits for it as it does for
// conn.Read.
func (c *client) read(buf []byte) (int, error) {
	if c.raw == nil || (c.readBuf != nil && c.readBuf.Buffered() > 0) {
		return c.conn.Read(buf)
	}
	c.rbuf = buf
	err := c.raw.Read(c.rawRead)
	n := max(c.rn, 0)
	if err == nil {
		err = c.rerr
	}
	c.rbuf, c.rn, c.rerr = nil, 0, nil
	return n, err
}

// readOnce is rawRead: one read(2) into rbuf; false (wait and call again)
// when the socket has nothing yet.
func (c *client) readOnce(fd uintptr) bool {
	for {
		n, errno := rawconn.SysRead(fd, c.rbuf)
		switch errno {
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return false
		case 0:
			c.rn, c.rerr = n, nil
			if n == 0 {
				c.rerr = io.EOF
			}
		default:
			c.rn, c.rerr = -1, errno
		}
		return true
	}
}

// writeOnce is rawWrite: one write(2) of wbuf, retried on EINTR only.
//
// It is a raw system call: the socket never blocks (Go's sockets are
// non-blocking), so the scheduler need not be told. Through conn.Read and
// syscall.Write every request entered and left two system calls the
// scheduler watches, and one that outlasted its 20 µs tick (a loopback
// write delivers to the reader within the call) had its P handed to
// another thread: the process paid that in futex wake-ups, context
// switches and the scheduler's monitor thread polling at its fastest rate
// (under redis-benchmark -P 1, 0.28 context switches per request; 0.15
// with raw calls, as redis-sentinel).
func (c *client) writeOnce(fd uintptr) bool {
	for {
		n, errno := rawconn.SysWrite(fd, c.wbuf)
		if errno == syscall.EINTR {
			continue
		}
		c.wn, c.werr = n, nil
		if errno != 0 {
			c.wn, c.werr = -1, errno
		}
		return true
	}
}

// serve is the client's command loop.
func (c *client) serve() {
	defer c.srv.wg.Done()
	defer func() {
		if r := recover(); r != nil {
			// A bug: crash (as redis does on an assertion) rather than run
			// cleanup, which could deadlock on a lock the panic left held.
			panic(r)
		}
		c.cleanup()
	}()
	buf := make([]byte, 16<<10)
	for {
		if !c.processInput() {
			return
		}
		if !c.out.waitBelow(outputHighWater) {
			return
		}
		n, err := c.read(buf)
		if n > 0 {
			c.srv.stats.netInput.Add(int64(n))
			c.srv.stats.reads.Add(1)
			c.parser.buf = append(c.parser.buf, buf[:n]...)
			if len(c.parser.buf) > maxQueryBufLen {
				c.srv.log.Warn("closing client that reached max query buffer length", "id", c.id, "addr", c.addr)
				c.kill()
				return
			}
		}
		if err != nil {
			// The peer is gone or half-closed: what was read has been
			// answered above; let the writer deliver it, then close.
			if n > 0 {
				c.processInput()
			}
			c.closeGracefully()
			return
		}
	}
}

// processInput parses and executes every complete request in the query
// buffer. It reports false when the client must stop reading.
//
// The clock is read once per call, as redis reads it once per event loop
// iteration: the commands of one read share their last-interaction time
// (CLIENT LIST's idle counts seconds) and INFO's ops sample.
func (c *client) processInput() bool {
	defer c.parser.compact()
	now := time.Now()
	for {
		if c.killed.Load() {
			return false
		}
		argv, st, errText := c.parser.next(c.authRequiredLocked)
		switch st {
		case parseNeedMore:
			c.flush()
			s := c.srv
			s.ops.tick(now, s.stats.commands.Load(), s.stats.netInput.Load(), s.stats.netOutput.Load())
			return true
		case parseError:
			c.addError(errText)
			c.commit()
			c.closeGracefully()
			return false
		}
		if len(argv) == 0 {
			c.parser.release()
			c.curQbufSnapshot(0)
			c.resetAfterCommand(nil)
			continue
		}
		now = c.execute(argv, now)
		if c.argsLent {
			c.parser.release()
		}
		if c.dropOutput {
			c.kill()
			return false
		}
		pending := c.commit()
		c.releaseDeferred()
		if pending > outputHighWater {
			c.out.flush()
			if !c.out.waitBelow(outputHighWater) {
				return false
			}
			now = time.Now()
		}
		// Set by this goroutine only (CLIENT KILL or ACL DELUSER of
		// itself): no lock needed to read it.
		if c.closeAfterReply {
			c.closeGracefully()
			return false
		}
	}
}

// argvMem is CLIENT LIST's argv-mem of a request.
func argvMem(argv []string) int {
	mem := 0
	for _, a := range argv {
		mem += len(a)
	}
	return mem
}

// curQbufSnapshot records the query buffer figures CLIENT LIST shows for
// the executing client (execute records them with its own checks).
func (c *client) curQbufSnapshot(argvMem int) {
	c.srv.mu.Lock()
	c.curQbufSnapshotLocked(argvMem)
	c.srv.mu.Unlock()
}

// curQbufSnapshotLocked is curQbufSnapshot with Server.mu held.
func (c *client) curQbufSnapshotLocked(argvMem int) {
	c.curQbuf = len(c.parser.buf)
	c.curArgvMem = argvMem
}

// commit hands the reply built so far to the writer and returns the
// output now pending.
func (c *client) commit() int {
	if len(c.reply) == 0 {
		return c.out.pendingBytes()
	}
	c.srv.stats.writes.Add(1)
	pending := c.out.push(c.reply)
	c.reply = emptied(c.reply)
	return pending
}

// maxKeptBuffer is the largest buffer a client keeps for reuse once it is
// empty (the query buffer, the reply being built, the output written): a
// larger one, made for one large request or reply, goes back to the
// collector. They were kept at their largest, so a client that once sent
// a 400 MB argument held that much, and as much for the reply, while it
// stayed idle; redis frees its reply blocks once written and shrinks idle
// query buffers.
const maxKeptBuffer = 64 << 10

// emptied returns b empty for reuse, or nil if it is larger than a client
// keeps.
func emptied(b []byte) []byte {
	if cap(b) > maxKeptBuffer {
		return nil
	}
	return b[:0]
}

// drainTimeout bounds how long the output of a closing connection may
// take to reach a peer that stopped reading.
const drainTimeout = 10 * time.Second

// writeLoop writes the client's output until the buffer closes or dies.
func (c *client) writeLoop() {
	defer c.srv.wg.Done()
	defer func() {
		c.srv.mu.Lock()
		c.writerDone = true
		delete(c.srv.draining, c)
		c.srv.mu.Unlock()
	}()
	for {
		data, closing, dead := c.out.take()
		if dead {
			_ = c.conn.Close()
			return
		}
		if len(data) > 0 {
			n, err := c.conn.Write(data)
			c.srv.stats.netOutput.Add(int64(n))
			c.out.written(data)
			if err != nil {
				c.kill()
				return
			}
			continue
		}
		if closing {
			_ = c.conn.Close()
			return
		}
	}
}

// unlistKilledLocked marks another client killed and removes it from the
// client table at once, as redis' freeClient does inside CLIENT KILL: its
// connection goroutine may take a moment to notice, but no later command
// (CLIENT LIST, INFO's connected_clients) may still see it. cleanup's own
// delete is then a no-op. Requires Server.mu.
func (s *Server) unlistKilledLocked(other *client) {
	other.killed.Store(true)
	delete(s.clients, other.id)
}

// cleanup unregisters a finished client.
func (c *client) cleanup() {
	s := c.srv
	s.psmu.Lock()
	s.unsubscribeAllLocked(c)
	s.psmu.Unlock()
	s.mu.Lock()
	delete(s.clients, c.id)
	if c.tracking.on {
		s.trackingClients--
	}
	if !c.killed.Load() && !c.writerDone {
		// The writer may still be delivering the last replies: keep the
		// connection reachable by Close until it is done.
		s.draining[c] = struct{}{}
	}
	s.mu.Unlock()
	if c.killed.Load() {
		_ = c.conn.Close()
	}
}

// authRequiredLocked is authRequired for the request parser.
func (c *client) authRequiredLocked() bool {
	c.srv.mu.Lock()
	defer c.srv.mu.Unlock()
	return c.srv.authRequired(c)
}

// closeGracefully lets the writer deliver the pending output and close,
// within drainTimeout.
func (c *client) closeGracefully() {
	c.out.closeAfterFlush()
	_ = c.conn.SetWriteDeadline(time.Now().Add(drainTimeout))
}
