// Package codepages gives back the pages of the program's own code and
// read-only data that only its start used.
//
// Why: the binary is mapped from its file, and every page of it the process
// touched counts in its resident set. Go runs every package's init at
// start, one or more pages in each of some two hundred packages, and the
// kernel maps the file's neighbouring pages along with each one it faults
// in (fault-around, 64 KB): an idle gosentinel had 11.4 MB of its binary
// resident, 5.3 of its 6.4 MB of code, though what it runs afterwards
// needs about half of that. Release unmaps those pages (MADV_DONTNEED);
// they stay in the page cache, and the ones the process uses again fault
// back in from there.
//
// Only mappings of the executable that are not writable and hold no
// private copy of a page (smaps' Anonymous 0) are released: a read-only
// mapping whose pages were written before it was protected (the
// relocations of a position-independent build) would lose them to the
// file's content. The writable data and the heap are never touched.
package codepages

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// span is one mapping's address range.
type span struct{ lo, hi uintptr }

// fileID names a mapped file as /proc/<pid>/smaps does: the device
// ("major:minor", hexadecimal) and the inode.
type fileID struct {
	major, minor uint32
	inode        uint64
}

// releasable reads smaps and returns the mappings of the file exe that
// may be released: not writable, and without private (anonymous) pages.
func releasable(smaps io.Reader, exe fileID) ([]span, error) {
	var out []span
	// cur is the current mapping if it is a candidate; noPrivate says its
	// Anonymous line read 0. A mapping is released only with both: where
	// smaps has no such line (an emulated /proc), nothing is.
	var cur *span
	noPrivate := false
	flush := func() {
		if cur != nil && noPrivate {
			out = append(out, *cur)
		}
		cur, noPrivate = nil, false
	}
	sc := bufio.NewScanner(smaps)
	sc.Buffer(make([]byte, 0, 4096), 64*1024)
	for sc.Scan() {
		line := sc.Text()
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if !strings.HasSuffix(fields[0], ":") {
			// A mapping's header: address perms offset dev inode [path].
			flush()
			s, ok, err := parseHeader(fields, exe)
			if err != nil {
				return nil, fmt.Errorf("smaps line %q: %w", line, err)
			}
			if ok {
				cur = &s
			}
			continue
		}
		if cur != nil && fields[0] == "Anonymous:" {
			if len(fields) >= 2 && fields[1] == "0" {
				noPrivate = true
			} else {
				cur = nil
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read smaps: %w", err)
	}
	flush()
	return out, nil
}

// parseHeader parses a mapping's header line and tells whether it is a
// read-only mapping of exe.
func parseHeader(fields []string, exe fileID) (span, bool, error) {
	if len(fields) < 5 {
		return span{}, false, fmt.Errorf("%d fields, want at least 5", len(fields))
	}
	a, b, ok := strings.Cut(fields[0], "-")
	if !ok {
		return span{}, false, fmt.Errorf("address range %q", fields[0])
	}
	lo, err := strconv.ParseUint(a, 16, 64)
	if err != nil {
		return span{}, false, fmt.Errorf("address %q: %w", a, err)
	}
	hi, err := strconv.ParseUint(b, 16, 64)
	if err != nil || hi < lo {
		return span{}, false, fmt.Errorf("address range %q", fields[0])
	}
	perms := fields[1]
	if len(perms) < 4 || perms[0] != 'r' || strings.Contains(perms, "w") {
		return span{}, false, nil
	}
	maj, min, ok := strings.Cut(fields[3], ":")
	if !ok {
		return span{}, false, fmt.Errorf("device %q", fields[3])
	}
	major, err1 := strconv.ParseUint(maj, 16, 32)
	minor, err2 := strconv.ParseUint(min, 16, 32)
	inode, err3 := strconv.ParseUint(fields[4], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return span{}, false, fmt.Errorf("device %q inode %q", fields[3], fields[4])
	}
	if (fileID{major: uint32(major), minor: uint32(minor), inode: inode}) != exe {
		return span{}, false, nil
	}
	return span{lo: uintptr(lo), hi: uintptr(hi)}, true, nil
}
