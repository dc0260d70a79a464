# kubectl patch spec.cancel=true mid-run: Cancelling, every pod gone, finally
# runs, Cancelled. Then a cancel while finally runs.
#
# Step a ignores SIGTERM, so its pod stays Terminating for the whole 6 s grace
# period, while the finally step takes 500 ms: an operator that started the
# finally step or reported Cancelled before that pod was gone would do so
# seconds before it is gone, which the checks below (and lib.sh's invariant
# recorder) see.
. "$(dirname "$0")/../lib.sh"
cat <<Y | kubectl apply -f - >/dev/null
apiVersion: runbook.dev/v1alpha1
kind: Workflow
metadata: {name: long, namespace: $NS}
spec:
  terminationGracePeriodSeconds: 6
  steps:
  - {name: a, image: busybox:1.36, podTemplate: {metadata: {annotations: {runbook.dev/test-duration: 1h}}}}
  - {name: b, image: busybox:1.36, podTemplate: {metadata: {annotations: {runbook.dev/test-duration: 1h, runbook.dev/test-sigterm-exit: 100ms}}}}
  - {name: c, image: busybox:1.36, dependsOn: [a]}
  finally:
  - {name: report, image: busybox:1.36, podTemplate: {metadata: {annotations: {runbook.dev/test-duration: 500ms}}}}
---
apiVersion: runbook.dev/v1alpha1
kind: WorkflowRun
metadata: {name: r, namespace: $NS}
spec: {workflowRef: {name: long}}
Y
eventually 60 "both steps running" \
	'[ "$(kubectl -n "$NS" get pods -l runbook.dev/run=r --field-selector=status.phase=Running -o name | wc -l)" -eq 2 ]'
kubectl -n "$NS" patch wfr r --type=merge -p '{"spec":{"cancel":true}}' >/dev/null
eventually 10 "run goes Cancelling" 'phase_is r Cancelling'
check "cancel latched in status" 'field_is wfr/r "{.status.cancelRequested}" true'
# When step a's pod will be gone: its deletionTimestamp (delete + 6 s grace).
a_gone() { kubectl -n "$NS" get pods -l runbook.dev/run=r,runbook.dev/step=a -o 'jsonpath={.items[0].metadata.deletionTimestamp}'; }
eventually 10 "step a's pod is Terminating" 't=$(a_gone) && [ -n "$t" ]'
a_gone_at=$(a_gone)
check "kubectl wait for Cancelled" 'kubectl -n "$NS" wait --for=jsonpath="{.status.phase}"=Cancelled wfr/r --timeout=60s'
# epoch TIME: seconds; fails on an empty time (date -d "" is midnight).
epoch() { [ -n "$1" ] && date -d "$1" +%s; }
check "finally Job created only once step a's pod was gone (created $(jp job/r-report '{.metadata.creationTimestamp}'), pod gone at $a_gone_at)" \
	'c=$(epoch "$(jp job/r-report "{.metadata.creationTimestamp}")") && g=$(epoch "$a_gone_at") && [ "$c" -ge "$g" ]'
check "Cancelled only once step a's pod was gone (completionTime $(jp wfr/r '{.status.completionTime}'))" \
	'c=$(epoch "$(jp wfr/r "{.status.completionTime}")") && g=$(epoch "$a_gone_at") && [ "$c" -ge "$g" ]'
check "no main-step pod left" 'no_run_pods_except r report'
check "reason Cancelled" '[ "$(cond_reason r Succeeded)" = Cancelled ]'
check "step a Cancelled" 'step_is r a Cancelled'
check "step b Cancelled" 'step_is r b Cancelled'
check "step c Skipped" 'step_is r c Skipped'
check "finally ran" 'step_is r report Succeeded'
# The API server must refuse the revert with the CRD's CEL message, not
# fail for any other reason.
revert_out=$(kubectl -n "$NS" patch wfr r --type=merge -p '{"spec":{"cancel":false}}' 2>&1)
revert_rc=$?
check "spec.cancel cannot be reverted (CEL: $revert_out)" \
	'[ "$revert_rc" -ne 0 ] && [[ $revert_out == *"spec.cancel cannot be unset once true"* ]]'
check "  and stays true" 'field_is wfr/r "{.spec.cancel}" true'

# Cancel while finally runs: finally is cleanup, it is not torn down; the
# run ends Cancelled (the cancel was the first cause: main steps succeeded).
cat <<Y | kubectl apply -f - >/dev/null
apiVersion: runbook.dev/v1alpha1
kind: Workflow
metadata: {name: quick, namespace: $NS}
spec:
  steps:
  - {name: a, image: busybox:1.36, podTemplate: {metadata: {annotations: {runbook.dev/test-duration: 500ms}}}}
  finally:
  - {name: report, image: busybox:1.36, podTemplate: {metadata: {annotations: {runbook.dev/test-duration: 5s}}}}
---
apiVersion: runbook.dev/v1alpha1
kind: WorkflowRun
metadata: {name: r2, namespace: $NS}
spec: {workflowRef: {name: quick}}
Y
eventually 60 "r2's finally step running" 'step_is r2 report Running'
kubectl -n "$NS" patch wfr r2 --type=merge -p '{"spec":{"cancel":true}}' >/dev/null
sleep 1
check "cancel during finally does not tear finally down" 'step_is r2 report Running'
check "r2 ends Cancelled" 'kubectl -n "$NS" wait --for=jsonpath="{.status.phase}"=Cancelled wfr/r2 --timeout=60s'
check "r2's finally Succeeded" 'step_is r2 report Succeeded'
check "r2's main step stays Succeeded" 'step_is r2 a Succeeded'
operator_log_on_failure
finish
