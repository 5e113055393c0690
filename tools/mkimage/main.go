// Command mkimage writes gosentinel's container image as an OCI image
// layout tarball, without a container engine: one layer holding the files
// deploy/image/files names from unpacked Debian packages (with the shared
// libraries their ELF headers ask for), deploy/image/rootfs, and the
// gosentinel binary. deploy/image/build.sh downloads and unpacks the
// packages and calls it; `make image` calls build.sh.
//
// The output is reproducible: entries in path order, every mtime at -epoch,
// owners by number, gzip without names or times.
package main

import (
	"archive/tar"
	"flag"
	"fmt"
	"os"
	"path"
	"runtime"
	"strings"
	"time"
)

// binDir is where the Bitnami image keeps redis-server, redis-sentinel and
// redis-cli; the chart's scripts find them on PATH.
const binDir = "/opt/bitnami/redis-sentinel/bin"

// imagePath is the image's PATH, Bitnami's directories first as in its
// sentinel image.
const imagePath = "/opt/bitnami/common/bin:" + binDir + ":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "mkimage: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fl := flag.NewFlagSet("mkimage", flag.ContinueOnError)
	var (
		debroot    = fl.String("debroot", "", "directory the Debian packages were unpacked into (dpkg-deb -x)")
		files      = fl.String("files", "deploy/image/files", "what to take from -debroot, links and directories")
		overlay    = fl.String("overlay", "deploy/image/rootfs", "files copied into the image as they are")
		binary     = fl.String("binary", "", "the gosentinel binary")
		binaryPath = fl.String("binary-path", strings.TrimPrefix(binDir, "/")+"/gosentinel", "where the binary goes in the image")
		debs       = fl.String("debs", "", "list of the .deb files used, stored in the image as usr/share/gosentinel/debian-packages")
		version    = fl.String("version", "dev", "image tag and org.opencontainers.image.version")
		revision   = fl.String("revision", "", "org.opencontainers.image.revision (the commit)")
		source     = fl.String("source", "https://github.com/x0tta6bl4/gosentinel", "org.opencontainers.image.source")
		name       = fl.String("name", "gosentinel", "the image's repository name in manifest.json")
		epoch      = fl.Int64("epoch", 0, "mtime of every file and the created time, in seconds since 1970 (SOURCE_DATE_EPOCH)")
		out        = fl.String("o", "bin/gosentinel-image.tar", "the OCI image layout tarball to write")
		layerOut   = fl.String("layer", "", "also write the layer (a gzipped tar of the file tree) here, for the Dockerfile")
	)
	if err := fl.Parse(args); err != nil {
		return err
	}
	if *debroot == "" || *binary == "" {
		return fmt.Errorf("-debroot and -binary are required")
	}

	d, err := loadDebRoot(*debroot)
	if err != nil {
		return err
	}
	t := newTree()
	if err := applySpec(t, d, *files); err != nil {
		return err
	}
	if err := addOverlay(t, *overlay); err != nil {
		return fmt.Errorf("overlay: %w", err)
	}
	if err := t.add(&entry{path: *binaryPath, kind: tar.TypeReg, mode: 0o755, src: *binary}); err != nil {
		return err
	}
	if *debs != "" {
		list, err := os.ReadFile(*debs)
		if err != nil {
			return err
		}
		if err := t.add(&entry{path: "usr/share/gosentinel/debian-packages", kind: tar.TypeReg, mode: 0o644, data: list}); err != nil {
			return err
		}
	}
	if err := checkLinks(t); err != nil {
		return err
	}

	created := time.Unix(*epoch, 0).UTC()
	l, err := writeLayer(t, created)
	if err != nil {
		return err
	}
	if *layerOut != "" {
		if err := os.WriteFile(*layerOut, l.data, 0o644); err != nil {
			return err
		}
	}
	meta := imageMeta{
		name:       *name,
		version:    *version,
		revision:   *revision,
		source:     *source,
		arch:       runtime.GOARCH,
		created:    created,
		entrypoint: []string{"/" + cleanRel(*binaryPath)},
		cmd:        []string{"/opt/bitnami/redis-sentinel/etc/sentinel.conf"},
		env:        []string{"PATH=" + imagePath},
		user:       "1001",
		workingDir: "/opt/bitnami/redis-sentinel",
		ports:      []string{"26379/tcp"},
	}
	if err := writeImage(*out, meta, l); err != nil {
		return fmt.Errorf("write %s: %w", *out, err)
	}
	fmt.Fprintf(os.Stderr, "mkimage: %s: %d entries, layer %d bytes compressed, %d bytes of files unpacked\n",
		*out, len(t.entries), len(l.data), l.unpackedSize)
	return nil
}

// checkLinks fails on a link that leads nowhere inside the image: a file
// the spec linked to but nothing put there.
func checkLinks(t *tree) error {
	for _, e := range t.sorted() {
		if e.kind != tar.TypeSymlink {
			continue
		}
		if _, err := t.resolve(e.path); err != nil {
			return err
		}
	}
	return nil
}

// resolve follows the links of p inside the tree (every component) and
// returns the entry it names.
func (t *tree) resolve(p string) (*entry, error) {
	p = cleanRel(p)
	for range maxLinks {
		parts := strings.Split(p, "/")
		relinked := false
		for i := range parts {
			prefix := strings.Join(parts[:i+1], "/")
			e, ok := t.entries[prefix]
			if !ok {
				return nil, fmt.Errorf("%s: %s does not exist in the image", p, prefix)
			}
			if e.kind != tar.TypeSymlink {
				if i == len(parts)-1 {
					return e, nil
				}
				continue
			}
			target := e.target
			if !path.IsAbs(target) {
				target = path.Join(path.Dir(prefix), target)
			}
			p = cleanRel(path.Join(append([]string{target}, parts[i+1:]...)...))
			relinked = true
			break
		}
		if !relinked {
			break
		}
	}
	return nil, fmt.Errorf("%s: too many levels of symbolic links", p)
}
