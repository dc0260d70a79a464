# A run whose status holds JSON nested 9990 deep (issue 10, "Bad input"):
# status.workflowSpec keeps unknown fields, so the API server accepts it
# from anyone allowed to write one run's status (it takes up to 10000
# levels). The operator must go on reconciling every other run.
#
# Nested 9990 deep, just under the API server's 10000. Before the readers'
# limit was raised to the server's (src/kjson/kjson.h KJ_MAX_DEPTH), any
# such object made the WorkflowRun watch fail on its event, resume before it
# and fail again, forever: no run in any namespace was reconciled. Serial:
# if that comes back, it stalls the shared operator (restarted at the end).
RB_RECORD=0 # the recorder's own JSON reader recurses too
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/hostile.bash"
: "${RUNBOOK_OPERATOR_DIR:?}"
op() { "$RB_SRC/test/operator.sh" "$1" "$RUNBOOK_CLUSTER_DIR" "$RUNBOOK_OPERATOR_DIR"; }
eval "lib_exit=$(trap -p EXIT | sed 's/^trap -- //; s/ EXIT$//')"
# Whatever happens, the next tests get an operator that is not stuck.
trap 'kubectl -n "$NS" delete wfr deep --wait=false >/dev/null 2>&1; op restart >/dev/null 2>&1; eval "$lib_exit"' EXIT

cat <<Y | kubectl apply -f - >/dev/null
apiVersion: runbook.dev/v1alpha1
kind: Workflow
metadata: {name: long, namespace: $NS}
spec:
  terminationGracePeriodSeconds: 2
  steps:
  - {name: a, image: busybox:1.36, podTemplate: {metadata: {annotations: {runbook.dev/test-duration: 1h, runbook.dev/test-sigterm-exit: 200ms}}}}
---
apiVersion: runbook.dev/v1alpha1
kind: WorkflowRun
metadata: {name: deep, namespace: $NS}
spec: {workflowRef: {name: long}}
Y
eventually 60 "deep: a Running" 'step_is deep a Running'
python3 -c 'd = 9990; print("{\"status\":{\"workflowSpec\":{\"deep\":" + "{\"n\":" * d + "1" + "}" * d + "}}}")' >"$RB_TMP/deep.json"
check "deep: status.workflowSpec nested 9990 deep, accepted by the API server" \
	'kubectl -n "$NS" patch wfr deep --subresource=status --type=merge --patch-file "$RB_TMP/deep.json" >/dev/null'
sleep 2
printf 'apiVersion: runbook.dev/v1alpha1\nkind: WorkflowRun\nmetadata: {name: after, namespace: %s}\nspec: {workflowRef: {name: long}}\n' "$NS" |
	kubectl apply -f - >/dev/null
eventually 30 "a run created afterwards still starts" 'step_is after a Running'
check "deep: its Job is still there (not orphaned, not deleted)" 'exists job/deep-a'
check "the operator is alive" 'operator_alive'
kubectl -n "$NS" patch wfr after --type=merge -p '{"spec":{"cancel":true}}' >/dev/null
eventually 30 "after: a cancel still works" 'phase_is after Cancelled'
kubectl -n "$NS" patch wfr deep --type=merge -p '{"spec":{"cancel":true}}' >/dev/null
eventually 30 "deep itself is still reconciled: cancelled, its Job gone" 'phase_is deep Cancelled && none job runbook.dev/run=deep'
if grep -q "nesting too deep" "$RUNBOOK_CLUSTER_DIR/logs/operator.log"; then
	echo "# operator log: $(grep "nesting too deep" "$RUNBOOK_CLUSTER_DIR/logs/operator.log" | tail -n 1)"
fi
operator_log_on_failure
finish
