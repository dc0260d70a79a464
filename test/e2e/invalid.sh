# Invalid workflows get exact messages: at apply time from CEL where it can
# tell, from the controller (Workflow status, run status) where it cannot.
. "$(dirname "$0")/../lib.sh"
apply_out=$(cat <<Y | kubectl apply -f - 2>&1
apiVersion: runbook.dev/v1alpha1
kind: Workflow
metadata: {name: unknown-dep, namespace: $NS}
spec:
  steps:
  - {name: a, image: busybox:1.36, dependsOn: [zz]}
Y
)
check "unknown dependency rejected at apply" '[[ $apply_out == *"dependsOn must name steps of this workflow"* ]]'
check "  and not stored" 'c=$(kubectl -n "$NS" get rwf unknown-dep --ignore-not-found -o name) && [ -z "$c" ]'

cat <<Y | kubectl apply -f - >/dev/null
apiVersion: runbook.dev/v1alpha1
kind: Workflow
metadata: {name: cycle, namespace: $NS}
spec:
  steps:
  - {name: a, image: busybox:1.36, dependsOn: [c]}
  - {name: b, image: busybox:1.36, dependsOn: [a]}
  - {name: c, image: busybox:1.36, dependsOn: [b]}
---
apiVersion: runbook.dev/v1alpha1
kind: Workflow
metadata: {name: needs-tag, namespace: $NS}
spec:
  params: [{name: tag}]
  steps:
  - {name: a, image: busybox:1.36, args: ["\$(params.tag)"]}
---
apiVersion: runbook.dev/v1alpha1
kind: Workflow
metadata: {name: bad-ref, namespace: $NS}
spec:
  steps:
  - {name: a, image: busybox:1.36, args: ["\$(params.nope)"]}
---
apiVersion: runbook.dev/v1alpha1
kind: WorkflowRun
metadata: {name: on-cycle, namespace: $NS}
spec: {workflowRef: {name: cycle}}
---
apiVersion: runbook.dev/v1alpha1
kind: WorkflowRun
metadata: {name: no-param, namespace: $NS}
spec: {workflowRef: {name: needs-tag}}
---
apiVersion: runbook.dev/v1alpha1
kind: WorkflowRun
metadata: {name: no-workflow, namespace: $NS}
spec: {workflowRef: {name: later}}
Y
wf_cond() { jp "rwf/$1" "{.status.conditions[?(@.type==\"$2\")].$3}"; }
# a depends on c, c on b, b on a: the message follows dependsOn from the
# lowest step in spec order.
cycle_msg='steps form a cycle: a -> c -> b -> a'
eventually 30 "cycle: Workflow Stalled" '[ "$(wf_cond cycle Stalled status)" = True ]'
check "cycle: reason CycleDetected" '[ "$(wf_cond cycle Stalled reason)" = CycleDetected ]'
m_cycle=$(wf_cond cycle Stalled message)
check "cycle: message names the cycle ($m_cycle)" '[ "$m_cycle" = "$cycle_msg" ]'
check "cycle: Ready False, same reason" '[ "$(wf_cond cycle Ready status) $(wf_cond cycle Ready reason)" = "False CycleDetected" ]'
check "kubectl wait works on a valid Workflow's Ready" 'kubectl -n "$NS" wait --for=condition=Ready rwf/needs-tag --timeout=30s'
eventually 30 "bad-ref: reason UnknownParameter" '[ "$(wf_cond bad-ref Stalled reason)" = UnknownParameter ]'
m_ref=$(wf_cond bad-ref Stalled message)
check "bad-ref: message names step and parameter ($m_ref)" '[[ $m_ref == *"\"a\""* && $m_ref == *"\"nope\""* ]]'
check "run on a cycle fails" 'kubectl -n "$NS" wait --for=jsonpath="{.status.phase}"=Failed wfr/on-cycle --timeout=30s'
check "  with reason InvalidWorkflow" '[ "$(cond_reason on-cycle Succeeded)" = InvalidWorkflow ]'
m_run=$(jp wfr/on-cycle '{.status.message}')
check "  and the cycle in its message ($m_run)" '[[ $m_run == *"$cycle_msg"* ]]'
check "run missing a parameter fails" 'kubectl -n "$NS" wait --for=jsonpath="{.status.phase}"=Failed wfr/no-param --timeout=30s'
check "  with reason InvalidWorkflow" '[ "$(cond_reason no-param Succeeded)" = InvalidWorkflow ]'
m_param=$(jp wfr/no-param '{.status.message}')
check "  naming the parameter ($m_param)" '[[ $m_param == *"\"tag\""* ]]'
check "no Job for invalid runs" 'none job'
eventually 30 "missing Workflow: run Pending" 'phase_is no-workflow Pending'
check "  with reason WorkflowNotFound" '[ "$(cond_reason no-workflow Succeeded)" = WorkflowNotFound ]'
cat <<Y | kubectl apply -f - >/dev/null
apiVersion: runbook.dev/v1alpha1
kind: Workflow
metadata: {name: later, namespace: $NS}
spec:
  steps:
  - {name: a, image: busybox:1.36, podTemplate: {metadata: {annotations: {runbook.dev/test-duration: 200ms}}}}
Y
check "the Workflow appearing starts the run" 'kubectl -n "$NS" wait --for=jsonpath="{.status.phase}"=Succeeded wfr/no-workflow --timeout=60s'
operator_log_on_failure
finish
