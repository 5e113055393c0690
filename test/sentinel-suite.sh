#!/usr/bin/env bash
# Runs Redis' official Sentinel test suite (tests/sentinel/run.tcl) against a
# sentinel binary: 7.0.15's (Debian 12's source package `redis`, with
# Debian's redis-server as the data nodes), or 8.0.2's (Debian 13's, with
# redis-server 8.0.2 built from it by scripts/build-redis8.sh).
#
# Usage: test/sentinel-suite.sh [SENTINEL=<binary>] [REDIS=7.0|8.0]
#   SENTINEL       sentinel binary to test; default: the repo's bin/gosentinel,
#                  built first with `go build -o bin/gosentinel ./cmd/gosentinel`.
#                  SENTINEL=/usr/bin/redis-sentinel runs the reference.
#   REDIS          which suite (default 7.0). gosentinel runs with the same
#                  compatibility profile (GOSENTINEL_COMPAT, unless set).
#   SUITE_CACHE    where the source package is downloaded once
#                  (default /var/cache/gosentinel-suite; outside the repo).
#   SUITE_TIMEOUT  seconds allowed for the whole run.tcl process (default 2400).
#   SUITE_KEEP     1 = always keep the work dir (instance logs), 0 = never;
#                  default: keep it only when something failed.
#   SUITE_VERBOSE  1 = stream run.tcl's output while it runs.
#   SUITE_ONLY     pattern passed to run.tcl --single (debugging only).
#
# It prints the confinement patches it applies (none changes an assertion),
# one row per test file (PASS/FAIL/TIMEOUT/NOT-RUN), the wall time and a final
# line `N passed, N failed`. Exit status: 0 all passed, 1 something failed,
# 2 setup/preflight error.
set -euo pipefail

for arg in "$@"; do
	case "$arg" in
	SENTINEL=*) SENTINEL="${arg#SENTINEL=}" ;;
	REDIS=*) SUITE_REDIS="${arg#REDIS=}" ;;
	-h | --help)
		sed -n '2,25p' "$0"
		exit 0
		;;
	*)
		echo "unknown argument: $arg" >&2
		exit 2
		;;
	esac
done

REPO="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="${SUITE_CACHE:-/var/cache/gosentinel-suite}"
TIMEOUT_S="${SUITE_TIMEOUT:-2400}"
KEEP="${SUITE_KEEP:-auto}"
GO="${GO:-go}"
command -v "$GO" >/dev/null 2>&1 || GO=/usr/local/go/bin/go
case "${SUITE_REDIS:-7.0}" in
7.0)
	REDIS_VERSION=7.0.15
	REDIS_SERVER=/usr/bin/redis-server
	;;
8.0)
	REDIS_VERSION=8.0.2
	REDIS8="$(bash "$(dirname "$0")/../scripts/build-redis8.sh" | tail -n 1)" || exit 2
	REDIS_SERVER="$REDIS8/bin/redis-server"
	;;
*)
	echo "sentinel-suite: REDIS must be 7.0 or 8.0" >&2
	exit 2
	;;
esac
export GOSENTINEL_COMPAT="${GOSENTINEL_COMPAT:-${SUITE_REDIS:-7.0}}"

die() {
	echo "sentinel-suite: $*" >&2
	exit 2
}

for tool in tclsh8.6 redis-cli timeout; do
	command -v "$tool" >/dev/null 2>&1 || die "missing $tool (see 'make deps')"
done
[ -x "$REDIS_SERVER" ] || die "missing $REDIS_SERVER (Debian package redis-server)"

# --- the sentinel under test -------------------------------------------------
if [ -z "${SENTINEL:-}" ]; then
	echo "building bin/gosentinel"
	(cd "$REPO" && "$GO" build -o bin/gosentinel ./cmd/gosentinel) || die "go build failed"
	SENTINEL="$REPO/bin/gosentinel"
fi
if [[ "$SENTINEL" != */* ]]; then
	SENTINEL="$(command -v "$SENTINEL" || true)"
fi
[ -n "$SENTINEL" ] && [ -x "$SENTINEL" ] || die "sentinel binary not found or not executable: ${SENTINEL:-}"
# Keep the link target's own name out of the way: the harness runs the link
# as src/redis-sentinel, which is what puts Debian's multi-call binary in
# sentinel mode.
SENTINEL="$(cd "$(dirname "$SENTINEL")" && pwd)/$(basename "$SENTINEL")"

# --- fetch the source package once ---------------------------------------------
# The deb-src entry is derived from this machine's own apt sources file and
# used through a private apt state dir, so the system's apt config is untouched
# and no host name is written anywhere by this script.
fetch_source() {
	local tarball
	tarball="$(ls "$CACHE"/dl/redis_"$REDIS_VERSION".orig.tar.gz 2>/dev/null || true)"
	if [ -n "$tarball" ]; then
		echo "$tarball"
		return 0
	fi
	mkdir -p "$CACHE/apt/sources.list.d" "$CACHE/apt/lists/partial" "$CACHE/dl"
	local src
	if [ -f /etc/apt/sources.list.d/debian.sources ]; then
		src=/etc/apt/sources.list.d/debian.sources
		sed -e 's/^Types: deb$/Types: deb-src/' "$src" >"$CACHE/apt/sources.list.d/suite-src.sources"
	elif [ -f /etc/apt/sources.list ]; then
		src=/etc/apt/sources.list
		sed -n -e 's/^deb /deb-src /p' "$src" >"$CACHE/apt/sources.list.d/suite-src.list"
	else
		die "no apt sources file to derive a deb-src entry from"
	fi
	local opts=(-o Dir::Etc::SourceList=/dev/null
		-o "Dir::Etc::SourceParts=$CACHE/apt/sources.list.d"
		-o "Dir::State::Lists=$CACHE/apt/lists")
	echo "fetching Debian source package redis (deb-src derived from $src)" >&2
	apt-get -q "${opts[@]}" update >&2 || die "apt-get update (deb-src) failed"
	local version
	version="$(dpkg-query -W -f='${Version}' redis-server 2>/dev/null || true)"
	(cd "$CACHE/dl" && { apt-get -q "${opts[@]}" source --download-only "redis=$version" >&2 ||
		apt-get -q "${opts[@]}" source --download-only redis >&2; }) || die "apt-get source failed"
	tarball="$(ls "$CACHE"/dl/redis_"$REDIS_VERSION".orig.tar.gz 2>/dev/null || true)"
	[ -n "$tarball" ] || die "redis_$REDIS_VERSION.orig.tar.gz not in the source package"
	echo "$tarball"
}
# --- work dir: tests/ + src/ links -------------------------------------------------
WORK="$(mktemp -d /tmp/sentinel-suite.XXXXXX)"
ROOT="$WORK/redis-$REDIS_VERSION"
if [ "$REDIS_VERSION" = 7.0.15 ]; then
	TARBALL="$(fetch_source)"
	tar -C "$WORK" -xzf "$TARBALL" --wildcards "redis-$REDIS_VERSION/tests/*" ||
		die "extracting tests/ from $TARBALL failed"
else
	mkdir -p "$ROOT" && cp -r "$REDIS8/src/tests" "$ROOT/tests"
fi
mkdir -p "$ROOT/src"
ln -s "$REDIS_SERVER" "$ROOT/src/redis-server"
ln -s "$SENTINEL" "$ROOT/src/redis-sentinel"

# Kills, by pid, every process whose cwd is inside the work dir (instances
# outlive tclsh when the timeout fires), then removes the work dir unless kept.
FAILED_ANY=1
cleanup_work() {
	local pids=() p cwd
	for p in /proc/[0-9]*; do
		cwd="$(readlink "$p/cwd" 2>/dev/null || true)"
		case "$cwd" in "$WORK" | "$WORK"/*) pids+=("${p#/proc/}") ;; esac
	done
	if [ "${#pids[@]}" -gt 0 ]; then
		kill -TERM "${pids[@]}" 2>/dev/null || true
		kill -CONT "${pids[@]}" 2>/dev/null || true
		local deadline=$((SECONDS + 5))
		while [ $SECONDS -lt $deadline ]; do
			local alive=0
			for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
			[ $alive = 0 ] && break
			sleep 0.2
		done
		kill -KILL "${pids[@]}" 2>/dev/null || true
	fi
	if [ "$KEEP" = 1 ] || { [ "$KEEP" = auto ] && [ "$FAILED_ANY" != 0 ]; }; then
		echo "work dir kept: $WORK (instance logs under redis-$REDIS_VERSION/tests/sentinel/tmp/)"
	else
		rm -rf "$WORK"
	fi
}
trap cleanup_work EXIT

# --- confinement patches (printed; none changes an assertion) ------------------
T="$ROOT/tests"
echo "== confinement patches"
echo "0. every instance gets 'bind 127.0.0.1' through the harness's ::global_config (run.tcl --config bind 127.0.0.1)"

patch_file() { # <file> <description> <sed expression>
	local f="$1" desc="$2" expr="$3"
	cp "$f" "$f.orig"
	sed -i -e "$expr" "$f"
	cmp -s "$f" "$f.orig" && die "patch '$desc' matched nothing in ${f#"$ROOT"/}"
	echo "$desc"
	diff -u --label "a/${f#"$ROOT"/}" --label "b/${f#"$ROOT"/}" "$f.orig" "$f" | sed 's/^/   /' || true
	rm -f "$f.orig"
}

cp "$T/instances.tcl" "$T/instances.tcl.orig"
cat >>"$T/instances.tcl" <<'EOF'

# sentinel-suite.sh confinement: probe only the port itself (upstream also
# binds port+10000 for a cluster bus) and search at most 100 ports, so the
# instances stay inside 20000-20099 / 30000-30099.
proc find_available_port {start count} {
    if {$count > 100} {set count 100}
    set port [expr {$::last_port_attempted + 1}]
    for {set attempts 0} {$attempts < $count} {incr attempts} {
        if {$port < $start || $port >= $start+$count} {
            set port $start
        }
        if {![catch {set fd [socket -server 127.0.0.1 $port]}]} {
            close $fd
            set ::last_port_attempted $port
            return $port
        }
        incr port
    }
    error "Can't find a non busy port in the $start-[expr {$start+$count-1}] range."
}
EOF
echo "1. find_available_port override appended to tests/instances.tcl (ports 20000-20099 / 30000-30099 only)"
diff -u --label a/tests/instances.tcl --label b/tests/instances.tcl "$T/instances.tcl.orig" "$T/instances.tcl" | sed 's/^/   /' || true
rm -f "$T/instances.tcl.orig"
patch_file "$T/sentinel/tests/includes/sentinel.conf" \
	"2. rewrite fixture: off-host 10.0.0.1:30000 -> 127.0.0.1:30100 (nothing listens there)" \
	's/^sentinel monitor setmaster 10\.0\.0\.1 30000 2$/sentinel monitor setmaster 127.0.0.1 30100 2/'
patch_file "$T/sentinel/tests/07-down-conditions.tcl" \
	"3. 07-down-conditions: closed port 34567 -> 30100" \
	's/R 0 slaveof 127\.0\.0\.1 34567$/R 0 slaveof 127.0.0.1 30100/'

# --- preflight: each binary must answer PING on 127.0.0.1 within 10 s ---------------
preflight() { # <name> <binary> <port>
	local name="$1" bin="$2" port="$3" dir="$WORK/preflight-$1"
	mkdir -p "$dir"
	printf 'port %s\nbind 127.0.0.1\ndir %s\nlogfile log.txt\n' "$port" "$dir" >"$dir/$name.conf"
	if [ "$name" = redis ]; then printf 'save ""\n' >>"$dir/$name.conf"; fi
	ln -s "$bin" "$dir/redis-$name"
	(cd "$dir" && exec "./redis-$name" "$dir/$name.conf" >"$dir/stdout.txt" 2>"$dir/err.txt") &
	local pid=$! ok=0 deadline=$((SECONDS + 10))
	while [ $SECONDS -lt $deadline ]; do
		if redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null | grep -q PONG; then
			ok=1
			break
		fi
		sleep 0.1
	done
	kill -TERM "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	if [ $ok = 0 ]; then
		echo "preflight: $name ($bin) did not answer PING on 127.0.0.1:$port within 10 s" >&2
		tail -n 20 "$dir/log.txt" "$dir/err.txt" "$dir/stdout.txt" 2>/dev/null >&2 || true
		exit 2
	fi
	rm -rf "$dir"
}
preflight redis "$REDIS_SERVER" 30099
preflight sentinel "$SENTINEL" 20099

# --- run ---------------------------------------------------------------------------------
echo "== running tests/sentinel/run.tcl"
echo "sentinel: $SENTINEL"
echo "data nodes: $REDIS_SERVER ($("$REDIS_SERVER" --version | awk '{print $3}'))"
env | grep '^GOSENTINEL_' | sed 's/^/env: /' || true
LOG="$WORK/run.log"
args=(--dont-clean --config bind 127.0.0.1)
[ -n "${SUITE_ONLY:-}" ] && args+=(--single "$SUITE_ONLY")
START=$SECONDS
set +e
(
	cd "$ROOT" && TERM=dumb exec timeout --kill-after=30 "$TIMEOUT_S" tclsh8.6 tests/sentinel/run.tcl "${args[@]}" </dev/null 2>&1
) | while IFS= read -r line; do
	printf '%s %s\n' "$(date +%s)" "$line" >>"$LOG"
	if [ "${SUITE_VERBOSE:-0}" = 1 ]; then
		echo "$line"
	else
		case "$line" in
		*"Testing unit:"* | *FAILED* | *"Aborting"*) echo "  $line" ;;
		esac
	fi
done
RC=${PIPESTATUS[0]}
set -e
WALL=$((SECONDS - START))

# --- per-file rows -------------------------------------------------------------------------
FILES="$(cd "$T/sentinel/tests" && ls ./*.tcl | sed 's|^\./||' | tr '\n' ' ')"
echo "== results ($(basename "$SENTINEL"))"
ROWS="$(awk -v files="$FILES" -v rc="$RC" -v endt="$(date +%s)" '
function clean(s) { gsub(/\033\[[0-9;]*m/, "", s); return s }
function fail(f, t, m) { if (!(f in status)) { status[f] = "FAIL"; ftest[f] = t; fmsg[f] = m } }
{
	ts = $1; line = clean(substr($0, index($0, " ") + 1))
	if (line ~ /Testing unit: /) {
		if (cur != "") dur[cur] = ts - start[cur]
		n = split(line, a, " "); cur = a[n]; start[cur] = ts; seen[cur] = 1; order[++nseen] = cur; test = ""
		next
	}
	if (line ~ /^Cleaning up\.\.\./) { if (cur != "" && !(cur in dur)) dur[cur] = ts - start[cur]; cleaning = 1; cleanstart = ts; next }
	if (cleaning) {
		# Whatever run.tcl prints here besides its own progress is a crash
		# report or an instance stderr (err.txt) it counts as a failure.
		if (cleanmsg == "" && line !~ /^(killing stale instance|Waiting for process|GOOD! No errors|WARNING [0-9]+ test\(s\) failed|[[:space:]]*$)/) cleanmsg = line
		next
	}
	if (cur == "") { if (line ~ /FAILED|Aborting|>>>>>>>>/ && initmsg == "") initmsg = line; next }
	if (line ~ /^[0-9][0-9]:[0-9][0-9]:[0-9][0-9]> /) {
		test = substr(line, 11)
		p = index(test, ": FAILED: ")
		if (p > 0) { fail(cur, substr(test, 1, p - 1), substr(test, p + 10)); next }
		sub(/: OK$/, "", test); sub(/: $/, "", test)
		next
	}
	if (line ~ /^FAILED: /) { fail(cur, test, substr(line, 9)); next }
	if (line ~ /Sentinel has leaked fds/) { fail(cur, test, "Sentinel has leaked fds to scripts"); next }
	if (line ~ /^>>>>>>>> /) { fail(cur, test, substr(line, 10)); next }
}
END {
	if (cur != "" && !(cur in dur)) dur[cur] = endt - start[cur]
	nf = split(files, fl, " "); passed = 0; failed = 0
	for (i = 1; i <= nf; i++) {
		f = fl[i]; st = ""; detail = ""
		if (f in status) { st = "FAIL"; detail = "\"" ftest[f] "\": " fmsg[f] }
		else if (!(f in seen)) st = "NOT-RUN"
		else if (f == cur && !cleaning) { st = (rc == 124 || rc == 137) ? "TIMEOUT" : "FAIL"; if (st == "FAIL") detail = "run.tcl exited (" rc ") during this file; last test: \"" test "\"" }
		else st = "PASS"
		if (st == "PASS") passed++; else failed++
		printf "%-28s %-8s %5s  %s\n", f, st, (f in dur) ? dur[f] "s" : "-", detail
	}
	if (initmsg != "") { failed++; printf "%-28s %-8s %5s  %s\n", "(init)", "FAIL", "-", initmsg }
	if (cleanmsg != "" || (cleaning && rc != 0 && failed == 0)) {
		failed++
		printf "%-28s %-8s %5s  %s\n", "(cleanup-checks)", "FAIL", "-", (cleanmsg != "" ? "instance stderr/crash report flagged by run.tcl: " cleanmsg : "run.tcl exit " rc " (crash report or stderr heuristics)")
	}
	printf "%d passed, %d failed\n", passed, failed
}' "$LOG")"
printf '%s\n' "$ROWS" | sed '$d'
echo "wall time: ${WALL}s (run.tcl exit status $RC)"
FINAL="$(printf '%s\n' "$ROWS" | tail -n 1)"
echo "$FINAL"
case "$FINAL" in
*" 0 failed") FAILED_ANY=0 ;;
*) FAILED_ANY=1 ;;
esac
[ "$FAILED_ANY" = 0 ]
