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
check "kubectl wait for Failed" kubectl -n "$NS" wait --for=jsonpath='{.status.phase}'=Failed wfr/r --timeout=60s
check "reason DeadlineExceeded" [ "$(cond_reason r Succeeded)" = DeadlineExceeded ]
check "no pod left" [ "$(run_pods r)" -eq 0 ]
check "step a Cancelled" step_is r a Cancelled
check "step b Skipped" step_is r b Skipped
s=$(date -d "$(jp wfr/r '{.status.startTime}')" +%s)
e=$(date -d "$(jp wfr/r '{.status.completionTime}')" +%s)
check "ended within deadline + grace + 3 s ($((e - s)) s)" [ $((e - s)) -ge 3 ] && [ $((e - s)) -le 7 ]
operator_log_on_failure
finish
