#!/bin/bash
# libvalidations.sh of gosentinel's image: the value checks that scripts
# written for Bitnami's images (the redis chart's start-scripts) expect to
# find at /opt/bitnami/scripts/libvalidations.sh. Written for gosentinel from
# the documented contract, not taken from Bitnami. Each is a test: status 0
# means yes. Letters are compared without regard to case.

[[ -n ${__GOSENTINEL_LIBVALIDATIONS:-} ]] && return 0
__GOSENTINEL_LIBVALIDATIONS=1

. /opt/bitnami/scripts/liblog.sh

# is_boolean_yes VALUE: 1, yes or true.
is_boolean_yes() {
	local v=${1:-}
	v=${v,,}
	[[ $v == 1 || $v == yes || $v == true ]]
}

# is_boolean_no VALUE: 0, no or false.
is_boolean_no() {
	local v=${1:-}
	v=${v,,}
	[[ $v == 0 || $v == no || $v == false ]]
}

# is_yes_no_value VALUE: yes or no.
is_yes_no_value() {
	local v=${1:-}
	v=${v,,}
	[[ $v == yes || $v == no ]]
}

# is_true_false_value VALUE: true or false.
is_true_false_value() {
	local v=${1:-}
	v=${v,,}
	[[ $v == true || $v == false ]]
}

# is_empty_value VALUE: empty (unset counts as empty).
is_empty_value() {
	[[ -z ${1:-} ]]
}

# is_int VALUE: an optionally signed decimal integer.
is_int() {
	[[ ${1:-} =~ ^[-+]?[0-9]+$ ]]
}

# is_positive_int VALUE: an integer of at least 0.
is_positive_int() {
	[[ ${1:-} =~ ^\+?[0-9]+$ ]]
}
