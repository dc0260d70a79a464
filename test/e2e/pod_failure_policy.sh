# podFailurePolicy on steps (issue 14): Kubernetes Job's own rules, passed
# through to the step's Job, so that retries do not retry what cannot
# succeed. With failurePolicy Continue (no teardown between the steps):
#   fatal      retries 3, FailJob on exit code 42, exits 42: one pod, Failed
#              at once (the Job's Failed reason is PodFailurePolicy)
#   flaky      retries 1, no policy, exits 1: two pods
#   unmatched  retries 1, the same policy, exits 3: no rule matches, so the
#              failure counts as usual: two pods
# Then the checks at apply time: FailIndex and exit code 0 with In are
# refused by the API server (CRD), a containerName that names no container
# makes the Workflow Stalled (InvalidSpec, the controller's check).
. "$(dirname "$0")/../lib.sh"
fail_ann() { # EXIT_CODE: pod annotations (YAML flow) that make kwok's pod exit with it
	printf '{metadata: {annotations: {runbook.dev/test-duration: 300ms, runbook.dev/test-exit-code: "%s"}}}' "$1"
}
policy='{rules: [{action: FailJob, onExitCodes: {containerName: step, operator: In, values: [42, 7]}},
       {action: Ignore, onPodConditions: [{type: DisruptionTarget}]}]}'
cat <<Y | kubectl apply -f - >/dev/null
apiVersion: runbook.dev/v1alpha1
kind: Workflow
metadata: {name: pfp, namespace: $NS}
spec:
  failurePolicy: Continue
  steps:
  - name: fatal
    image: busybox:1.36
    retries: 3
    podFailurePolicy: $policy
    podTemplate: $(fail_ann 42)
  - name: flaky
    image: busybox:1.36
    retries: 1
    podTemplate: $(fail_ann 1)
  - name: unmatched
    image: busybox:1.36
    retries: 1
    podFailurePolicy: $policy
    podTemplate: $(fail_ann 3)
---
apiVersion: runbook.dev/v1alpha1
kind: WorkflowRun
metadata: {name: r, namespace: $NS}
spec: {workflowRef: {name: pfp}}
Y

# The Job carries the policy as the Job API wants it: exit codes in
# increasing order (the Workflow says [42, 7]), the condition status given.
want='{"rules":[{"action":"FailJob","onExitCodes":{"containerName":"step","operator":"In","values":[7,42]}},{"action":"Ignore","onPodConditions":[{"status":"True","type":"DisruptionTarget"}]}]}'
job_policy() { # JOB: its spec.podFailurePolicy as sorted-key compact JSON
	kget "job/$1" -o json | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["spec"].get("podFailurePolicy"), sort_keys=True, separators=(",", ":")))'
}
eventually 30 "fatal's Job exists" 'exists job/r-fatal'
got=$(job_policy r-fatal)
check "fatal's Job has spec.podFailurePolicy, exactly ($got)" '[ "$got" = "$want" ]'
check "  with restartPolicy Never and podReplacementPolicy Failed" \
	'[ "$(jp job/r-fatal "{.spec.template.spec.restartPolicy} {.spec.podReplacementPolicy} {.spec.backoffLimit}")" = "Never Failed 3" ]'
eventually 30 "flaky's Job exists" 'exists job/r-flaky'
check "flaky's Job has no podFailurePolicy" '[ "$(job_policy r-flaky)" = null ]'

eventually 30 "fatal is Failed" 'step_is r fatal Failed'
# The run ends once flaky and unmatched used their retry (about 10 s of the
# Job controller's backoff); a retry of fatal would have come as soon.
eventually 120 "the run ends Failed" 'phase_is r Failed'
step_field() { jp wfr/r "{.status.steps[?(@.name==\"$1\")].$2}"; }
step_pods() { # STEP: how many pods the step's Job made
	local out
	out=$(kget pods -l "runbook.dev/run=r,runbook.dev/step=$1" -o name) || return 2
	grep -c . <<<"$out"
}
check "fatal: exactly 1 pod, with retries: 3 ($(step_pods fatal))" '[ "$(step_pods fatal)" = 1 ]'
check "fatal: attempts 1 ($(step_field fatal attempts))" '[ "$(step_field fatal attempts)" = 1 ]'
check "fatal: exitCode 42" '[ "$(step_field fatal exitCode)" = 42 ]'
check "fatal's Job Failed by the policy (reason PodFailurePolicy)" \
	'[ "$(jp job/r-fatal "{.status.conditions[?(@.type==\"Failed\")].status} {.status.conditions[?(@.type==\"Failed\")].reason} {.status.failed}")" = "True PodFailurePolicy 1" ]'
check "flaky: 2 pods ($(step_pods flaky))" '[ "$(step_pods flaky)" = 2 ]'
check "flaky: attempts 2, exitCode 1, Failed" \
	'[ "$(step_field flaky attempts) $(step_field flaky exitCode) $(step_field flaky phase)" = "2 1 Failed" ]'
check "flaky's Job Failed by its backoff limit" \
	'[ "$(jp job/r-flaky "{.status.conditions[?(@.type==\"Failed\")].reason}")" = BackoffLimitExceeded ]'
check "unmatched (exit 3, no rule matches): 2 pods ($(step_pods unmatched))" '[ "$(step_pods unmatched)" = 2 ]'
check "unmatched: attempts 2, exitCode 3, Failed" \
	'[ "$(step_field unmatched attempts) $(step_field unmatched exitCode) $(step_field unmatched phase)" = "2 3 Failed" ]'
check "the run's reason is StepFailed" '[ "$(cond_reason r Succeeded)" = StepFailed ]'

# --- refused at apply time (the CRD's rules) -----------------------------------
wf_cond() { jp "rwf/$1" "{.status.conditions[?(@.type==\"$2\")].$3}"; }
bad_wf() { # NAME POLICY: a Workflow with one step that has the policy
	cat <<Y
apiVersion: runbook.dev/v1alpha1
kind: Workflow
metadata: {name: $1, namespace: $NS}
spec:
  steps:
  - {name: a, image: busybox:1.36, podFailurePolicy: $2}
Y
}
out=$(bad_wf fail-index '{rules: [{action: FailIndex, onExitCodes: {operator: In, values: [42]}}]}' |
	kubectl apply -f - 2>&1)
check "FailIndex is refused by the API server ($out)" \
	'[[ $out == *"podFailurePolicy action FailIndex needs an Indexed Job"*"use FailJob"* ]]'
check "  and not stored" 'none rwf/fail-index'
out=$(bad_wf in-zero '{rules: [{action: FailJob, onExitCodes: {operator: In, values: [0, 42]}}]}' |
	kubectl apply -f - 2>&1)
check "exit code 0 with operator In is refused by the API server ($out)" \
	'[[ $out == *"0 cannot be used with operator In (exit code 0 is success)"* ]]'
check "  and not stored" 'none rwf/in-zero'
out=$(bad_wf both '{rules: [{action: Count, onExitCodes: {operator: In, values: [1]}, onPodConditions: [{type: DisruptionTarget}]}]}' |
	kubectl apply -f - 2>&1)
check "a rule with both onExitCodes and onPodConditions is refused ($out)" \
	'[[ $out == *"needs exactly one of onExitCodes and onPodConditions"* ]]'
check "NotIn [0] (any failure) is accepted" \
	'bad_wf not-in-zero "{rules: [{action: FailJob, onExitCodes: {operator: NotIn, values: [0]}}]}" | kubectl apply -f - >/dev/null'
eventually 30 "  and the Workflow is Ready" '[ "$(wf_cond not-in-zero Ready status)" = True ]'

# --- refused by the controller (what the CRD cannot see) ------------------------
cat <<Y | kubectl apply -f - >/dev/null
$(bad_wf other-container '{rules: [{action: FailJob, onExitCodes: {containerName: main, operator: In, values: [42]}}]}')
---
apiVersion: runbook.dev/v1alpha1
kind: WorkflowRun
metadata: {name: on-other-container, namespace: $NS}
spec: {workflowRef: {name: other-container}}
Y
eventually 30 "containerName naming no container: the Workflow is Stalled" \
	'[ "$(wf_cond other-container Stalled status)" = True ]'
check "  reason InvalidSpec" '[ "$(wf_cond other-container Stalled reason)" = InvalidSpec ]'
m=$(wf_cond other-container Stalled message)
check "  message names the step, the rule and the container ($m)" \
	'[ "$m" = "step \"a\": podFailurePolicy.rules[0].onExitCodes.containerName must be \"step\" (the step'"'"'s container) or the name of one of its podTemplate.spec.initContainers, not \"main\"" ]'
check "its run fails InvalidWorkflow" \
	'kubectl -n "$NS" wait --for=jsonpath="{.status.phase}"=Failed wfr/on-other-container --timeout=30s'
check "  with reason InvalidWorkflow" '[ "$(cond_reason on-other-container Succeeded)" = InvalidWorkflow ]'
check "  and no Job" 'none job runbook.dev/run=on-other-container'
operator_log_on_failure
finish
