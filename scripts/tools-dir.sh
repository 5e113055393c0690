# Sourced by the scripts that build or fetch what the tests and the image
# use (build-redis8.sh, build-redis-exporter.sh, deploy/image/build.sh):
# sets and creates $tools_dir, their cache:
# GOSENTINEL_TOOLS_DIR, else /var/cache/gosentinel-tools, else (not
# writable) ~/.cache/gosentinel-tools.
tools_dir=${GOSENTINEL_TOOLS_DIR:-}
if [ -z "$tools_dir" ]; then
	tools_dir=/var/cache/gosentinel-tools
	if ! mkdir -p "$tools_dir" 2>/dev/null || [ ! -w "$tools_dir" ]; then
		tools_dir=${XDG_CACHE_HOME:-$HOME/.cache}/gosentinel-tools
	fi
fi
mkdir -p "$tools_dir"
