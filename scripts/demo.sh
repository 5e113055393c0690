#!/usr/bin/env bash
# make demo: a local master, two replicas and three gosentinels on 127.0.0.1,
# then the sentinels' view of them. Everything runs in a temp dir and is
# stopped (by pid) on exit; the dir is removed after a run that succeeded
# (DEMO_KEEP=1 keeps it) and kept, with its path printed, after one that
# failed. Each process started is checked to be running and answering on
# its port; a process that exits or a wait that times out fails the demo
# with its log's last lines. A port already in use stops it before it
# starts anything (DEMO_PORT_OFFSET=N moves the six ports by N).
# DEMO_WAIT=1 leaves everything running until Ctrl-C.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/bin/gosentinel"
command -v redis-server >/dev/null || { echo "redis-server missing: run 'make demo' as root, which installs it" >&2; exit 1; }
[ -x "$bin" ] || { echo "$bin missing: run 'make build'" >&2; exit 1; }

# Ports below 32768 stay clear of the kernel's ephemeral range;
# DEMO_PORT_OFFSET moves all six (when one is taken by something else).
off=${DEMO_PORT_OFFSET:-0}
mport=$((16379 + off)); r1=$((16380 + off)); r2=$((16381 + off))
sports=($((26479 + off)) $((26480 + off)) $((26481 + off)))
for p in $mport $r1 $r2 "${sports[@]}"; do
	if [ "$p" -lt 1024 ] || [ "$p" -ge 32768 ]; then
		echo "demo: port $p is outside 1024-32767: choose another DEMO_PORT_OFFSET" >&2
		exit 1
	fi
	# Something answers on 127.0.0.1:$p: the demo would talk to it.
	if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
		echo "demo: port $p is already in use on 127.0.0.1 (the demo uses $mport-$r2 and ${sports[0]}-${sports[2]}): stop what listens there, or run with DEMO_PORT_OFFSET=N to move all six ports by N" >&2
		exit 1
	fi
done

work=$(mktemp -d /tmp/gosentinel-demo.XXXXXX)
pids=()
declare -A pid_of log_of # by port
cleanup() {
	local rc=$?
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	if [ "$rc" = 0 ] && [ -z "${DEMO_KEEP:-}" ]; then
		rm -rf "$work"
		echo "demo stopped; its directory $work is removed (DEMO_KEEP=1 keeps it)"
	else
		echo "demo stopped; its logs are in $work (remove it when done: rm -rf $work)"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# fail MESSAGE [PORT...]: the reason, then the last lines of the named
# processes' logs, and exit 1.
fail() {
	echo "demo failed: $1" >&2
	shift
	for p in "$@"; do
		echo "-- last lines of ${log_of[$p]}:" >&2
		tail -n 15 "${log_of[$p]}" >&2 2>/dev/null || true
	done
	exit 1
}
# check_alive: every process started is still running.
check_alive() {
	local p
	for p in "${!pid_of[@]}"; do
		kill -0 "${pid_of[$p]}" 2>/dev/null || fail "the process for port $p (pid ${pid_of[$p]}) exited" "$p"
	done
}

start_redis() { # port [replicaof-port]
	local args=(--port "$1" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" --logfile "$work/redis-$1.log")
	[ $# -gt 1 ] && args+=(--replicaof 127.0.0.1 "$2")
	redis-server "${args[@]}" &
	pids+=($!); pid_of[$1]=$!; log_of[$1]=$work/redis-$1.log
}
# wait_up PORT: the process started for PORT is running and is the one
# answering on it (INFO's process_id), within 10 s.
wait_up() {
	local deadline=$((SECONDS + 10)) id
	while :; do
		check_alive
		id=$(redis-cli -p "$1" INFO server 2>/dev/null | tr -d '\r' | sed -n 's/^process_id://p' || true)
		[ "$id" = "${pid_of[$1]}" ] && return 0
		[ -n "$id" ] && fail "port $1 is answered by pid $id, not by the demo's pid ${pid_of[$1]}" "$1"
		[ "$SECONDS" -lt "$deadline" ] || fail "port $1 did not answer within 10 s" "$1"
		sleep 0.1
	done
}

start_redis $mport; wait_up $mport
start_redis $r1 $mport; start_redis $r2 $mport
wait_up $r1; wait_up $r2

for p in "${sports[@]}"; do
	mkdir -p "$work/s$p"
	cat > "$work/s$p/sentinel.conf" <<CONF
port $p
bind 127.0.0.1
dir $work/s$p
sentinel monitor mymaster 127.0.0.1 $mport 2
sentinel down-after-milliseconds mymaster 2000
sentinel failover-timeout mymaster 10000
CONF
	"$bin" "$work/s$p/sentinel.conf" --logfile "$work/s$p/log.txt" &
	pids+=($!); pid_of[$p]=$!; log_of[$p]=$work/s$p/log.txt
done
for p in "${sports[@]}"; do wait_up "$p"; done

echo "waiting for the sentinels to discover 2 replicas and 2 peers each..."
s=${sports[0]}
deadline=$((SECONDS + 30))
until redis-cli -p "$s" INFO sentinel | grep -q 'slaves=2,sentinels=3'; do
	check_alive
	[ "$SECONDS" -lt "$deadline" ] ||
		fail "after 30 s sentinel $s still sees: $(redis-cli -p "$s" INFO sentinel | tr -d '\r' | grep '^master0:')" "${sports[@]}"
	sleep 0.2
done

echo "waiting for the three to form their Raft group..."
deadline=$((SECONDS + 30))
while :; do
	waiting=()
	for p in "${sports[@]}"; do grep -q 'Sentinel Raft group active' "$work/s$p/log.txt" || waiting+=("$p"); done
	[ ${#waiting[@]} = 0 ] && break
	check_alive
	[ "$SECONDS" -lt "$deadline" ] || fail "after 30 s the Raft group is not active on sentinel(s) ${waiting[*]}" "${waiting[@]}"
	sleep 0.2
done
# The three logs' lines in time order ("PID:X DD Mon YYYY HH:MM:SS.mmm ...").
grep -h -E 'configuration chosen|Bootstrapping|Joined the Sentinel Raft group' "$work"/s*/log.txt |
	sed 's/^[0-9]*:X //' | LC_ALL=C sort -s -k3,3n -k2,2M -k1,1n -k4,4
echo; echo "== redis-cli -p $s INFO raft"
redis-cli -p "$s" INFO raft

echo; echo "== redis-cli -p $s SENTINEL get-master-addr-by-name mymaster"
redis-cli -p "$s" SENTINEL get-master-addr-by-name mymaster
echo; echo "== redis-cli -p $s SENTINEL MASTER mymaster"
redis-cli -p "$s" SENTINEL MASTER mymaster | paste - -
echo; echo "== SENTINEL REPLICAS mymaster (name flags)"
redis-cli -p "$s" SENTINEL REPLICAS mymaster | paste - - | grep -E '^(name|flags)' | paste - -
echo; echo "== SENTINEL SENTINELS mymaster (ip port)"
redis-cli -p "$s" SENTINEL SENTINELS mymaster | paste - - | grep -E '^(ip|port)' | paste - -
echo; echo "== INFO sentinel"
redis-cli -p "$s" INFO sentinel
echo; echo "== events seen by sentinel $s"
grep -E ' [+-][a-z-]+ ' "$work/s$s/log.txt" | head -20

echo; echo "== killing the master (port $mport) with SIGKILL; down-after-milliseconds is 2000"
# Killed and reaped with the shell's stderr closed: bash reports a job
# killed by a signal ("line N: PID Killed redis-server ...") as soon as it
# notices.
t0=$(date +%s%N)
{ kill -9 "${pid_of[$mport]}"; wait "${pid_of[$mport]}" || true; } 2>/dev/null
unset "pid_of[$mport]"
for _ in $(seq 1 300); do
	check_alive
	addr=$(redis-cli -p "$s" SENTINEL get-master-addr-by-name mymaster | tail -1)
	[ "$addr" != "$mport" ] && break
	sleep 0.05
done
t1=$(date +%s%N)
if [ "$addr" = "$mport" ]; then
	fail "no failover: the sentinels still name port $mport 15 s after the kill" "${sports[@]}"
fi
echo "new master port: $addr (announced $(( (t1 - t0) / 1000000 )) ms after the kill)"
deadline=$((SECONDS + 10))
until grep -q 'failover-end' "$work"/s*/log.txt 2>/dev/null; do
	check_alive
	[ "$SECONDS" -lt "$deadline" ] || fail "no sentinel logged +failover-end within 10 s of the new master's announcement" "${sports[@]}"
	sleep 0.1
done
leader=$(grep -l 'elected-leader' "$work"/s*/log.txt | head -1)
[ -n "$leader" ] || fail "no sentinel logged +elected-leader" "${sports[@]}"
echo; echo "== failover events on the Raft leader ($leader)"
grep -E ' [+-](sdown|odown|new-epoch|try-failover|vote-for-leader|elected-leader|failover-state-[a-z-]+|selected-slave|promoted-slave|slave-reconf-[a-z]+|failover-end|switch-master|convert-to-slave) ' "$leader" | sed 's/^[0-9]*:X //'
echo; echo "== +switch-master as published by every sentinel"
grep -h 'switch-master' "$work"/s*/log.txt | sed 's/^[0-9]*:X //'
echo; echo "== redis-cli -p $addr ROLE"
role=$(redis-cli -p "$addr" ROLE | head -1)
echo "$role"
[ "$role" = master ] || { echo "the new master answers ROLE $role" >&2; exit 1; }

if [ "${DEMO_WAIT:-0}" = 1 ]; then
	echo; echo "running; press Ctrl-C to stop"
	wait
fi
