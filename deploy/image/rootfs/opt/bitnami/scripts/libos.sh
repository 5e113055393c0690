#!/bin/bash
# libos.sh of gosentinel's image: the process helpers that scripts written
# for Bitnami's images (the redis chart's start-scripts) expect to find at
# /opt/bitnami/scripts/libos.sh. Written for gosentinel from the documented
# contract, not taken from Bitnami. Sourcing it also gives liblog.sh's info,
# warn, error and debug, which the chart's scripts call without sourcing
# liblog.sh themselves.

[[ -n ${__GOSENTINEL_LIBOS:-} ]] && return 0
__GOSENTINEL_LIBOS=1

. /opt/bitnami/scripts/liblog.sh

# retry_while COMMAND [RETRIES [SLEEP_SECONDS]]
# Runs COMMAND (one string, split into words without glob expansion, so
# "eval ..." and "function arg" both work) until it succeeds, at most
# RETRIES times (default 12), SLEEP_SECONDS apart (default 5). Returns 0 as
# soon as it succeeds, 1 when every try failed. COMMAND's stdout is passed
# through: the chart captures it (REDIS_SENTINEL_INFO=($(...))).
retry_while() {
	local cmd=${1:?retry_while: missing command}
	local retries=${2:-12}
	local sleep_seconds=${3:-5}
	local -a words
	local try
	read -r -a words <<<"$cmd"
	for ((try = 1; try <= retries; try++)); do
		if "${words[@]}"; then
			return 0
		fi
		if ((try < retries)); then
			sleep "$sleep_seconds"
		fi
	done
	return 1
}

# am_i_root: whether the script runs as uid 0 (never, in this image's
# default user 1001).
am_i_root() {
	[[ $(id -u) == 0 ]]
}

# debug_execute COMMAND [ARGS...]: runs the command, showing its output only
# when BITNAMI_DEBUG is on; returns its status.
debug_execute() {
	local v=${BITNAMI_DEBUG:-}
	v=${v,,}
	if [[ $v == 1 || $v == yes || $v == true ]]; then
		"$@"
	else
		"$@" >/dev/null 2>&1
	fi
}
