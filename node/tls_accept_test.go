package node

import (
	"crypto/tls"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/internal/redistest"
	"github.com/x0tta6bl4/gosentinel/internal/tlsconf"
)

// TestRefusedTLSClientIsLogged: a client the TLS port refuses (here, one
// without a certificate under tls-auth-clients yes) is logged at warning
// level, the default loglevel's, as redis 7.0.15 and 8.0.2 log "Error
// accepting a client connection" (networking.c, LL_WARNING). It was logged
// at verbose level only, so an operator setting up mutual TLS saw nothing.
func TestRefusedTLSClientIsLogged(t *testing.T) {
	f := redistest.NewTLSFiles(t)
	// The port's own configuration, as the node builds it (tls-auth-clients yes).
	tc, err := tlsconf.New(tlsconf.Settings{Port: 1, CertFile: f.Cert, KeyFile: f.Key, CACertFile: f.CACert,
		AuthClients: "yes", MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS13}, nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var logs redistest.LogBuffer
	ln := &tlsListener{Listener: raw, log: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo})),
		conf: tc.Server()}
	defer ln.Close()
	served := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			served <- err
			return
		}
		defer c.Close()
		_, err = c.Read(make([]byte, 16))
		served <- err
	}()
	c, err := tls.Dial("tcp", raw.Addr().String(), &tls.Config{InsecureSkipVerify: true})
	if err == nil {
		// TLS 1.3: the refusal arrives with the first read.
		c.SetDeadline(time.Now().Add(10 * time.Second))
		c.Write([]byte("PING\r\n"))
		c.Read(make([]byte, 16))
		c.Close()
	}
	select {
	case err := <-served:
		if err == nil {
			t.Fatal("the server read from a client without a certificate")
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the server's handshake did not end")
	}
	got := logs.String()
	if !strings.Contains(got, "level=WARN") || !strings.Contains(got, "Error accepting a client connection: ") ||
		!strings.Contains(got, "addr=127.0.0.1:") || !strings.Contains(got, "laddr="+raw.Addr().String()) {
		t.Errorf("log = %q, want a warning naming the error and both addresses", got)
	}
}
