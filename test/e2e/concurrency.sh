# concurrencyPolicy Forbid queues a new run until the running one ends;
# Replace cancels the running one and starts at once: the old run's teardown
# and the new run overlap, and a Replacing Event on the new run names the old.
. "$(dirname "$0")/../lib.sh"
wf() { # NAME POLICY GRACE
	cat <<Y
apiVersion: runbook.dev/v1alpha1
kind: Workflow
metadata: {name: $1, namespace: $NS}
spec:
  concurrencyPolicy: $2
  terminationGracePeriodSeconds: $3
  steps:
  - {name: a, image: busybox:1.36, podTemplate: {metadata: {annotations: {runbook.dev/test-duration: 1h}}}}
Y
}
run() { printf 'apiVersion: runbook.dev/v1alpha1\nkind: WorkflowRun\nmetadata: {name: %s, namespace: %s}\nspec: {workflowRef: {name: %s}}\n' "$1" "$NS" "$2"; }
{ wf forbid Forbid 1; echo ---; run f1 forbid; } | kubectl apply -f - >/dev/null
eventually 30 "f1 Running" 'phase_is f1 Running'
run f2 forbid | kubectl apply -f - >/dev/null
eventually 30 "f2 Pending" 'phase_is f2 Pending'
check "  with reason Queued" '[ "$(cond_reason f2 Succeeded)" = Queued ]'
sleep 2
check "f2 created no Job while f1 runs" 'none job runbook.dev/run=f2'
kubectl -n "$NS" patch wfr f1 --type=merge -p '{"spec":{"cancel":true}}' >/dev/null
eventually 60 "f1 Cancelled" 'phase_is f1 Cancelled'
eventually 60 "then f2 starts" 'phase_is f2 Running'

# Replace. The step's pods ignore SIGTERM and get 8 s of grace, so p1 stays
# Cancelling for about 8 s after p2 arrives: long enough to see the overlap
# that Replace promises, which an operator starting p2 only after p1 is
# Cancelled would never show.
{ wf replace Replace 8; echo ---; run p1 replace; } | kubectl apply -f - >/dev/null
eventually 30 "p1 Running" 'phase_is p1 Running'
eventually 30 "p1's pod Running" '[ "$(pod_phase p1-a)" = Running ]'
run p2 replace | kubectl apply -f - >/dev/null
# p2 is read before p1: a run never leaves Cancelled, so p1 Cancelling after
# p2 was seen Running means both held at the time p2 was read.
eventually 30 "p2 Running while p1 is still Cancelling" 'phase_is p2 Running && phase_is p1 Cancelling'
check "  and p1's pod is still there (Terminating) while p2 runs" \
	'phase_is p2 Running && n=$(run_pods p1) && [ "$n" -ge 1 ] && phase_is p1 Cancelling'
check "p1's cancel was requested" 'field_is wfr/p1 "{.spec.cancel}" true'
# Events go out on a lane of their own, so give them a moment.
replacing() { # the Replacing Events: REGARDING-KIND/NAME NOTE, one a line
	kubectl -n "$NS" get events.events.k8s.io \
		-o 'jsonpath={range .items[?(@.reason=="Replacing")]}{.regarding.kind}/{.regarding.name} {.note}{"\n"}{end}'
}
eventually 30 "a Replacing Event regarding p2 names p1" \
	'ev=$(replacing) && grep -qx "WorkflowRun/p2 .*\"p1\".*" <<<"$ev"'
check "  and none regarding p1" 'ev=$(replacing) && ! grep -q "^WorkflowRun/p1 " <<<"$ev"'
eventually 60 "p1 Cancelled by the new run" 'phase_is p1 Cancelled'
check "p2 still Running" 'phase_is p2 Running'
check "no pod of p1 left" 'n=$(run_pods p1) && [ "$n" -eq 0 ]'
operator_log_on_failure
finish
