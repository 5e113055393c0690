#!/usr/bin/env bash
# Checks that third_party/raft is hashicorp/raft at the version its README
# names, plus third_party/raft.patch and nothing else: the copy exists only
# to carry that patch (third_party/README.md lists its changes: a data race
# raft v1.7.3 has on a re-addressed server, upstream issue #681; no idle
# AppendEntries or looks for a follower that already has the commit index;
# heartbeats to every follower together; 16 KB connection buffers; a term
# that cannot be saved refused instead of a panic; an append that cannot be
# stored answered as an error, not as a mismatch; a snapshot's state file
# closed when its flush fails).
set -euo pipefail
cd "$(dirname "$0")/.."
version=v1.7.3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Outside our module, so that go.mod's replace does not apply.
dir=$(cd "$work" && GOFLAGS= go mod download -json "github.com/hashicorp/raft@$version" |
	sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
[ -d "$dir" ] || { echo "check-raft-patch: hashicorp/raft $version not downloaded" >&2; exit 1; }
mkdir -p "$work/want/bench"
(cd "$dir" && cp LICENSE go.mod $(ls *.go | grep -v '_test\.go$') "$work/want/")
cp "$dir"/bench/bench.go "$work/want/bench/"
chmod -R u+w "$work/want"
git apply --directory="$work/want" --unsafe-paths -p1 third_party/raft.patch
if ! diff -r "$work/want" third_party/raft; then
	echo "check-raft-patch: third_party/raft is not hashicorp/raft $version + third_party/raft.patch" >&2
	exit 1
fi
echo "check-raft-patch: third_party/raft is hashicorp/raft $version + third_party/raft.patch"
