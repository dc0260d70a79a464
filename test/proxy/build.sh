#!/usr/bin/env bash
# Builds the fault proxy (stdlib only) into the cache beside the cluster
# binaries, keyed by a hash of its sources, and prints the binary's path:
#   $RUNBOOK_CACHE/cluster/fault-proxy-<hash>/fault-proxy
# Idempotent; a second run prints the path at once.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod
cache=${RUNBOOK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/runbook}
hash=$(cd "$here" && cat go.mod ./*.go | sha256sum | cut -c1-12)
dir="$cache/cluster/fault-proxy-$hash"
bin="$dir/fault-proxy"
if [ ! -x "$bin" ]; then
	mkdir -p "$dir"
	(cd "$here" && go build -trimpath -ldflags="-s -w" -o "$bin.tmp" .)
	mv "$bin.tmp" "$bin"
fi
echo "$bin"
