package node

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/x0tta6bl4/gosentinel/config"
	"github.com/x0tta6bl4/gosentinel/internal/peer"
	"github.com/x0tta6bl4/gosentinel/internal/rawconn"
	"github.com/x0tta6bl4/gosentinel/internal/tlsconf"
)

// setupTLS reads the tls-* directives and loads the certificates when TLS is configured
// (tls-port, tls-replication or tls-cluster), as redis' tlsConfigure at start. A directive Go's TLS cannot
// honour comes back as the *config.FatalError naming its line; a file that cannot be loaded
// is logged as redis logs it and comes back as ErrReported.
func (n *Node) setupTLS(cfg *config.Config) error {
	s, err := tlsconf.FromConfig(cfg)
	if err != nil {
		return err
	}
	if !s.Enabled() {
		return nil
	}
	for _, w := range s.Warnings {
		n.log.Warn(w)
	}
	t, err := tlsconf.New(s, n.log.With("component", "tls"))
	if err != nil {
		n.log.Warn(err.Error())
		n.log.Warn("Failed to configure TLS. Check logs for more info.")
		return fmt.Errorf("%w: failed to configure TLS: %w", ErrReported, err)
	}
	n.tls = t
	return nil
}

// clientTLS is the configuration of links to Redis nodes and peer sentinels: nil (plain
// text) unless tls-replication is on, as in redis-sentinel.
func (n *Node) clientTLS() *tls.Config {
	if n.tls == nil || !n.tls.Settings().Replication {
		return nil
	}
	return n.tls.Client()
}

// peerTransport makes peer dials speak TLS when links do (tls-replication): the peer's
// announced port is then its TLS port. The accepting side needs nothing: the TLS port's
// listener terminates TLS before the port's mux. Without TLS the option changes nothing.
func (n *Node) peerTransport() peer.DialerOption {
	c := n.clientTLS()
	if c == nil {
		return func(*peer.Dialer) {}
	}
	return peer.WithTransport(func(ctx context.Context, raw net.Conn) (net.Conn, error) {
		tc := tls.Client(raw, c)
		if err := tc.HandshakeContext(ctx); err != nil {
			raw.Close()
			return nil, fmt.Errorf("TLS handshake: %w", err)
		}
		return tc, nil
	})
}

// tlsPort is the TLS port to announce (tls-replication with a tls-port, as sentinelSendHello),
// or 0.
func (n *Node) tlsPort() int {
	if n.tls == nil || !n.tls.Settings().Replication {
		return 0
	}
	return n.cfg.TLSPort
}

// listenAll opens the plain port (unless port 0 with a tls-port: port 0 disables plain text,
// as in redis) and the TLS port, each on every bind address. The TLS listeners come last.
func (n *Node) listenAll(cfg *config.Config) ([]net.Listener, error) {
	var lns []net.Listener
	if cfg.Port != 0 || cfg.TLSPort == 0 {
		l, err := listen(cfg, cfg.Port)
		if err != nil {
			return nil, err
		}
		lns = l
	}
	if cfg.TLSPort != 0 {
		l, err := listen(cfg, cfg.TLSPort)
		if err != nil {
			for _, x := range lns {
				x.Close()
			}
			return nil, err
		}
		for _, x := range l {
			lns = append(lns, &tlsListener{Listener: x, conf: n.tls.Server(), log: n.log})
		}
	}
	return lns, nil
}

// tlsHandshakeTimeout bounds the server side of a handshake: a TLS client starts it as soon
// as it connects (unlike a plain client, which may stay silent), so only a stuck or hostile
// peer reaches it.
const tlsHandshakeTimeout = 10 * time.Second

// tlsListener is tls.NewListener whose connections complete their handshake on the first
// read within tlsHandshakeTimeout, and log a failed one at warning level as redis does
// (networking.c's "Error accepting a client connection", LL_WARNING in 7.0 and 8.0, with
// 8.0's addr and laddr): a client refused for its certificate is visible at the default
// loglevel.
type tlsListener struct {
	net.Listener
	conf *tls.Config
	log  *slog.Logger
}

func (l *tlsListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	// The TCP connection under TLS is read and written with raw system
	// calls (internal/rawconn).
	return &tlsServerConn{Conn: tls.Server(rawconn.Wrap(c), l.conf), log: l.log}, nil
}

type tlsServerConn struct {
	*tls.Conn
	log  *slog.Logger
	once sync.Once
	err  error
}

func (c *tlsServerConn) Read(p []byte) (int, error) {
	c.once.Do(func() {
		c.Conn.SetDeadline(time.Now().Add(tlsHandshakeTimeout))
		if c.err = c.Conn.Handshake(); c.err != nil {
			c.log.Warn(fmt.Sprintf("Error accepting a client connection: %s (addr=%s laddr=%s)", c.err, c.Conn.RemoteAddr(), c.Conn.LocalAddr()))
			return
		}
		c.Conn.SetDeadline(time.Time{})
	})
	if c.err != nil {
		return 0, c.err
	}
	return c.Conn.Read(p)
}
