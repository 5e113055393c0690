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
    role=$(timeout 2 redis-cli -h 127.0.0.1 -p "$REDIS_PORT_NUMBER" role 2>/dev/null | head -n 1)
    [[ $role == master ]] || exit 0
    sleep 1
done
echo "prestop-redis: still the master after ${PRESTOP_WAIT_SECONDS:-25}s; stopping anyway" >&2
exit 0
