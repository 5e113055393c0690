package tlsconf

import (
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/config"
	"github.com/x0tta6bl4/gosentinel/internal/redistest"
)

func TestParseProtocols(t *testing.T) {
	for _, c := range []struct {
		in     string
		lo, hi uint16
		err    string
	}{
		{"", tls.VersionTLS12, tls.VersionTLS13, ""},
		{"TLSv1.2", tls.VersionTLS12, tls.VersionTLS12, ""},
		{"tlsv1.3", tls.VersionTLS13, tls.VersionTLS13, ""},
		{"TLSv1 TLSv1.1 TLSv1.2", tls.VersionTLS10, tls.VersionTLS12, ""},
		{"TLSv1.3 TLSv1.2", tls.VersionTLS12, tls.VersionTLS13, ""},
		{"TLSv1 TLSv1.3", 0, 0, "leaves out TLSv1.1"},
		{"SSLv3", 0, 0, "Invalid tls-protocols specified"},
		// redis-sentinel 7.0.15 exits on each of these (sdssplitlen on " ").
		{"TLSv1.2  TLSv1.3", 0, 0, "Invalid tls-protocols specified"},
		{"TLSv1.2 ", 0, 0, "Invalid tls-protocols specified"},
		{" ", 0, 0, "Invalid tls-protocols specified"},
		{"TLSv1.2\tTLSv1.3", 0, 0, "Invalid tls-protocols specified"},
	} {
		lo, hi, err := ParseProtocols(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: error %v, want %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || lo != c.lo || hi != c.hi {
			t.Errorf("%q: got %x..%x, %v; want %x..%x", c.in, lo, hi, err, c.lo, c.hi)
		}
	}
}

func TestParseCiphers(t *testing.T) {
	got, err := ParseCiphers("ECDHE-RSA-AES128-GCM-SHA256:ecdhe-ecdsa-aes256-gcm-sha384")
	if err != nil || len(got) != 2 || got[0] != tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 || got[1] != tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 {
		t.Fatalf("got %v, %v", got, err)
	}
	for _, bad := range []string{"DEFAULT:!MEDIUM", "HIGH", "DHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256:@STRENGTH", ""} {
		if _, err := ParseCiphers(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	// Every name maps to a suite Go implements.
	known := map[uint16]bool{}
	for _, s := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		known[s.ID] = true
	}
	for name, id := range openSSLCiphers {
		if !known[id] {
			t.Errorf("%s maps to %x, not a Go suite", name, id)
		}
	}
}

func TestCheckCipherSuites(t *testing.T) {
	ok := []string{
		"TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256",
		"TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256:TLS_AES_128_CCM_SHA256",
	}
	for _, v := range ok {
		if err := CheckCipherSuites(v); err != nil {
			t.Errorf("%q: %v", v, err)
		}
	}
	for _, v := range []string{"TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_GCM_SHA256:BOGUS"} {
		if err := CheckCipherSuites(v); err == nil {
			t.Errorf("%q accepted", v)
		}
	}
}

// TestFromConfigNamesTheLine: a directive Go cannot honour is redis' fatal config block at
// its line; a TLS 1.3 list is not checked when TLS 1.3 is off.
func TestFromConfigNamesTheLine(t *testing.T) {
	for _, c := range []struct {
		conf string
		line int
		want string
	}{
		{"port 0\ntls-port 1\ntls-ciphers DEFAULT\n", 3, "tls-ciphers takes"},
		{"tls-port 1\n\ntls-protocols \"TLSv1 TLSv1.2\"\n", 3, "leaves out TLSv1.1"},
		{"tls-port 1\ntls-ciphersuites TLS_AES_128_GCM_SHA256\n", 2, "cannot be honoured"},
		{"tls-port 1\ntls-dh-params-file /x.dh\n", 2, "no DHE cipher suites"},
		{"tls-port 1\ntls-session-cache-size 100\n", 2, "no server-side session cache"},
		{"tls-port 1\ntls-session-cache-timeout 60\n", 2, "fixed lifetime"},
		{"tls-port 1\ntls-protocols TLSv1.2\ntls-ciphersuites TLS_AES_128_GCM_SHA256\n", 0, ""},
		{"tls-port 1\ntls-session-cache-size 20480\ntls-prefer-server-ciphers yes\ntls-session-caching no\n", 0, ""},
		// TLS off (no tls-port, no tls-replication): redis reads none of
		// them, and a copied file with values Go cannot honour starts.
		{"port 1\ntls-ciphers DEFAULT:!MEDIUM\ntls-dh-params-file /x.dh\ntls-protocols \"TLSv1 TLSv1.3\"\n", 0, ""},
	} {
		cfg, err := config.Parse("/etc/s.conf", []byte(c.conf), nil)
		if err != nil {
			t.Fatalf("%q: %v", c.conf, err)
		}
		_, err = FromConfig(cfg)
		if c.want == "" {
			if err != nil {
				t.Errorf("%q: %v", c.conf, err)
			}
			continue
		}
		var fe *config.FatalError
		if !errors.As(err, &fe) || fe.Line != c.line || !strings.Contains(fe.Reason, c.want) || fe.File != "/etc/s.conf" {
			t.Errorf("%q: got %v, want line %d with %q", c.conf, err, c.line, c.want)
		}
	}
}

func TestPreferServerCiphersNoIsLogged(t *testing.T) {
	cfg, err := config.Parse("/etc/s.conf", []byte("tls-port 1\ntls-prefer-server-ciphers no\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := FromConfig(cfg)
	if err != nil || len(s.Warnings) != 1 || !strings.Contains(s.Warnings[0], "/etc/s.conf:2: tls-prefer-server-ciphers no is not followed") {
		t.Fatalf("%+v, %v", s.Warnings, err)
	}
}

func TestNewChecksLikeRedis(t *testing.T) {
	f := redistest.NewTLSFiles(t)
	for _, c := range []struct {
		s    Settings
		want string
	}{
		{Settings{Port: 1, KeyFile: f.Key, CACertFile: f.CACert, AuthClients: "yes"}, "No tls-cert-file configured!"},
		{Settings{Port: 1, CertFile: f.Cert, CACertFile: f.CACert, AuthClients: "yes"}, "No tls-key-file configured!"},
		{Settings{Port: 1, CertFile: f.Cert, KeyFile: f.Key, AuthClients: "yes"}, "Either tls-ca-cert-file or tls-ca-cert-dir"},
		{Settings{Port: 1, CertFile: f.Cert, KeyFile: f.CACert, CACertFile: f.CACert, AuthClients: "yes"}, "Failed to load certificate"},
		{Settings{Port: 1, CertFile: "/nonexistent", KeyFile: f.Key, CACertFile: f.CACert, AuthClients: "yes"}, "Failed to load certificate: /nonexistent"},
	} {
		if _, err := New(c.s, nil); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.s, err, c.want)
		}
	}
	if _, err := New(Settings{Port: 1, CertFile: f.Cert, KeyFile: f.Key, AuthClients: "no"}, nil); err != nil {
		t.Errorf("tls-auth-clients no without a CA: %v", err)
	}
}

func settingsFor(f *redistest.TLSFiles, auth string) Settings {
	return Settings{
		Port: 1, CertFile: f.Cert, KeyFile: f.Key, CACertFile: f.CACert, AuthClients: auth,
		Replication: true, MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS13, SessionTickets: true,
	}
}

// handshake runs a TLS handshake between the two configurations over a pipe and returns the
// client's error (and the server's if the client's is nil).
func handshake(t *testing.T, server, client *tls.Config) (tls.ConnectionState, error) {
	t.Helper()
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	srvErr := make(chan error, 1)
	go func() {
		s := tls.Server(a, server)
		s.SetDeadline(time.Now().Add(5 * time.Second))
		err := s.Handshake()
		if err == nil {
			// TLS 1.3: the client learns of a refused certificate on its first read.
			_, err = s.Write([]byte("x"))
		}
		srvErr <- err
		if err != nil {
			s.Close()
		}
	}()
	c := tls.Client(b, client)
	c.SetDeadline(time.Now().Add(5 * time.Second))
	err := c.Handshake()
	if err == nil {
		_, err = c.Read(make([]byte, 1))
	}
	if serr := <-srvErr; err == nil {
		err = serr
	}
	return c.ConnectionState(), err
}

func TestClientAuthModes(t *testing.T) {
	f := redistest.NewTLSFiles(t)
	other := redistest.NewTLSFiles(t) // a certificate from another CA
	noCert, _ := f.ClientConfig("", "")
	foreign, _ := f.ClientConfig(other.Cert, other.Key)
	for _, c := range []struct {
		auth   string
		client *tls.Config
		ok     bool
	}{
		{"yes", f.Client, true},
		{"yes", noCert, false},
		{"yes", foreign, false},
		{"optional", noCert, true},
		{"optional", foreign, false},
		{"no", noCert, true},
	} {
		tc, err := New(settingsFor(f, c.auth), nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := handshake(t, tc.Server(), c.client); (err == nil) != c.ok {
			t.Errorf("tls-auth-clients %s: handshake error %v, want ok=%v", c.auth, err, c.ok)
		}
	}
}

// TestClientChecksChainNotName: the client side accepts a server certificate signed by the
// CA whatever name it is reached by, and refuses one from another CA.
func TestClientChecksChainNotName(t *testing.T) {
	f := redistest.NewTLSFiles(t)
	tc, err := New(settingsFor(f, "yes"), nil)
	if err != nil {
		t.Fatal(err)
	}
	client := tc.Client().Clone()
	client.ServerName = "some.other.name"
	if _, err := handshake(t, tc.Server(), client); err != nil {
		t.Fatalf("same CA, other name: %v", err)
	}
	other := redistest.NewTLSFiles(t)
	otc, err := New(settingsFor(other, "no"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := handshake(t, otc.Server(), tc.Client()); err == nil {
		t.Fatal("a server certificate from another CA was accepted")
	}
}

func TestProtocolsAndCiphersApply(t *testing.T) {
	f := redistest.NewTLSFiles(t)
	s := settingsFor(f, "yes")
	s.MinVersion, s.MaxVersion = tls.VersionTLS12, tls.VersionTLS12
	s.CipherSuites = []uint16{tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256}
	tc, err := New(s, nil)
	if err != nil {
		t.Fatal(err)
	}
	st, err := handshake(t, tc.Server(), f.Client)
	if err != nil {
		t.Fatal(err)
	}
	if st.Version != tls.VersionTLS12 || st.CipherSuite != tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 {
		t.Fatalf("negotiated %x / %s", st.Version, tls.CipherSuiteName(st.CipherSuite))
	}
	only13 := f.Client.Clone()
	only13.MinVersion = tls.VersionTLS13
	if _, err := handshake(t, tc.Server(), only13); err == nil {
		t.Fatal("a TLS 1.3-only client was served by a TLSv1.2-only server")
	}
}

// TestReloadOnFileChange: new files take effect on the next handshake after a change (checked
// at most once a second), and a broken replacement keeps the old certificate.
func TestReloadOnFileChange(t *testing.T) {
	f := redistest.NewTLSFiles(t)
	tc, err := New(settingsFor(f, "yes"), nil)
	if err != nil {
		t.Fatal(err)
	}
	st, err := handshake(t, tc.Server(), f.Client)
	if err != nil {
		t.Fatal(err)
	}
	before := st.PeerCertificates[0].SerialNumber.Int64()
	cert, key, err := f.Issue("rotated", 99)
	if err != nil {
		t.Fatal(err)
	}
	// A broken key first: the old certificate stays in force.
	if err := os.WriteFile(f.Key, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	tc.mu.Lock()
	tc.checkedAt = time.Time{}
	tc.mu.Unlock()
	if st, err = handshake(t, tc.Server(), f.Client); err != nil || st.PeerCertificates[0].SerialNumber.Int64() != before {
		t.Fatalf("after a broken key: %v, serial %v", err, st.PeerCertificates)
	}
	for _, p := range [][2]string{{cert, f.Cert}, {key, f.Key}} {
		b, err := os.ReadFile(p[0])
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Clean(p[1]), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	err = redistest.PollErr(5*time.Second, 100*time.Millisecond, func() error {
		st, err := handshake(t, tc.Server(), f.Client)
		if err != nil {
			return err
		}
		if got := st.PeerCertificates[0].SerialNumber.Int64(); got != 99 {
			return errors.New("still the old certificate")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestEncryptedKey: a key in OpenSSL's traditional PEM encryption loads with tls-key-file-pass,
// not without it or with a wrong one; an encrypted PKCS#8 key is refused with the reason.
func TestEncryptedKey(t *testing.T) {
	f := redistest.NewTLSFiles(t)
	b, err := os.ReadFile(f.Key)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	//lint:ignore SA1019 producing the legacy format tls-key-file-pass reads
	enc, err := x509.EncryptPEMBlock(rand.Reader, blk.Type, blk.Bytes, []byte("s3cret"), x509.PEMCipherAES256)
	if err != nil {
		t.Fatal(err)
	}
	encFile := filepath.Join(t.TempDir(), "enc.key")
	if err := os.WriteFile(encFile, pem.EncodeToMemory(enc), 0o600); err != nil {
		t.Fatal(err)
	}
	s := settingsFor(f, "yes")
	s.KeyFile = encFile
	for _, c := range []struct {
		pass, want string
	}{
		{"", "no tls-key-file-pass is set"},
		{"wrong", "failed to decrypt the key"},
		{"s3cret", ""},
	} {
		s.KeyFilePass = c.pass
		_, err := New(s, nil)
		if c.want == "" {
			if err != nil {
				t.Errorf("pass %q: %v", c.pass, err)
			}
		} else if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("pass %q: %v, want %q", c.pass, err, c.want)
		}
	}
	p8 := filepath.Join(t.TempDir(), "p8.key")
	if err := os.WriteFile(p8, pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{1}}), 0o600); err != nil {
		t.Fatal(err)
	}
	s.KeyFile, s.KeyFilePass = p8, "x"
	if _, err := New(s, nil); err == nil || !strings.Contains(err.Error(), "encrypted PKCS#8 key") {
		t.Errorf("PKCS#8: %v", err)
	}
}

// TestCASettingsAsOpenSSLReadsThem: a tls-ca-cert-dir missing at the start
// is no error (OpenSSL looks it up when it verifies), and only its files
// named in c_rehash's form are trusted (<8 hex>.<n>; OpenSSL also needs the
// hash to be the subject's, which is not checked), not any PEM in it; one of tls-client-cert-file and tls-client-key-file without the
// other leaves the server pair in use for outgoing connections. Each of
// the three stopped the start or trusted more than redis does.
func TestCASettingsAsOpenSSLReadsThem(t *testing.T) {
	f := redistest.NewTLSFiles(t)
	s := settingsFor(f, "yes")
	s.CACertDir = filepath.Join(t.TempDir(), "missing")
	if _, err := New(s, nil); err != nil {
		t.Fatalf("a missing tls-ca-cert-dir beside a CA file: %v", err)
	}
	s = settingsFor(f, "yes")
	s.ClientCertFile = f.Cert
	tc, err := New(s, nil)
	if err != nil {
		t.Fatalf("tls-client-cert-file alone: %v", err)
	}
	if got := tc.current().clientCert; !reflect.DeepEqual(got.Certificate, tc.current().cert.Certificate) {
		t.Fatal("tls-client-cert-file alone: the client certificate is not the server's")
	}
	// Only the hashed name is trusted: with the CA as ca.pem the server's
	// certificate does not verify, as 0a1b2c3d.0 it does.
	ca, err := os.ReadFile(f.CACert)
	if err != nil {
		t.Fatal(err)
	}
	server := tc.current().cert.Leaf
	if server == nil {
		if server, err = x509.ParseCertificate(tc.current().cert.Certificate[0]); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		name    string
		trusted bool
	}{{"ca.pem", false}, {"0a1b2c3d.0", true}} {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, c.name), ca, 0o644); err != nil {
			t.Fatal(err)
		}
		s := settingsFor(f, "no")
		s.CACertFile, s.CACertDir = "", dir
		x, err := New(s, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = server.Verify(x509.VerifyOptions{Roots: x.current().roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
		if (err == nil) != c.trusted {
			t.Errorf("the CA as %s in tls-ca-cert-dir: verification error %v, want trusted %v", c.name, err, c.trusted)
		}
	}
	for name, want := range map[string]bool{"0a1b2c3d.0": true, "0a1b2c3d.12": true, "0A1B2C3D.0": false, "0a1b2c3d.r0": false, "ca.pem": false, "0a1b2c3.0": false} {
		if hashedCAName(name) != want {
			t.Errorf("hashedCAName(%q) = %v", name, !want)
		}
	}
}

// TestClusterConfiguresTLS: redis-sentinel 7.0.15 configures TLS when
// tls-port, tls-replication or tls-cluster is set (server.c:initServer), so
// `tls-cluster yes` without a certificate stops its start ("No tls-cert-file
// configured!", seen with the binary), and tls-cluster wants a CA as
// tls-replication does.
func TestClusterConfiguresTLS(t *testing.T) {
	for _, c := range []struct {
		conf    string
		enabled bool
	}{
		{"tls-cluster yes\n", true},
		{"tls-cluster YES\ntls-cluster no\n", false},
		{"tls-replication yes\n", true},
		{"tls-cluster no\n", false},
	} {
		cfg, err := config.Parse("/etc/s.conf", []byte(c.conf), nil)
		if err != nil {
			t.Fatalf("%q: %v", c.conf, err)
		}
		s, err := FromConfig(cfg)
		if err != nil || s.Enabled() != c.enabled {
			t.Errorf("%q: Enabled %v (%v), want %v", c.conf, s.Enabled(), err, c.enabled)
		}
		if !c.enabled {
			continue
		}
		if _, err := New(s, nil); err == nil || err.Error() != "No tls-cert-file configured!" {
			t.Errorf("%q: New: %v", c.conf, err)
		}
	}
	f := redistest.NewTLSFiles(t)
	_, err := New(Settings{Cluster: true, CertFile: f.Cert, KeyFile: f.Key, AuthClients: "no"}, nil)
	if err == nil || !strings.HasPrefix(err.Error(), "Either tls-ca-cert-file or tls-ca-cert-dir") {
		t.Errorf("tls-cluster without a CA: %v", err)
	}
}

// TestOldProtocolsAreNotOffered: TLSv1 and TLSv1.1 in tls-protocols are
// accepted, logged and never negotiated, as with redis built with OpenSSL 3
// (7.0.15 on Debian answers a TLS 1.0 client with an internal_error alert);
// Go negotiated them. With only those listed, no handshake succeeds.
func TestOldProtocolsAreNotOffered(t *testing.T) {
	f := redistest.NewTLSFiles(t)
	for _, tc := range []struct {
		protocols string
		served    []uint16 // client versions a handshake succeeds with
	}{
		{"TLSv1 TLSv1.1 TLSv1.2", []uint16{tls.VersionTLS12}},
		{"TLSv1.1", nil},
	} {
		cfg, err := config.Parse("/etc/s.conf", []byte("tls-port 1\ntls-protocols \""+tc.protocols+"\"\n"), nil)
		if err != nil {
			t.Fatal(err)
		}
		parsed, err := FromConfig(cfg)
		if err != nil || len(parsed.Warnings) != 1 || !strings.Contains(parsed.Warnings[0], "/etc/s.conf:2: tls-protocols: TLSv1 and TLSv1.1 are not offered") {
			t.Fatalf("%q: %+v, %v", tc.protocols, parsed.Warnings, err)
		}
		s := settingsFor(f, "yes")
		s.MinVersion, s.MaxVersion = parsed.MinVersion, parsed.MaxVersion
		tc2, err := New(s, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range []uint16{tls.VersionTLS10, tls.VersionTLS11, tls.VersionTLS12} {
			c := f.Client.Clone()
			c.MinVersion, c.MaxVersion = v, v
			_, err := handshake(t, tc2.Server(), c)
			if want := slices.Contains(tc.served, v); (err == nil) != want {
				t.Errorf("%q: a client of version %x: handshake error %v, want served %v", tc.protocols, v, err, want)
			}
		}
	}
}
