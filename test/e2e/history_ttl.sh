# successfulRunsHistoryLimit / failedRunsHistoryLimit keep the newest
# finished runs of each class and delete the oldest, with their Jobs;
# ttlSecondsAfterFinished deletes a finished run that long after its
# completionTime (docs/api.md, "History and TTL"). Done by the operator with
# its real RBAC: the audit log shows its DELETE of each run (propagation
# Background, uid precondition). A Workflow without limits keeps its runs.
. "$(dirname "$0")/../lib.sh"
audit_log=${RUNBOOK_CLUSTER_DIR:+$RUNBOOK_CLUSTER_DIR/logs/audit.log}
operator_user=system:serviceaccount:runbook-e2e:runbook-operator-e2e # test/operator.sh
[ "${RUNBOOK_TEST_AS_ADMIN:-0}" = 1 ] && operator_user=admin # up.sh's admin certificate
cat <<Y | kubectl apply -f - >/dev/null
apiVersion: runbook.dev/v1alpha1
kind: Workflow
metadata: {name: hist, namespace: $NS}
spec:
  successfulRunsHistoryLimit: 2
  failedRunsHistoryLimit: 1
  params: [{name: must}]
  steps:
  - {name: a, image: busybox:1.36, args: ["\$(params.must)"], podTemplate: {metadata: {annotations: {runbook.dev/test-duration: 200ms}}}}
---
apiVersion: runbook.dev/v1alpha1
kind: Workflow
metadata: {name: ttl, namespace: $NS}
spec:
  ttlSecondsAfterFinished: 3
  steps:
  - {name: a, image: busybox:1.36, podTemplate: {metadata: {annotations: {runbook.dev/test-duration: 200ms}}}}
---
apiVersion: runbook.dev/v1alpha1
kind: Workflow
metadata: {name: plain, namespace: $NS}
spec:
  steps:
  - {name: a, image: busybox:1.36, podTemplate: {metadata: {annotations: {runbook.dev/test-duration: 200ms}}}}
Y
run() { # NAME WORKFLOW [EXTRA_SPEC]
	printf 'apiVersion: runbook.dev/v1alpha1\nkind: WorkflowRun\nmetadata: {name: %s, namespace: %s}\nspec: {workflowRef: {name: %s}%s}\n' \
		"$1" "$NS" "$2" "${3:+, $3}" | kubectl apply -f - >/dev/null
}
# finished NAME PHASE: waits for the run to end in PHASE, then a second more,
# so the next run's completionTime (one-second resolution) is later.
finished() {
	eventually 60 "$1 ends $2" "phase_is $1 $2"
	sleep 1.1
}
gone() { none "wfr/$1"; } # none: NotFound is "gone", any other error fails
# run_delete NAME: "POLICY PRECONDITION-UID SECONDS-SINCE-EPOCH" of the
# operator's user's successful DELETE of run NAME, from the audit log.
run_delete() {
	python3 "$RB_SRC/test/recorder/recorder.py" deletes --audit "${audit_log:-}" --namespace "$NS" \
		--user "$operator_user" --resource workflowruns --name "$1" | cut -d' ' -f2-4 |
		awk '{ print $2, $3, $1 }'
}
# deleted_by_operator NAME UID: the operator deleted the run, Background, with
# UID as precondition.
deleted_by_operator() {
	local d
	d=$(run_delete "$1") || return 1
	set -- $d "$2"
	[ "$1" = Background ] && [ "$2" = "$4" ]
}

# --- successfulRunsHistoryLimit: 2 ---------------------------------------------
run s1 hist 'params: [{name: must, value: "1"}]'
finished s1 Succeeded
s1_uid=$(jp wfr/s1 '{.metadata.uid}')
run s2 hist 'params: [{name: must, value: "2"}]'
finished s2 Succeeded
sleep 2
check "two Succeeded runs, limit 2: both kept" 'exists wfr/s1 && exists wfr/s2'
run s3 hist 'params: [{name: must, value: "3"}]'
eventually 60 "a third Succeeded run: the oldest (s1) is deleted" 'gone s1'
check "  s2 and s3 are kept" 'exists wfr/s2 && exists wfr/s3 && phase_is s3 Succeeded'
eventually 60 "  s1's Job goes with it" 'none job runbook.dev/run=s1'
eventually 10 "  by the operator's DELETE (Background, uid precondition)" \
	'deleted_by_operator s1 "$s1_uid"'
echo "# s1: $(run_delete s1 2>&1) (policy, precondition, time)"
sleep 1.1
run s4 hist 'params: [{name: must, value: "4"}]'
eventually 60 "a fourth: s2 is deleted" 'gone s2'
check "  s3 and s4 are kept" 'exists wfr/s3 && exists wfr/s4'

# --- failedRunsHistoryLimit: 1 (Failed and Cancelled) --------------------------
# f1 leaves the required parameter unset: Failed (InvalidWorkflow) at once,
# without a snapshot, so the limits come from the live Workflow.
run f1 hist
finished f1 Failed
f1_uid=$(jp wfr/f1 '{.metadata.uid}')
sleep 1
check "one Failed run, limit 1: kept" 'exists wfr/f1'
# f2 is cancelled before it starts: Cancelled, the same class.
run f2 hist 'cancel: true'
eventually 60 "a Cancelled run after it: f1 is deleted" 'gone f1'
check "  f2 is kept" 'exists wfr/f2 && phase_is f2 Cancelled'
check "  the Succeeded runs are not counted with them: s3 and s4 kept" 'exists wfr/s3 && exists wfr/s4'
eventually 10 "  by the operator's DELETE (Background, uid precondition)" \
	'deleted_by_operator f1 "$f1_uid"'
echo "# f1: $(run_delete f1 2>&1) (policy, precondition, time)"

# --- ttlSecondsAfterFinished: 3 --------------------------------------------------
run t1 ttl
eventually 60 "t1 Succeeded" 'phase_is t1 Succeeded'
t1_uid=$(jp wfr/t1 '{.metadata.uid}')
t1_done=$(date -d "$(jp wfr/t1 '{.status.completionTime}')" +%s 2>/dev/null)
check "  completionTime set" '[ -n "$t1_done" ]'
check "  still there right after it finished" 'exists wfr/t1'
eventually 30 "t1 deleted after its TTL" 'gone t1'
eventually 30 "  its Job goes with it" 'none job runbook.dev/run=t1'
eventually 10 "  by the operator's DELETE (Background, uid precondition)" \
	'deleted_by_operator t1 "$t1_uid"'
echo "# t1: $(run_delete t1 2>&1) (policy, precondition, time)"
# completionTime has one-second resolution (truncated): the DELETE may come
# no sooner than completionTime + 3 s; allow 5 s more for a loaded machine.
t1_del=$(run_delete t1 2>/dev/null | cut -d' ' -f3)
check "  no sooner than 3 s after completionTime, and within 8 s (deleted $( [ -n "$t1_del" ] && [ -n "$t1_done" ] && echo "$t1_del - $t1_done" | bc) s after)" \
	'[ -n "$t1_del" ] && [ -n "$t1_done" ] && awk -v d="$t1_del" -v c="$t1_done" "BEGIN { exit !(d >= c + 3 && d <= c + 8) }"'
# A run cancelled before it starts has no snapshot: TTL from the live Workflow.
run t2 ttl 'cancel: true'
eventually 60 "t2 (cancelled before it started) Cancelled" 'phase_is t2 Cancelled'
eventually 30 "  and deleted after its TTL too" 'gone t2'

# --- no limits, no TTL: runs stay -----------------------------------------------
run p1 plain
eventually 60 "p1 (no limits) Succeeded" 'phase_is p1 Succeeded'
run p2 plain
eventually 60 "p2 Succeeded" 'phase_is p2 Succeeded'
sleep 5
check "without limits or TTL both runs stay" 'exists wfr/p1 && exists wfr/p2'
operator_log_on_failure
finish
