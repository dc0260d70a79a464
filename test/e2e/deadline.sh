# spec.activeDeadlineSeconds bounds the whole run: teardown, Failed,
# reason DeadlineExceeded.
. "$(dirname "$0")/../lib.sh"
cat <<Y | kubectl apply -f - >/dev/null
apiVersion: runbook.dev/v1alpha1
kind: Workflow
metadata: {name: slow, namespace: $NS}
spec:
  activeDeadlineSeconds: 3
  terminationGracePeriodSeconds: 1
  steps:
  - {name: a, image: busybox:1.36, podTemplate: {metadata: {annotations: {runbook.dev/test-duration: 1h}}}}
  - {name: b, image: busybox:1.36, dependsOn: [a]}
---
apiVersion: runbook.dev/v1alpha1
kind: WorkflowRun
metadata: {name: r, namespace: $NS}
spec: {workflowRef: {name: slow}}
Y
check "kubectl wait for Failed" 'kubectl -n "$NS" wait --for=jsonpath="{.status.phase}"=Failed wfr/r --timeout=60s'
check "reason DeadlineExceeded" '[ "$(cond_reason r Succeeded)" = DeadlineExceeded ]'
check "no pod left" 'n=$(run_pods r) && [ "$n" -eq 0 ]'
check "step a Cancelled" 'step_is r a Cancelled'
check "step b Skipped" 'step_is r b Skipped'
t_start=$(jp wfr/r '{.status.startTime}')
t_end=$(jp wfr/r '{.status.completionTime}')
check "startTime and completionTime set ('$t_start', '$t_end')" '[ -n "$t_start" ] && [ -n "$t_end" ]'
# An empty time would be midnight to date -d: 0 s, a failed check, not a pass.
start_s=$(date -d "${t_start:-1970-01-01T00:00:00Z}" +%s)
end_s=$(date -d "${t_end:-1970-01-01T00:00:00Z}" +%s)
check "ended after the 3 s deadline and within deadline + grace + 3 s ($((end_s - start_s)) s)" \
	'[ $((end_s - start_s)) -ge 3 ] && [ $((end_s - start_s)) -le 7 ]'
operator_log_on_failure
finish
