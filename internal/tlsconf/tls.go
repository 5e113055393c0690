package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// reloadCheckEvery bounds how often a handshake stats the files for a change.
const reloadCheckEvery = time.Second

// TLS holds the loaded certificates and hands out the server and client configurations. Both
// configurations read the newest material on every handshake, so a rotated certificate
// (Kubernetes swaps a Secret's files in place) is used without a restart.
type TLS struct {
	s   Settings
	log *slog.Logger

	server, client *tls.Config

	mu        sync.Mutex
	mat       *material
	checkedAt time.Time
}

// material is one load of the files.
type material struct {
	cert, clientCert tls.Certificate
	roots            *x509.CertPool
	stamps           map[string]fileStamp
}

type fileStamp struct {
	mod  time.Time
	size int64
}

// New loads the files named by s (redis' tlsConfigure checks, with its messages) and returns
// the configurations. log may be nil.
func New(s Settings, log *slog.Logger) (*TLS, error) {
	if s.CertFile == "" {
		return nil, errors.New("No tls-cert-file configured!")
	}
	if s.KeyFile == "" {
		return nil, errors.New("No tls-key-file configured!")
	}
	if (s.AuthClients != "no" || s.Cluster || s.Replication) && s.CACertFile == "" && s.CACertDir == "" {
		return nil, errors.New("Either tls-ca-cert-file or tls-ca-cert-dir must be specified when tls-cluster, tls-replication or tls-auth-clients are enabled!")
	}
	t := &TLS{s: s, log: log}
	m, err := t.load()
	if err != nil {
		return nil, err
	}
	t.mat, t.checkedAt = m, time.Now()
	t.server = &tls.Config{GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
		return t.serverConfig(t.current()), nil
	}}
	t.client = &tls.Config{
		MinVersion:   s.MinVersion,
		MaxVersion:   s.MaxVersion,
		CipherSuites: s.CipherSuites,
		// redis checks the chain only: nodes and peers are reached by IP and their
		// certificates rarely name it. VerifyConnection does that check.
		InsecureSkipVerify: true,
		VerifyConnection:   t.verifyServer,
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			c := t.current().clientCert
			return &c, nil
		},
	}
	return t, nil
}

// RemoteAlert tells whether err is an alert the other side of a TLS
// connection sent (a certificate refused, a protocol it does not speak).
// Over TCP crypto/tls reports it as a *net.OpError "remote error" around
// an unexported type; tls.AlertError wraps it only under QUIC.
func RemoteAlert(err error) bool {
	var alert tls.AlertError
	var op *net.OpError
	return errors.As(err, &alert) || errors.As(err, &op) && op.Op == "remote error"
}

// SelfProbe is the configuration for this sentinel's check that its own TLS
// port answers (the health endpoints of a TLS-only sentinel): its own
// certificate is not verified, since the links' CA need not hold its issuer
// (or be set at all under tls-auth-clients no), and a client certificate
// goes only where the port requires one (tls-auth-clients yes): the links'
// certificate may be for server use only, which the port refuses as a
// client's.
func (t *TLS) SelfProbe() *tls.Config {
	c := &tls.Config{
		MinVersion:         t.s.MinVersion,
		MaxVersion:         t.s.MaxVersion,
		CipherSuites:       t.s.CipherSuites,
		InsecureSkipVerify: true,
	}
	if t.s.AuthClients == "yes" {
		c.GetClientCertificate = t.client.GetClientCertificate
	}
	return c
}

// Settings returns what t was built from.
func (t *TLS) Settings() Settings { return t.s }

// Server is the configuration of the sentinel's TLS port.
func (t *TLS) Server() *tls.Config { return t.server }

// Client is the configuration for links to Redis nodes and peer sentinels.
func (t *TLS) Client() *tls.Config { return t.client }

func (t *TLS) serverConfig(m *material) *tls.Config {
	c := &tls.Config{
		MinVersion:             t.s.MinVersion,
		MaxVersion:             t.s.MaxVersion,
		CipherSuites:           t.s.CipherSuites,
		Certificates:           []tls.Certificate{m.cert},
		ClientCAs:              m.roots,
		SessionTicketsDisabled: !t.s.SessionTickets,
	}
	switch t.s.AuthClients {
	case "no":
		c.ClientAuth = tls.NoClientCert
	case "optional":
		c.ClientAuth = tls.VerifyClientCertIfGiven
	default:
		c.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return c
}

// verifyServer checks the server's chain against the configured CA, without its name.
func (t *TLS) verifyServer(cs tls.ConnectionState) error {
	if len(cs.PeerCertificates) == 0 {
		return errors.New("the server sent no certificate")
	}
	inter := x509.NewCertPool()
	for _, c := range cs.PeerCertificates[1:] {
		inter.AddCert(c)
	}
	_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{
		Roots:         t.current().roots,
		Intermediates: inter,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	return err
}

// current returns the material in force, reloading it first if a file changed since the last
// check (at most once per reloadCheckEvery). A reload that fails keeps the old material and
// logs why.
func (t *TLS) current() *material {
	t.mu.Lock()
	defer t.mu.Unlock()
	if time.Since(t.checkedAt) < reloadCheckEvery {
		return t.mat
	}
	t.checkedAt = time.Now()
	if !t.changed() {
		return t.mat
	}
	// Stamped before the read: a file still being written when it was read
	// (cp of a new key) has changed again by the next check, and is read
	// again then; stamped after a failed read, it was taken as seen.
	before := stampFiles(t.files())
	m, err := t.load()
	if err != nil {
		if t.log != nil {
			t.log.Warn("TLS files changed but could not be reloaded, keeping the previous certificates: " + err.Error())
		}
		// Try again only after the next change.
		t.mat.stamps = before
		return t.mat
	}
	t.mat = m
	if t.log != nil {
		t.log.Info("TLS certificates reloaded")
	}
	return m
}

// changed tells whether any file's modification time or size moved. Caller holds t.mu.
func (t *TLS) changed() bool {
	now := stampFiles(t.files())
	if len(now) != len(t.mat.stamps) {
		return true
	}
	for f, st := range now {
		if old, ok := t.mat.stamps[f]; !ok || !old.mod.Equal(st.mod) || old.size != st.size {
			return true
		}
	}
	return false
}

// files are the files whose change triggers a reload (the CA directory's entries included).
func (t *TLS) files() []string {
	fs := []string{t.s.CertFile, t.s.KeyFile}
	for _, f := range []string{t.s.ClientCertFile, t.s.ClientKeyFile, t.s.CACertFile} {
		if f != "" {
			fs = append(fs, f)
		}
	}
	if t.s.CACertDir != "" {
		if ents, err := os.ReadDir(t.s.CACertDir); err == nil {
			for _, e := range ents {
				fs = append(fs, filepath.Join(t.s.CACertDir, e.Name()))
			}
		}
	}
	return fs
}

func stampFiles(files []string) map[string]fileStamp {
	out := make(map[string]fileStamp, len(files))
	for _, f := range files {
		if st, err := os.Stat(f); err == nil {
			out[f] = fileStamp{mod: st.ModTime(), size: st.Size()}
		}
	}
	return out
}

// load reads every file. The stamps are taken first, so a change during the read triggers
// another load.
func (t *TLS) load() (*material, error) {
	m := &material{stamps: stampFiles(t.files())}
	var err error
	if m.cert, err = loadPair(t.s.CertFile, t.s.KeyFile, t.s.KeyFilePass); err != nil {
		return nil, err
	}
	// Without both tls-client-cert-file and tls-client-key-file, redis presents the server
	// certificate as a client too (FromConfig warns of one without the other).
	m.clientCert = m.cert
	if t.s.ClientCertFile != "" && t.s.ClientKeyFile != "" {
		if m.clientCert, err = loadPair(t.s.ClientCertFile, t.s.ClientKeyFile, t.s.ClientKeyFilePass); err != nil {
			return nil, err
		}
	}
	m.roots = x509.NewCertPool()
	if t.s.CACertFile != "" {
		b, err := os.ReadFile(t.s.CACertFile)
		if err != nil {
			return nil, fmt.Errorf("Failed to configure CA certificate(s) file/directory: %w", err)
		}
		if !m.roots.AppendCertsFromPEM(b) {
			return nil, fmt.Errorf("Failed to configure CA certificate(s) file/directory: %s holds no PEM certificate", t.s.CACertFile)
		}
	}
	if t.s.CACertDir != "" {
		// OpenSSL looks the directory up when it verifies, by the files named after their
		// subject's hash (<8 hex digits>.<n>, c_rehash's): a directory missing at the start
		// is not an error for redis, and a file never rehashed is never trusted. (A name of
		// that form whose hash is not the subject's is trusted here; OpenSSL misses it.)
		ents, err := os.ReadDir(t.s.CACertDir)
		if err != nil && t.log != nil {
			t.log.Warn("tls-ca-cert-dir cannot be read: " + err.Error())
		}
		for _, e := range ents {
			if !hashedCAName(e.Name()) {
				continue
			}
			if b, err := os.ReadFile(filepath.Join(t.s.CACertDir, e.Name())); err == nil {
				m.roots.AppendCertsFromPEM(b)
			}
		}
	}
	return m, nil
}

// loadPair loads a certificate chain and its key, decrypting a key encrypted with pass
// (OpenSSL's traditional PEM encryption; an encrypted PKCS#8 key is not supported).
func loadPair(certFile, keyFile, pass string) (tls.Certificate, error) {
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("Failed to load certificate: %s: %w", certFile, err)
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("Failed to load private key: %s: %w", keyFile, err)
	}
	keyPEM, err = decryptKey(keyPEM, pass)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("Failed to load private key: %s: %w", keyFile, err)
	}
	c, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("Failed to load certificate %s with key %s: %w", certFile, keyFile, err)
	}
	return c, nil
}

// decryptKey returns the key's PEM with an encrypted key block decrypted.
func decryptKey(keyPEM []byte, pass string) ([]byte, error) {
	var out []byte
	rest := keyPEM
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type == "ENCRYPTED PRIVATE KEY" {
			if pass == "" {
				return nil, errors.New("the key is encrypted and no tls-key-file-pass is set")
			}
			der, err := decryptPKCS8(b.Bytes, pass)
			if err != nil {
				return nil, err
			}
			b = &pem.Block{Type: "PRIVATE KEY", Bytes: der}
		}
		//lint:ignore SA1019 the traditional PEM encryption is what tls-key-file-pass unlocks in OpenSSL's PEM_read
		if x509.IsEncryptedPEMBlock(b) {
			if pass == "" {
				return nil, errors.New("the key is encrypted and no tls-key-file-pass is set")
			}
			//lint:ignore SA1019 see above
			der, err := x509.DecryptPEMBlock(b, []byte(pass))
			if err != nil {
				return nil, fmt.Errorf("failed to decrypt the key: %w", err)
			}
			b = &pem.Block{Type: b.Type, Bytes: der}
		}
		out = append(out, pem.EncodeToMemory(b)...)
	}
	if out == nil {
		return keyPEM, nil
	}
	return out, nil
}

// hashedCAName tells a file OpenSSL's hashed CA directory lookup can find: eight hex digits,
// a dot and a number (c_rehash's names; CRLs, .r<n>, are not certificates).
func hashedCAName(name string) bool {
	hash, n, ok := strings.Cut(name, ".")
	if !ok || len(hash) != 8 || n == "" {
		return false
	}
	for _, r := range hash {
		if !strings.ContainsRune("0123456789abcdef", r) {
			return false
		}
	}
	for _, r := range n {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
