package node_test

import (
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/config"
	"github.com/x0tta6bl4/gosentinel/internal/redistest"
	"github.com/x0tta6bl4/gosentinel/node"
)

// TestHealthOnATLSOnlySentinel: with port 0 and a tls-port (the Bitnami
// chart's TLS mode), /healthz PINGs the command listener over TLS, with
// the links' client certificate (tls-auth-clients defaults to yes). A
// plain-text PING there got no reply, so /healthz and /readyz failed
// forever while the sentinel served.
func TestHealthOnATLSOnlySentinel(t *testing.T) {
	f := redistest.NewTLSFiles(t)
	healthOnATLSOnlySentinel(t, f.Cert, f.Key, "\ntls-ca-cert-file "+f.CACert)
}

// TestHealthOnATLSOnlySentinelWithoutClientAuth: a TLS-only sentinel under
// tls-auth-clients no, with no CA file, serves its clients; its health
// endpoints said 503 for good, since their check of the port verified the
// sentinel's own certificate against a CA there is none of.
func TestHealthOnATLSOnlySentinelWithoutClientAuth(t *testing.T) {
	f := redistest.NewTLSFiles(t)
	healthOnATLSOnlySentinel(t, f.Cert, f.Key, "\ntls-auth-clients no")
}

// TestHealthOnATLSOnlySentinelWithAServerCertificate: under tls-auth-clients
// yes with a certificate for server use only (redis' gen-test-certs'
// server.crt), the port refuses it as the check's client certificate, with
// an alert: the port answers all the same. The alert went unrecognised
// (crypto/tls reports it over TCP as a *net.OpError "remote error"), and the
// endpoints said 503 for good.
func TestHealthOnATLSOnlySentinelWithAServerCertificate(t *testing.T) {
	f := redistest.NewTLSFiles(t)
	cert, key, err := f.IssueFor("server", 3, x509.ExtKeyUsageServerAuth)
	if err != nil {
		t.Fatal(err)
	}
	healthOnATLSOnlySentinel(t, cert, key, "\ntls-ca-cert-file "+f.CACert)
}

// healthOnATLSOnlySentinel starts a sentinel whose only port is TLS, with
// the certificate cert and key and the lines extra, and waits until its
// /healthz answers 200.
func healthOnATLSOnlySentinel(t *testing.T, cert, key, extra string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tlsPort := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	dir := t.TempDir()
	path := filepath.Join(dir, "sentinel.conf")
	text := "dir " + dir + "\nbind 127.0.0.1\nport 0\ntls-port " + strconv.Itoa(tlsPort) +
		"\ntls-cert-file " + cert + "\ntls-key-file " + key + extra +
		"\nmetrics-addr 127.0.0.1:0\nsentinel monitor mymaster 127.0.0.1 6399 2\n"
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	n := serveNode(t, cfg, node.Options{})
	url := "http://" + n.MetricsAddr().String() + "/healthz"
	redistest.Wait(t, 10*time.Second, "GET /healthz answers 200", func() error {
		r, err := http.Get(url)
		if err != nil {
			return err
		}
		r.Body.Close()
		if r.StatusCode != http.StatusOK {
			return fmt.Errorf("status %d", r.StatusCode)
		}
		return nil
	})
}
