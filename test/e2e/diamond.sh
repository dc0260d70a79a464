# A diamond DAG (a -> b, c -> d) succeeds in dependency order; children are
# named, labelled and owned as documented.
. "$(dirname "$0")/../lib.sh"
cat <<Y | kubectl apply -f - >/dev/null
apiVersion: runbook.dev/v1alpha1
kind: Workflow
metadata: {name: diamond, namespace: $NS}
spec:
  params: [{name: target, default: linux}]
  steps:
  - name: a
    image: busybox:1.36
    command: [echo, "fetch"]
    podTemplate:
      metadata:
        labels: {app.kubernetes.io/instance: argocd-app, team: build}
        annotations: {runbook.dev/test-duration: 1s}
  - {name: b, image: busybox:1.36, dependsOn: [a], args: ["build \$(params.target)"],
     podTemplate: {metadata: {annotations: {runbook.dev/test-duration: 1s}}}}
  - {name: c, image: busybox:1.36, dependsOn: [a], podTemplate: {metadata: {annotations: {runbook.dev/test-duration: 2s}}}}
  - {name: d, image: busybox:1.36, dependsOn: [b, c], podTemplate: {metadata: {annotations: {runbook.dev/test-duration: 1s}}}}
---
apiVersion: runbook.dev/v1alpha1
kind: WorkflowRun
metadata: {name: r1, namespace: $NS, labels: {app.kubernetes.io/instance: argocd-app}}
spec:
  workflowRef: {name: diamond}
  params: [{name: target, value: arm64}]
Y
check "kubectl wait for Succeeded=True" 'kubectl -n "$NS" wait --for=condition=Succeeded wfr/r1 --timeout=90s'
check "phase Succeeded" 'phase_is r1 Succeeded'
check "progress 4/4" 'field_is wfr/r1 "{.status.progress}" 4/4'
for s in a b c d; do check "step $s Succeeded" "step_is r1 $s Succeeded"; done
# ms STEP FIELD: a time of the step's Job in epoch seconds; fails (instead of
# printing midnight, as date -d "" does) when the field is missing.
ms() {
	local t
	t=$(jp "job/r1-$1" "{.$2}")
	[ -n "$t" ] || { echo "job/r1-$1 has no $2" >&2; return 1; }
	date -d "$t" +%s
}
# after LATER EARLIER: LATER's Job was created at or after EARLIER's completed.
after() {
	local created completed
	created=$(ms "$1" metadata.creationTimestamp) && completed=$(ms "$2" status.completionTime) &&
		[ "$created" -ge "$completed" ]
}
check "b started after a completed" 'after b a'
check "c started after a completed" 'after c a'
check "d started after b completed" 'after d b'
check "d started after c completed" 'after d c'
uid=$(jp wfr/r1 '{.metadata.uid}')
check "Job's controller is the run" 'field_is job/r1-a "{.metadata.ownerReferences[0].uid}" "$uid"'
check "ownerReference controller=true" 'field_is job/r1-a "{.metadata.ownerReferences[0].controller}" true'
check "ownerReference blockOwnerDeletion=true" 'field_is job/r1-a "{.metadata.ownerReferences[0].blockOwnerDeletion}" true'
check "label runbook.dev/run" 'field_is job/r1-a "{.metadata.labels.runbook\.dev/run}" r1'
check "label runbook.dev/step" 'field_is job/r1-a "{.metadata.labels.runbook\.dev/step}" a'
check "label runbook.dev/workflow" 'field_is job/r1-a "{.metadata.labels.runbook\.dev/workflow}" diamond'
check "pod template keeps the user's label" 'field_is job/r1-a "{.spec.template.metadata.labels.team}" build'
# Read with kubectl directly: an API error must not look like "no label".
check "app.kubernetes.io/instance never copied to the Job" \
	'l=$(kubectl -n "$NS" get job/r1-a -o "jsonpath={.metadata.labels}") && [ -n "$l" ] && [[ $l != *app.kubernetes.io/instance* ]]'
check "nor to its pods" \
	'l=$(kubectl -n "$NS" get job/r1-a -o "jsonpath={.spec.template.metadata.labels}") && [ -n "$l" ] && [[ $l != *app.kubernetes.io/instance* ]]'
check "parameter substituted in args" 'field_is job/r1-b "{.spec.template.spec.containers[0].args[0]}" "build arm64"'
check "exactly 4 Jobs" '[ "$(kubectl -n "$NS" get jobs -l runbook.dev/run=r1 -o name | wc -l)" -eq 4 ]'
# Events: by default (--events=news) the run's phase changes, not a
# successful step's start or end (docs/operations.md#events). The lane sends
# them after the status, so wait for the last one.
reasons() {
	kubectl -n "$NS" get events.events.k8s.io --field-selector regarding.name=r1 -o 'jsonpath={.items[*].reason}'
}
eventually 30 "phase-change Events Running and Succeeded recorded" \
	'r=$(reasons) && grep -qw Running <<<"$r" && grep -qw Succeeded <<<"$r"'
check "  and no StepStarted or StepSucceeded (--events=news)" \
	'r=$(reasons) && ! grep -qwE "StepStarted|StepSucceeded" <<<"$r"'
# Deleting the run removes its children through the garbage collector.
kubectl -n "$NS" delete wfr r1 --wait=false >/dev/null
eventually 60 "children collected after the run is deleted" 'none job runbook.dev/run=r1'
operator_log_on_failure
finish
