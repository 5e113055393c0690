package redistest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// TLSFiles is a test PKI written as PEM files: a CA, a certificate for 127.0.0.1 signed by it
// (valid for servers and clients, as redis' own test certificates), and the client
// configuration that trusts the CA and presents that certificate.
type TLSFiles struct {
	Dir               string
	CACert, Cert, Key string
	Client            *tls.Config
	ca                *x509.Certificate
	caKey             *ecdsa.PrivateKey
}

// NewTLSFiles generates a CA and a certificate signed by it into a temp dir.
func NewTLSFiles(t testing.TB) *TLSFiles {
	t.Helper()
	f, err := newTLSFiles(t.TempDir())
	if err != nil {
		t.Fatalf("generate test certificates: %v", err)
	}
	return f
}

func newTLSFiles(dir string) (*TLSFiles, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "gosentinel test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}
	f := &TLSFiles{Dir: dir, CACert: filepath.Join(dir, "ca.crt"), ca: ca, caKey: caKey}
	if err := writePEM(f.CACert, "CERTIFICATE", caDER); err != nil {
		return nil, err
	}
	f.Cert, f.Key, err = f.Issue("node", 2)
	if err != nil {
		return nil, err
	}
	f.Client, err = f.ClientConfig(f.Cert, f.Key)
	return f, err
}

// Issue writes a certificate for 127.0.0.1 and localhost signed by the CA (server and client
// use) and its key, named name.crt and name.key.
func (f *TLSFiles) Issue(name string, serial int64) (certFile, keyFile string, err error) {
	return f.IssueFor(name, serial, x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth)
}

// IssueFor is Issue for the given uses only (redis' gen-test-certs makes server.crt for server
// use alone).
func (f *TLSFiles) IssueFor(name string, serial int64, uses ...x509.ExtKeyUsage) (certFile, keyFile string, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  uses,
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:     []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, f.ca, &key.PublicKey, f.caKey)
	if err != nil {
		return "", "", err
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return "", "", err
	}
	certFile, keyFile = filepath.Join(f.Dir, name+".crt"), filepath.Join(f.Dir, name+".key")
	if err := writePEM(certFile, "CERTIFICATE", der); err != nil {
		return "", "", err
	}
	return certFile, keyFile, writePEM(keyFile, "EC PRIVATE KEY", kder)
}

// ClientConfig trusts the CA and presents the given certificate (none if certFile is "").
func (f *TLSFiles) ClientConfig(certFile, keyFile string) (*tls.Config, error) {
	pool := x509.NewCertPool()
	pool.AddCert(f.ca)
	c := &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
	if certFile != "" {
		pair, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, err
		}
		c.Certificates = []tls.Certificate{pair}
	}
	return c, nil
}

// RedisArgs are the arguments of a TLS-only redis-server (or of gosentinel on the command
// line, as the Bitnami chart passes them) on port: `--port 0 --tls-port <port> ...
// --tls-replication yes --tls-auth-clients yes`.
func (f *TLSFiles) RedisArgs(port int) []string {
	return []string{
		"--port", "0", "--tls-port", strconv.Itoa(port),
		"--tls-cert-file", f.Cert, "--tls-key-file", f.Key, "--tls-ca-cert-file", f.CACert,
		"--tls-replication", "yes", "--tls-auth-clients", "yes",
	}
}

func writePEM(path, typ string, der []byte) error {
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// dialMaybeTLS dials addr in plain text, or with TLS when cfg is set.
func dialMaybeTLS(addr string, cfg *tls.Config, timeout time.Duration) (*Conn, error) {
	if cfg == nil {
		return Dial(addr, timeout)
	}
	return DialTLS(addr, cfg, timeout)
}

// DialTLS connects to addr and completes a TLS handshake with cfg within timeout.
func DialTLS(addr string, cfg *tls.Config, timeout time.Duration) (*Conn, error) {
	d := &net.Dialer{Timeout: timeout}
	nc, err := tls.DialWithDialer(d, "tcp", addr, cfg)
	if err != nil {
		return nil, fmt.Errorf("dial %s (TLS): %w", addr, err)
	}
	return newConn(nc), nil
}
