#!/usr/bin/env bash
# The sentinel-facing steps of the Bitnami `redis` chart (architecture=
# replication, sentinel.enabled=true, auth.enabled=true, auth.sentinel=true)
# replayed on 127.0.0.1 against real processes, for test/bitnami_test.go.
# Written from the chart's documented behaviour (shared/docs/
# clients-and-deploy.md section 5), not copied from the chart.
#
#   bash chart-steps.sh <step>
#
# Each step does what the named chart script does with redis-cli, awk, sed
# and grep, and prints what the script goes on to use as key=value lines on
# stdout (diagnostics go to stderr). Its exit status is the script's.
#
# Differences forced by running every "pod" on one host: a pod is a redis
# port plus a sentinel port on 127.0.0.1, and where the chart compares a
# host name with its own FQDN ("am I the master?") we compare host:port.
# The Kubernetes Service is the endpoint SERVICE_SENTINEL_PORT, chosen by
# the caller; the headless service's DNS answers are PODS.
#
# Environment (all required unless a default is given):
#   REDIS_CLI            redis-cli (default: redis-cli on PATH)
#   MASTER_SET           sentinel.masterSet (default mymaster)
#   QUORUM DOWN_AFTER_MS FAILOVER_TIMEOUT_MS PARALLEL_SYNCS
#                        sentinel.* values (defaults 2 60000 180000 1)
#   REDIS_PASSWORD       auth.password: data nodes and sentinels
#   POD_NAME             this pod's host name (its sentinel myid is its sha1)
#   REDIS_PORT           this pod's redis port
#   REDIS_SENTINEL_PORT  this pod's sentinel port
#   SERVICE_SENTINEL_PORT the sentinel the Service sends this call to
#   PODS                 "name:redisport:sentinelport ..." of the pods whose
#                        names resolve (those that exist, this one included)
#   SENTINEL_ETC         /opt/bitnami/redis-sentinel/etc of this pod
#   MOUNTED_ETC          /opt/bitnami/redis-sentinel/mounted-etc (ConfigMap)
#   GRACE_SECONDS        sentinel.terminationGracePeriodSeconds (default 30)
#   PAUSE_MS             CLIENT PAUSE of the master's preStop (default 22000)
#   USER_CONFIG          sentinel.configuration, free text (default empty)
#   POD_TMP              the pod's /tmp (an emptyDir under a read-only root;
#                        default /tmp), the config's dir
set -uo pipefail

REDIS_CLI=${REDIS_CLI:-redis-cli}
MASTER_SET=${MASTER_SET:-mymaster}
QUORUM=${QUORUM:-2}
DOWN_AFTER_MS=${DOWN_AFTER_MS:-60000}
FAILOVER_TIMEOUT_MS=${FAILOVER_TIMEOUT_MS:-180000}
PARALLEL_SYNCS=${PARALLEL_SYNCS:-1}
GRACE_SECONDS=${GRACE_SECONDS:-30}
PAUSE_MS=${PAUSE_MS:-22000}
USER_CONFIG=${USER_CONFIG:-}
POD_TMP=${POD_TMP:-/tmp}
POD_HOST=127.0.0.1

log() { echo "chart-steps[$POD_NAME]: $*" >&2; }

# retry_while CMD [RETRIES [SLEEP]]: runs CMD until it succeeds, at most
# RETRIES times, SLEEP seconds apart (the Bitnami libos.sh contract).
retry_while() {
	local cmd=$1 retries=${2:-12} sleep_time=${3:-5} i
	for ((i = 1; i <= retries; i++)); do
		if $cmd; then
			return 0
		fi
		((i < retries)) && sleep "$sleep_time"
	done
	return 1
}

# host_id NAME: the 40-hex myid the chart derives from a host name.
host_id() {
	if command -v openssl >/dev/null; then
		echo "$1" | openssl sha1 | awk '{print $NF}'
	else
		echo "$1" | sha1sum | awk '{print $1}'
	fi
}

# service_cli ARGS: redis-cli to the Service, authenticating with -a as the
# start scripts do (the -a warning goes to the container log, stderr).
service_cli() {
	"$REDIS_CLI" -a "$REDIS_PASSWORD" -h "$POD_HOST" -p "$SERVICE_SENTINEL_PORT" "$@"
}

# local_sentinel_cli / local_redis_cli ARGS: redis-cli to this pod's own
# sentinel or redis, authenticated through REDISCLI_AUTH as the preStop
# hooks and probes do.
local_sentinel_cli() { REDISCLI_AUTH=$REDIS_PASSWORD "$REDIS_CLI" -p "$REDIS_SENTINEL_PORT" "$@"; }
local_redis_cli() { REDISCLI_AUTH=$REDIS_PASSWORD "$REDIS_CLI" -h 127.0.0.1 -p "$REDIS_PORT" "$@"; }

# other_pods_exist: the headless service resolves to someone besides us.
other_pods_exist() {
	local p
	for p in $PODS; do
		[[ ${p%%:*} != "$POD_NAME" ]] && return 0
	done
	return 1
}

# ask_service_for_master: sets MASTER_HOST/MASTER_PORT from the Service's
# GET-MASTER-ADDR-BY-NAME, read as the chart does: word-split into an
# array. Fails only when redis-cli fails (it exits 0 on a null or an error
# reply, which then shows up as a bad host or port).
ask_service_for_master() {
	local out
	out=$(timeout 90 "$REDIS_CLI" -a "$REDIS_PASSWORD" -h "$POD_HOST" -p "$SERVICE_SENTINEL_PORT" \
		sentinel get-master-addr-by-name "$MASTER_SET" 2>/dev/null) || return 1
	local -a info=($out)
	MASTER_HOST=${info[0]:-}
	MASTER_PORT=${info[1]:-}
	log "Service sentinel $SERVICE_SENTINEL_PORT answered master (${MASTER_HOST},${MASTER_PORT})"
}

# require_master_addr: the start scripts' guard against a null or error
# reply (an empty host or a non-numeric port crash-loops the pod).
require_master_addr() {
	if [[ -z $MASTER_HOST || ! $MASTER_PORT =~ ^[0-9]+$ ]]; then
		log "Redis master host is configured incorrectly (${MASTER_HOST},${MASTER_PORT})"
		echo "error=master-misconfigured"
		exit 1
	fi
}

# step_render_configmap: what Helm renders into the ConfigMap key
# sentinel.conf (mounted at mounted-etc), monitoring pod 0 at first. The
# chart writes dir "/tmp": the pod's own /tmp, here POD_TMP.
step_render_configmap() {
	local first=${PODS%% *}
	local rest=${first#*:}
	mkdir -p "$MOUNTED_ETC"
	cat >"$MOUNTED_ETC/sentinel.conf" <<-EOF
		dir "$POD_TMP"
		port $REDIS_SENTINEL_PORT
		sentinel monitor $MASTER_SET $POD_HOST ${rest%%:*} $QUORUM
		sentinel down-after-milliseconds $MASTER_SET $DOWN_AFTER_MS
		sentinel failover-timeout $MASTER_SET $FAILOVER_TIMEOUT_MS
		sentinel parallel-syncs $MASTER_SET $PARALLEL_SYNCS
		# User-supplied sentinel configuration:
		$USER_CONFIG
		# End of sentinel configuration
	EOF
	echo "conf=$MOUNTED_ETC/sentinel.conf"
}

# step_start_node: the redis container's start-node.sh decision: the only
# pod is the master, any other starts as --replicaof the Service's master.
step_start_node() {
	if ! other_pods_exist; then
		echo "mode=master"
		return 0
	fi
	if ! retry_while ask_service_for_master 2 5; then
		log "no sentinel behind the Service answered"
		echo "error=service-unreachable"
		return 1
	fi
	require_master_addr
	echo "mode=replica"
	echo "master_host=$MASTER_HOST"
	echo "master_port=$MASTER_PORT"
}

# step_start_sentinel: start-sentinel.sh up to its exec: copy the mounted
# config, append auth-pass, requirepass and myid (printf "\n..." leaves no
# final newline), find the master (self when alone, else the Service, else
# the previous sentinel.conf), rewrite the monitor line in place, add
# known-sentinel / known-replica lines for the pods that resolve (each
# echoed after a newline, so all but the first follow a blank line), then
# the announce settings.
step_start_sentinel() {
	local conf=$SENTINEL_ETC/sentinel.conf prepare=$SENTINEL_ETC/prepare-sentinel.conf
	mkdir -p "$SENTINEL_ETC"
	cp "$MOUNTED_ETC/sentinel.conf" "$prepare"
	printf '\nsentinel auth-pass %s %s' "$MASTER_SET" "$REDIS_PASSWORD" >>"$prepare"
	printf '\nrequirepass %s' "$REDIS_PASSWORD" >>"$prepare"
	printf '\nsentinel myid %s' "$(host_id "$POD_NAME")" >>"$prepare"

	if ! other_pods_exist; then
		MASTER_HOST=$POD_HOST MASTER_PORT=$REDIS_PORT
		echo "master_source=self"
	elif retry_while ask_service_for_master 2 5; then
		echo "master_source=service"
	elif [[ -f $conf ]]; then
		MASTER_HOST=$(awk '/monitor/ {print $4}' "$conf")
		MASTER_PORT=$(awk '/monitor/ {print $5}' "$conf")
		echo "master_source=previous-conf"
	else
		MASTER_HOST=$POD_HOST MASTER_PORT=$REDIS_PORT
		echo "master_source=self"
	fi
	require_master_addr

	# replace_in_file: an in-place regex rewrite of the monitor line.
	sed -i -E "s/^#*[[:space:]]*sentinel monitor .*/sentinel monitor $MASTER_SET $MASTER_HOST $MASTER_PORT $QUORUM/" "$prepare"

	local p name ports rport sport
	for p in $PODS; do
		name=${p%%:*} ports=${p#*:}
		rport=${ports%%:*} sport=${ports#*:}
		if [[ $name != "$POD_NAME" ]]; then
			echo $'\n'"sentinel known-sentinel $MASTER_SET $POD_HOST $sport $(host_id "$name")" >>"$prepare"
		fi
		if [[ "$POD_HOST:$rport" != "$MASTER_HOST:$MASTER_PORT" ]]; then
			echo $'\n'"sentinel known-replica $MASTER_SET $POD_HOST $rport" >>"$prepare"
		fi
	done
	{
		echo ""
		echo "sentinel announce-hostnames yes"
		echo "sentinel resolve-hostnames yes"
		echo "sentinel announce-port $REDIS_SENTINEL_PORT"
		echo "sentinel announce-ip $POD_HOST"
	} >>"$prepare"
	mv "$prepare" "$conf"
	echo "master_host=$MASTER_HOST"
	echo "master_port=$MASTER_PORT"
	echo "conf=$conf"
	echo "myid=$(host_id "$POD_NAME")"
}

# step_ping_sentinel [TIMEOUT]: the sentinel probes (ping_sentinel.sh):
# stdout must be exactly PONG; a timeout (124) fails too.
step_ping_sentinel() {
	local t=${1:-1} response rc
	response=$(REDISCLI_AUTH=$REDIS_PASSWORD timeout -s 15 "$t" "$REDIS_CLI" -h localhost -p "$REDIS_SENTINEL_PORT" ping)
	rc=$?
	echo "response=$response"
	if [[ $rc -eq 124 ]]; then
		echo "probe=timed-out"
		return 1
	fi
	if [[ $response != "PONG" ]]; then
		echo "probe=failed"
		return 1
	fi
	echo "probe=ok"
}

# step_conf_master: how the redis container reads the last known master
# from the shared sentinel.conf when no sentinel answers.
step_conf_master() {
	local conf=$SENTINEL_ETC/sentinel.conf
	echo "conf_host=$(awk '/monitor/ {print $4}' "$conf" | tr '\n' ' ' | sed 's/ $//')"
	echo "conf_port=$(awk '/monitor/ {print $5}' "$conf" | tr '\n' ' ' | sed 's/ $//')"
	echo "monitor_lines=$(grep -c monitor "$conf")"
}

# step_recovery_check: start-node.sh's automateClusterRecovery loop
# condition: does SENTINEL MASTER mention s_down?
step_recovery_check() {
	if service_cli sentinel master "$MASTER_SET" 2>/dev/null | grep -Fq s_down; then
		echo "s_down=yes"
	else
		echo "s_down=no"
	fi
}

# i_am_master_per_sentinel: the local sentinel names this pod's redis.
i_am_master_per_sentinel() {
	local -a info=($(local_sentinel_cli sentinel get-master-addr-by-name "$MASTER_SET"))
	[[ "${info[0]:-}:${info[1]:-}" == "$POD_HOST:$REDIS_PORT" ]]
}

failover_finished() { ! i_am_master_per_sentinel; }

# step_prestop_redis: the redis container's preStop. If this redis is the
# master: pause writes, ask the local sentinel for a failover, then poll
# the local sentinel every second for up to grace-10 s until the master
# moved.
step_prestop_redis() {
	local role
	role=$(local_redis_cli role | head -1)
	if [[ $role != "master" ]]; then
		echo "is_master=no"
		return 0
	fi
	echo "is_master=yes"
	echo "pause=$(local_redis_cli client pause "$PAUSE_MS" write)"
	echo "failover=$(local_sentinel_cli sentinel failover "$MASTER_SET")"
	if retry_while failover_finished $((GRACE_SECONDS - 10)) 1; then
		local -a info=($(local_sentinel_cli sentinel get-master-addr-by-name "$MASTER_SET"))
		echo "result=moved"
		echo "new_master=${info[0]:-}:${info[1]:-}"
		return 0
	fi
	echo "result=timeout"
	return 1
}

# step_prestop_sentinel: the sentinel container's preStop: while the local
# sentinel names this pod as master, wait (every second, up to grace-10 s)
# for it to move.
step_prestop_sentinel() {
	if failover_finished; then
		echo "is_master=no"
		return 0
	fi
	echo "is_master=yes"
	if retry_while failover_finished $((GRACE_SECONDS - 10)) 1; then
		echo "result=moved"
		return 0
	fi
	echo "result=timeout"
	return 1
}

# step_sentinel_reset: the operator's cleanup after a pod was replaced or
# removed (SENTINEL RESET on each sentinel, one at a time); prints the
# number of masters reset.
step_sentinel_reset() {
	echo "reset=$(local_sentinel_cli sentinel reset "$MASTER_SET")"
}

step=${1:?usage: chart-steps.sh <step>}
shift
case $step in
render-configmap) step_render_configmap ;;
start-node) step_start_node ;;
start-sentinel) step_start_sentinel ;;
ping-sentinel) step_ping_sentinel "$@" ;;
conf-master) step_conf_master ;;
recovery-check) step_recovery_check ;;
prestop-redis) step_prestop_redis ;;
prestop-sentinel) step_prestop_sentinel ;;
sentinel-reset) step_sentinel_reset ;;
*)
	echo "unknown step $step" >&2
	exit 2
	;;
esac
