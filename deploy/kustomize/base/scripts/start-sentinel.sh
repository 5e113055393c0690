#!/bin/bash
# The sentinel container's command (gosentinel image): writes sentinel.conf
# as the Bitnami chart's start-sentinel.sh does (monitor line from
# find_master, auth from the Secret, myid = sha1(hostname), hostnames
# announced and resolved, the peers as known sentinels) plus gosentinel's
# own directives, then execs gosentinel. The file is written afresh on every
# start; gosentinel's Raft state lives beside it in the same directory and
# is what carries the set's state across restarts.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
: "${REDIS_PASSWORD:?}" "${QUORUM:?}" "${DOWN_AFTER_MS:?}" "${FAILOVER_TIMEOUT_MS:?}"
: "${PARALLEL_SYNCS:?}" "${METRICS_PORT:?}"

# myid <pod>: the sentinel id of a pod, stable across restarts (40 hex):
# the Bitnami chart's host_id, sha1 of `echo "$1"` (the newline included),
# so a pod has the id the chart gives it.
myid() {
    echo "$1" | openssl sha1 | awk '{print $NF}'
}

own=$(node_fqdn "$HOSTNAME")
read -r master_host master_port < <(find_master)

conf="$SENTINEL_CONF_DIR/sentinel.conf"
next="$SENTINEL_CONF_DIR/prepare-sentinel.conf"
umask 077
{
    echo "port $SENTINEL_PORT"
    echo "dir $(conf_quote "$SENTINEL_CONF_DIR")"
    echo "metrics-addr :$METRICS_PORT"
    echo "requirepass $(conf_quote "$REDIS_PASSWORD")"
    echo "sentinel resolve-hostnames yes"
    echo "sentinel announce-hostnames yes"
    echo "sentinel announce-ip $own"
    echo "sentinel announce-port $SENTINEL_PORT"
    echo "sentinel myid $(myid "$HOSTNAME")"
    echo "sentinel cluster-size $REPLICAS"
    echo "sentinel monitor $MASTER_SET $master_host $master_port $QUORUM"
    echo "sentinel down-after-milliseconds $MASTER_SET $DOWN_AFTER_MS"
    echo "sentinel failover-timeout $MASTER_SET $FAILOVER_TIMEOUT_MS"
    echo "sentinel parallel-syncs $MASTER_SET $PARALLEL_SYNCS"
    echo "sentinel auth-pass $MASTER_SET $(conf_quote "$REDIS_PASSWORD")"
    # Peers whose names resolve (publishNotReadyAddresses: a pod has a name
    # as soon as it has an IP) help the group form while the master is
    # down and no hello can be heard.
    for ((i = 0; i < REPLICAS; i++)); do
        peer="$STATEFULSET_NAME-$i"
        [[ $peer == "$HOSTNAME" ]] && continue
        peer_fqdn=$(node_fqdn "$peer")
        if getent hosts "$peer_fqdn" >/dev/null; then
            echo "sentinel known-sentinel $MASTER_SET $peer_fqdn $SENTINEL_PORT $(myid "$peer")"
        fi
    done
} >"$next"
mv -f "$next" "$conf"

log "starting gosentinel for $MASTER_SET, master $master_host:$master_port"
exec "${GOSENTINEL:-gosentinel}" "$conf"
