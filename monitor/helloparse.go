package monitor

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
)

// errBadHello marks a hello that is dropped before it can touch the sentinel
// table, the epochs or the master's address.
var errBadHello = errors.New("invalid hello")

// runIDSize is CONFIG_RUN_ID_SIZE: a sentinel's myid is 40 hex characters.
const runIDSize = 40

// parseHello splits and validates the 8 fields of a hello:
// <ip>,<port>,<runid>,<current-epoch>,<master-name>,<master-ip>,<master-port>,<master-config-epoch>.
//
// redis-sentinel (sentinelProcessHelloMessage) takes the fields with atoi
// and strtoull, so "abc" is port 0 and "-1" an epoch of 2^64-1, and relies on
// createSentinelAddr (port 0..65535, the host resolves) to refuse an
// address. Here every field must be exactly what a sentinel sends: ports
// 1..65535 in decimal, epochs decimal integers that fit a uint64, a runid of
// 40 hex characters, hosts that are an IP or a DNS name. Whether a hostname
// may be used (resolve-hostnames) is the caller's check (newAddress), as in
// redis; names are resolved when dialled, not here, so no lookup runs with
// the monitor's lock held.
func parseHello(payload string) (Hello, error) {
	// Cut into an array rather than strings.Split's slice: a hello
	// arrives 1,500 times a second at 1000 masters.
	var tok [8]string
	if n := strings.Count(payload, ",") + 1; n != len(tok) {
		return Hello{}, fmt.Errorf("%d fields, want 8: %w", n, errBadHello)
	}
	rest := payload
	for i := range len(tok) - 1 {
		tok[i], rest, _ = strings.Cut(rest, ",")
	}
	tok[len(tok)-1] = rest
	var h Hello
	var err error
	if h.SentinelAddr, err = parseHelloAddr(tok[0], tok[1]); err != nil {
		return Hello{}, fmt.Errorf("sentinel address: %w", err)
	}
	if !isRunID(tok[2]) {
		return Hello{}, fmt.Errorf("runid %q is not %d hex characters: %w", tok[2], runIDSize, errBadHello)
	}
	h.SentinelID = tok[2]
	if h.CurrentEpoch, err = parseEpoch(tok[3]); err != nil {
		return Hello{}, fmt.Errorf("current epoch: %w", err)
	}
	if tok[4] == "" {
		return Hello{}, fmt.Errorf("empty master name: %w", errBadHello)
	}
	h.Master = tok[4]
	if h.MasterAddr, err = parseHelloAddr(tok[5], tok[6]); err != nil {
		return Hello{}, fmt.Errorf("master address: %w", err)
	}
	if h.MasterConfigEpoch, err = parseEpoch(tok[7]); err != nil {
		return Hello{}, fmt.Errorf("master config epoch: %w", err)
	}
	return h, nil
}

// parseHelloAddr validates a host (IP or DNS name) and a port 1..65535.
func parseHelloAddr(host, port string) (Addr, error) {
	if !isDigits(port) {
		return Addr{}, fmt.Errorf("port %q is not a decimal number: %w", port, errBadHello)
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 1 || p > 65535 {
		return Addr{}, fmt.Errorf("port %q out of range 1-65535: %w", port, errBadHello)
	}
	if net.ParseIP(host) == nil && !isHostname(host) {
		return Addr{}, fmt.Errorf("host %q is neither an IP nor a hostname: %w", host, errBadHello)
	}
	return Addr{Host: host, Port: p}, nil
}

// MaxEpoch is the largest epoch taken from another sentinel (a hello, an
// is-master-down-by-addr request) or a config file. Epochs travel as
// redis' signed long long (SENTINEL IS-MASTER-DOWN-BY-ADDR's argument and
// reply): one near 2^64 wraps to 0 at the next failover's increment (a
// forged "-1" is 2^64-1 once cast, as redis-sentinel casts it), and one at
// 2^63 is refused by every peer as "not an integer", so no election could
// be won from there. 2^62 leaves 2^62 failovers of headroom below that,
// and no set ever counts that far.
const MaxEpoch = 1 << 62

// parseEpoch accepts a decimal integer from 0 to MaxEpoch, nothing else.
func parseEpoch(s string) (uint64, error) {
	if !isDigits(s) {
		return 0, fmt.Errorf("%q is not a non-negative decimal integer: %w", s, errBadHello)
	}
	e, err := strconv.ParseUint(s, 10, 64)
	if err != nil || e > MaxEpoch {
		return 0, fmt.Errorf("%q is beyond the largest epoch (2^62): %w", s, errBadHello)
	}
	return e, nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// isRunID reports whether s is 40 hex characters (redis writes lowercase;
// either case is accepted).
func isRunID(s string) bool {
	if len(s) != runIDSize {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isDigit(c) && (c < 'a' || c > 'f') && (c < 'A' || c > 'F') {
			return false
		}
	}
	return true
}

// isHostname reports whether s may be a DNS name: 1..255 characters of
// letters, digits, '-', '_' and '.'.
func isHostname(s string) bool {
	if s == "" || len(s) > 255 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isDigit(c) && (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && c != '-' && c != '_' && c != '.' {
			return false
		}
	}
	return true
}
