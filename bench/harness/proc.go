package harness

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// cpuTicksPerSecond is USER_HZ, the unit of utime and stime in
// /proc/<pid>/stat: 100 on every Linux this runs on.
const cpuTicksPerSecond = 100

// ParseStatCPU reads utime+stime from the contents of /proc/<pid>/stat.
func ParseStatCPU(stat string) (time.Duration, error) {
	// The command name (field 2) is in parentheses and may hold spaces.
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("stat without a command name: %q", stat)
	}
	f := strings.Fields(stat[i+1:])
	// f[0] is field 3 (state), so utime (14) and stime (15) are f[11], f[12].
	if len(f) < 13 {
		return 0, fmt.Errorf("short stat: %q", stat)
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	s, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("stat utime/stime %q %q", f[11], f[12])
	}
	return time.Duration(u+s) * time.Second / cpuTicksPerSecond, nil
}

// ProcessCPU is the CPU time process pid has used so far.
func ProcessCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return ParseStatCPU(string(b))
}

// ParseStatusKB reads one "Field:  N kB" line (VmRSS, RssAnon) from the
// contents of /proc/<pid>/status, in bytes.
func ParseStatusKB(status, field string) (int64, error) {
	for _, l := range strings.Split(status, "\n") {
		rest, ok := strings.CutPrefix(l, field+":")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("%s line %q", field, l)
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s line %q: %w", field, l, err)
		}
		return kb << 10, nil
	}
	return 0, fmt.Errorf("no %s line", field)
}
