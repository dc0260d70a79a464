# A run whose status holds JSON nested 1000 deep (issue 10, "Bad input"):
# status.workflowSpec keeps unknown fields, so the API server accepts it
# from anyone allowed to write one run's status (it takes up to 10000
# levels). The operator must go on reconciling every other run.
#
# KNOWN GAP, so skipped unless RUNBOOK_HOSTILE_DEEP=1: today the operator's
# JSON readers stop at 256 levels (src/watch/decoder.c WATCH_MAX_DEPTH,
# src/kube/request.c JSON_DEPTH). The WorkflowRun watch fails on that
# event ("nesting too deep"), resumes from the resourceVersion before it
# and fails again, forever; a relist fails the same way. So no run in any
# namespace is reconciled any more, and deleting the run does not help
# until etcd compaction forces a relist. Serial: it stalls the shared
# operator, which it restarts at the end.
if [ "${RUNBOOK_HOSTILE_DEEP:-0}" != 1 ]; then
	echo "# skipped: known gap, a run nested deeper than 256 levels stalls the operator's run watch (set RUNBOOK_HOSTILE_DEEP=1 to run)"
	exit 77
fi
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
python3 -c 'd = 1000; print("{\"status\":{\"workflowSpec\":{\"deep\":" + "{\"n\":" * d + "1" + "}" * d + "}}}")' >"$RB_TMP/deep.json"
check "deep: status.workflowSpec nested 1000 deep, accepted by the API server" \
	'kubectl -n "$NS" patch wfr deep --subresource=status --type=merge --patch-file "$RB_TMP/deep.json" >/dev/null'
sleep 2
printf 'apiVersion: runbook.dev/v1alpha1\nkind: WorkflowRun\nmetadata: {name: after, namespace: %s}\nspec: {workflowRef: {name: long}}\n' "$NS" |
	kubectl apply -f - >/dev/null
eventually 30 "a run created afterwards still starts" 'step_is after a Running'
check "deep: its Job is still there (not orphaned, not deleted)" 'exists job/deep-a'
check "the operator is alive" 'operator_alive'
kubectl -n "$NS" patch wfr after --type=merge -p '{"spec":{"cancel":true}}' >/dev/null
eventually 30 "after: a cancel still works" 'phase_is after Cancelled'
if grep -q "nesting too deep" "$RUNBOOK_CLUSTER_DIR/logs/operator.log"; then
	echo "# operator log: $(grep "nesting too deep" "$RUNBOOK_CLUSTER_DIR/logs/operator.log" | tail -n 1)"
fi
operator_log_on_failure
finish
