// Package fdlimit fits maxclients to the open files limit, as redis'
// adjustOpenFilesLimit does: a sentinel needs descriptors of its own
// besides its clients' (its links to every node and peer, the Raft
// connections and store), and clients that took them all left it unable
// to reach the master it watches, which it then reported down.
package fdlimit

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/x0tta6bl4/gosentinel/internal/strerror"
)

// Reserved is how many descriptors are kept from clients: redis'
// CONFIG_MIN_RESERVED_FDS.
const Reserved = 32

// decrStep is how much each failed raise lowers the limit asked for.
const decrStep = 16

// Fit returns the maxclients to use for the requested one under the
// current open files limit cur, raising the limit with raise (setrlimit)
// to requested+reserved if it can, else as far as it can. reserved is
// Reserved, plus what the process's other listeners may hold (the metrics
// listener's connections). ceiling is a
// limit no raise can pass (the kernel's nr_open): redis steps down from
// the limit it wants 16 at a time, one setrlimit each, and so does Fit,
// but it skips the steps above the ceiling, which would all fail: a
// maxclients of two billion was 134 million system calls, a start that
// spun for minutes. The lines are redis' log lines, to log as warnings
// (notice: the last, on a raise). An error means the limit leaves no room
// for a client: redis exits then.
func Fit(requested, reserved int, cur, ceiling uint64, raise func(uint64) error) (maxClients int, lines []string, notice bool, err error) {
	want := uint64(requested) + uint64(reserved)
	if cur >= want {
		return requested, nil, false, nil
	}
	best := want
	var raiseErr error // the last failure's, as redis keeps errno
	if limit := max(ceiling, cur); best > limit {
		// Where the failing steps would have left it, with their error
		// (at or below the current limit when that is the ceiling: a
		// container's soft limit is often nr_open itself).
		if k := (best - limit + decrStep - 1) / decrStep * decrStep; k >= best {
			best = 0
		} else {
			best -= k
		}
		raiseErr = syscall.EPERM
	}
	for best > cur {
		err := raise(best)
		if err == nil {
			break
		}
		raiseErr = err
		if best < decrStep {
			best = cur
			break
		}
		best -= decrStep
	}
	if best < cur {
		best = cur
	}
	if best >= want {
		return requested, []string{fmt.Sprintf("Increased maximum number of open files to %d (it was originally set to %d).", want, cur)}, true, nil
	}
	if best <= uint64(reserved) {
		return 0, nil, false, fmt.Errorf("Your current 'ulimit -n' of %d is not enough for the server to start. Please increase your open file limit to at least %d. Exiting.", cur, want)
	}
	maxClients = int(best - uint64(reserved))
	return maxClients, []string{
		fmt.Sprintf("You requested maxclients of %d requiring at least %d max file descriptors.", requested, want),
		fmt.Sprintf("Server can't set maximum open files to %d because of OS error: %s.", want, strerror.Of(raiseErr)),
		fmt.Sprintf("Current maximum open files is %d. maxclients has been reduced to %d to compensate for low ulimit. If you need higher maxclients increase 'ulimit -n'.", best, maxClients),
	}, false, nil
}

// Current is the process's open files limit (soft), the ceiling no raise
// can pass, and a raise that sets both limits to n, as redis does.
func Current() (cur, ceiling uint64, raise func(uint64) error, err error) {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0, 0, nil, err
	}
	raise = func(n uint64) error {
		return syscall.Setrlimit(syscall.RLIMIT_NOFILE, &syscall.Rlimit{Cur: n, Max: n})
	}
	return l.Cur, max(l.Max, nrOpen()), raise, nil
}

// nrOpen is the kernel's bound on RLIMIT_NOFILE (fs.nr_open), which even a
// privileged process cannot raise past; Linux's default when it cannot be
// read.
func nrOpen() uint64 {
	b, err := os.ReadFile("/proc/sys/fs/nr_open")
	if err != nil {
		return 1 << 20
	}
	n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	if err != nil || n == 0 {
		return 1 << 20
	}
	return n
}
