package config

import (
	"errors"
	"fmt"
	"net"
	"strconv"
)

// ParseMetricsAddr validates a metrics-addr value: host:port (the host may
// be empty for every address, or a name; the port 0 to 65535, 0 letting
// the kernel choose). It returns the value as given. Empty is off, so
// that `--metrics-addr ""` turns off a file's metrics-addr, as an empty
// string sets a redis string config.
func ParseMetricsAddr(v string) (string, error) {
	if v == "" {
		return "", nil
	}
	_, port, err := net.SplitHostPort(v)
	if err != nil {
		var ae *net.AddrError
		if errors.As(err, &ae) {
			return "", fmt.Errorf("metrics-addr must be host:port, e.g. :9355 or 127.0.0.1:9355 (%s)", ae.Err)
		}
		return "", fmt.Errorf("metrics-addr must be host:port, e.g. :9355 or 127.0.0.1:9355")
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 {
		return "", fmt.Errorf("metrics-addr port must be a number from 0 to 65535 (%q)", v)
	}
	return v, nil
}

// rewriteOwn writes gosentinel's own top-level directives.
func (c *Config) rewriteOwn(st *rewriteState) {
	if c.MetricsAddr != "" {
		st.rewriteLine("metrics-addr", "metrics-addr "+word(c.MetricsAddr), true)
	} else {
		st.markProcessed("metrics-addr")
	}
	if c.Compat != "" {
		st.rewriteLine("compat-version", "compat-version "+string(c.Compat), true)
	} else {
		st.markProcessed("compat-version")
	}
}
