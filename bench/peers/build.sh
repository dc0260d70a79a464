#!/usr/bin/env bash
# Builds Argo Workflows' workflow-controller for the peer benchmark from its
# Go module (pinned in bench/peers/argo/go.mod; never a prebuilt binary) and
# caches it beside the control plane's binaries, keyed by version:
#   $RUNBOOK_CACHE/cluster/argo-workflows-<version>/bin/workflow-controller
# Prints the bin directory on stdout. Idempotent. Cold: ~8 min on 2 cores.
#
# Argo v4.0.5 has reported security flaws. This binary is for benchmarks
# against a throwaway local control plane only: never ship or deploy it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod
ARGO=$(awk '$1=="github.com/argoproj/argo-workflows/v4" {print $2; exit}' "$here/argo/go.mod")
cache=${RUNBOOK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/runbook}
bin="$cache/cluster/argo-workflows-$ARGO/bin"
mkdir -p "$bin"
exec 9>"$bin/../.lock"
flock 9
if [ ! -x "$bin/workflow-controller" ]; then
	echo "build.sh: building Argo Workflows workflow-controller $ARGO (cold: ~8 min on 2 cores)" >&2
	# The version its release stamps (Argo names its executor image after it).
	ld="-s -w -X github.com/argoproj/argo-workflows/v4.version=$ARGO"
	ld="$ld -X github.com/argoproj/argo-workflows/v4.buildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	(cd "$here/argo" && go build -trimpath -ldflags="$ld" -o "$bin/workflow-controller.tmp" \
		github.com/argoproj/argo-workflows/v4/cmd/workflow-controller &&
		mv "$bin/workflow-controller.tmp" "$bin/workflow-controller")
fi
# The minimal CRDs, from the same module version (run.sh applies them).
if [ ! -d "$bin/../crds" ]; then
	src=$(cd "$here/argo" && go list -m -f '{{.Dir}}' github.com/argoproj/argo-workflows/v4)
	mkdir -p "$bin/../crds.tmp"
	cp "$src"/manifests/base/crds/minimal/argoproj.io_*.yaml "$bin/../crds.tmp/"
	chmod u+w "$bin/../crds.tmp"/*
	mv "$bin/../crds.tmp" "$bin/../crds"
fi
echo "$bin"
