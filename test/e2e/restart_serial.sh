# The operator SIGKILLed at moments chosen to hurt (right after a run starts,
# during creates, during teardown) and started again: no duplicate Job, no
# lost run, correct final status.
. "$(dirname "$0")/../lib.sh"
: "${RUNBOOK_CLUSTER_DIR:?}" "${RUNBOOK_OPERATOR_DIR:?}"
op() { "$RB_SRC/test/operator.sh" "$1" "$RUNBOOK_CLUSTER_DIR" "$RUNBOOK_OPERATOR_DIR"; }
trap 'op start >/dev/null 2>&1; kubectl delete namespace "$NS" --wait=false >/dev/null 2>&1' EXIT
{
	cat <<Y
apiVersion: runbook.dev/v1alpha1
kind: Workflow
metadata: {name: wide, namespace: $NS}
spec:
  terminationGracePeriodSeconds: 2
  steps:
  - {name: first, image: busybox:1.36, podTemplate: {metadata: {annotations: {runbook.dev/test-duration: 1s}}}}
Y
	for i in $(seq -w 1 10); do
		echo "  - {name: w$i, image: busybox:1.36, dependsOn: [first], podTemplate: {metadata: {annotations: {runbook.dev/test-duration: 3s}}}}"
	done
	echo "  - {name: last, image: busybox:1.36, dependsOn: [w01, w05, w10]}"
} >"/tmp/$NS-wf.yaml"
kubectl apply -f "/tmp/$NS-wf.yaml" >/dev/null
rm -f "/tmp/$NS-wf.yaml"
printf 'apiVersion: runbook.dev/v1alpha1\nkind: WorkflowRun\nmetadata: {name: ok, namespace: %s}\nspec: {workflowRef: {name: wide}}\n' "$NS" |
	kubectl apply -f - >/dev/null
# Kill as soon as the first-wave Job appears (status write and creates in flight).
eventually 30 "first Job created" exists job/ok-first
op kill
uid_first=$(jp job/ok-first '{.metadata.uid}')
sleep 1
op start
eventually 30 "second wave created" exists job/ok-w10
op kill
sleep 0.5
op start
check "run ok Succeeds after restarts" kubectl -n "$NS" wait --for=jsonpath='{.status.phase}'=Succeeded wfr/ok --timeout=90s
check "12 Jobs, one per step" [ "$(kubectl -n "$NS" get jobs -l runbook.dev/run=ok -o name | wc -l)" -eq 12 ]
check "the first Job was never replaced" field_is job/ok-first '{.metadata.uid}' "$uid_first"
check "every step Succeeded" [ "$(jp wfr/ok '{.status.steps[*].phase}' | tr ' ' '\n' | grep -c Succeeded)" -eq 12 ]

# Kill during a teardown.
sed_wf=$(kubectl -n "$NS" get rwf wide -o json)
printf 'apiVersion: runbook.dev/v1alpha1\nkind: WorkflowRun\nmetadata: {name: cx, namespace: %s}\nspec: {workflowRef: {name: wide}}\n' "$NS" |
	kubectl apply -f - >/dev/null
eventually 30 "cx's second wave running" exists job/cx-w05
kubectl -n "$NS" patch wfr cx --type=merge -p '{"spec":{"cancel":true}}' >/dev/null
eventually 10 "cx Cancelling" phase_is cx Cancelling
op kill
sleep 1
op start
check "cx ends Cancelled" kubectl -n "$NS" wait --for=jsonpath='{.status.phase}'=Cancelled wfr/cx --timeout=60s
check "no pod of cx still running" [ "$(run_pods cx)" -eq 0 ]
check "no pod of a torn-down step left" no_run_pods_except cx first
check "cx's step 'last' never started" [ -z "$(kubectl -n "$NS" get job cx-last -o name 2>/dev/null)" ]
: "$sed_wf"
operator_log_on_failure
finish
