#!/bin/bash
# The Bitnami redis chart's prestop-sentinel.sh as it renders with
# auth.sentinel=true, useHostnames=true, TLS and externalAccess off: written
# for the image test from the chart's documented behaviour
# (shared/docs/clients-and-deploy.md section 5.2), not copied from the
# chart. While the local sentinel names this pod as the master, it waits
# for the master to move, every second for terminationGracePeriodSeconds-10
# tries; exit 0 when it moved (or was never here), 1 when it did not.

. /opt/bitnami/scripts/libvalidations.sh
. /opt/bitnami/scripts/libos.sh

HEADLESS_SERVICE="${CHART_FULLNAME:-redis}-headless.${CHART_NAMESPACE:-default}.svc.${CHART_CLUSTER_DOMAIN:-cluster.local}"
MASTER_SET=${CHART_MASTER_SET:-mymaster}
GRACE_SECONDS=${CHART_TERMINATION_GRACE_SECONDS:-30}

get_full_hostname() {
    echo "$1.$HEADLESS_SERVICE"
}

run_sentinel_command() {
    redis-cli -p "$REDIS_SENTINEL_PORT" sentinel "$@"
}

sentinel_failover_finished() {
    REDIS_SENTINEL_INFO=($(run_sentinel_command get-master-addr-by-name "$MASTER_SET"))
    REDIS_MASTER_HOST="${REDIS_SENTINEL_INFO[0]}"
    echo "REDIS_MASTER_HOST: $REDIS_MASTER_HOST"
    if [[ -z "$REDIS_MASTER_HOST" ]]; then
        echo "WARNING: REDIS_MASTER_HOST is empty, assuming failover not finished"
        return 1
    fi
    [[ "$REDIS_MASTER_HOST" != "$(get_full_hostname "$HOSTNAME")" ]]
}

# redis-cli takes the password from REDISCLI_AUTH.
[[ -n "$REDIS_PASSWORD" ]] && export REDISCLI_AUTH="$REDIS_PASSWORD"
[[ -f "$REDIS_PASSWORD_FILE" ]] && export REDISCLI_AUTH="$(<"${REDIS_PASSWORD_FILE}")"

if ! sentinel_failover_finished; then
    echo "I am the master pod and you are stopping me. Starting sentinel failover"
    if retry_while "sentinel_failover_finished" "$((GRACE_SECONDS - 10))" 1; then
        echo "Master has been successfully failed over to a different pod."
        exit 0
    else
        echo "Master failover failed"
        exit 1
    fi
else
    exit 0
fi
