package fdlimit

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// TestFit: redis' adjustOpenFilesLimit, case by case.
func TestFit(t *testing.T) {
	for _, tc := range []struct {
		name      string
		requested int
		cur, hard uint64 // a raise above hard fails with EPERM
		ceiling   uint64 // Fit's ceiling: hard when 0
		maxCalls  int    // raises tried at most, when not 0
		want      int
		wantErr   bool
		notice    bool
		lastLine  string
		raisedTo  uint64
	}{
		{name: "room enough", requested: 10000, cur: 1048576, hard: 1048576, want: 10000},
		{name: "exactly enough", requested: 10000, cur: 10032, hard: 10032, want: 10000},
		{name: "raised", requested: 10000, cur: 1024, hard: 1 << 20, want: 10000, notice: true,
			lastLine: "Increased maximum number of open files to 10032 (it was originally set to 1024).", raisedTo: 10032},
		{name: "raised part way", requested: 10000, cur: 1024, hard: 4100, want: 4064,
			lastLine: "Current maximum open files is 4096. maxclients has been reduced to 4064 to compensate for low ulimit. If you need higher maxclients increase 'ulimit -n'.", raisedTo: 4096},
		{name: "ulimit -n 64", requested: 10000, cur: 64, hard: 64, want: 32,
			lastLine: "Current maximum open files is 64. maxclients has been reduced to 32 to compensate for low ulimit. If you need higher maxclients increase 'ulimit -n'."},
		{name: "too low to start", requested: 10000, cur: 32, hard: 32, wantErr: true},
		{name: "small maxclients", requested: 10, cur: 64, hard: 64, want: 10},
		// maxclients 4294967295 in the file (cut to the largest int32):
		// 134 million raises when each step was tried.
		{name: "largest maxclients", requested: math.MaxInt32, cur: 1024, hard: 1 << 20, want: 1<<20 - 1 - Reserved, maxCalls: 1,
			lastLine: "Current maximum open files is 1048575. maxclients has been reduced to 1048543 to compensate for low ulimit. If you need higher maxclients increase 'ulimit -n'.", raisedTo: 1<<20 - 1},
		// The soft limit is nr_open already (a container's 1048576): no
		// raise can help, none is tried.
		{name: "largest maxclients at nr_open", requested: math.MaxInt32, cur: 1 << 20, hard: 1 << 20, want: 1<<20 - Reserved, maxCalls: 1,
			lastLine: "Current maximum open files is 1048576. maxclients has been reduced to 1048544 to compensate for low ulimit. If you need higher maxclients increase 'ulimit -n'."},
		// A ceiling below one step (no kernel has one): no underflow.
		{name: "tiny ceiling", requested: 18, cur: 2, hard: 3, ceiling: 3, wantErr: true, maxCalls: 1},
		// Unprivileged: the hard limit is below nr_open, and the steps
		// between them are tried (they fail) as redis tries them.
		{name: "raised part way under nr_open", requested: 10000, cur: 1024, hard: 4100, ceiling: 1 << 20, want: 4064,
			lastLine: "Current maximum open files is 4096. maxclients has been reduced to 4064 to compensate for low ulimit. If you need higher maxclients increase 'ulimit -n'.", raisedTo: 4096},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var raised uint64
			calls := 0
			raise := func(n uint64) error {
				calls++
				if n > tc.hard {
					return syscall.EPERM
				}
				raised = n
				return nil
			}
			ceiling := tc.ceiling
			if ceiling == 0 {
				ceiling = tc.hard
			}
			got, lines, notice, err := Fit(tc.requested, Reserved, tc.cur, ceiling, raise)
			if tc.maxCalls != 0 && calls > tc.maxCalls {
				t.Fatalf("%d raises tried, want at most %d", calls, tc.maxCalls)
			}
			if (err != nil) != tc.wantErr {
				t.Fatalf("err %v, want an error %v", err, tc.wantErr)
			}
			if tc.wantErr {
				if want := fmt.Sprintf("Your current 'ulimit -n' of %d is not enough for the server to start. Please increase your open file limit to at least %d. Exiting.", tc.cur, tc.requested+Reserved); !strings.Contains(err.Error(), want) {
					t.Fatalf("error %q", err)
				}
				return
			}
			if got != tc.want || notice != tc.notice || raised != tc.raisedTo {
				t.Fatalf("maxclients %d notice %v raised to %d; want %d %v %d (lines %q)", got, notice, raised, tc.want, tc.notice, tc.raisedTo, lines)
			}
			if tc.lastLine == "" {
				if len(lines) != 0 {
					t.Fatalf("lines %q, want none", lines)
				}
				return
			}
			if lines[len(lines)-1] != tc.lastLine {
				t.Fatalf("last line %q, want %q", lines[len(lines)-1], tc.lastLine)
			}
			if osErr := fmt.Sprintf("Server can't set maximum open files to %d because of OS error: Operation not permitted.", tc.requested+Reserved); !notice && !slices.Contains(lines, osErr) {
				t.Fatalf("no OS error line in %q", lines)
			}
		})
	}
}
