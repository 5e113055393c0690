#!/usr/bin/env bash
# make bench: builds gosentinel and the failover benchmark, then compares
# gosentinel with redis-sentinel on this machine (fresh local deployments on
# 127.0.0.1, stopped by pid). Arguments go to the benchmark, e.g.
#   scripts/bench.sh -runs 5 -v
#   scripts/bench.sh -runs 5 -spurious-runs 25
#   scripts/bench.sh -runs 5 -fresh=false    (settled deployments only)
# Not a test: it prints medians and ratios, it does not judge them.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
go=${GO:-go}

command -v redis-server >/dev/null || { echo "redis-server missing: run 'make deps' (as root)"; exit 1; }
command -v redis-sentinel >/dev/null || { echo "redis-sentinel missing: run 'make deps' (as root)"; exit 1; }

mkdir -p bin
"${MAKE:-make}" --no-print-directory build GO="$go"
"$go" build -o bin/bench-failover ./bench/failover
exec bin/bench-failover "$@"
