# A Job deleted the instant it appears, before the run's status names it,
# is not created again (issue 8): the step fails with JobDeleted, once. Ten
# runs, each step's Job deleted by a watcher as soon as it exists; the
# recorder checks at finish that no step ever had two Job uids.
. "$(dirname "$0")/../lib.sh"
cat <<Y | kubectl apply -f - >/dev/null
apiVersion: runbook.dev/v1alpha1
kind: Workflow
metadata: {name: quick, namespace: $NS}
spec:
  terminationGracePeriodSeconds: 1
  steps:
  - {name: a, image: busybox:1.36, podTemplate: {metadata: {annotations: {runbook.dev/test-duration: 1h}}}}
  - {name: b, image: busybox:1.36, podTemplate: {metadata: {annotations: {runbook.dev/test-duration: 1h}}}}
Y
# A watcher deletes each run's Job of step a the moment the watch shows it.
kubectl -n "$NS" get jobs -l runbook.dev/step=a --watch-only -o name 2>/dev/null |
	while read -r job; do kubectl -n "$NS" delete "$job" --wait=false >/dev/null 2>&1 & done &
watcher=$!
sleep 1
for i in $(seq 1 10); do
	printf 'apiVersion: runbook.dev/v1alpha1\nkind: WorkflowRun\nmetadata: {name: r%s, namespace: %s}\nspec: {workflowRef: {name: quick}}\n' "$i" "$NS"
	echo ---
done | kubectl apply -f - >/dev/null
for i in $(seq 1 10); do
	eventually 60 "r$i ends Failed" "phase_is r$i Failed"
	check "r$i: step a Failed, reason JobDeleted" "[ \"\$(jp wfr/r$i '{.status.steps[?(@.name==\"a\")].reason}')\" = JobDeleted ]"
	check "r$i: step a ran one pod at most" "[ \"\$(jp wfr/r$i '{.status.steps[?(@.name==\"a\")].attempts}')\" -le 1 ]"
	check "r$i: step b Cancelled" "step_is r$i b Cancelled"
done
kill "$watcher" 2>/dev/null
check "no Job of step a exists (none was created again)" '[ -z "$(kget jobs -l runbook.dev/step=a -o name)" ]'
operator_log_on_failure
finish
