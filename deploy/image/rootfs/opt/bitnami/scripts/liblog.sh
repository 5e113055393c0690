#!/bin/bash
# liblog.sh of gosentinel's image: the logging functions that scripts written
# for Bitnami's images (the redis chart's start-scripts) expect to find at
# /opt/bitnami/scripts/liblog.sh. Written for gosentinel from the documented
# contract, not taken from Bitnami:
#   info|warn|error|debug MESSAGE...  one line on stderr (never stdout: the
#                                     chart captures stdout of functions that
#                                     log), debug only when BITNAMI_DEBUG is
#                                     yes/true/1
#   log MESSAGE...                    a line without a level
#   stderr_print MESSAGE...           the raw line, unless BITNAMI_QUIET is on
# A line reads: "<MODULE> HH:MM:SS.cc LEVEL ==> message".

[[ -n ${__GOSENTINEL_LIBLOG:-} ]] && return 0
__GOSENTINEL_LIBLOG=1

# __liblog_on VALUE: whether VALUE is a yes (liblog needs no other library).
__liblog_on() {
	local v=${1:-}
	v=${v,,}
	[[ $v == 1 || $v == yes || $v == true ]]
}

stderr_print() {
	__liblog_on "${BITNAMI_QUIET:-}" && return 0
	printf '%b\n' "$*" >&2
}

# __liblog_line LEVEL MESSAGE...: the time comes from bash itself (no date
# process per line): seconds from printf's %T, hundredths from
# EPOCHREALTIME.
__liblog_line() {
	local level=$1 now frac
	shift
	now=$(printf '%(%T)T' -1)
	frac=${EPOCHREALTIME#*.}
	if [[ -n $level ]]; then
		stderr_print "${MODULE:-redis-sentinel} ${now}.${frac:0:2} ${level} ==> $*"
	else
		stderr_print "${MODULE:-redis-sentinel} ${now}.${frac:0:2} ==> $*"
	fi
}

log() { __liblog_line "" "$@"; }
info() { __liblog_line "INFO " "$@"; }
warn() { __liblog_line "WARN " "$@"; }
error() { __liblog_line "ERROR" "$@"; }
debug() {
	__liblog_on "${BITNAMI_DEBUG:-}" || return 0
	__liblog_line "DEBUG" "$@"
}
