package codepages

import (
	"reflect"
	"strings"
	"testing"
)

func TestReleasable(t *testing.T) {
	exe := fileID{major: 0x08, minor: 0x01, inode: 1234}
	mapping := func(header, anon string) string {
		return header + "\nSize:                 64 kB\nRss:                  12 kB\nAnonymous:          " + anon + " kB\nVmFlags: rd ex mr mw me\n"
	}
	tests := []struct {
		name  string
		smaps string
		want  []span
	}{
		{"code and read-only data", mapping("00400000-00a00000 r-xp 00000000 08:01 1234 /bin/gosentinel", "0") +
			mapping("00a00000-01000000 r--p 00600000 08:01 1234 /bin/gosentinel", "0"),
			[]span{{0x400000, 0xa00000}, {0xa00000, 0x1000000}}},
		{"writable data is never released", mapping("01000000-01100000 rw-p 00c00000 08:01 1234 /bin/gosentinel", "0"), nil},
		{"a read-only mapping with private pages (relocations) is kept",
			mapping("00a00000-01000000 r--p 00600000 08:01 1234 /bin/gosentinel", "8"), nil},
		{"another file", mapping("7f0000000000-7f0000100000 r-xp 00000000 08:01 99 /lib/libc.so.6", "0"), nil},
		{"the same inode on another device", mapping("00400000-00a00000 r-xp 00000000 08:02 1234 /other/gosentinel", "0"), nil},
		{"anonymous memory", mapping("c000000000-c000400000 rw-p 00000000 00:00 0", "4096"), nil},
		{"a deleted executable", mapping("00400000-00a00000 r-xp 00000000 08:01 1234 /bin/gosentinel (deleted)", "0"),
			[]span{{0x400000, 0xa00000}}},
		{"no access", mapping("00400000-00a00000 ---p 00000000 08:01 1234 /bin/gosentinel", "0"), nil},
		{"no Anonymous line (an emulated /proc): kept", "00400000-00a00000 r-xp 00000000 08:01 1234 /bin/gosentinel\nRss: 12 kB\n", nil},
		{"the last mapping counts without a line after it", "00400000-00a00000 r-xp 00000000 08:01 1234 /bin/gosentinel\nAnonymous: 0 kB",
			[]span{{0x400000, 0xa00000}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := releasable(strings.NewReader(tt.smaps), exe)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("releasable = %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestReleasableRejectsGarbage(t *testing.T) {
	exe := fileID{inode: 1}
	for _, bad := range []string{
		"zz-00a00000 r-xp 00000000 08:01 1 /x",
		"00a00000-00400000 r-xp 00000000 08:01 1 /x",
		"00400000 r-xp 00000000 08:01 1 /x",
		"00400000-00a00000 r-xp 00000000 0801 1 /x",
		"00400000-00a00000 r-xp 00000000 08:01 x /x",
		"00400000-00a00000 r-xp",
	} {
		if _, err := releasable(strings.NewReader(bad+"\n"), exe); err == nil {
			t.Errorf("releasable(%q) gave no error", bad)
		}
	}
}

func FuzzReleasable(f *testing.F) {
	f.Add("00400000-00a00000 r-xp 00000000 08:01 1234 /bin/gosentinel\nAnonymous: 0 kB\n")
	f.Add("c000000000-c000400000 rw-p 00000000 00:00 0\nAnonymous: 4096 kB\n")
	f.Fuzz(func(t *testing.T, smaps string) {
		spans, err := releasable(strings.NewReader(smaps), fileID{major: 8, minor: 1, inode: 1234})
		if err != nil {
			return
		}
		for _, s := range spans {
			if s.hi < s.lo {
				t.Fatalf("span %#v ends before it begins", s)
			}
		}
	})
}
