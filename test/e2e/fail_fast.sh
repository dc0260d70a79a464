# The heart of it: a step fails while 20 siblings run. Every sibling Job and
# pod goes away (pods get SIGTERM and their grace period), dependents are
# Skipped, finally runs, and the run is Failed, naming the step and its exit
# code, only once no main-step pod remains. The siblings' pods are deleted by
# the operator itself, at once: the API server's audit log (this namespace's
# DELETEs, by the operator's ServiceAccount) says so, not a global counter
# that the tests running in parallel move too.
. "$(dirname "$0")/../lib.sh"
: "${RUNBOOK_CLUSTER_DIR:?}"
audit_log=$RUNBOOK_CLUSTER_DIR/logs/audit.log
operator_user=system:serviceaccount:runbook-e2e:runbook-operator-e2e # test/operator.sh
{
	cat <<Y
apiVersion: runbook.dev/v1alpha1
kind: Workflow
metadata: {name: ff, namespace: $NS}
spec:
  terminationGracePeriodSeconds: 3
  steps:
  - name: boom
    image: busybox:1.36
    podTemplate: {metadata: {annotations: {runbook.dev/test-duration: 3s, runbook.dev/test-exit-code: "7", runbook.dev/test-message: "assertion failed"}}}
  - {name: after, image: busybox:1.36, dependsOn: [boom]}
Y
	for i in $(seq -w 1 20); do
		echo "  - {name: s$i, image: busybox:1.36, podTemplate: {metadata: {annotations: {runbook.dev/test-duration: 1h}}}}"
	done
	cat <<Y
  finally:
  - {name: cleanup, image: busybox:1.36, podTemplate: {metadata: {annotations: {runbook.dev/test-duration: 500ms}}}}
---
apiVersion: runbook.dev/v1alpha1
kind: WorkflowRun
metadata: {name: r, namespace: $NS}
spec: {workflowRef: {name: ff}}
Y
} | kubectl apply -f - >/dev/null
eventually 60 "21 pods running" \
	'[ "$(kubectl -n "$NS" get pods -l runbook.dev/run=r --field-selector=status.phase=Running -o name | wc -l)" -ge 21 ]'
# The 20 siblings' pods, by name (one each: no retries).
sibling_pods=$(kubectl -n "$NS" get pods -l 'runbook.dev/run=r,runbook.dev/step notin (boom,after,cleanup)' \
	-o 'jsonpath={range .items[*]}{.metadata.name}{"\n"}{end}')
check "20 sibling pods, one per sibling" '[ "$(grep -c . <<<"$sibling_pods")" -eq 20 ]'
eventually 30 "run goes Failing" 'phase_is r Failing'
check "cleanup has not started while siblings are torn down" 'none job runbook.dev/run=r,runbook.dev/step=cleanup'
check "kubectl wait for Failed" 'kubectl -n "$NS" wait --for=jsonpath="{.status.phase}"=Failed wfr/r --timeout=60s'

# The siblings' pods were deleted by the operator itself (SIGTERM at once),
# not left to the garbage collector: the audit log has a successful DELETE of
# each by the operator's user, within 10 s of boom's container ending.
boom_end=$(kubectl -n "$NS" get pods -l runbook.dev/run=r,runbook.dev/step=boom \
	-o 'jsonpath={.items[0].status.containerStatuses[0].state.terminated.finishedAt}')
# pod_deletes: for each sibling pod, the seconds from boom's end to the
# operator's user's first successful DELETE of it in NS, or "none".
pod_deletes() {
	local rows end
	rows=$(python3 "$RB_SRC/test/recorder/recorder.py" deletes --audit "$audit_log" --namespace "$NS" \
		--user "$operator_user" --resource pods) || return 1
	end=$(date -u -d "$boom_end" +%s.%N) || return 1
	for p in $sibling_pods; do
		awk -v p="$p" -v end="$end" '$1 == p { printf "%s %.1f\n", p, $2 - end; found = 1 }
			END { if (!found) print p, "none" }' <<<"$rows"
	done
}
if [ "${RUNBOOK_TEST_AS_ADMIN:-0}" = 1 ]; then
	# As admin, the operator and the garbage collector are the same user.
	echo "# skipped: who deleted the pods (the operator runs as admin, RUNBOOK_TEST_AS_ADMIN=1)"
elif [ ! -s "$audit_log" ]; then
	fail "the operator deleted the siblings' pods itself: no audit log at $audit_log (test/cluster/up.sh must enable it)"
else
	check "boom's container end time is known ($boom_end)" '[ -n "$boom_end" ]'
	# The audit log is written as requests complete: give it a moment.
	eventually 10 "the operator's user DELETEd each of the 20 sibling pods itself (audit log)" \
		'd=$(pod_deletes) && [ "$(grep -c . <<<"$d")" -eq 20 ] && ! grep -q " none$" <<<"$d"'
	deletes=$(pod_deletes)
	echo "# pod DELETEs by $operator_user, seconds after boom ended:" $(cut -d' ' -f2 <<<"$deletes" | sort -n)
	check "  each within 10 s of boom's failure" \
		'[ -n "$deletes" ] && awk "\$2 == \"none\" || \$2 < 0 || \$2 > 10 { bad = 1 } END { exit bad }" <<<"$deletes"'
fi
check "no sibling pod left at all" 'no_run_pods_except r boom cleanup'
check "no pod still running" 'n=$(run_pods r) && [ "$n" -eq 0 ]'
check "no sibling Job left" 'none job "runbook.dev/run=r,runbook.dev/step notin (boom,cleanup)"'
check "Succeeded=False reason StepFailed" '[ "$(cond_reason r Succeeded)" = StepFailed ]'
run_msg=$(jp wfr/r '{.status.message}')
check "message names the step and exit code ($run_msg)" '[[ $run_msg == *"step \"boom\" failed: exit code 7"* ]]'
check "message carries the termination message" '[[ $run_msg == *"assertion failed"* ]]'
check "step boom Failed" 'step_is r boom Failed'
check "boom's exit code recorded" 'field_is wfr/r "{.status.steps[?(@.name==\"boom\")].exitCode}" 7'
for i in $(seq -w 1 20); do
	check "sibling s$i Cancelled" "step_is r s$i Cancelled"
done
check "dependent 'after' Skipped" 'step_is r after Skipped'
check "finally step cleanup Succeeded" 'step_is r cleanup Succeeded'
check "completionTime set" '[ -n "$(jp wfr/r "{.status.completionTime}")" ]'
operator_log_on_failure
finish
