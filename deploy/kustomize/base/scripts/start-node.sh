#!/bin/bash
# The redis container's command (official redis image): start as the
# master when find_master names this pod, else as its replica.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
: "${REDIS_PASSWORD:?}" "${REDIS_DATA_DIR:?}" "${REDIS_TMP_DIR:?}"

own=$(node_fqdn "$HOSTNAME")
read -r master_host master_port < <(find_master)

# The password goes into a file of this container's own /tmp, not argv
# (visible in ps and in the pod's process list).
conf="$REDIS_TMP_DIR/redis.conf"
umask 077
{
    echo "port $REDIS_PORT_NUMBER"
    echo "bind * -::*"
    echo "dir $(conf_quote "$REDIS_DATA_DIR")"
    echo "appendonly yes"
    echo "replica-announce-ip $own"
    echo "replica-announce-port $REDIS_PORT_NUMBER"
    echo "requirepass $(conf_quote "$REDIS_PASSWORD")"
    echo "masterauth $(conf_quote "$REDIS_PASSWORD")"
    if [[ $master_host != "$own" ]]; then
        echo "replicaof $master_host $master_port"
    fi
} >"$conf"

if [[ $master_host == "$own" ]]; then
    log "starting $own as the master"
else
    log "starting $own as a replica of $master_host:$master_port"
fi
exec "${REDIS_SERVER:-redis-server}" "$conf"
