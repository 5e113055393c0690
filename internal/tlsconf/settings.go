// Package tlsconf turns redis' tls-* directives into crypto/tls configurations with redis
// 7.0's semantics (tls.c): the sentinel port's server side, and the client side used towards
// Redis nodes and peer sentinels when tls-replication is on. Certificates are verified against
// the configured CA only, never the system pool, and a client does not check the server's name
// (redis connects by IP and checks only the chain). Certificate, key and CA files are re-read
// when they change on disk.
//
// What Go's TLS cannot honour (an OpenSSL cipher expression, a TLS 1.3 suite list Go does not
// match, a gap in tls-protocols, DH parameters, a session cache size) is an error at start that
// names the directive's line, never silently ignored.
package tlsconf

import (
	"crypto/tls"
	"fmt"
	"strconv"
	"strings"

	"github.com/x0tta6bl4/gosentinel/config"
	"github.com/x0tta6bl4/gosentinel/internal/redisargs"
)

// Settings are the tls-* directives of a sentinel config, checked for what Go can honour.
type Settings struct {
	Port                                             int
	CertFile, KeyFile, KeyFilePass                   string
	ClientCertFile, ClientKeyFile, ClientKeyFilePass string
	CACertFile, CACertDir                            string
	// AuthClients is tls-auth-clients: "yes" (a client certificate signed by the CA is
	// required), "optional" (verified when given) or "no".
	AuthClients string
	// Replication is tls-replication: links to Redis nodes and to peer sentinels use TLS.
	Replication bool
	// Cluster is tls-cluster. A sentinel has no cluster bus, but redis configures its TLS
	// context for it all the same, with tls-replication's checks (a CA is required), and
	// does not start when that fails.
	Cluster bool
	// MinVersion..MaxVersion is tls-protocols (default TLSv1.2 and TLSv1.3, as redis).
	MinVersion, MaxVersion uint16
	// CipherSuites is tls-ciphers (TLS 1.2 and older); nil means Go's defaults.
	CipherSuites []uint16
	// SessionTickets is tls-session-caching.
	SessionTickets bool
	// Warnings are settings honoured only in part, to log at start.
	Warnings []string
}

// Enabled tells whether TLS is configured at all: redis configures its TLS context when
// tls-port, tls-replication or tls-cluster is set (server.c:initServer), and tls-cluster,
// which has no other use in a sentinel, is enough to need the certificate.
func (s Settings) Enabled() bool { return s.Port != 0 || s.Replication || s.Cluster }

// Session cache defaults of redis 7.0 (tls-session-cache-size, tls-session-cache-timeout).
const (
	defaultSessionCacheSize    = 20480
	defaultSessionCacheTimeout = 300
)

// FromConfig reads and checks the tls-* directives of cfg. A directive Go's TLS cannot honour
// is a *config.FatalError naming its line (redis' fatal config block); a missing file or an
// unusable certificate is found later, by New.
func FromConfig(cfg *config.Config) (Settings, error) {
	s := Settings{
		Port:        cfg.TLSPort,
		CertFile:    cfg.TLSCertFile,
		KeyFile:     cfg.TLSKeyFile,
		CACertFile:  cfg.TLSCACertFile,
		AuthClients: cfg.TLSAuthClients,
		Replication: cfg.TLSReplication,
		MinVersion:  tls.VersionTLS12, MaxVersion: tls.VersionTLS13,
		SessionTickets: true,
	}
	if s.AuthClients == "" {
		s.AuthClients = "yes"
	}
	for _, d := range cfg.Generic {
		// The loader took only yes or no, in any case; the last line wins.
		if d.Name == "tls-cluster" && len(d.Args) == 1 {
			s.Cluster = redisargs.EqualFold(d.Args[0], "yes")
		}
	}
	if !s.Enabled() {
		// redis reads the other tls-* settings only when it configures
		// TLS: a copied file with TLS off and, say, a cipher list Go
		// cannot honour starts there.
		return s, nil
	}
	fatal := func(d config.Directive, reason string) error {
		return &config.FatalError{File: cfg.Path, Line: d.Line, Text: strings.TrimSpace(d.Name + " " + strings.Join(d.Args, " ")), Reason: reason}
	}
	var suites *config.Directive
	// Generic keeps every line in file order, then the command line's: the last one wins,
	// as each line overwrites the setting in redis.
	for _, d := range cfg.Generic {
		if !strings.HasPrefix(d.Name, "tls-") || len(d.Args) == 0 {
			continue
		}
		v := d.Args[0]
		var err error
		switch d.Name {
		case "tls-key-file-pass":
			s.KeyFilePass = v
		case "tls-client-cert-file":
			s.ClientCertFile = v
		case "tls-client-key-file":
			s.ClientKeyFile = v
		case "tls-client-key-file-pass":
			s.ClientKeyFilePass = v
		case "tls-ca-cert-dir":
			s.CACertDir = v
		case "tls-protocols":
			s.MinVersion, s.MaxVersion, err = ParseProtocols(v)
			if err == nil && s.MinVersion < minVersion {
				// redis built with OpenSSL 3 (Debian's, the official and Bitnami images)
				// accepts these names but its default security level refuses TLS 1.0 and
				// 1.1 in every handshake (an internal_error alert); Go would negotiate
				// them, which scanners rightly flag. With only these, no handshake
				// succeeds (MinVersion above MaxVersion), as with redis.
				s.MinVersion = minVersion
				s.Warnings = append(s.Warnings, fmt.Sprintf("%s:%d: tls-protocols: TLSv1 and TLSv1.1 are not offered, as redis built with OpenSSL 3 refuses them at its default security level; TLSv1.2 is the lowest version", cfg.Path, d.Line))
			}
		case "tls-ciphers":
			s.CipherSuites, err = ParseCiphers(v)
		case "tls-ciphersuites":
			suites = &d
		case "tls-prefer-server-ciphers":
			// Go's server always picks the suite by its own order (it prefers AES-GCM when
			// both sides have AES hardware, else ChaCha20): "yes" is what it does, and "no",
			// redis' default, cannot be requested. Both are accepted (refusing redis' own
			// default would refuse copied configs); an explicit "no" is logged.
			if strings.EqualFold(v, "no") {
				s.Warnings = append(s.Warnings, fmt.Sprintf("%s:%d: tls-prefer-server-ciphers no is not followed: Go's TLS server always chooses the cipher suite by its own order (AES-GCM first when both sides have AES hardware, else ChaCha20-Poly1305)", cfg.Path, d.Line))
			}
		case "tls-session-caching":
			s.SessionTickets = strings.EqualFold(v, "yes")
		case "tls-session-cache-size":
			if n, _ := strconv.Atoi(v); n != defaultSessionCacheSize {
				err = fmt.Errorf("not supported: Go's TLS resumes sessions with tickets and keeps no server-side session cache to size (only the default %d is accepted; tls-session-caching no turns resumption off)", defaultSessionCacheSize)
			}
		case "tls-session-cache-timeout":
			if n, _ := strconv.Atoi(v); n != defaultSessionCacheTimeout {
				err = fmt.Errorf("not supported: Go's TLS session tickets have a fixed lifetime (only the default %d is accepted; tls-session-caching no turns resumption off)", defaultSessionCacheTimeout)
			}
		case "tls-dh-params-file":
			if v != "" {
				err = fmt.Errorf("not supported: Go's TLS has no DHE cipher suites (key exchange is ECDHE or TLS 1.3's), so DH parameters cannot be used; remove the directive")
			}
		}
		if err != nil {
			return Settings{}, fatal(d, err.Error())
		}
	}
	// The TLS 1.3 list matters only where TLS 1.3 is enabled.
	if suites != nil && s.MaxVersion == tls.VersionTLS13 {
		if err := CheckCipherSuites(suites.Args[0]); err != nil {
			return Settings{}, fatal(*suites, err.Error())
		}
	}
	if (s.ClientCertFile == "") != (s.ClientKeyFile == "") {
		s.Warnings = append(s.Warnings, cfg.Path+": tls-client-cert-file and tls-client-key-file are used only together: with one of them, the server certificate (tls-cert-file) is presented to nodes and peers, as redis does")
	}
	return s, nil
}

// minVersion is the lowest TLS version offered or accepted, whatever tls-protocols lists.
const minVersion = tls.VersionTLS12

// protocolVersions are tls-protocols' names (case-insensitive, as redis' strcasecmp).
var protocolVersions = []struct {
	name    string
	version uint16
}{
	{"TLSv1", tls.VersionTLS10},
	{"TLSv1.1", tls.VersionTLS11},
	{"TLSv1.2", tls.VersionTLS12},
	{"TLSv1.3", tls.VersionTLS13},
}

// ParseProtocols parses tls-protocols ("TLSv1.2 TLSv1.3"): names separated by single spaces, as
// redis' parseProtocolsConfig splits them (sdssplitlen on " ": two spaces in a row, or one at
// either end, make an empty name, which it refuses, and a tab is part of a name). Go enables a
// range of versions, so the set must have no gap.
func ParseProtocols(v string) (lo, hi uint16, err error) {
	if v == "" {
		return tls.VersionTLS12, tls.VersionTLS13, nil
	}
	var set [4]bool
	for _, w := range strings.Split(v, " ") {
		found := false
		for i, p := range protocolVersions {
			if strings.EqualFold(w, p.name) {
				set[i], found = true, true
			}
		}
		if !found {
			return 0, 0, fmt.Errorf("Invalid tls-protocols specified. Use a combination of 'TLSv1', 'TLSv1.1', 'TLSv1.2' and 'TLSv1.3'.")
		}
	}
	first, last := -1, -1
	for i, on := range set {
		if on {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	for i := first; i <= last; i++ {
		if !set[i] {
			return 0, 0, fmt.Errorf("not supported: Go's TLS enables a contiguous range of versions, and %q leaves out %s", v, protocolVersions[i].name)
		}
	}
	return protocolVersions[first].version, protocolVersions[last].version, nil
}

// openSSLCiphers maps OpenSSL's names of the TLS 1.2 and older suites Go implements to Go's.
var openSSLCiphers = map[string]uint16{
	"ECDHE-ECDSA-AES128-GCM-SHA256": tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	"ECDHE-RSA-AES128-GCM-SHA256":   tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	"ECDHE-ECDSA-AES256-GCM-SHA384": tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	"ECDHE-RSA-AES256-GCM-SHA384":   tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	"ECDHE-ECDSA-CHACHA20-POLY1305": tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	"ECDHE-RSA-CHACHA20-POLY1305":   tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
	"ECDHE-ECDSA-AES128-SHA256":     tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256,
	"ECDHE-RSA-AES128-SHA256":       tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256,
	"ECDHE-ECDSA-AES128-SHA":        tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
	"ECDHE-RSA-AES128-SHA":          tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
	"ECDHE-ECDSA-AES256-SHA":        tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
	"ECDHE-RSA-AES256-SHA":          tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
	"AES128-GCM-SHA256":             tls.TLS_RSA_WITH_AES_128_GCM_SHA256,
	"AES256-GCM-SHA384":             tls.TLS_RSA_WITH_AES_256_GCM_SHA384,
	"AES128-SHA256":                 tls.TLS_RSA_WITH_AES_128_CBC_SHA256,
	"AES128-SHA":                    tls.TLS_RSA_WITH_AES_128_CBC_SHA,
	"AES256-SHA":                    tls.TLS_RSA_WITH_AES_256_CBC_SHA,
	"ECDHE-RSA-DES-CBC3-SHA":        tls.TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA,
	"DES-CBC3-SHA":                  tls.TLS_RSA_WITH_3DES_EDE_CBC_SHA,
}

// ParseCiphers parses tls-ciphers as a list of OpenSSL cipher names separated by ':' (or ','
// or spaces, as OpenSSL accepts). OpenSSL's expressions (DEFAULT, HIGH, !aNULL, +, @STRENGTH)
// and suites Go does not implement (DHE, CCM, ARIA, ...) cannot be honoured and are errors.
func ParseCiphers(v string) ([]uint16, error) {
	var out []uint16
	for _, w := range strings.FieldsFunc(v, func(r rune) bool { return r == ':' || r == ',' || r == ' ' }) {
		id, ok := openSSLCiphers[strings.ToUpper(w)]
		if !ok {
			return nil, fmt.Errorf("not supported: tls-ciphers takes a ':'-separated list of cipher names that Go implements (for example ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384), and %q is not one (OpenSSL's keywords and operators are not supported)", w)
		}
		out = append(out, id)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("not supported: tls-ciphers %q names no cipher", v)
	}
	return out, nil
}

// goTLS13Suites are the TLS 1.3 suites Go always offers and accepts; it cannot be told to
// drop one.
var goTLS13Suites = []string{"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"}

// otherTLS13Suites are OpenSSL's other TLS 1.3 names: allowed in the list (Go never uses them).
var otherTLS13Suites = []string{"TLS_AES_128_CCM_SHA256", "TLS_AES_128_CCM_8_SHA256"}

// CheckCipherSuites checks tls-ciphersuites (TLS 1.3, ':'-separated): Go's TLS 1.3 suites are
// fixed, so the list is honoured only if it allows all three of them.
func CheckCipherSuites(v string) error {
	given := map[string]bool{}
	for _, w := range strings.Split(v, ":") {
		w = strings.ToUpper(strings.TrimSpace(w))
		known := false
		for _, k := range append(append([]string{}, goTLS13Suites...), otherTLS13Suites...) {
			known = known || w == k
		}
		if !known {
			return fmt.Errorf("not supported: %q is not a TLS 1.3 cipher suite name", w)
		}
		given[w] = true
	}
	for _, k := range goTLS13Suites {
		if !given[k] {
			return fmt.Errorf("not supported: Go's TLS 1.3 always offers %s, so a list without %s cannot be honoured (remove tls-ciphersuites, or limit tls-protocols to TLSv1.2 and use tls-ciphers)", strings.Join(goTLS13Suites, ", "), k)
		}
	}
	return nil
}
