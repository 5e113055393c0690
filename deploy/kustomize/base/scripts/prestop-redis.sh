#!/bin/bash
# The redis container's preStop. Kubernetes sends SIGTERM to each container
# as soon as its own preStop returns; the sentinel container's preStop
# (gosentinel prestop) moves the master role away with a zero-loss
# switchover, which needs this Redis up until a replica has caught up and
# been promoted. So, while this node is a master, wait (at most
# PRESTOP_WAIT_SECONDS, below terminationGracePeriodSeconds).
set -uo pipefail
: "${REDIS_PORT_NUMBER:?}"
deadline=$((SECONDS + ${PRESTOP_WAIT_SECONDS:-25}))
while ((SECONDS < deadline)); do
    out=$(timeout 2 redis-cli -h 127.0.0.1 -p "$REDIS_PORT_NUMBER" role 2>/dev/null)
    # timeout's 124: the node is there but busy (a slow command, a fork):
    # still a master to hand over, not one that is gone.
    if (($? != 124)); then
        [[ ${out%%$'\n'*} == master ]] || exit 0
    fi
    sleep 1
done
echo "prestop-redis: still the master after ${PRESTOP_WAIT_SECONDS:-25}s; stopping anyway" >&2
exit 0
