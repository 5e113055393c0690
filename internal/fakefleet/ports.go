package fakefleet

import (
	"fmt"
	"strconv"
	"strings"
)

// PortList turns the command line's choices into the masters' ports: a
// comma-separated list, or count ports from base, or count zeros (the
// kernel picks) when base is 0.
func PortList(list string, base, count int) ([]int, error) {
	if list != "" {
		if base != 0 || count != 0 {
			return nil, fmt.Errorf("-ports excludes -base and -count")
		}
		var out []int
		for _, f := range strings.Split(list, ",") {
			p, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || p < 0 || p > 65535 {
				return nil, fmt.Errorf("-ports: bad port %q", f)
			}
			out = append(out, p)
		}
		return out, nil
	}
	if count <= 0 {
		return nil, fmt.Errorf("give -ports, or -count (with -base for consecutive ports)")
	}
	if base < 0 || base+count-1 > 65535 {
		return nil, fmt.Errorf("-base %d -count %d: ports out of range", base, count)
	}
	out := make([]int, count)
	for i := range out {
		if base > 0 {
			out[i] = base + i
		}
	}
	return out, nil
}

// ReadyLine is the line fakefleet prints once every listener is bound:
// "ready <port> <port> ...\n".
func ReadyLine(ports []int) string {
	var b strings.Builder
	b.WriteString("ready")
	for _, p := range ports {
		b.WriteString(" " + strconv.Itoa(p))
	}
	b.WriteString("\n")
	return b.String()
}

// ParseReadyLine reads the ports back from a ready line.
func ParseReadyLine(line string) ([]int, error) {
	f := strings.Fields(line)
	if len(f) == 0 || f[0] != "ready" {
		return nil, fmt.Errorf("not a ready line: %q", line)
	}
	out := make([]int, 0, len(f)-1)
	for _, s := range f[1:] {
		p, err := strconv.Atoi(s)
		if err != nil {
			return nil, fmt.Errorf("ready line: bad port %q", s)
		}
		out = append(out, p)
	}
	return out, nil
}
