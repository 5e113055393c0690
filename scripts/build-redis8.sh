#!/usr/bin/env bash
# Builds Redis 8.0.2 (redis-server and redis-sentinel) from Debian 13's
# source package `redis`, and prints the directory holding the binaries
# (bin/) and the unpacked source tree (with tests/) as its last line of
# stdout. It is the reference for the 8.0 compatibility profile: the
# captured tables of sentinel/captured/8.0, the 8.0.2 official Sentinel
# suite (test/sentinel-suite.sh REDIS=8.0) and the comparisons.
#
# The source comes from a deb-src entry for trixie derived from this
# machine's own apt sources (the first entry naming bookworm), used through
# a private apt state dir: the system's apt config is untouched and no host
# name is written anywhere. Only the orig tarball is needed (the Debian part
# may be missing from the archive). Built without modules, TLS or systemd,
# with -j2; idempotent: a finished build is reused, and a build goes to a
# temp dir renamed into place.
#
#   GOSENTINEL_TOOLS_DIR  the cache (default /var/cache/gosentinel-tools,
#                         or ~/.cache/gosentinel-tools when not writable)
set -euo pipefail

version=8.0.2
# shellcheck source=tools-dir.sh
. "$(dirname "$0")/tools-dir.sh"
dir=$tools_dir
out="$dir/redis-$version"
if [ -x "$out/bin/redis-sentinel" ] && [ -x "$out/bin/redis-server" ] && [ -d "$out/src/tests/sentinel" ]; then
	echo "$out"
	exit 0
fi

die() {
	echo "build-redis8: $*" >&2
	exit 2
}
for tool in gcc make apt-get tar; do
	command -v "$tool" >/dev/null 2>&1 || die "missing $tool"
done

# --- the orig tarball ---------------------------------------------------------
apt_dir="$dir/apt-trixie"
dl="$dir/dl"
tarball="$dl/redis_$version.orig.tar.gz"
if [ ! -f "$tarball" ]; then
	mkdir -p "$apt_dir/sources.list.d" "$apt_dir/lists/partial" "$dl"
	if [ -f /etc/apt/sources.list.d/debian.sources ]; then
		src=/etc/apt/sources.list.d/debian.sources
		# The first deb822 stanza that names bookworm, as deb-src for trixie.
		awk 'BEGIN { RS = ""; ORS = "\n\n" } /Suites:[^\n]*bookworm/ { print; exit }' "$src" |
			sed -e 's/^Types: .*/Types: deb-src/' -e 's/^Suites: .*/Suites: trixie/' \
				>"$apt_dir/sources.list.d/trixie-src.sources"
	elif [ -f /etc/apt/sources.list ]; then
		src=/etc/apt/sources.list
		awk '$1 == "deb" && $3 == "bookworm" { $1 = "deb-src"; $3 = "trixie"; print; exit }' "$src" \
			>"$apt_dir/sources.list.d/trixie-src.list"
	else
		die "no apt sources file to derive a deb-src entry from"
	fi
	opts=(-o Dir::Etc::SourceList=/dev/null
		-o "Dir::Etc::SourceParts=$apt_dir/sources.list.d"
		-o "Dir::State::Lists=$apt_dir/lists")
	echo "fetching Debian 13's source package redis (deb-src derived from $src)" >&2
	apt-get -q "${opts[@]}" update >&2 || die "apt-get update (trixie deb-src) failed"
	# The .dsc or the Debian part may be gone from the archive while the
	# orig tarball is still there: apt-get then fails after fetching it.
	(cd "$dl" && apt-get -q "${opts[@]}" source --download-only redis/trixie >&2) || true
	[ -f "$tarball" ] || die "redis_$version.orig.tar.gz not fetched"
fi

# --- build ----------------------------------------------------------------------
tmp="$(mktemp -d "$dir/redis-$version.build.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
tar -C "$tmp" -xzf "$tarball"
srcdir="$tmp/redis-$version"
[ -d "$srcdir/tests/sentinel" ] || die "no tests/sentinel in $tarball"
echo "building redis $version (a few minutes on 2 cores)" >&2
make -C "$srcdir" -j2 BUILD_TLS=no USE_SYSTEMD=no MALLOC=libc redis-server >"$tmp/build.log" 2>&1 ||
	{ tail -30 "$tmp/build.log" >&2; die "make failed"; }
mkdir -p "$tmp/out/bin"
cp "$srcdir/src/redis-server" "$tmp/out/bin/redis-server"
# redis-sentinel is redis-server under another name, as in the package.
ln -s redis-server "$tmp/out/bin/redis-sentinel"
# Keep the pristine tests (no build products) for the official suite.
tar -C "$tmp" -xzf "$tarball" --transform "s|^redis-$version|out/src|" "redis-$version/tests"
rm -rf "$out"
mv "$tmp/out" "$out"
echo "$out"
