#!/bin/bash
# The Bitnami redis chart's ping_sentinel.sh (the sentinel container's
# startup, liveness and readiness probe) with auth.sentinel=true and TLS
# off: written for the image test from the chart's documented behaviour
# (shared/docs/clients-and-deploy.md section 5.2), not copied from the
# chart. Usage: ping_sentinel.sh TIMEOUT_SECONDS. Healthy means redis-cli's
# stdout is exactly PONG within the timeout.

[[ -f $REDIS_PASSWORD_FILE ]] && export REDIS_PASSWORD="$(<"${REDIS_PASSWORD_FILE}")"
[[ -n "$REDIS_PASSWORD" ]] && export REDISCLI_AUTH="$REDIS_PASSWORD"
response=$(
    timeout -s 15 "$1" \
        redis-cli \
        -h localhost \
        -p "$REDIS_SENTINEL_PORT" \
        ping
)
if [ "$?" -eq "124" ]; then
    echo "Timed out"
    exit 1
fi
if [ "$response" != "PONG" ]; then
    echo "$response"
    exit 1
fi
