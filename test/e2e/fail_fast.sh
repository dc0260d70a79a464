# The heart of it: a step fails while 20 siblings run. Every sibling Job and
# pod goes away (pods get SIGTERM and their grace period), dependents are
# Skipped, finally runs, and the run is Failed, naming the step and its exit
# code, only once no main-step pod remains.
. "$(dirname "$0")/../lib.sh"
: "${RUNBOOK_CLUSTER_DIR:?}"
. "$RUNBOOK_CLUSTER_DIR/operator.env"
pods_deleted() { curl -s --max-time 5 "$OPERATOR_METRICS/metrics" | awk '$1 == "runbook_pods_deleted_total" {print $2}'; }
before=$(pods_deleted)
{
	cat <<Y
apiVersion: runbook.dev/v1alpha1
kind: Workflow
metadata: {name: ff, namespace: $NS}
spec:
  terminationGracePeriodSeconds: 3
  steps:
  - name: boom
    image: busybox:1.36
    podTemplate: {metadata: {annotations: {runbook.dev/test-duration: 3s, runbook.dev/test-exit-code: "7", runbook.dev/test-message: "assertion failed"}}}
  - {name: after, image: busybox:1.36, dependsOn: [boom]}
Y
	for i in $(seq -w 1 20); do
		echo "  - {name: s$i, image: busybox:1.36, podTemplate: {metadata: {annotations: {runbook.dev/test-duration: 1h}}}}"
	done
	cat <<Y
  finally:
  - {name: cleanup, image: busybox:1.36, podTemplate: {metadata: {annotations: {runbook.dev/test-duration: 500ms}}}}
---
apiVersion: runbook.dev/v1alpha1
kind: WorkflowRun
metadata: {name: r, namespace: $NS}
spec: {workflowRef: {name: ff}}
Y
} | kubectl apply -f - >/dev/null
eventually 60 "21 pods running" bash -c "[ \$(kubectl -n $NS get pods -l runbook.dev/run=r --field-selector=status.phase=Running -o name | wc -l) -ge 21 ]"
eventually 30 "run goes Failing" phase_is r Failing
check "cleanup has not started while siblings are torn down" [ -z "$(kubectl -n "$NS" get job r-cleanup -o name 2>/dev/null)" ]
check "kubectl wait for Failed" kubectl -n "$NS" wait --for=jsonpath='{.status.phase}'=Failed wfr/r --timeout=60s
# The siblings' pods were deleted by the operator itself (SIGTERM at once),
# not left to the garbage collector.
after=$(pods_deleted)
check "operator deleted the 20 siblings' pods itself (counter ${before:-?} -> ${after:-?})" \
	[ $((${after:-0} - ${before:-0})) -ge 20 ]
check "no sibling pod left at all" no_run_pods_except r boom cleanup
check "no pod still running" [ "$(run_pods r)" -eq 0 ]
check "no sibling Job left" [ -z "$(kubectl -n "$NS" get jobs -l 'runbook.dev/run=r,runbook.dev/step notin (boom,cleanup)' -o name)" ]
check "Succeeded=False reason StepFailed" [ "$(cond_reason r Succeeded)" = StepFailed ]
msg=$(jp wfr/r '{.status.message}')
check "message names the step and exit code ($msg)" bash -c "[[ '$msg' == *'step \"boom\" failed: exit code 7'* ]]"
check "message carries the termination message" bash -c "[[ '$msg' == *'assertion failed'* ]]"
check "step boom Failed" step_is r boom Failed
check "boom's exit code recorded" field_is wfr/r '{.status.steps[?(@.name=="boom")].exitCode}' 7
check "sibling s01 Cancelled" step_is r s01 Cancelled
check "sibling s20 Cancelled" step_is r s20 Cancelled
check "dependent 'after' Skipped" step_is r after Skipped
check "finally step cleanup Succeeded" step_is r cleanup Succeeded
check "completionTime set" [ -n "$(jp wfr/r '{.status.completionTime}')" ]
operator_log_on_failure
finish
