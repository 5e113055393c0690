#!/usr/bin/env bash
# Captures sentinel/captured/8.0 from redis-sentinel 8.0.2, built from
# Debian 13's source package by scripts/build-redis8.sh (cached after the
# first build). Run by `go generate ./sentinel/` from sentinel/.
set -euo pipefail
root="$(bash ../scripts/build-redis8.sh | tail -1)"
exec go run ./internal/gen -sentinel "$root/bin/redis-sentinel" -out captured/8.0
