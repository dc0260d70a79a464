# A pod whose Job is gone is still the run's (issue 8): a step's Job deleted
# with --cascade=orphan leaves its pod running without an owner. The step
# fails (JobDeleted), the siblings are torn down, and the orphaned pod is
# deleted by the operator and waited for: no finally step and no terminal
# phase while it runs (the recorder checks the order at finish).
. "$(dirname "$0")/../lib.sh"
cat <<Y | kubectl apply -f - >/dev/null
apiVersion: runbook.dev/v1alpha1
kind: Workflow
metadata: {name: orphan, namespace: $NS}
spec:
  terminationGracePeriodSeconds: 3
  steps:
  - {name: a, image: busybox:1.36, podTemplate: {metadata: {annotations: {runbook.dev/test-duration: 1h}}}}
  - {name: b, image: busybox:1.36, podTemplate: {metadata: {annotations: {runbook.dev/test-duration: 1h}}}}
  finally:
  - {name: fin, image: busybox:1.36, podTemplate: {metadata: {annotations: {runbook.dev/test-duration: 500ms}}}}
---
apiVersion: runbook.dev/v1alpha1
kind: WorkflowRun
metadata: {name: r, namespace: $NS}
spec: {workflowRef: {name: orphan}}
Y
eventually 60 "both steps running" '[ "$(kget pods -l runbook.dev/run=r --field-selector=status.phase=Running -o name | grep -c .)" -eq 2 ]'
eventually 30 "step a recorded Running" 'step_is r a Running'
orphan=$(kget pods -l job-name=r-a -o jsonpath='{.items[0].metadata.name}')
check "a's pod found ($orphan)" '[ -n "$orphan" ]'
check "a's Job uid recorded in status" '[ "$(jp wfr/r "{.status.steps[?(@.name==\"a\")].jobUID}")" = "$(jp job/r-a "{.metadata.uid}")" ]'
kubectl -n "$NS" delete job r-a --cascade=orphan --wait=false >/dev/null
eventually 60 "run ends Failed" 'phase_is r Failed'
check "step a Failed, reason JobDeleted" '[ "$(step_phase r a)" = Failed ] && [ "$(jp wfr/r "{.status.steps[?(@.name==\"a\")].reason}")" = JobDeleted ]'
check "step b Cancelled" 'step_is r b Cancelled'
check "finally ran" 'step_is r fin Succeeded'
check "the orphaned pod is gone (the operator deleted it)" '! exists "pod/$orphan"'
check "no pod of the run still running" '[ "$(run_pods r)" -eq 0 ]'

# The same under failurePolicy Continue: nothing is torn down, but the
# orphan is still deleted and waited for.
cat <<Y | kubectl apply -f - >/dev/null
apiVersion: runbook.dev/v1alpha1
kind: Workflow
metadata: {name: orphan-continue, namespace: $NS}
spec:
  failurePolicy: Continue
  terminationGracePeriodSeconds: 2
  steps:
  - {name: a, image: busybox:1.36, podTemplate: {metadata: {annotations: {runbook.dev/test-duration: 1h}}}}
  - {name: b, image: busybox:1.36, podTemplate: {metadata: {annotations: {runbook.dev/test-duration: 4s}}}}
---
apiVersion: runbook.dev/v1alpha1
kind: WorkflowRun
metadata: {name: c, namespace: $NS}
spec: {workflowRef: {name: orphan-continue}}
Y
eventually 60 "c: step a running" 'step_is c a Running'
orphan=$(kget pods -l job-name=c-a -o jsonpath='{.items[0].metadata.name}')
kubectl -n "$NS" delete job c-a --cascade=orphan --wait=false >/dev/null
eventually 60 "c ends Failed" 'phase_is c Failed'
check "c: b still ran to the end (Continue)" 'step_is c b Succeeded'
check "c: the orphaned pod is gone" '! exists "pod/$orphan"'
operator_log_on_failure
finish
