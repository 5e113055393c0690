#!/usr/bin/env bash
# make demo: a local master, two replicas and three gosentinels on 127.0.0.1,
# then the sentinels' view of them. Everything runs in a temp dir and is
# stopped (by pid) on exit.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/bin/gosentinel"
work=$(mktemp -d /tmp/gosentinel-demo.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	echo "demo stopped; logs were in $work"
}
trap cleanup EXIT INT TERM

command -v redis-server >/dev/null || { echo "redis-server missing: run 'make demo' as root, which installs it"; exit 1; }
[ -x "$bin" ] || { echo "$bin missing: run 'make build'"; exit 1; }

# Ports below 32768 stay clear of the kernel's ephemeral range.
mport=16379; r1=16380; r2=16381; sports=(26479 26480 26481)

start_redis() { # port [replicaof-port]
	local args=(--port "$1" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" --logfile "$work/redis-$1.log")
	[ $# -gt 1 ] && args+=(--replicaof 127.0.0.1 "$2")
	redis-server "${args[@]}" & pids+=($!)
}
wait_ping() { # port
	for _ in $(seq 1 100); do redis-cli -p "$1" PING >/dev/null 2>&1 && return 0; sleep 0.1; done
	echo "port $1 did not answer PING"; exit 1
}

start_redis $mport; wait_ping $mport
start_redis $r1 $mport; start_redis $r2 $mport
wait_ping $r1; wait_ping $r2

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
	"$bin" "$work/s$p/sentinel.conf" --logfile "$work/s$p/log.txt" & pids+=($!)
done
for p in "${sports[@]}"; do wait_ping "$p"; done

echo "waiting for the sentinels to discover 2 replicas and 2 peers each..."
s=${sports[0]}
for _ in $(seq 1 150); do
	redis-cli -p "$s" INFO sentinel | grep -q 'slaves=2,sentinels=3' && break
	sleep 0.2
done

echo "waiting for the three to form their Raft group..."
for _ in $(seq 1 150); do
	n=0
	for p in "${sports[@]}"; do grep -q 'Sentinel Raft group active' "$work/s$p/log.txt" && n=$((n+1)); done
	[ "$n" = 3 ] && break
	sleep 0.2
done
grep -h -E 'configuration chosen|Bootstrapping|Joined the Sentinel Raft group' "$work"/s*/log.txt | sed 's/^[0-9]*:X //'
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
kill -9 "${pids[0]}"
t0=$(date +%s%N)
for _ in $(seq 1 300); do
	addr=$(redis-cli -p "$s" SENTINEL get-master-addr-by-name mymaster | tail -1)
	[ "$addr" != "$mport" ] && break
	sleep 0.05
done
t1=$(date +%s%N)
if [ "$addr" = "$mport" ]; then
	echo "no failover: the sentinels still name port $mport 15 s after the kill" >&2
	exit 1
fi
echo "new master port: $addr (announced $(( (t1 - t0) / 1000000 )) ms after the kill)"
for _ in $(seq 1 100); do
	grep -q 'failover-end' "$work"/s*/log.txt 2>/dev/null && break
	sleep 0.1
done
leader=$(grep -l 'elected-leader' "$work"/s*/log.txt | head -1)
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
