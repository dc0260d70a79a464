#!/usr/bin/env bash
# The controller benchmark (bench/README.md), start to finish:
# builds the release tree, starts its own local control plane in
# build/bench-cluster, installs the CRDs, runs bench_controller (in-process
# controller for the direct/start/react/econ phases, the real operator binary
# for the rss phase), prints the summary table (each figure, its target, PASS
# or MISS) and stops the cluster, pass or fail.
#
#   bench/run.sh            full run: 1,000 runs, 100 x 50 teardowns, 1,000 x 10 for RSS (~15 min)
#   bench/run.sh --quick    smoke run: 50 runs, 10 x 50 teardowns, 50 x 10 for RSS (~2-3 min)
#   bench/run.sh [--quick] --only start,react    any bench_controller flag is passed on
#
# Then bench_watch_economy: an informer watching 1,000 ConfigMaps that change
# 20 times a second, for BENCH_WATCH_SECONDS (default 600, --quick 60; 0 skips
# it): the informer's requests per object change (issue 3's API economy).
#
# Environment: BENCH_CLUSTER_DIR (default build/bench-cluster), BENCH_NODES
# (simulated nodes, 1,000 pods each; default 50, --quick 10), BENCH_KEEP=1
# leaves the cluster running.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
dir=${BENCH_CLUSTER_DIR:-$root/build/bench-cluster}
quick=0
for a in "$@"; do [ "$a" = --quick ] && quick=1; done
nodes=${BENCH_NODES:-$([ $quick = 1 ] && echo 10 || echo 50)}
t0=$SECONDS

. bench/lib.bash

# --- build (another module may be mid-edit: retry twice, a minute apart) ------
build() {
	cmake --preset release >/dev/null &&
		cmake --build build/release -j2 --target runbook-operator bench_controller bench_watch_economy
}
bench_build run.sh "$root/build/bench-build.log" build

# --- a cluster of our own -------------------------------------------------------
bench_cluster run.sh "$dir" "${BENCH_KEEP:-0}" "$nodes"
kubectl apply --server-side -f crds/ >/dev/null
# Right after the apply a CRD may have no .status.conditions yet, which
# kubectl wait reports as an error rather than waiting: try again.
for try in 1 2 3 4 5; do
	kubectl wait --for=condition=Established --timeout=60s \
		crd/workflows.runbook.dev crd/workflowruns.runbook.dev crd/triggers.runbook.dev >/dev/null && break
	[ $try = 5 ] && exit 1
	sleep 1
done

# --- the benchmark -----------------------------------------------------------------
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
# RUNBOOK_CLUSTER_CTL lets the benchmark pause the controller manager during
# the create bursts (see bench/README.md); --kcm-running opts out.
RUNBOOK_CLUSTER_DIR=$dir RUNBOOK_CLUSTER_CTL=$root/test/cluster/ctl.sh \
	build/release/bench/bench_controller \
	--kubeconfig "$dir/kubeconfig" --operator build/release/runbook-operator \
	--workdir "$dir" --summary "$dir/summary.txt" "$@" | tee "$dir/bench.log"
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
watch_s=${BENCH_WATCH_SECONDS:-$([ $quick = 1 ] && echo 60 || echo 600)}
if [ "$watch_s" != 0 ]; then
	echo
	echo "== watch economy (bench_watch_economy --seconds $watch_s)"
	build/release/bench/bench_watch_economy --kubeconfig "$dir/kubeconfig" --seconds "$watch_s" |
		tee "$dir/watch-economy.log"
fi

echo
echo "== summary ($(nproc) CPUs, $(free -g | awk '/^Mem:/{print $2}') GiB; load average before $load_before, after $load_after; $((SECONDS - t0)) s in all)"
echo "   log: $dir/bench.log (kept until the next run)"
cat "$dir/summary.txt"
[ "$watch_s" = 0 ] || { echo; grep -v '^watching' "$dir/watch-economy.log"; }
