#!/bin/bash
# libfile.sh of gosentinel's image: the file-editing helpers that scripts
# written for Bitnami's images (the redis chart's start-scripts) expect to
# find at /opt/bitnami/scripts/libfile.sh. Written for gosentinel from the
# documented contract, not taken from Bitnami.

[[ -n ${__GOSENTINEL_LIBFILE:-} ]] && return 0
__GOSENTINEL_LIBFILE=1

. /opt/bitnami/scripts/liblog.sh

# __libfile_sed FILE POSIX EXPRESSION: sed's output for FILE, with extended
# regular expressions when POSIX is true (the default) and GNU basic ones
# (where \s, \+ and \? work) when it is false.
__libfile_sed() {
	local file=$1 posix=$2 expr=$3
	if [[ $posix == true ]]; then
		sed -E -e "$expr" "$file"
	else
		sed -e "$expr" "$file"
	fi
}

# __libfile_write FILE CONTENT: rewrites FILE's bytes in place (the same
# inode, so a file mounted from a ConfigMap or shared with another
# container stays the mounted one), ending it with one newline.
__libfile_write() {
	printf '%s\n' "$2" >"$1"
}

# replace_in_file FILE MATCH_REGEX REPLACEMENT [POSIX=true]
# Replaces every match of MATCH_REGEX in FILE with REPLACEMENT (sed's
# replacement syntax: & and \1 refer to the match; escape them to mean
# themselves). The regex may contain "/": the sed delimiter is \001.
replace_in_file() {
	local file=${1:?replace_in_file: missing file}
	local match=${2:?replace_in_file: missing match regex}
	local replacement=${3:?replace_in_file: missing replacement}
	local posix=${4:-true}
	local d=$'\001' result
	result=$(__libfile_sed "$file" "$posix" "s${d}${match}${d}${replacement}${d}g") || return 1
	__libfile_write "$file" "$result"
}

# remove_in_file FILE MATCH_REGEX [POSIX=true]: deletes the lines of FILE
# that match.
remove_in_file() {
	local file=${1:?remove_in_file: missing file}
	local match=${2:?remove_in_file: missing match regex}
	local posix=${3:-true}
	local d=$'\001' result
	result=$(__libfile_sed "$file" "$posix" "\\${d}${match}${d}d") || return 1
	__libfile_write "$file" "$result"
}
