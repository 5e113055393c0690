package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"os"
)

// tlsFlags are redis-cli's TLS options, for the subcommands that talk to a sentinel (and
// prestop's Redis node) on a TLS port: --tls, --cacert, --cert, --key, --insecure.
type tlsFlags struct {
	on, insecure      *bool
	cacert, cert, key *string
}

func addTLSFlags(fs *flag.FlagSet) tlsFlags {
	return tlsFlags{
		on:       fs.Bool("tls", false, ""),
		insecure: fs.Bool("insecure", false, ""),
		cacert:   fs.String("cacert", "", ""),
		cert:     fs.String("cert", "", ""),
		key:      fs.String("key", "", ""),
	}
}

// tlsUsage is the options' part of a subcommand's usage.
const tlsUsage = `  --tls                  connect with TLS (the sentinel's tls-port)
  --cacert <file>        CA certificate(s) to verify the server with (default:
                         the system's); the chain is checked, not the name,
                         as redis-cli does
  --cert <file>          client certificate (tls-auth-clients yes)
  --key <file>           its private key
  --insecure             do not verify the server's certificate
`

// config returns the client configuration, or nil without --tls.
func (f tlsFlags) config() (*tls.Config, error) {
	if !*f.on {
		return nil, nil
	}
	c := &tls.Config{InsecureSkipVerify: true}
	if (*f.cert == "") != (*f.key == "") {
		return nil, errors.New("--cert and --key go together")
	}
	if *f.cert != "" {
		pair, err := tls.LoadX509KeyPair(*f.cert, *f.key)
		if err != nil {
			return nil, fmt.Errorf("--cert/--key: %w", err)
		}
		c.Certificates = []tls.Certificate{pair}
	}
	if *f.insecure {
		return c, nil
	}
	var roots *x509.CertPool // nil: the system's
	if *f.cacert != "" {
		b, err := os.ReadFile(*f.cacert)
		if err != nil {
			return nil, fmt.Errorf("--cacert: %w", err)
		}
		roots = x509.NewCertPool()
		if !roots.AppendCertsFromPEM(b) {
			return nil, fmt.Errorf("--cacert: %s holds no PEM certificate", *f.cacert)
		}
	}
	c.VerifyConnection = func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return errors.New("the server sent no certificate")
		}
		inter := x509.NewCertPool()
		for _, p := range cs.PeerCertificates[1:] {
			inter.AddCert(p)
		}
		_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter})
		return err
	}
	return c, nil
}
