package codepages

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// Release unmaps the pages of the executable's read-only mappings (see
// the package comment) and returns how many bytes of address space it
// advised.
func Release() (int64, error) {
	var st unix.Stat_t
	if err := unix.Stat("/proc/self/exe", &st); err != nil {
		return 0, fmt.Errorf("stat /proc/self/exe: %w", err)
	}
	exe := fileID{major: unix.Major(uint64(st.Dev)), minor: unix.Minor(uint64(st.Dev)), inode: st.Ino}
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return 0, fmt.Errorf("open smaps: %w", err)
	}
	spans, err := releasable(f, exe)
	f.Close()
	if err != nil {
		return 0, err
	}
	var n int64
	for _, s := range spans {
		if _, _, e := unix.Syscall(unix.SYS_MADVISE, s.lo, s.hi-s.lo, unix.MADV_DONTNEED); e != 0 {
			return n, fmt.Errorf("madvise %#x-%#x: %w", s.lo, s.hi, e)
		}
		n += int64(s.hi - s.lo)
	}
	return n, nil
}
