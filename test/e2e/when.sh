# when on a param (issue 14): a false `when` skips its step (Skipped,
# WhenConditionFalse, no Job ever), its dependents still run (Tekton's
# rule, docs/api.md), and the run Succeeds; a true one runs the step. A
# `when` on a finally step too. A `when` naming an unknown param is refused
# by the controller (Stalled, UnknownParameter) before any run starts.
. "$(dirname "$0")/../lib.sh"
cat <<Y | kubectl apply -f - >/dev/null
apiVersion: runbook.dev/v1alpha1
kind: Workflow
metadata: {name: release, namespace: $NS}
spec:
  params: [{name: env, default: dev}]
  steps:
  - {name: build, image: busybox:1.36, podTemplate: {metadata: {annotations: {runbook.dev/test-duration: 500ms}}}}
  - name: deploy
    image: busybox:1.36
    dependsOn: [build]
    when: [{input: "\$(params.env)", operator: in, values: [prod, staging]}]
    podTemplate: {metadata: {annotations: {runbook.dev/test-duration: 500ms}}}
  - {name: announce, image: busybox:1.36, dependsOn: [deploy], podTemplate: {metadata: {annotations: {runbook.dev/test-duration: 500ms}}}}
  finally:
  - name: cleanup-dev
    image: busybox:1.36
    when: [{input: "\$(params.env)", operator: notin, values: [prod]}]
    podTemplate: {metadata: {annotations: {runbook.dev/test-duration: 500ms}}}
---
apiVersion: runbook.dev/v1alpha1
kind: WorkflowRun
metadata: {name: on-dev, namespace: $NS}
spec: {workflowRef: {name: release}}
---
apiVersion: runbook.dev/v1alpha1
kind: WorkflowRun
metadata: {name: on-prod, namespace: $NS}
spec: {workflowRef: {name: release}, params: [{name: env, value: prod}]}
Y
check "on-dev Succeeded" 'kubectl -n "$NS" wait --for=condition=Succeeded wfr/on-dev --timeout=90s'
check "  deploy Skipped" 'step_is on-dev deploy Skipped'
check "  with reason WhenConditionFalse" '[ "$(jp wfr/on-dev "{.status.steps[?(@.name==\"deploy\")].reason}")" = WhenConditionFalse ]'
check "  and no Job for it" '! kubectl -n "$NS" get job on-dev-deploy >/dev/null 2>&1'
check "  its dependent announce still ran and Succeeded" 'step_is on-dev announce Succeeded'
check "  the finally step whose when holds ran" 'step_is on-dev cleanup-dev Succeeded'
check "  the message counts the skip" 'jp wfr/on-dev "{.status.message}" | grep -q "1 skipped by when"'
check "on-prod Succeeded" 'kubectl -n "$NS" wait --for=condition=Succeeded wfr/on-prod --timeout=90s'
check "  deploy ran" 'step_is on-prod deploy Succeeded && kubectl -n "$NS" get job on-prod-deploy >/dev/null'
check "  the finally step whose when is false Skipped" 'step_is on-prod cleanup-dev Skipped'

cat <<Y | kubectl apply -f - >/dev/null
apiVersion: runbook.dev/v1alpha1
kind: Workflow
metadata: {name: typo, namespace: $NS}
spec:
  steps:
  - {name: a, image: busybox:1.36, when: [{input: "\$(params.nope)", operator: in, values: [x]}]}
Y
check "a when naming an unknown param: the Workflow is Stalled" \
	'kubectl -n "$NS" wait --for=condition=Stalled workflow/typo --timeout=30s'
check "  reason UnknownParameter" '[ "$(jp workflow/typo "{.status.conditions[?(@.type==\"Stalled\")].reason}")" = UnknownParameter ]'
check "an operator other than in/notin is refused by the API server" \
	'! kubectl apply -f - >/dev/null 2>&1 <<Z
apiVersion: runbook.dev/v1alpha1
kind: Workflow
metadata: {name: badop, namespace: $NS}
spec:
  steps:
  - {name: a, image: busybox:1.36, when: [{input: x, operator: equals, values: [x]}]}
Z'
finish
