# A Job the API server refuses fails its step at once, with the server's
# words in the step, the run and an Event, and the run follows its
# failurePolicy (issue 8): a podTemplate of the wrong type (400), an
# invalid field value (422), and a foreign Job that holds the step's name
# (409, JobConflict; the foreign Job is left alone).
. "$(dirname "$0")/../lib.sh"
wf() { # NAME POD_SPEC_YAML_FLOW
	cat <<Y
apiVersion: runbook.dev/v1alpha1
kind: Workflow
metadata: {name: $1, namespace: $NS}
spec:
  terminationGracePeriodSeconds: 1
  steps:
  - {name: bad, image: busybox:1.36, podTemplate: {spec: $2}}
  - {name: sib, image: busybox:1.36, podTemplate: {metadata: {annotations: {runbook.dev/test-duration: 1h}}}}
  finally:
  - {name: fin, image: busybox:1.36}
---
apiVersion: runbook.dev/v1alpha1
kind: WorkflowRun
metadata: {name: $1-run, namespace: $NS}
spec: {workflowRef: {name: $1}}
Y
}
step_reason() { jp "wfr/$1" "{.status.steps[?(@.name==\"$2\")].reason}"; }
step_msg() { jp "wfr/$1" "{.status.steps[?(@.name==\"$2\")].message}"; }
{ wf type '{nodeSelector: not-a-map}'; echo ---; wf value '{activeDeadlineSeconds: -5}'; } | kubectl apply -f - >/dev/null
for r in type value; do
	eventually 60 "$r-run ends Failed" "phase_is $r-run Failed"
	check "$r-run: step bad Failed, reason JobRejected" "step_is $r-run bad Failed && [ \"\$(step_reason $r-run bad)\" = JobRejected ]"
	check "$r-run: the sibling was torn down (Cancelled)" "step_is $r-run sib Cancelled"
	check "$r-run: finally ran" "step_is $r-run fin Succeeded"
	check "$r-run: run message names the step" "[[ \"\$(jp wfr/$r-run '{.status.message}')\" == *'step \"bad\" failed'* ]]"
	eventually 20 "$r-run: a StepFailed Warning Event says why" "kget events --field-selector involvedObject.name=$r-run,reason=StepFailed -o jsonpath='{.items[*].message}' | grep -q 'refused job'"
done
check "400: the step's message carries the server's words" '[[ "$(step_msg type-run bad)" == *"HTTP 400"* ]]'
check "422: the step's message names the field" '[[ "$(step_msg value-run bad)" == *"HTTP 422"* && "$(step_msg value-run bad)" == *activeDeadlineSeconds* ]]'

# 409: a Job that is not the run's holds the step's name.
kubectl apply -f - >/dev/null <<Y
apiVersion: batch/v1
kind: Job
metadata: {name: conflict-run-bad, namespace: $NS}
spec:
  backoffLimit: 0
  template:
    metadata: {annotations: {runbook.dev/test-duration: 1h}}
    spec:
      restartPolicy: Never
      containers: [{name: c, image: busybox:1.36}]
Y
foreign=$(jp job/conflict-run-bad '{.metadata.uid}')
wf conflict '{}' | kubectl apply -f - >/dev/null
eventually 60 "conflict-run ends Failed" 'phase_is conflict-run Failed'
check "conflict-run: step bad Failed, reason JobConflict" '[ "$(step_reason conflict-run bad)" = JobConflict ]'
check "conflict-run: the foreign Job is untouched" '[ "$(jp job/conflict-run-bad "{.metadata.uid}")" = "$foreign" ] && [ -z "$(jp job/conflict-run-bad "{.metadata.deletionTimestamp}")" ]'
check "conflict-run: its pod still runs" '[ "$(kget pods -l job-name=conflict-run-bad -o jsonpath="{.items[0].status.phase}")" = Running ]'
operator_log_on_failure
finish
