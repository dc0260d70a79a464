#!/usr/bin/env bash
# The operator binary under valgrind, on a control plane of its own: a run
# that succeeds, a run whose failed step tears its sibling down, a run
# cancelled mid-way; then SIGTERM. Passes only when every run reached its
# phase, the operator exited 0, and valgrind saw no memory error and no
# leak after the shutdown.
#   operator_shutdown.sh OPERATOR_BINARY
set -uo pipefail
bin=${1:?usage: operator_shutdown.sh OPERATOR_BINARY}
root=$(cd "$(dirname "$0")/../.." && pwd)
dir=$(mktemp -d "${TMPDIR:-/tmp}/rb-memcheck.XXXXXX")
vg=
cleanup() {
	[ -n "$vg" ] && kill -KILL "$vg" 2>/dev/null
	"$root/test/cluster/down.sh" "$dir" >/dev/null 2>&1
	rm -rf "$dir"
}
trap cleanup EXIT
failed=0
ok() { echo "ok   - $*"; }
bad() { echo "FAIL - $*"; failed=1; }

"$root/test/cluster/up.sh" "$dir" 2 >"$dir/up.log" 2>&1 || { cat "$dir/up.log"; exit 1; }
export KUBECONFIG=$dir/kubeconfig
kubectl apply --server-side -f "$root/crds/" >/dev/null || exit 1
for _ in $(seq 1 300); do
	kubectl wait --for=condition=Established crd/workflows.runbook.dev \
		crd/workflowruns.runbook.dev crd/triggers.runbook.dev --timeout=5s >/dev/null 2>&1 && break
	sleep 0.2
done

valgrind --quiet --error-exitcode=99 --leak-check=full \
	--show-leak-kinds=definite,indirect,possible --errors-for-leak-kinds=definite,indirect,possible \
	"$bin" --kubeconfig "$KUBECONFIG" --health-addr 127.0.0.1:0 --metrics-addr 127.0.0.1:0 --webhook-addr 127.0.0.1:0 --ui-addr 127.0.0.1:0 \
	>"$dir/operator.log" 2>&1 &
vg=$!

# phase_within SECONDS RUN PHASE
phase_within() {
	local end=$((SECONDS + $1)) got=
	while [ $SECONDS -lt $end ]; do
		got=$(kubectl get wfr "$2" -o 'jsonpath={.status.phase}' 2>/dev/null)
		[ "$got" = "$3" ] && { ok "$2 is $3"; return 0; }
		sleep 0.5
	done
	bad "$2 is $3 within $1 s (last seen: ${got:-none})"
}

kubectl apply -f "$root/manifests/examples/diamond.yaml" >/dev/null
kubectl apply -f "$root/manifests/examples/fail-fast.yaml" >/dev/null
kubectl create -f - >/dev/null <<RUN
apiVersion: runbook.dev/v1alpha1
kind: Workflow
metadata: {name: slow}
spec:
  terminationGracePeriodSeconds: 2
  steps:
  - name: wait
    image: busybox:1.36
    command: [sleep, "120"]
    podTemplate: {metadata: {annotations: {runbook.dev/test-duration: "120s"}}}
---
apiVersion: runbook.dev/v1alpha1
kind: WorkflowRun
metadata: {name: cancel-1}
spec: {workflowRef: {name: slow}}
RUN
phase_within 120 cancel-1 Running
kubectl patch wfr cancel-1 --type=merge -p '{"spec":{"cancel":true}}' >/dev/null
phase_within 120 diamond-1 Succeeded
phase_within 120 fail-fast-1 Failed
phase_within 120 cancel-1 Cancelled

kill -TERM "$vg"
rc=
for _ in $(seq 1 300); do
	kill -0 "$vg" 2>/dev/null || { wait "$vg"; rc=$?; break; }
	sleep 0.1
done
[ -n "$rc" ] && vg=
if [ -z "$rc" ]; then
	bad "the operator exits within 30 s of SIGTERM under valgrind"
elif [ "$rc" -eq 0 ]; then
	ok "the operator exited 0 after SIGTERM; valgrind: no error, no leak"
else
	bad "the operator exited $rc (99: valgrind found errors or leaks)"
fi
[ $failed -eq 0 ] || { echo "--- operator log"; tail -n 60 "$dir/operator.log"; }
exit $failed
