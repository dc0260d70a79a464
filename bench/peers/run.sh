#!/usr/bin/env bash
# The peer benchmark (bench/README.md, "Peers"; issue 15): Runbook beside
# Argo Workflows' workflow-controller on one local control plane, scenario by
# scenario, trials alternating, one table of medians with ratios.
#
#   bench/peers/run.sh                 2 rounds (~17 min with the binaries cached)
#   bench/peers/run.sh --trials 3      3 rounds, firmer medians (~25 min)
#   bench/peers/run.sh --scenarios failfast,cancel --systems runbook,argo
#
# It builds runbook-operator in a Release tree of its own (build/peers-rel),
# Argo's controller from its Go module (bench/peers/build.sh; cached, ~8 min
# cold), starts its own control plane in build/peers-cluster (kwok nodes
# only), installs both projects' CRDs, runs bench/peers/peers.py and stops the
# cluster, pass or fail.
#
# Argo v4.0.5 has reported security flaws: it runs here only against this
# throwaway loopback cluster, never anywhere else.
#
# Environment: PEERS_CLUSTER_DIR (default build/peers-cluster), PEERS_BUILD
# (default build/peers-rel), PEERS_KEEP=1 leaves the cluster running,
# PEERS_DEADLINE (unix time: start no trial after it; the table shows what ran).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
dir=${PEERS_CLUSTER_DIR:-$root/build/peers-cluster}
bdir=${PEERS_BUILD:-$root/build/peers-rel}
t0=$SECONDS
mkdir -p "$root/build"

. bench/lib.bash

# --- build (another module may be mid-edit: retry twice, a minute apart) ------
build() {
	# The release preset's variables, in a tree of our own.
	cmake -S . -B "$bdir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DRUNBOOK_CLUSTER_TESTS=OFF >/dev/null &&
		cmake --build "$bdir" -j2 --target runbook-operator
}
bench_build run.sh "$root/build/peers-build.log" build
argo_bin=$(bench/peers/build.sh)

# --- a cluster of our own -------------------------------------------------------
# 3 kwok nodes of 1,000 pods each: the memory scenario runs 1,000 pods at once.
RUNBOOK_REAL_NODE=0 bench_cluster run.sh "$dir" "${PEERS_KEEP:-0}" 3
kubectl apply --server-side -f crds/ >/dev/null
kubectl apply --server-side -f "$argo_bin/../crds/" >/dev/null
for try in 1 2 3 4 5; do
	kubectl wait --for=condition=Established --timeout=60s \
		crd/workflows.runbook.dev crd/workflowruns.runbook.dev \
		crd/workflows.argoproj.io crd/workflowtaskresults.argoproj.io >/dev/null && break
	[ $try = 5 ] && exit 1
	sleep 1
done

# --- the benchmark -----------------------------------------------------------------
work=$dir/peers
rm -rf "$work"
mkdir -p "$work"
echo "== peers: $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $(free -g | awk '/^Mem:/{print $2}') GiB"
echo "   runbook: $bdir/runbook-operator ($(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src operator || echo ', uncommitted changes'))"
echo "   argo:    $argo_bin/workflow-controller ($(basename "$(dirname "$argo_bin")"))"
echo "   load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 bench/peers/peers.py --kubeconfig "$dir/kubeconfig" \
	--runbook "$bdir/runbook-operator" --argo "$argo_bin/workflow-controller" \
	--workdir "$work" ${PEERS_DEADLINE:+--deadline "$PEERS_DEADLINE"} "$@" | tee "$work/table.txt"
echo "   logs: $work (each trial's controller log; results.json); $((SECONDS - t0)) s in all"
