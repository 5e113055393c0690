#!/bin/bash
# Captures redis-sentinel 7.0.15 rewrites for every testdata/golden/<case>/:
#   input.conf     the file the sentinel starts with
#   commands.txt   redis-cli commands run in order once it answers PING (each may flush)
#   overrides.txt  optional: one `--name args...` override per line (words as in a config line)
#   mkdirs         optional: directories to create next to the config before starting
# and writes port (the --port override used, always first) and expected.conf (the file after
# SIGTERM, with the scratch directory replaced by @DIR@). Uses ports 21300.. on 127.0.0.1.
set -u
cd "$(dirname "$0")/../golden"
port=21300
for d in */; do
  d=${d%/}
  port=$((port+1))
  tmp=$(mktemp -d)
  tmp=$(cd "$tmp" && pwd -P)
  cp "$d/input.conf" "$tmp/sentinel.conf"
  [ -f "$d/mkdirs" ] && (cd "$tmp" && xargs mkdir -p < "$OLDPWD/$d/mkdirs")
  args=(--port "$port")
  if [ -f "$d/overrides.txt" ]; then
    while read -r line; do
      eval "set -- $line"
      args+=("--$1"); shift
      for a in "$@"; do args+=("$a"); done
    done < "$d/overrides.txt"
  fi
  (cd "$tmp" && exec redis-sentinel ./sentinel.conf "${args[@]}" >/dev/null 2>"$tmp/err") &
  pid=$!
  for i in $(seq 100); do redis-cli -p $port ping >/dev/null 2>&1 && break; sleep 0.05; done
  while read -r cmd; do
    [ -z "$cmd" ] && continue
    eval "redis-cli -p $port $cmd" >> "$tmp/cli.txt" 2>&1
  done < "$d/commands.txt"
  kill $pid; wait $pid 2>/dev/null
  echo "$port" > "$d/port"
  sed "s#$tmp#@DIR@#g" "$tmp/sentinel.conf" > "$d/expected.conf"
  echo "== $d (port $port)"; cat "$tmp/err" "$tmp/cli.txt"
  rm -rf "$tmp"
done
