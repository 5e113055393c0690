package peer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"
)

// ServerIdleTimeout is how long the server keeps a connection that sends no
// request. It exceeds the client's ClientIdleTimeout, so a pooled connection
// is dropped by the client before the server closes it under its feet.
const ServerIdleTimeout = 2 * time.Minute

// serverWriteTimeout bounds writing one response.
const serverWriteTimeout = 10 * time.Second

// Handler serves one op. body is the request's raw JSON; the returned value
// is marshalled as the response body, and a non-nil error reaches the caller
// as a RemoteError carrying err.Error() and, if registered, its code. ctx ends when the caller's deadline
// passes or the server closes.
type Handler func(ctx context.Context, body json.RawMessage) (any, error)

// Server answers peer RPCs on authenticated connections.
type Server struct {
	logger *slog.Logger
	codes  *Codes
	ctx    context.Context
	cancel context.CancelFunc

	mu        sync.Mutex
	handlers  map[string]Handler
	listeners map[net.Listener]struct{}
	conns     map[net.Conn]struct{}
	closed    bool
	wg        sync.WaitGroup
}

// NewServer returns a server with no handlers that sends the registered
// name (codes, may be nil) of every handler error it can; logger may be nil.
func NewServer(logger *slog.Logger, codes *Codes) *Server {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{
		logger:    logger,
		codes:     codes,
		ctx:       ctx,
		cancel:    cancel,
		handlers:  map[string]Handler{},
		listeners: map[net.Listener]struct{}{},
		conns:     map[net.Conn]struct{}{},
	}
}

// Handle registers h for op, replacing any earlier handler.
func (s *Server) Handle(op string, h Handler) {
	s.mu.Lock()
	s.handlers[op] = h
	s.mu.Unlock()
}

// Serve answers connections accepted from ln (an authenticated Listener)
// until ln or the server is closed; then it returns nil.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ln.Close() // as Close closes the listeners it was given
		return nil
	}
	s.listeners[ln] = struct{}{}
	s.mu.Unlock()
	for {
		c, err := ln.Accept()
		if err != nil {
			s.mu.Lock()
			closed := s.closed
			delete(s.listeners, ln)
			s.mu.Unlock()
			if closed || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return fmt.Errorf("peer rpc accept: %w", err)
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			return nil
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go s.serveConn(c)
	}
}

// Close closes the listeners given to Serve and every connection, cancels
// running handlers and waits for them.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.cancel()
	for ln := range s.listeners {
		ln.Close()
	}
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return nil
}

func (s *Server) serveConn(c net.Conn) {
	defer func() {
		c.Close()
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		s.wg.Done()
	}()
	for {
		if err := c.SetReadDeadline(time.Now().Add(ServerIdleTimeout)); err != nil {
			return
		}
		var req request
		if n, err := readFrame(c, &req); err != nil {
			if n > 0 {
				s.logger.Warn("bad peer rpc request", "remote", c.RemoteAddr().String(), "err", err)
			}
			return
		}
		resp := s.dispatch(&req)
		if err := c.SetWriteDeadline(time.Now().Add(serverWriteTimeout)); err != nil {
			return
		}
		err := writeFrame(c, resp)
		if errors.Is(err, errFrameTooLarge) {
			// The handler ran: a connection closed without a byte
			// would have the caller send the request again.
			s.logger.Warn("peer rpc response too large", "remote", c.RemoteAddr().String(), "op", req.Op, "err", err)
			err = writeFrame(c, &response{Error: fmt.Sprintf("peer rpc %s: the response is too large to send (%v)", req.Op, err)})
		}
		if err != nil {
			s.logger.Warn("failed to answer peer rpc", "remote", c.RemoteAddr().String(), "op", req.Op, "err", err)
			return
		}
	}
}

func (s *Server) dispatch(req *request) *response {
	s.mu.Lock()
	h, ok := s.handlers[req.Op]
	s.mu.Unlock()
	if !ok {
		return &response{Error: fmt.Sprintf("unknown peer rpc op %q", req.Op)}
	}
	ctx, cancel := s.ctx, context.CancelFunc(func() {})
	if req.TimeoutMs > 0 {
		ctx, cancel = context.WithTimeout(ctx, time.Duration(req.TimeoutMs)*time.Millisecond)
	}
	defer cancel()
	out, err := h(ctx, req.Body)
	if err != nil {
		msg := err.Error()
		if msg == "" {
			msg = "peer rpc " + req.Op + " failed" // an empty text would read as success
		}
		return &response{Error: msg, Code: s.codes.Name(err)}
	}
	if out == nil {
		return &response{}
	}
	body, err := json.Marshal(out)
	if err != nil {
		return &response{Error: fmt.Sprintf("failed to encode %s response: %v", req.Op, err)}
	}
	return &response{Body: body}
}
