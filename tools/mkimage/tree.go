package main

import (
	"archive/tar"
	"bufio"
	"debug/elf"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// entry is one file, directory or symbolic link of the image's file tree.
// Paths are relative to the root, cleaned, without a leading slash.
type entry struct {
	path   string
	kind   byte  // tar.TypeReg, tar.TypeDir or tar.TypeSymlink
	mode   int64 // permission bits (and the sticky bit)
	uid    int   // owner; the group is the same number
	target string
	src    string // where a regular file's content is on disk
	data   []byte // a regular file's content when src is empty
}

// tree is the image's file tree: what the layer will hold.
type tree struct {
	entries map[string]*entry
}

func newTree() *tree { return &tree{entries: map[string]*entry{}} }

// add puts e in the tree with its missing parent directories (root-owned,
// 0755). Adding a path twice is an error unless both are the same directory,
// the same link or the same package file (a library two programs need): the
// spec, the overlay and the packages must agree.
func (t *tree) add(e *entry) error {
	e.path = cleanRel(e.path)
	if e.path == "" {
		return errors.New("empty path")
	}
	if old, ok := t.entries[e.path]; ok {
		same := old.kind == e.kind && (e.kind == tar.TypeDir ||
			(e.kind == tar.TypeSymlink && old.target == e.target) ||
			(e.kind == tar.TypeReg && e.src != "" && old.src == e.src && old.mode == e.mode))
		if same {
			if e.kind == tar.TypeDir {
				*old = *e // an explicit directory sets the mode and owner of an implied one
			}
			return nil
		}
		return fmt.Errorf("%s: added twice", e.path)
	}
	for dir := path.Dir(e.path); dir != "."; dir = path.Dir(dir) {
		if _, ok := t.entries[dir]; !ok {
			t.entries[dir] = &entry{path: dir, kind: tar.TypeDir, mode: 0o755}
		}
	}
	t.entries[e.path] = e
	return nil
}

// sorted returns the entries in the layer's order: by path, so that a
// directory comes before what it holds and the layer is the same bytes for
// the same tree.
func (t *tree) sorted() []*entry {
	out := make([]*entry, 0, len(t.entries))
	for _, e := range t.entries {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].path < out[j].path })
	return out
}

func cleanRel(p string) string {
	p = strings.TrimPrefix(path.Clean("/"+p), "/")
	return p
}

// mergedUsr maps a path of a Debian package to where it is in a /usr-merged
// tree (bookworm's layout: /bin, /sbin, /lib* are links into /usr), so that
// one name reaches each file whichever way a package or a link spells it.
func mergedUsr(p string) string {
	p = cleanRel(p)
	first, rest, _ := strings.Cut(p, "/")
	switch first {
	case "bin", "sbin", "lib", "lib32", "lib64", "libx32":
		if rest == "" {
			return "usr/" + first
		}
		return "usr/" + first + "/" + rest
	}
	return p
}

// debRoot is the tree the Debian packages were unpacked into, indexed by
// merged path.
type debRoot struct {
	dir   string
	files map[string]string // merged path -> path on disk
}

func loadDebRoot(dir string) (*debRoot, error) {
	d := &debRoot{dir: dir, files: map[string]string{}}
	err := filepath.WalkDir(dir, func(p string, de fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if de.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		d.files[mergedUsr(filepath.ToSlash(rel))] = p
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("index unpacked packages in %s: %w", dir, err)
	}
	return d, nil
}

// maxLinks bounds a chain of symbolic links, as the kernel's ELOOP does.
const maxLinks = 40

// take adds the file at merged path p to t, and every link on the way to
// the file it names; it returns that file's merged path.
func (d *debRoot) take(t *tree, p string) (string, error) {
	p = mergedUsr(p)
	for range maxLinks {
		disk, ok := d.files[p]
		if !ok {
			return "", fmt.Errorf("%s: not in the unpacked packages (add its package to deploy/image/packages)", p)
		}
		fi, err := os.Lstat(disk)
		if err != nil {
			return "", err
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			target, err := os.Readlink(disk)
			if err != nil {
				return "", err
			}
			if err := t.add(&entry{path: p, kind: tar.TypeSymlink, mode: 0o777, target: target}); err != nil {
				return "", err
			}
			if path.IsAbs(target) {
				p = mergedUsr(target)
			} else {
				p = mergedUsr(path.Join(path.Dir(p), target))
			}
			continue
		}
		if !fi.Mode().IsRegular() {
			return "", fmt.Errorf("%s: not a regular file or link (%v)", p, fi.Mode())
		}
		// Package files are root's; no set-id bits make it into the image.
		err = t.add(&entry{path: p, kind: tar.TypeReg, mode: int64(fi.Mode().Perm()), src: disk})
		return p, err
	}
	return "", fmt.Errorf("%s: too many levels of symbolic links", p)
}

// multiarch is Debian's library directory name for an ELF machine.
var multiarch = map[elf.Machine]string{
	elf.EM_X86_64:  "x86_64-linux-gnu",
	elf.EM_AARCH64: "aarch64-linux-gnu",
	elf.EM_386:     "i386-linux-gnu",
	elf.EM_ARM:     "arm-linux-gnueabihf",
	elf.EM_PPC64:   "powerpc64le-linux-gnu",
	elf.EM_S390:    "s390x-linux-gnu",
}

// takeProgram adds the program at p and, if it is a dynamically linked ELF
// file, its loader (PT_INTERP) and every library it needs (DT_NEEDED, the
// closure), found where the loader looks without an ld.so.cache: the
// multiarch directories, then /usr/lib.
func (d *debRoot) takeProgram(t *tree, p string) error {
	queue := []string{p}
	seen := map[string]bool{}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		real, err := d.take(t, cur)
		if err != nil {
			return err
		}
		if seen[real] {
			continue
		}
		seen[real] = true
		interp, needed, machine, err := elfDeps(d.files[real])
		if errors.Is(err, errNotELF) {
			continue
		}
		if err != nil {
			return fmt.Errorf("%s: %w", real, err)
		}
		if interp != "" {
			queue = append(queue, interp)
		}
		for _, lib := range needed {
			found, err := d.findLibrary(lib, machine)
			if err != nil {
				return fmt.Errorf("%s (needed by %s): %w", lib, real, err)
			}
			queue = append(queue, found)
		}
	}
	return nil
}

func (d *debRoot) findLibrary(name string, machine elf.Machine) (string, error) {
	var dirs []string
	if ma, ok := multiarch[machine]; ok {
		dirs = append(dirs, "usr/lib/"+ma)
	}
	dirs = append(dirs, "usr/lib64", "usr/lib")
	for _, dir := range dirs {
		if _, ok := d.files[dir+"/"+name]; ok {
			return dir + "/" + name, nil
		}
	}
	return "", fmt.Errorf("not in %s of the unpacked packages (add its package to deploy/image/packages)", strings.Join(dirs, ", "))
}

var errNotELF = errors.New("not an ELF file")

// elfDeps reads a file's loader and needed libraries from its ELF headers.
func elfDeps(file string) (interp string, needed []string, machine elf.Machine, err error) {
	f, err := elf.Open(file)
	if err != nil {
		var fe *elf.FormatError
		if errors.As(err, &fe) {
			return "", nil, 0, errNotELF
		}
		return "", nil, 0, err
	}
	defer f.Close()
	for _, prog := range f.Progs {
		if prog.Type != elf.PT_INTERP {
			continue
		}
		b := make([]byte, prog.Filesz)
		if _, err := prog.ReadAt(b, 0); err != nil {
			return "", nil, 0, fmt.Errorf("read PT_INTERP: %w", err)
		}
		interp = strings.TrimRight(string(b), "\x00")
	}
	needed, err = f.ImportedLibraries()
	if err != nil {
		return "", nil, 0, fmt.Errorf("read DT_NEEDED: %w", err)
	}
	return interp, needed, f.Machine, nil
}

// applySpec adds what deploy/image/files names (see its header for the
// format).
func applySpec(t *tree, d *debRoot, specFile string) error {
	f, err := os.Open(specFile)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if err := applyLine(t, d, strings.Fields(line)); err != nil {
			return fmt.Errorf("%s:%d: %w", specFile, n, err)
		}
	}
	return sc.Err()
}

func applyLine(t *tree, d *debRoot, f []string) error {
	switch {
	case f[0] == "file" && len(f) == 2:
		return d.takeProgram(t, f[1])
	case f[0] == "link" && len(f) == 3:
		return t.add(&entry{path: f[1], kind: tar.TypeSymlink, mode: 0o777, target: f[2]})
	case f[0] == "dir" && len(f) == 4:
		mode, err := strconv.ParseInt(f[2], 8, 64)
		if err != nil || mode&^0o1777 != 0 {
			return fmt.Errorf("bad mode %q", f[2])
		}
		uid, err := strconv.Atoi(f[3])
		if err != nil || uid < 0 {
			return fmt.Errorf("bad owner %q", f[3])
		}
		return t.add(&entry{path: f[1], kind: tar.TypeDir, mode: mode, uid: uid})
	}
	return fmt.Errorf("want 'file PATH', 'link PATH TARGET' or 'dir PATH MODE UID', got %q", strings.Join(f, " "))
}

// addOverlay adds every file under dir (deploy/image/rootfs) at the same
// path, owned by root: 0755 if any execute bit is set, else 0644 (git keeps
// only the execute bit, so this is what every checkout gives).
func addOverlay(t *tree, dir string) error {
	return filepath.WalkDir(dir, func(p string, de fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil || rel == "." {
			return err
		}
		rel = filepath.ToSlash(rel)
		info, err := de.Info()
		if err != nil {
			return err
		}
		switch {
		case de.IsDir():
			return t.add(&entry{path: rel, kind: tar.TypeDir, mode: 0o755})
		case info.Mode().IsRegular():
			mode := int64(0o644)
			if info.Mode()&0o111 != 0 {
				mode = 0o755
			}
			return t.add(&entry{path: rel, kind: tar.TypeReg, mode: mode, src: p})
		}
		return fmt.Errorf("%s: only files and directories belong in the overlay", p)
	})
}
