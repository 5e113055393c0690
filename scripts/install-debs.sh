#!/usr/bin/env bash
# Installs the Debian packages named as arguments that are missing, when run
# as root (apt-get update once, skipped if the caller already did it and
# exported APT_UPDATED=1); as another user it only reports what is missing
# and fails. Used by `make deps` (everything the tests need) and `make demo`
# (only what the demo runs).
set -euo pipefail
missing=()
for p in "$@"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "missing Debian packages: ${missing[*]} (run 'make deps' as root)" >&2
	exit 1
fi
echo "installing: ${missing[*]}"
if [ -z "${APT_UPDATED:-}" ]; then apt-get update; fi
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
