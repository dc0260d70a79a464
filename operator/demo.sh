#!/usr/bin/env bash
# `make demo`: a local control plane, the CRDs, the operator, and an example
# run shown as it progresses. Leaves the cluster and operator running and
# says how to use and stop them.
# Usage: operator/demo.sh CLUSTER_DIR BUILD_DIR
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:?usage: $0 CLUSTER_DIR BUILD_DIR}
build=${2:?usage: $0 CLUSTER_DIR BUILD_DIR}
# A real node when this machine can run one (test/cluster/node.sh): the
# steps then run as real processes, with real logs.
RUNBOOK_REAL_NODE=${RUNBOOK_REAL_NODE:-auto} "$root/test/cluster/up.sh" "$dir"
export KUBECONFIG=$dir/kubeconfig
REAL_NODE=
. "$dir/env"
# example FILE: the example as is on kwok; on the real node, with the
# node's local image and the steps pinned to it (test/cluster/on-real-node.py).
example() {
	if [ -n "$REAL_NODE" ]; then python3 "$root/test/cluster/on-real-node.py" "$1"; else cat "$1"; fi
}
op=$build/runbook-operator
if [ ! -x "$op" ] || [ -z "$(ls "$root"/crds/*.yaml 2>/dev/null)" ]; then
	echo
	echo "demo: the control plane is up, but the operator is not built yet in this"
	echo "      version of the tree (no $op or no CRDs); stopping here."
	echo "      Use the cluster: export KUBECONFIG=$KUBECONFIG"
	echo "      Stop it: make demo-down"
	exit 0
fi
kubectl apply --server-side -f "$root/crds/" >/dev/null
for _ in $(seq 1 300); do kubectl wait --for=condition=Established crd --all --timeout=5s >/dev/null 2>&1 && break; sleep 0.2; done
if [ -f "$dir/operator.pid" ] && kill -0 "$(cat "$dir/operator.pid")" 2>/dev/null; then
	kill "$(cat "$dir/operator.pid")"
	sleep 1
fi
# The web UI on 127.0.0.1:8083 when that port is free (else any port; the
# log says which).
ui_port=8083
python3 -c 'import socket,sys; s=socket.socket(); s.bind(("127.0.0.1",8083))' 2>/dev/null || ui_port=0
setsid "$op" --kubeconfig "$KUBECONFIG" --health-addr 127.0.0.1:0 --metrics-addr 127.0.0.1:0 --webhook-addr 127.0.0.1:0 --ui-addr "127.0.0.1:$ui_port" \
	>"$dir/logs/operator.log" 2>&1 </dev/null &
echo $! >"$dir/operator.pid"
echo "demo: operator running (pid $(cat "$dir/operator.pid"), log $dir/logs/operator.log)"
kubectl delete -f "$root/manifests/examples/diamond.yaml" --ignore-not-found --wait=true >/dev/null 2>&1 || true
if [ -n "$REAL_NODE" ]; then
	echo "demo: steps run as real processes on node $REAL_NODE (image runbook.test/busybox:1)"
fi
example "$root/manifests/examples/diamond.yaml" | kubectl apply -f -
run=$(kubectl get wfr -o jsonpath='{.items[0].metadata.name}')
echo "demo: watching workflowrun/$run"
kubectl get wfr "$run" -w &
w=$!
kubectl wait --for=jsonpath='{.status.completionTime}' "wfr/$run" --timeout=120s >/dev/null || true
sleep 1
kill $w 2>/dev/null || true
echo
kubectl get wfr "$run" -o jsonpath='{range .status.steps[*]}{.name}{"\t"}{.phase}{"\t"}{.job}{"\n"}{end}'
kubectl get jobs -l "runbook.dev/run=$run"
if [ -n "$REAL_NODE" ]; then
	echo
	for s in a b c d; do
		printf 'demo: kubectl logs job/%s-%s: ' "$run" "$s"
		kubectl logs "job/$run-$s" 2>&1 | head -n 1
	done
	echo
	echo "Try: $root/test/cluster/on-real-node.py $root/manifests/examples/fail-fast.yaml | kubectl apply -f - && kubectl get wfr -w"
else
	echo
	echo "Try: kubectl apply -f $root/manifests/examples/fail-fast.yaml && kubectl get wfr -w"
fi
# A person for the web UI: a ServiceAccount allowed what the UI does
# (docs/ui.md, "Who may do what"), in every namespace.
kubectl apply -f - >/dev/null <<'YAML'
apiVersion: v1
kind: ServiceAccount
metadata: {name: runbook-demo-user, namespace: default}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: runbook-demo-user}
rules:
- {apiGroups: [runbook.dev], resources: [workflowruns], verbs: [get, list, watch, patch, create]}
- {apiGroups: [runbook.dev], resources: [workflows, triggers], verbs: [get, list, watch]}
- {apiGroups: [""], resources: [events], verbs: [list]}
- {apiGroups: [""], resources: [pods/log], verbs: [get]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: runbook-demo-user}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: runbook-demo-user}
subjects: [{kind: ServiceAccount, name: runbook-demo-user, namespace: default}]
YAML
ui_port=$(sed -n 's/.*msg="web UI listening" .*port=\([0-9]*\).*/\1/p' "$dir/logs/operator.log" | tail -n 1)
echo "Web UI: http://127.0.0.1:$ui_port/  (sign in with: kubectl create token runbook-demo-user --duration=8h)"
echo "Use: export KUBECONFIG=$KUBECONFIG     Stop: make demo-down"
