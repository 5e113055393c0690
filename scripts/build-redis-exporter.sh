#!/usr/bin/env bash
# Builds redis_exporter (github.com/oliver006/redis_exporter), the Prometheus
# exporter the system test test/exporter_test.go points at gosentinel, and
# prints the path of the binary as its last line of stdout.
#
# The exporter is a tool, not a dependency: it is built from its own module
# (taken from the Go module proxy like any module) in the module cache, so
# it never enters our go.mod. Idempotent: a binary already in the cache is
# reused; a build goes to a temp file first and is renamed into place, so an
# interrupted or concurrent build never leaves a half-written binary.
#
#   REDIS_EXPORTER_VERSION  the pinned version (default below)
#   GOSENTINEL_TOOLS_DIR    the cache (default /var/cache/gosentinel-tools,
#                           or ~/.cache/gosentinel-tools when that is not
#                           writable)
#   GO                      the go command (default: go on PATH, else
#                           /usr/local/go/bin/go)
set -euo pipefail

version=${REDIS_EXPORTER_VERSION:-v1.88.0}
module=github.com/oliver006/redis_exporter

# shellcheck source=tools-dir.sh
. "$(dirname "$0")/tools-dir.sh"
dir=$tools_dir
bin="$dir/redis_exporter-$version"

if [ -x "$bin" ]; then
	echo "$bin"
	exit 0
fi

go=${GO:-}
if [ -z "$go" ]; then
	go=$(command -v go || echo /usr/local/go/bin/go)
fi

# Work outside any module or workspace so that nothing here can touch our
# go.mod/go.sum. `go install module@version` is not used: it asks the proxy
# for the module's version list (to report deprecation), which the proxy
# here refuses for this module; an exact version is served.
work=$(mktemp -d)
tmp="$dir/.redis_exporter-$version.$$"
trap 'rm -rf "$work" "$tmp"' EXIT
cd "$work"
export GOWORK=off GO111MODULE=on

echo "building $module@$version with $("$go" version)" >&2
# On failure the reason is in the JSON's "Error" field, on stdout.
if ! info=$("$go" mod download -json "$module@$version"); then
	echo "go mod download $module@$version failed:" >&2
	echo "$info" >&2
	exit 1
fi
src=$(printf '%s\n' "$info" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
if [ -z "$src" ] || [ ! -f "$src/go.mod" ]; then
	echo "go mod download $module@$version gave no source directory:" >&2
	echo "$info" >&2
	exit 1
fi

# The module's own go.mod and go.sum pin its dependencies; -trimpath keeps
# the cache path out of the binary. BuildVersion is what --version prints.
(cd "$src" && "$go" build -trimpath -o "$tmp" \
	-ldflags "-X main.BuildVersion=$version -X main.BuildCommitSha=module-proxy -X main.BuildDate=unknown" .)
mv -f "$tmp" "$bin"
echo "$bin"
