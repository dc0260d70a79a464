#!/usr/bin/env bash
# Real-node figures (bench/README.md, "On the real node"): its own cluster
# with a real node (test/cluster/node.sh) in build/bench-realnode, then
#   teardown  the release operator on the host; a step fails while 10
#             siblings run, on the real node and on kwok, 5 rounds each
#   startup   the operator image (operator/image.sh) deployed with
#             kubectl apply -k test/realnode/overlay: start -> ready, RSS
# and the cluster stopped, pass or fail. Needs what the real node needs
# (root; no other cluster on the machine holding it).
#   bench/realnode.sh [--rounds N] [--siblings N]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
dir=${BENCH_CLUSTER_DIR:-$root/build/bench-realnode}
cmake --preset release >/dev/null
cmake --build build/release -j2 --target runbook-operator >/dev/null
test/cluster/down.sh "$dir" >/dev/null 2>&1 || true
cleanup() {
	[ -f "$dir/operator.pid" ] && kill "$(cat "$dir/operator.pid")" 2>/dev/null
	test/cluster/down.sh "$dir" >/dev/null 2>&1 || true
	rm -rf /run/runbook-bench
}
trap cleanup EXIT
RUNBOOK_REAL_NODE=1 test/cluster/up.sh "$dir" 1 >/dev/null
export KUBECONFIG=$dir/kubeconfig
kubectl apply --server-side -f crds/ >/dev/null
kubectl wait --for=condition=Established crd --all --timeout=60s >/dev/null
setsid build/release/runbook-operator --kubeconfig "$KUBECONFIG" --health-addr 127.0.0.1:0 \
	--metrics-addr 127.0.0.1:0 --webhook-addr 127.0.0.1:0 --ui-addr 127.0.0.1:0 >"$dir/logs/operator.log" 2>&1 </dev/null &
echo $! >"$dir/operator.pid"
echo "realnode.sh: $(nproc) cores, $(date -u +%Y-%m-%d), kubelet $(. "$dir/env" && "$RUNBOOK_CLUSTER_BIN/kubelet" --version)"
python3 bench/realnode.py teardown "$@"
kill "$(cat "$dir/operator.pid")"
rm -f "$dir/operator.pid"
operator/image.sh build/image 2>"$dir/logs/image.log" | sed -n 's/^size:/image size:/p'
test/cluster/node.sh load "$dir" build/image/runbook-operator.oci.tar >/dev/null
python3 bench/realnode.py startup
