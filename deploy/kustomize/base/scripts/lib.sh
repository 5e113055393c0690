# shellcheck shell=bash
# Sourced by start-node.sh (redis container) and start-sentinel.sh
# (sentinel container): the one place that knows how a pod names its peers
# and finds the master, so both containers of a pod start from the same
# answer.
#
# Environment (set by the StatefulSet): STATEFULSET_NAME, REPLICAS,
# HEADLESS_SERVICE, CLIENT_SERVICE, NAMESPACE, CLUSTER_DOMAIN, MASTER_SET,
# REDIS_PORT_NUMBER, SENTINEL_PORT, SENTINEL_CONF_DIR, REDISCLI_AUTH;
# optional SENTINEL_QUERY_ATTEMPTS (3, two seconds apart).

: "${STATEFULSET_NAME:?}" "${REPLICAS:?}" "${HEADLESS_SERVICE:?}" "${CLIENT_SERVICE:?}"
: "${NAMESPACE:?}" "${CLUSTER_DOMAIN:?}" "${MASTER_SET:?}" "${REDIS_PORT_NUMBER:?}"
: "${SENTINEL_PORT:?}" "${SENTINEL_CONF_DIR:?}" "${HOSTNAME:?}"

log() { printf 'gosentinel-scripts: %s\n' "$*" >&2; }

# node_fqdn <pod>: the pod's stable name through the headless Service. Redis
# nodes and sentinels announce these names, never pod IPs, so an address
# survives a pod's restart.
node_fqdn() {
    printf '%s.%s.%s.svc.%s' "$1" "$HEADLESS_SERVICE" "$NAMESPACE" "$CLUSTER_DOMAIN"
}

# master_from_sentinels: "host port" of the master as the sentinels behind
# the client Service report it. The Service routes only to ready pods, and a
# gosentinel is ready only in a Raft group with a leader and fresh state, so
# an answer is the group's. redis-cli exits 0 on a null or error reply: the
# reply itself is checked.
master_from_sentinels() {
    local svc reply host port attempt attempts=${SENTINEL_QUERY_ATTEMPTS:-3}
    svc="$CLIENT_SERVICE.$NAMESPACE.svc.$CLUSTER_DOMAIN"
    for ((attempt = 1; attempt <= attempts; attempt++)); do
        if reply=$(timeout 5 redis-cli -h "$svc" -p "$SENTINEL_PORT" sentinel get-master-addr-by-name "$MASTER_SET" 2>/dev/null); then
            host=$(sed -n 1p <<<"$reply")
            port=$(sed -n 2p <<<"$reply")
            if [[ -n $host && $port =~ ^[0-9]+$ ]]; then
                printf '%s %s\n' "$host" "$port"
                return 0
            fi
        fi
        if ((attempt < attempts)); then sleep 2; fi
    done
    return 1
}

# master_from_conf: "host port" of the master in the sentinel.conf this pod's
# gosentinel last wrote (the sentinel-etc volume, a PersistentVolumeClaim of
# the pod's; gosentinel rewrites the monitor line after every failover).
master_from_conf() {
    local conf="$SENTINEL_CONF_DIR/sentinel.conf"
    [[ -f $conf ]] || return 1
    awk -v set="$MASTER_SET" '
        $1 == "sentinel" && $2 == "monitor" && $3 == set { host = $4; port = $5 }
        END { if (host == "" || port !~ /^[0-9]+$/) exit 1; print host, port }
    ' "$conf"
}

# find_master: the master for this pod to follow or to be: the sentinels'
# answer, else the last one this pod's sentinel knew, else pod 0 (a fresh
# set: every pod reaches the same answer without talking to the others).
find_master() {
    local found
    if found=$(master_from_sentinels); then
        log "master from the sentinels: $found"
    elif found=$(master_from_conf); then
        log "no sentinel answered; master from $SENTINEL_CONF_DIR/sentinel.conf: $found"
    else
        found="$(node_fqdn "$STATEFULSET_NAME-0") $REDIS_PORT_NUMBER"
        log "no sentinel answered and no sentinel.conf; pod 0 is the master: $found"
    fi
    printf '%s\n' "$found"
}

# conf_quote <value>: a value quoted for a redis config line (sdssplitargs:
# backslash and double quote escaped inside double quotes).
conf_quote() {
    local v=${1//\\/\\\\}
    v=${v//\"/\\\"}
    printf '"%s"' "$v"
}
