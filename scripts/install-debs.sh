#!/usr/bin/env bash
# Installs the Debian packages named as arguments that are missing, when run
# as root (apt-get update once, skipped if the caller already did it and
# exported APT_UPDATED=1); as another user it only reports what is missing
# and fails, naming the make command to run as root (MAKE_GOALS, which the
# Makefile sets to the goals it was given). Used by `make deps` (everything
# the tests need) and `make demo` (only what the demo runs). apt runs quietly (scripts/apt-quiet.sh: its
# output, which names the archive's host, is shown only on failure, and then
# only its error lines with addresses elided); one line says what was
# installed.
set -euo pipefail
# shellcheck source=apt-quiet.sh
. "$(dirname "${BASH_SOURCE[0]}")/apt-quiet.sh"
missing=()
for p in "$@"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
	if [ -n "${MAKE_GOALS:-}" ]; then
		echo "missing Debian packages: ${missing[*]} (run 'make $MAKE_GOALS' as root, which installs them)" >&2
	else
		echo "missing Debian packages: ${missing[*]} (run this make target as root, which installs them)" >&2
	fi
	exit 1
fi
echo "installing Debian packages: ${missing[*]}"
if [ -z "${APT_UPDATED:-}" ]; then apt_quiet apt-get update -qq; fi
apt_quiet env DEBIAN_FRONTEND=noninteractive apt-get install -qq -y --no-install-recommends "${missing[@]}"
echo "installed: $(dpkg-query -W -f='${Package} ${Version}, ' "${missing[@]}" | sed 's/, $//')"
