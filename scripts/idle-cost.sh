#!/usr/bin/env bash
# idle-cost.sh BIN_A BIN_B [WINDOWS] [SECONDS]: the cost of an idle sentinel
# group, two builds side by side. Each build gets its own redis-server
# master and three gosentinels on 127.0.0.1 (ports below 32768); once both
# groups have formed, the script prints, for WINDOWS windows of SECONDS
# each, every sentinel's Raft role, CPU (% of a core, utime+stime from
# /proc/PID/stat) and context switches a second (voluntary and involuntary,
# summed over /proc/PID/task/*/status), and each set's total CPU.
#
# Both sets are measured over the same windows because a VM's CPU
# accounting can move by a factor of two from one window to the next, for
# every process alike (docs/RESULTS.md, "Issue 12, 2026-12-05 20:15 UTC").
# Everything runs in a temp dir and is stopped by pid on exit.
set -euo pipefail

[ $# -ge 2 ] || { echo "usage: $0 BIN_A BIN_B [WINDOWS] [SECONDS]" >&2; exit 2; }
bins=("$1" "$2")
windows=${3:-4}
secs=${4:-30}
for b in "${bins[@]}"; do [ -x "$b" ] || { echo "$b: not an executable" >&2; exit 2; }; done
command -v redis-server >/dev/null || { echo "redis-server missing (scripts/install-debs.sh)" >&2; exit 1; }
command -v redis-cli >/dev/null || { echo "redis-cli missing (scripts/install-debs.sh)" >&2; exit 1; }

work=$(mktemp -d /tmp/gosentinel-idle.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

hz=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
switches() { cat /proc/"$1"/task/*/status 2>/dev/null | awk '/ctxt_switches/ {s+=$2} END {print s+0}'; }
pong() { redis-cli -p "$1" PING 2>/dev/null | grep -q PONG; }
wait_for() { # what, command...: poll every 0.2 s for 30 s
	local what=$1; shift
	for _ in $(seq 1 150); do "$@" && return 0; sleep 0.2; done
	echo "timed out waiting for $what" >&2
	exit 1
}

declare -A spid sport
for set in 0 1; do
	mport=$((16500 + 10 * set))
	redis-server --port "$mport" --bind 127.0.0.1 --save '' --appendonly no \
		--dir "$work" --logfile "$work/redis-$set.log" &
	pids+=($!)
	wait_for "redis on $mport" pong "$mport"
	for i in 1 2 3; do
		port=$((26500 + 10 * set + i))
		dir="$work/set$set/s$i"
		mkdir -p "$dir"
		cat >"$dir/sentinel.conf" <<CONF
port $port
bind 127.0.0.1
dir $dir
sentinel monitor m 127.0.0.1 $mport 2
sentinel down-after-milliseconds m 5000
CONF
		"${bins[$set]}" "$dir/sentinel.conf" --logfile "$dir/log.txt" &
		pids+=($!)
		spid[$set$i]=$!
		sport[$set$i]=$port
	done
done
formed() { [ "$(grep -l 'Sentinel Raft group active' "$work"/set*/s*/log.txt 2>/dev/null | wc -l)" = 6 ]; }
wait_for "both groups to form" formed
# The first seconds after forming carry the discovery's proposals and
# config rewrites; the windows measure the rest.
sleep 20

for w in $(seq 1 "$windows"); do
	declare -A c0 s0
	for k in "${!spid[@]}"; do c0[$k]=$(cpu_ticks "${spid[$k]}"); s0[$k]=$(switches "${spid[$k]}"); done
	sleep "$secs"
	for set in 0 1; do
		line="window $w ${bins[$set]}:"
		total=0
		for i in 1 2 3; do
			k=$set$i
			dc=$(( $(cpu_ticks "${spid[$k]}") - c0[$k] ))
			ds=$(( $(switches "${spid[$k]}") - s0[$k] ))
			role=$(redis-cli -p "${sport[$k]}" INFO raft | tr -d '\r' | sed -n 's/^raft_state://p')
			total=$((total + dc))
			line+=" ${role:-?} $(awk -v t="$dc" -v hz="$hz" -v s="$secs" 'BEGIN {printf "%.2f", 100*t/hz/s}')% $((ds / secs))cs/s"
		done
		echo "$line; set $(awk -v t="$total" -v hz="$hz" -v s="$secs" 'BEGIN {printf "%.2f", 100*t/hz/s}')%"
	done
done
