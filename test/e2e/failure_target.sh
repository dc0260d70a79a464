# Since Kubernetes 1.31 a failing Job gets FailureTarget first and Failed
# only once its pods are gone. The teardown reacts to FailureTarget: here a
# step's timeout kills a pod that ignores SIGTERM for its 15 s grace period,
# so Failed comes ~15 s after FailureTarget; the sibling must be torn down
# in the meantime, not after.
. "$(dirname "$0")/../lib.sh"
cat <<Y | kubectl apply -f - >/dev/null
apiVersion: runbook.dev/v1alpha1
kind: Workflow
metadata: {name: ft, namespace: $NS}
spec:
  terminationGracePeriodSeconds: 15
  steps:
  - {name: slow, image: busybox:1.36, timeoutSeconds: 2, podTemplate: {metadata: {annotations: {runbook.dev/test-duration: 1h}}}}
  - {name: sib, image: busybox:1.36, podTemplate: {metadata: {annotations: {runbook.dev/test-duration: 1h, runbook.dev/test-sigterm-exit: 100ms}}}}
---
apiVersion: runbook.dev/v1alpha1
kind: WorkflowRun
metadata: {name: r, namespace: $NS}
spec: {workflowRef: {name: ft}}
Y
cond() { jp job/r-slow "{.status.conditions[?(@.type==\"$1\")].status}"; }
eventually 60 "slow's Job gets FailureTarget (its timeout)" '[ "$(cond FailureTarget)" = True ]'
eventually 8 "the run goes Failing" 'phase_is r Failing'
eventually 8 "the sibling is Cancelled" 'step_is r sib Cancelled'
check "... while slow's Job is not Failed yet (its pod still terminating)" '[ "$(cond Failed)" != True ]'
sib_pods() { kget pods -l job-name=r-sib -o jsonpath='{range .items[*]}{.metadata.name}={.metadata.deletionTimestamp}{"\n"}{end}'; }
check "the sibling's pod is gone or going" 'out=$(sib_pods) && ! grep -q "=$" <<<"$out"'
eventually 60 "the run ends Failed once slow's pod is gone" 'phase_is r Failed'
check "slow Failed, reason DeadlineExceeded" '[ "$(jp wfr/r "{.status.steps[?(@.name==\"slow\")].reason}")" = DeadlineExceeded ]'
operator_log_on_failure
finish
