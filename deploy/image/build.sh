#!/usr/bin/env bash
# Builds gosentinel's image without a container engine: an OCI image layout
# tarball (also loadable with `docker load`) that the Bitnami redis chart runs
# as its sentinel container. `make image` calls this.
#
#   bash deploy/image/build.sh [OUT]      OUT defaults to bin/gosentinel-image.tar
#
# Steps: `apt-get download` the Debian packages named in deploy/image/packages
# into a cache (no root needed; versions from this machine's apt index, so a
# bookworm machine gives bookworm packages), unpack them with `dpkg-deb -x`,
# build gosentinel (static, CGO_ENABLED=0), and let tools/mkimage keep what
# deploy/image/files names plus the libraries those programs load, add
# deploy/image/rootfs, and write the tarball.
#
#   VERSION                 image and binary version (default: git describe)
#   SOURCE_DATE_EPOCH       the mtime of every file and the config's created
#                           time (default 0), for reproducible builds
#   GOSENTINEL_TOOLS_DIR    the cache (default /var/cache/gosentinel-tools,
#                           or ~/.cache/gosentinel-tools when that is not
#                           writable); the debs go to its image-debs/
#   GO                      the go command (default: go on PATH, else
#                           /usr/local/go/bin/go)
#   IMAGE_LAYER             also write the image's one layer (a gzipped tar
#                           of its file tree) to this path (the Dockerfile
#                           copies the tree from it)
#   GOSENTINEL_BINARY       a gosentinel binary to put in the image instead
#                           of building one (it must be static: the image
#                           has no Go toolchain's libraries)
#
# The last line of stdout is the tarball's path.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
out=${1:-$repo/bin/gosentinel-image.tar}
case $out in /*) ;; *) out=$PWD/$out ;; esac

go=${GO:-}
if [ -z "$go" ]; then
	go=$(command -v go || echo /usr/local/go/bin/go)
fi
version=${VERSION:-$(git -C "$repo" describe --tags --always --dirty 2>/dev/null || echo dev)}
epoch=${SOURCE_DATE_EPOCH:-0}

# shellcheck source=../../scripts/tools-dir.sh
. "$repo/scripts/tools-dir.sh"
# apt_quiet: apt's output (which names the archive's host) only on failure,
# and then only its error lines with addresses elided.
# shellcheck source=../../scripts/apt-quiet.sh
. "$repo/scripts/apt-quiet.sh"
cache=$tools_dir
debs=$cache/image-debs
mkdir -p "$debs"

# The packages come from this machine's apt index: it must be bookworm's
# (the release the Bitnami image and the chart's scripts are built on).
release=$(. /etc/os-release 2>/dev/null && echo "${ID:-}:${VERSION_CODENAME:-}")
if [ "$release" != debian:bookworm ]; then
	echo "build.sh: this machine's apt index is for ${release:-an unknown release}, not debian:bookworm:" >&2
	echo "build.sh: build on bookworm, or use the Dockerfile" >&2
	exit 1
fi

# The packages and their candidate versions, from one apt-cache call (one
# per package costs half a second each).
packages=()
while read -r pkg _; do
	case $pkg in '' | '#'*) continue ;; esac
	packages+=("$pkg")
done <"$here/packages"
declare -A candidate
load_candidates() {
	candidate=()
	while read -r pkg ver; do
		candidate[$pkg]=$ver
	done < <(apt-cache policy "${packages[@]}" | awk '/^[^ ].*:$/ {sub(/:$/, ""); p = $0} /^ *Candidate:/ {print p, $2}')
}

# refresh_index: apt-get update once, as root, when the index cannot give
# what we need: a fresh machine may have no index at all, and an old index
# names versions the archive no longer serves. Returns 1 when it cannot
# (not root, or already done), so the caller reports its own error.
refreshed=${APT_UPDATED:-}
refresh_index() {
	if [ -n "$refreshed" ] || [ "$(id -u)" != 0 ]; then
		return 1
	fi
	refreshed=1
	echo "build.sh: refreshing the apt index (apt-get update)" >&2
	apt_quiet apt-get update -qq && load_candidates
}

load_candidates
for pkg in "${packages[@]}"; do
	ver=${candidate[$pkg]:-}
	if [ -z "$ver" ] || [ "$ver" = "(none)" ]; then
		refresh_index || true
		break
	fi
done

# deb_file PKG: the cached .deb of PKG's candidate version, downloaded if
# missing. apt-get writes NAME_VERSION_ARCH.deb with the epoch's colon as
# %3a; a download goes to a temp dir first, so an interrupted one never
# looks cached.
deb_file() {
	local pkg=$1 ver=${candidate[$1]:-} f tmp
	if [ -z "$ver" ] || [ "$ver" = "(none)" ]; then
		echo "build.sh: no candidate version of $pkg in the apt index (run apt-get update)" >&2
		return 1
	fi
	for f in "$debs/${pkg}_${ver//:/%3a}_"*.deb; do
		if [ -f "$f" ]; then
			echo "$f"
			return 0
		fi
	done
	tmp=$(mktemp -d "$debs/.download.XXXXXX")
	# As root, apt drops to its _apt user to download, which cannot write
	# into the cache: download as root instead.
	local -a opts=()
	if [ "$(id -u)" = 0 ]; then
		opts=(-o APT::Sandbox::User=root)
	fi
	if ! (cd "$tmp" && apt_quiet apt-get download -qq "${opts[@]}" "$pkg=$ver"); then
		rm -rf "$tmp"
		if refresh_index; then
			deb_file "$pkg"
			return
		fi
		echo "build.sh: apt-get download $pkg=$ver failed" >&2
		return 1
	fi
	f=$(ls "$tmp"/*.deb)
	mv "$f" "$debs/"
	rm -rf "$tmp"
	echo "$pkg" >>"$work/downloaded.txt"
	echo "$debs/$(basename "$f")"
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/debroot"

for pkg in "${packages[@]}"; do
	f=$(deb_file "$pkg")
	dpkg-deb -x "$f" "$work/debroot"
	basename "$f" >>"$work/debs.txt"
done
if [ -s "$work/downloaded.txt" ]; then
	echo "build.sh: downloaded $(wc -l <"$work/downloaded.txt") Debian packages into $debs: $(paste -sd " " "$work/downloaded.txt")" >&2
fi

if [ -n "${GOSENTINEL_BINARY:-}" ]; then
	cp "$GOSENTINEL_BINARY" "$work/gosentinel"
else
	echo "building gosentinel $version" >&2
	(cd "$repo" && CGO_ENABLED=0 "$go" build -trimpath -ldflags "-s -w -X main.version=$version" \
		-o "$work/gosentinel" ./cmd/gosentinel)
fi

mkdir -p "$(dirname "$out")"
(cd "$repo" && "$go" run ./tools/mkimage \
	-debroot "$work/debroot" \
	-files "$here/files" \
	-overlay "$here/rootfs" \
	-binary "$work/gosentinel" \
	-binary-path opt/bitnami/redis-sentinel/bin/gosentinel \
	-debs "$work/debs.txt" \
	-version "$version" \
	-revision "$(git -C "$repo" rev-parse HEAD 2>/dev/null || true)" \
	-epoch "$epoch" \
	${IMAGE_LAYER:+-layer "$IMAGE_LAYER"} \
	-o "$out")
echo "$out"
