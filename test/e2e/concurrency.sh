# concurrencyPolicy Forbid queues a new run until the running one ends;
# Replace cancels the running one.
. "$(dirname "$0")/../lib.sh"
wf() { # NAME POLICY
	cat <<Y
apiVersion: runbook.dev/v1alpha1
kind: Workflow
metadata: {name: $1, namespace: $NS}
spec:
  concurrencyPolicy: $2
  terminationGracePeriodSeconds: 1
  steps:
  - {name: a, image: busybox:1.36, podTemplate: {metadata: {annotations: {runbook.dev/test-duration: 1h}}}}
Y
}
run() { printf 'apiVersion: runbook.dev/v1alpha1\nkind: WorkflowRun\nmetadata: {name: %s, namespace: %s}\nspec: {workflowRef: {name: %s}}\n' "$1" "$NS" "$2"; }
{ wf forbid Forbid; echo ---; run f1 forbid; } | kubectl apply -f - >/dev/null
eventually 30 "f1 Running" phase_is f1 Running
run f2 forbid | kubectl apply -f - >/dev/null
eventually 30 "f2 Pending" phase_is f2 Pending
check "  with reason Queued" [ "$(cond_reason f2 Succeeded)" = Queued ]
sleep 2
check "f2 created no Job while f1 runs" [ -z "$(kubectl -n "$NS" get jobs -l runbook.dev/run=f2 -o name)" ]
kubectl -n "$NS" patch wfr f1 --type=merge -p '{"spec":{"cancel":true}}' >/dev/null
eventually 60 "f1 Cancelled" phase_is f1 Cancelled
eventually 60 "then f2 starts" phase_is f2 Running

{ wf replace Replace; echo ---; run p1 replace; } | kubectl apply -f - >/dev/null
eventually 30 "p1 Running" phase_is p1 Running
run p2 replace | kubectl apply -f - >/dev/null
eventually 60 "p1 Cancelled by the new run" phase_is p1 Cancelled
eventually 60 "p2 Running" phase_is p2 Running
check "p1's cancel was requested" field_is wfr/p1 '{.spec.cancel}' true
check "no pod of p1 left" [ "$(run_pods p1)" -eq 0 ]
operator_log_on_failure
finish
