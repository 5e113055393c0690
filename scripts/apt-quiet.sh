# shellcheck shell=bash
# apt_quiet CMD...: runs an apt command (apt-get update, install, download)
# with its output in a temporary log instead of the terminal: apt's progress
# lines name the archive's host, and what was done is summed up by the
# caller in one line. On failure it prints apt's error and warning lines
# (E:, W:, dpkg's errors) with addresses elided (URLs, [IP: ...], the host
# of "resolving 'HOST'", host:port), says so and how to see everything,
# and returns apt's status. Sourced by scripts/install-debs.sh and
# deploy/image/build.sh.
apt_quiet() {
	local log rc=0
	log=$(mktemp)
	"$@" >"$log" 2>&1 </dev/null || rc=$?
	if [ "$rc" -ne 0 ]; then
		{
			echo "failed (exit $rc): $*"
			grep -E '^(E|W): |^dpkg: |^Errors were encountered' "$log" |
				sed -E -e 's#[A-Za-z][A-Za-z0-9+.-]*://[^ ]*#<address>#g' \
					-e 's#\[IP: [^]]*\]##g' \
					-e "s#(resolv[a-z]* )'[^']*'#\\1'<host>'#g" \
					-e 's#[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+:[0-9]+#<host>#g' |
				grep -v '://' || echo "(apt printed no error lines)"
			echo "(addresses elided; run the command above by hand for apt's full output)"
		} >&2
	fi
	rm -f "$log"
	return "$rc"
}
