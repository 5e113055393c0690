#!/bin/bash
# The Bitnami redis chart's start-sentinel.sh as it renders for
# architecture=replication, sentinel.enabled=true, auth.enabled=true,
# auth.sentinel=true, auth.usePasswordFiles=true, useHostnames=true, TLS and
# externalAccess off, no sentinel.configuration: written for the image test
# from the chart's documented behaviour (shared/docs/clients-and-deploy.md
# section 5.2/5.3, templates/scripts-configmap.yaml), not copied from the
# chart. It runs inside the image's file tree (chroot) as uid 1001 and uses
# only what the image provides: Bitnami's helper libraries (ours), bash,
# getent, openssl, awk, sed, seq, timeout, redis-cli, redis-server.
#
# The chart's rendered constants are variables here, defaulting to the
# chart's values; the test sets the ports. Every pod of the test shares
# 127.0.0.1, so ports differ per pod: get_port reads them from the
# Kubernetes service-link variables (<NAME>_SERVICE_PORT_<TYPE>), the
# chart's own mechanism, and falls back to the container ports.

. /opt/bitnami/scripts/libos.sh
. /opt/bitnami/scripts/libvalidations.sh
. /opt/bitnami/scripts/libfile.sh

FULLNAME=${CHART_FULLNAME:-redis}
NAMESPACE=${CHART_NAMESPACE:-default}
CLUSTER_DOMAIN=${CHART_CLUSTER_DOMAIN:-cluster.local}
MASTER_SET=${CHART_MASTER_SET:-mymaster}
QUORUM=${CHART_QUORUM:-2}
REPLICA_COUNT=${CHART_REPLICA_COUNT:-3}
GET_MASTER_TIMEOUT=${CHART_GET_MASTER_TIMEOUT:-90}
CONTAINER_PORT_SENTINEL=${CHART_CONTAINER_PORT_SENTINEL:-26379}
CONTAINER_PORT_REDIS=${CHART_CONTAINER_PORT_REDIS:-6379}
ETC=/opt/bitnami/redis-sentinel/etc

HEADLESS_SERVICE="$FULLNAME-headless.$NAMESPACE.svc.$CLUSTER_DOMAIN"
REDIS_SERVICE="$FULLNAME.$NAMESPACE.svc.$CLUSTER_DOMAIN"

# get_port HOST TYPE: the service-link port of HOST for TYPE, else the
# container port.
get_port() {
    local var
    var=$(echo "${1^^}_SERVICE_PORT_$2" | sed "s/-/_/g")
    if [ -n "${!var}" ]; then
        echo "${!var}"
    elif [ "$2" = SENTINEL ]; then
        echo "$CONTAINER_PORT_SENTINEL"
    else
        echo "$CONTAINER_PORT_REDIS"
    fi
}

# get_full_hostname HOST: the pod's name under the headless service.
get_full_hostname() {
    echo "$1.$HEADLESS_SERVICE"
}

SERVPORT=$(get_port "$HOSTNAME" "SENTINEL")
REDISPORT=$(get_port "$HOSTNAME" "REDIS")
SENTINEL_SERVICE_PORT=$(get_port "$FULLNAME" "SENTINEL")

# sentinel_conf_set KEY VALUE: rewrites the KEY line of the config being
# prepared, with the chart's escaping of the sed replacement.
sentinel_conf_set() {
    local -r key="${1:?missing key}"
    local value="${2:-}"
    value="${value//\\/\\\\}"
    value="${value//&/\\&}"
    value="${value//\?/\\?}"
    [[ "$value" = "" ]] && value="\"$value\""
    replace_in_file "$ETC/prepare-sentinel.conf" "^#*\s*${key} .*" "${key} ${value}" false
}
# sentinel_conf_add LINE: appends LINE after a newline.
sentinel_conf_add() {
    echo $'\n'"$@" >>"$ETC/prepare-sentinel.conf"
}
# host_id NAME: the 40-hex sentinel id the chart derives from a host name.
host_id() {
    echo "$1" | openssl sha1 | awk '{print $2}'
}
# get_sentinel_master_info: the Service's sentinels' answer, two tries 5 s
# apart, each bounded by getMasterTimeout; the command is a string run
# through eval so that REDISCLI_AUTH is set for redis-cli alone.
get_sentinel_master_info() {
    local cmd="REDISCLI_AUTH=\$REDIS_PASSWORD timeout $GET_MASTER_TIMEOUT redis-cli -h $REDIS_SERVICE -p $SENTINEL_SERVICE_PORT sentinel get-master-addr-by-name $MASTER_SET"
    info "about to run the command: $cmd"
    retry_while "eval $cmd" 2 5
}

[[ -f $REDIS_PASSWORD_FILE ]] && export REDIS_PASSWORD="$(<"${REDIS_PASSWORD_FILE}")"

master_in_persisted_conf="$(get_full_hostname "$HOSTNAME")"
if [[ -f $ETC/sentinel.conf ]]; then
    master_in_persisted_conf="$(awk '/monitor/ {print $4}' "$ETC/sentinel.conf")"
    info "Found previous master $master_in_persisted_conf in $ETC/sentinel.conf"
    debug "$(grep monitor "$ETC/sentinel.conf")"
fi
REDIS_SENTINEL_INFO=($(get_sentinel_master_info))
if [ "$?" -eq "0" ]; then
    info "printing REDIS_SENTINEL_INFO=(${REDIS_SENTINEL_INFO[0]},${REDIS_SENTINEL_INFO[1]})"
    REDIS_MASTER_HOST=${REDIS_SENTINEL_INFO[0]}
    REDIS_MASTER_PORT_NUMBER=${REDIS_SENTINEL_INFO[1]}
else
    REDIS_MASTER_HOST="$master_in_persisted_conf"
    REDIS_MASTER_PORT_NUMBER="$REDISPORT"
fi
if [[ "$REDIS_MASTER_HOST" == "$(get_full_hostname "$HOSTNAME")" ]]; then
    export REDIS_REPLICATION_MODE="master"
else
    export REDIS_REPLICATION_MODE="replica"
fi

# The config is prepared aside and moved into place when complete: the
# redis container reads the same file.
cp /opt/bitnami/redis-sentinel/mounted-etc/sentinel.conf "$ETC/prepare-sentinel.conf"
printf "\nsentinel auth-pass %s %s" "$MASTER_SET" "$REDIS_PASSWORD" >>"$ETC/prepare-sentinel.conf"
printf "\nrequirepass %s" "$REDIS_PASSWORD" >>"$ETC/prepare-sentinel.conf"
printf "\nsentinel myid %s" "$(host_id "$HOSTNAME")" >>"$ETC/prepare-sentinel.conf"

if [[ -z "$REDIS_MASTER_HOST" ]] || [[ -z "$REDIS_MASTER_PORT_NUMBER" ]]; then
    error "Redis master host is configured incorrectly (host: $REDIS_MASTER_HOST, port: $REDIS_MASTER_PORT_NUMBER)"
    exit 1
fi

sentinel_conf_set "sentinel monitor" "$MASTER_SET "$REDIS_MASTER_HOST" "$REDIS_MASTER_PORT_NUMBER" $QUORUM"

add_known_sentinel() {
    if [[ -n "$1" && -n "$2" && "$1" != "$HOSTNAME" ]]; then
        sentinel_conf_add "sentinel known-sentinel $MASTER_SET $(get_full_hostname "$1") $(get_port "$1" "SENTINEL") $(host_id "$1")"
    fi
}
add_known_replica() {
    if [[ -n "$2" && "$(get_full_hostname "$1")" != "$REDIS_MASTER_HOST" ]]; then
        sentinel_conf_add "sentinel known-replica $MASTER_SET $(get_full_hostname "$1") $(get_port "$1" "REDIS")"
    fi
}
for node in $(seq 0 $((REPLICA_COUNT - 1))); do
    hostname="$FULLNAME-node-$node"
    ip="$(getent hosts "$hostname.$HEADLESS_SERVICE" | awk '{ print $1 }')"
    add_known_sentinel "$hostname" "$ip"
    add_known_replica "$hostname" "$ip"
done

echo "" >>"$ETC/prepare-sentinel.conf"
echo "sentinel announce-hostnames yes" >>"$ETC/prepare-sentinel.conf"
echo "sentinel resolve-hostnames yes" >>"$ETC/prepare-sentinel.conf"
echo "sentinel announce-port $SERVPORT" >>"$ETC/prepare-sentinel.conf"
echo "sentinel announce-ip $(get_full_hostname "$HOSTNAME")" >>"$ETC/prepare-sentinel.conf"
mv "$ETC/prepare-sentinel.conf" "$ETC/sentinel.conf"
exec redis-server "$ETC/sentinel.conf" --sentinel
