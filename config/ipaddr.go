package config

import (
	"net/netip"
	"strconv"
	"strings"
)

// NormalizeIP reports whether host is a numeric IP address as redis accepts it without
// resolve-hostnames (getaddrinfo with AI_NUMERICHOST: glibc's inet_aton forms such as "127.1"
// or "0x7f.0.0.1" for IPv4, inet_pton for IPv6) and returns it the way redis prints it
// (inet_ntop).
func NormalizeIP(host string) (string, bool) {
	if v4, ok := parseInetAton(host); ok {
		return v4.String(), true
	}
	if strings.IndexByte(host, ':') < 0 {
		return "", false
	}
	a, err := netip.ParseAddr(host)
	if err != nil || !a.Is6() {
		return "", false
	}
	a = a.WithZone("")
	b := a.As16()
	zero12 := true
	for _, x := range b[:12] {
		zero12 = zero12 && x == 0
	}
	if zero12 && (b[12] != 0 || b[13] != 0) {
		// glibc prints IPv4-compatible addresses with an embedded dotted quad.
		return "::" + netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}).String(), true
	}
	return a.String(), true
}

// parseInetAton is glibc's __inet_aton_exact: 1 to 4 parts separated by dots, each decimal,
// octal (leading 0) or hex (0x), the last part filling the remaining bytes.
func parseInetAton(s string) (netip.Addr, bool) {
	if s == "" {
		return netip.Addr{}, false
	}
	parts := strings.Split(s, ".")
	if len(parts) > 4 {
		return netip.Addr{}, false
	}
	vals := make([]uint64, len(parts))
	for i, p := range parts {
		v, ok := parseAtonPart(p)
		if !ok {
			return netip.Addr{}, false
		}
		vals[i] = v
	}
	var out uint64
	n := len(vals)
	for i := 0; i < n-1; i++ {
		if vals[i] > 0xff {
			return netip.Addr{}, false
		}
		out |= vals[i] << (8 * uint(3-i))
	}
	last := vals[n-1]
	if last >= 1<<(8*uint(5-n)) {
		return netip.Addr{}, false
	}
	out |= last
	return netip.AddrFrom4([4]byte{byte(out >> 24), byte(out >> 16), byte(out >> 8), byte(out)}), true
}

func parseAtonPart(p string) (uint64, bool) {
	if p == "" {
		return 0, false
	}
	base := 10
	digits := p
	switch {
	case len(p) > 1 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X'):
		base, digits = 16, p[2:]
		if digits == "" {
			return 0, true // glibc accepts a bare "0x" as 0
		}
	case len(p) > 1 && p[0] == '0':
		base, digits = 8, p[1:]
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] == '+' || digits[i] == '-' || digits[i] == '_' {
			return 0, false
		}
	}
	v, err := strconv.ParseUint(digits, base, 32)
	if err != nil {
		return 0, false
	}
	return v, true
}
