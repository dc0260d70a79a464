# Runs can be selected by field (docs/api.md, "Waiting for a run"):
# `kubectl get wfr --field-selector status.phase=Running` and
# `spec.workflowRef.name=NAME`, alone, combined and negated, and the
# selection follows the status as the operator changes it.
. "$(dirname "$0")/../lib.sh"
wf() { # NAME DURATION
	printf 'apiVersion: runbook.dev/v1alpha1\nkind: Workflow\nmetadata: {name: %s, namespace: %s}\nspec:\n  terminationGracePeriodSeconds: 1\n  steps:\n  - {name: s, image: busybox:1.36, podTemplate: {metadata: {annotations: {runbook.dev/test-duration: %s}}}}\n' "$1" "$NS" "$2"
}
run() { # NAME WORKFLOW
	printf 'apiVersion: runbook.dev/v1alpha1\nkind: WorkflowRun\nmetadata: {name: %s, namespace: %s}\nspec: {workflowRef: {name: %s}}\n' "$1" "$NS" "$2"
}
# a1 (of wa) and b1 (of wb) run for an hour, q1 (of wq) succeeds at once, n1
# waits for a Workflow that does not exist.
{
	wf wa 1h; echo ---; wf wb 1h; echo ---; wf wq 200ms; echo ---
	run a1 wa; echo ---; run b1 wb; echo ---; run q1 wq; echo ---; run n1 missing
} | kubectl apply -f - >/dev/null
# sel SELECTOR: the names of the runs it selects, sorted, space-separated;
# fails on an API error (which must not read as "selects nothing").
sel() {
	local o
	o=$(kubectl -n "$NS" get wfr --field-selector "$1" -o name) || return 2
	sed 's#.*/##' <<<"$o" | sort | tr '\n' ' ' | sed 's/ $//'
}
# selects SELECTOR NAMES: exactly those runs.
selects() { local got; got=$(sel "$1") && [ "$got" = "$2" ]; }
eventually 60 "a1 and b1 Running, q1 Succeeded, n1 Pending" \
	'phase_is a1 Running && phase_is b1 Running && phase_is q1 Succeeded && phase_is n1 Pending'
check "status.phase=Running selects a1 b1 ($(sel status.phase=Running))" 'selects status.phase=Running "a1 b1"'
check "status.phase=Succeeded selects q1 ($(sel status.phase=Succeeded))" 'selects status.phase=Succeeded q1'
check "status.phase=Pending selects n1 ($(sel status.phase=Pending))" 'selects status.phase=Pending n1'
check "status.phase!=Running selects n1 q1 ($(sel status.phase!=Running))" 'selects status.phase!=Running "n1 q1"'
check "spec.workflowRef.name=wa selects a1 ($(sel spec.workflowRef.name=wa))" 'selects spec.workflowRef.name=wa a1'
check "spec.workflowRef.name=missing selects n1 ($(sel spec.workflowRef.name=missing))" 'selects spec.workflowRef.name=missing n1'
check "spec.workflowRef.name=nothing selects nothing" 'selects spec.workflowRef.name=nothing ""'
check "both together: spec.workflowRef.name=wb,status.phase=Running selects b1" \
	'selects spec.workflowRef.name=wb,status.phase=Running b1'
check "both together: spec.workflowRef.name=wb,status.phase=Succeeded selects nothing" \
	'selects spec.workflowRef.name=wb,status.phase=Succeeded ""'
# Only the two documented fields are selectable.
bad_sel=$(kubectl -n "$NS" get wfr --field-selector spec.cancel=true -o name 2>&1)
bad_rc=$?
check "an undeclared field (spec.cancel) is refused ($bad_sel)" \
	'[ "$bad_rc" -ne 0 ] && [[ $bad_sel == *"field label not supported"* || $bad_sel == *"not a known field selector"* ]]'

# The selection follows the status: cancel a1; once it is Cancelled, only b1
# is Running.
kubectl -n "$NS" patch wfr a1 --type=merge -p '{"spec":{"cancel":true}}' >/dev/null
eventually 60 "a1 Cancelled" 'phase_is a1 Cancelled'
check "status.phase=Running now selects b1 only ($(sel status.phase=Running))" 'selects status.phase=Running b1'
check "status.phase=Cancelled selects a1 ($(sel status.phase=Cancelled))" 'selects status.phase=Cancelled a1'
# A watch with a field selector sees b1 leave the selection when it ends.
watch_out=$(mktemp)
kubectl -n "$NS" get wfr --field-selector status.phase=Running --watch --output-watch-events \
	-o 'jsonpath={.type} {.object.metadata.name}{"\n"}' >"$watch_out" 2>&1 &
watcher=$!
eventually 10 "a watch on status.phase=Running lists b1" 'grep -qx "ADDED b1" "$watch_out"'
kubectl -n "$NS" patch wfr b1 --type=merge -p '{"spec":{"cancel":true}}' >/dev/null
eventually 60 "  and sees it leave the selection when it is no longer Running" 'grep -qx "DELETED b1" "$watch_out"'
check "  without ever listing another run ($(tr '\n' ';' <"$watch_out"))" '! grep -vqE "^(ADDED|MODIFIED|DELETED) b1$" "$watch_out"'
kill "$watcher" 2>/dev/null
rm -f "$watch_out"
operator_log_on_failure
finish
