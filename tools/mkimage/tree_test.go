package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

func TestMergedUsr(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"bin/bash", "usr/bin/bash"},
		{"/bin/bash", "usr/bin/bash"},
		{"lib64/ld-linux-x86-64.so.2", "usr/lib64/ld-linux-x86-64.so.2"},
		{"/lib/x86_64-linux-gnu/libc.so.6", "usr/lib/x86_64-linux-gnu/libc.so.6"},
		{"sbin", "usr/sbin"},
		{"usr/bin/sed", "usr/bin/sed"},
		{"binary/x", "binary/x"},
		{"etc/../bin/./cat", "usr/bin/cat"},
		{"opt/bitnami/scripts/libos.sh", "opt/bitnami/scripts/libos.sh"},
	} {
		if got := mergedUsr(tc.in); got != tc.want {
			t.Errorf("mergedUsr(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestTreeAdd(t *testing.T) {
	tr := newTree()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(tr.add(&entry{path: "/opt/a/b/file", kind: tar.TypeReg, mode: 0o644, src: "/x"}))
	if e := tr.entries["opt/a"]; e == nil || e.kind != tar.TypeDir || e.mode != 0o755 || e.uid != 0 {
		t.Fatalf("implied parent: %+v", e)
	}
	// An explicit directory sets the implied one's owner and mode.
	must(tr.add(&entry{path: "opt/a", kind: tar.TypeDir, mode: 0o775, uid: 1001}))
	if e := tr.entries["opt/a"]; e.mode != 0o775 || e.uid != 1001 {
		t.Fatalf("explicit directory not applied: %+v", e)
	}
	// The same package file twice (a library two programs need) is fine;
	// anything else twice is a conflict.
	must(tr.add(&entry{path: "opt/a/b/file", kind: tar.TypeReg, mode: 0o644, src: "/x"}))
	must(tr.add(&entry{path: "l", kind: tar.TypeSymlink, target: "t"}))
	must(tr.add(&entry{path: "l", kind: tar.TypeSymlink, target: "t"}))
	for _, e := range []*entry{
		{path: "opt/a/b/file", kind: tar.TypeReg, mode: 0o644, src: "/y"},
		{path: "opt/a/b/file", kind: tar.TypeReg, mode: 0o644, data: []byte("x")},
		{path: "l", kind: tar.TypeSymlink, target: "u"},
		{path: "opt/a", kind: tar.TypeReg, src: "/x"},
		{path: "/", kind: tar.TypeDir},
	} {
		if err := tr.add(e); err == nil {
			t.Errorf("add %+v: no error", e)
		}
	}
}

func TestTreeResolve(t *testing.T) {
	tr := newTree()
	for _, e := range []*entry{
		{path: "usr/bin/bash", kind: tar.TypeReg},
		{path: "bin", kind: tar.TypeSymlink, target: "usr/bin"},
		{path: "usr/bin/sh", kind: tar.TypeSymlink, target: "bash"},
		{path: "opt/x/cli", kind: tar.TypeSymlink, target: "/bin/sh"},
		{path: "loop1", kind: tar.TypeSymlink, target: "loop2"},
		{path: "loop2", kind: tar.TypeSymlink, target: "loop1"},
		{path: "dangling", kind: tar.TypeSymlink, target: "usr/bin/nothing"},
	} {
		if err := tr.add(e); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{"bin/bash", "/bin/sh", "opt/x/cli", "usr/bin/../bin/sh"} {
		e, err := tr.resolve(p)
		if err != nil || e.path != "usr/bin/bash" {
			t.Errorf("resolve(%q) = %+v, %v; want usr/bin/bash", p, e, err)
		}
	}
	for _, p := range []string{"loop1", "dangling", "bin/nothing"} {
		if e, err := tr.resolve(p); err == nil {
			t.Errorf("resolve(%q) = %+v, want an error", p, e)
		}
	}
	if err := checkLinks(tr); err == nil {
		t.Error("checkLinks passed a tree with a dangling link and a loop")
	}
}

func TestApplyLine(t *testing.T) {
	tr := newTree()
	d := &debRoot{files: map[string]string{}}
	if err := applyLine(tr, d, strings.Fields("dir tmp 1777 0")); err != nil {
		t.Fatal(err)
	}
	if e := tr.entries["tmp"]; e.mode != 0o1777 || e.kind != tar.TypeDir {
		t.Errorf("dir tmp 1777: %+v", e)
	}
	if err := applyLine(tr, d, strings.Fields("link usr/bin/awk mawk")); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{
		"dir tmp 1777", "dir tmp 4755 0", "dir tmp 0755 -1", "dir tmp rwx 0",
		"link a", "file", "file a b", "copy a b", "file usr/bin/missing",
	} {
		if err := applyLine(tr, d, strings.Fields(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// TestTakeProgram builds a small package tree laid out as Debian ships it
// (/bin, /lib/<multiarch>, /lib64 links) from this machine's own `true`
// and the libraries its ELF headers name, and checks that taking `true`
// brings exactly those, at their /usr-merged paths, and that a missing
// library is named.
func TestTakeProgram(t *testing.T) {
	host := "/usr/bin/true"
	interp, needed, machine, err := elfDeps(host)
	if err != nil {
		t.Fatal(err)
	}
	ma, ok := multiarch[machine]
	if !ok || interp == "" {
		t.Fatalf("%s: machine %v, interpreter %q: not a Debian multiarch dynamic executable", host, machine, interp)
	}
	root := t.TempDir()
	copyFile := func(from, to string) {
		t.Helper()
		b, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		to = filepath.Join(root, to)
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(to, b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	copyFile(host, "bin/true")
	var want []string
	for _, lib := range needed {
		copyFile("/lib/"+ma+"/"+lib, "lib/"+ma+"/"+lib)
		want = append(want, "usr/lib/"+ma+"/"+lib)
	}
	// The loader as libc6 ships it: /lib64/ld-linux-*.so.2, a link to the
	// file in the multiarch directory.
	real := "/lib/" + ma + "/" + path.Base(interp)
	copyFile(real, strings.TrimPrefix(real, "/"))
	if err := os.MkdirAll(filepath.Join(root, path.Dir(interp)), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(real, filepath.Join(root, interp)); err != nil {
		t.Fatal(err)
	}
	want = append(want, mergedUsr(interp), mergedUsr(real), "usr/bin/true")

	d, err := loadDebRoot(root)
	if err != nil {
		t.Fatal(err)
	}
	tr := newTree()
	if err := d.takeProgram(tr, "usr/bin/true"); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range tr.sorted() {
		if e.kind != tar.TypeDir {
			got = append(got, e.path)
		}
	}
	sort.Strings(want)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("took %q, want %q", got, want)
	}

	// Without libc, the error names it.
	if err := os.Remove(filepath.Join(root, "lib", ma, "libc.so.6")); err != nil {
		t.Fatal(err)
	}
	d, err = loadDebRoot(root)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.takeProgram(newTree(), "bin/true"); err == nil || !strings.Contains(err.Error(), "libc.so.6") {
		t.Errorf("without libc: %v, want an error naming libc.so.6", err)
	}
}

// TestWriteLayerReproducible: the same tree gives the same bytes, entries
// come in path order with fixed mtimes, numeric owners and no names.
func TestWriteLayerReproducible(t *testing.T) {
	build := func() *tree {
		tr := newTree()
		for _, e := range []*entry{
			{path: "tmp", kind: tar.TypeDir, mode: 0o1777},
			{path: "opt/etc", kind: tar.TypeDir, mode: 0o775, uid: 1001},
			{path: "usr/bin/b", kind: tar.TypeReg, mode: 0o755, data: []byte("bbb")},
			{path: "usr/bin/a", kind: tar.TypeSymlink, mode: 0o777, target: "b"},
			{path: "bin", kind: tar.TypeSymlink, mode: 0o777, target: "usr/bin"},
		} {
			if err := tr.add(e); err != nil {
				t.Fatal(err)
			}
		}
		return tr
	}
	mtime := time.Unix(1700000000, 0)
	l1, err := writeLayer(build(), mtime)
	if err != nil {
		t.Fatal(err)
	}
	l2, err := writeLayer(build(), mtime)
	if err != nil {
		t.Fatal(err)
	}
	if l1.digest != l2.digest || l1.diffID != l2.diffID || !bytes.Equal(l1.data, l2.data) {
		t.Fatalf("two layers of the same tree differ: %s %s", l1.digest, l2.digest)
	}
	if l1.unpackedSize != 3 {
		t.Errorf("unpacked size %d, want 3", l1.unpackedSize)
	}
	zr, err := gzip.NewReader(bytes.NewReader(l1.data))
	if err != nil {
		t.Fatal(err)
	}
	if !zr.ModTime.IsZero() || zr.Name != "" {
		t.Errorf("gzip header carries a time or name: %v %q", zr.ModTime, zr.Name)
	}
	r := tar.NewReader(zr)
	var names []string
	for {
		hdr, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, hdr.Name)
		if !hdr.ModTime.Equal(mtime) || hdr.Uname != "" || hdr.Gname != "" || hdr.Uid != hdr.Gid {
			t.Errorf("%s: mtime %v, owner %q/%q %d:%d", hdr.Name, hdr.ModTime, hdr.Uname, hdr.Gname, hdr.Uid, hdr.Gid)
		}
		if hdr.Name == "opt/etc/" && (hdr.Uid != 1001 || hdr.Mode != 0o775) {
			t.Errorf("opt/etc/: uid %d mode %o", hdr.Uid, hdr.Mode)
		}
		if hdr.Name == "tmp/" && hdr.Mode != 0o1777 {
			t.Errorf("tmp/: mode %o", hdr.Mode)
		}
	}
	want := "bin opt/ opt/etc/ tmp/ usr/ usr/bin/ usr/bin/a usr/bin/b"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("entries %q, want %q", got, want)
	}
}
