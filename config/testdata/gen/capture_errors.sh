#!/bin/bash
# Captures redis-sentinel 7.0.15's stderr for every testdata/errors/*.conf into *.err.
# Each case runs in a scratch copy of the file, from the errors directory, with --port 21299
# appended like the tests do, and is killed after 3 s if it does not fail.
set -u
cd "$(dirname "$0")/../errors"
for f in *.conf; do
  n=${f%.conf}
  tmp=$(mktemp -d)
  cp "$f" "$tmp/$f"
  (cd "$tmp" && timeout 3 redis-sentinel "./$f" --port 21299 >/dev/null 2>"$tmp/err"; echo $? > "$tmp/rc")
  cp "$tmp/err" "$n.err"
  echo "$n rc=$(cat $tmp/rc)"
  rm -rf "$tmp"
done
