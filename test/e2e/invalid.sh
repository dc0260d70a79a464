# Invalid workflows get exact messages: at apply time from CEL where it can
# tell, from the controller (Workflow status, run status) where it cannot.
. "$(dirname "$0")/../lib.sh"
out=$(cat <<Y | kubectl apply -f - 2>&1
apiVersion: runbook.dev/v1alpha1
kind: Workflow
metadata: {name: unknown-dep, namespace: $NS}
spec:
  steps:
  - {name: a, image: busybox:1.36, dependsOn: [zz]}
Y
)
check "unknown dependency rejected at apply" bash -c "[[ '$out' == *'dependsOn must name steps of this workflow'* ]]"

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
eventually 30 "cycle: Workflow Stalled" bash -c "[ \"\$(kubectl -n $NS get rwf cycle -o jsonpath='{.status.conditions[?(@.type==\"Stalled\")].status}')\" = True ]"
check "cycle: reason CycleDetected" [ "$(wf_cond cycle Stalled reason)" = CycleDetected ]
m=$(wf_cond cycle Stalled message)
check "cycle: message names the cycle ($m)" bash -c "[[ '$m' == *'cycle'* && '$m' == *'a'* && '$m' == *'b'* && '$m' == *'c'* ]]"
check "kubectl wait works on a valid Workflow's Ready" kubectl -n "$NS" wait --for=condition=Ready rwf/needs-tag --timeout=30s
eventually 30 "bad-ref: reason UnknownParameter" bash -c "[ \"\$(kubectl -n $NS get rwf bad-ref -o jsonpath='{.status.conditions[?(@.type==\"Stalled\")].reason}')\" = UnknownParameter ]"
m=$(wf_cond bad-ref Stalled message)
check "bad-ref: message names step and parameter ($m)" bash -c "[[ '$m' == *'\"a\"'* && '$m' == *'\"nope\"'* ]]"
check "run on a cycle fails" kubectl -n "$NS" wait --for=jsonpath='{.status.phase}'=Failed wfr/on-cycle --timeout=30s
check "  with reason InvalidWorkflow" [ "$(cond_reason on-cycle Succeeded)" = InvalidWorkflow ]
m=$(jp wfr/on-cycle '{.status.message}')
check "  and the cycle in its message ($m)" bash -c "[[ '$m' == *'cycle'* ]]"
check "run missing a parameter fails" kubectl -n "$NS" wait --for=jsonpath='{.status.phase}'=Failed wfr/no-param --timeout=30s
m=$(jp wfr/no-param '{.status.message}')
check "  naming the parameter ($m)" bash -c "[[ '$m' == *'\"tag\"'* ]]"
check "no Job for invalid runs" none job
eventually 30 "missing Workflow: run Pending" phase_is no-workflow Pending
check "  with reason WorkflowNotFound" [ "$(cond_reason no-workflow Succeeded)" = WorkflowNotFound ]
cat <<Y | kubectl apply -f - >/dev/null
apiVersion: runbook.dev/v1alpha1
kind: Workflow
metadata: {name: later, namespace: $NS}
spec:
  steps:
  - {name: a, image: busybox:1.36, podTemplate: {metadata: {annotations: {runbook.dev/test-duration: 200ms}}}}
Y
check "the Workflow appearing starts the run" kubectl -n "$NS" wait --for=jsonpath='{.status.phase}'=Succeeded wfr/no-workflow --timeout=60s
operator_log_on_failure
finish
