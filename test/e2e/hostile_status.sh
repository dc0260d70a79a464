# Runs whose status an admin tampered with through the API (issue 10, "Bad
# input"): the status subresource written with kubectl and with raw bytes
# through curl. The operator must not crash, must not act on a Job it does
# not own because the status names it, must say what it corrected or did in
# an Event, and each run must end in the state docs/api.md describes.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/hostile.bash"

cat <<Y | kubectl apply -f - >/dev/null
apiVersion: runbook.dev/v1alpha1
kind: Workflow
metadata: {name: long, namespace: $NS}
spec:
  terminationGracePeriodSeconds: 2
  steps:
  - {name: a, image: busybox:1.36, podTemplate: {metadata: {annotations: {runbook.dev/test-duration: 1h, runbook.dev/test-sigterm-exit: 200ms}}}}
  - {name: b, image: busybox:1.36, dependsOn: [a]}
  finally:
  - {name: fin, image: busybox:1.36}
Y
runs="done steps foreign big utf8"
for r in $runs; do
	printf 'apiVersion: runbook.dev/v1alpha1\nkind: WorkflowRun\nmetadata: {name: %s, namespace: %s}\nspec: {workflowRef: {name: long}}\n' "$r" "$NS"
	echo ---
done | kubectl apply -f - >/dev/null
# A Job with the run's labels that is not the run's (no ownerReference).
cat <<Y | kubectl apply -f - >/dev/null
apiVersion: batch/v1
kind: Job
metadata: {name: intruder, namespace: $NS, labels: {runbook.dev/run: foreign, runbook.dev/step: a}}
spec:
  backoffLimit: 0
  template:
    metadata: {labels: {runbook.dev/run: foreign, runbook.dev/step: a}, annotations: {runbook.dev/test-duration: 1h}}
    spec:
      restartPolicy: Never
      terminationGracePeriodSeconds: 2
      containers: [{name: step, image: busybox:1.36}]
Y
for r in $runs; do
	eventually 60 "$r: step a Running, its Job's uid recorded" \
		"step_is $r a Running && [ -n \"\$(jp wfr/$r '{.status.steps[0].jobUID}')\" ]"
done
eventually 30 "the intruder Job's pod runs" '[ "$(pod_phase intruder)" = Running ]'
intruder_pod=$(kget pod -l job-name=intruder -o 'jsonpath={.items[0].metadata.name}')
intruder_uid=$(jp job/intruder '{.metadata.uid}')
uid_of() { jp "job/$1" '{.metadata.uid}'; }
a_uid_steps=$(uid_of steps-a)
a_uid_foreign=$(uid_of foreign-a)
patch_status() { kubectl -n "$NS" patch wfr "$1" --subresource=status --type="$2" -p "$3" >/dev/null; }

# 1. phase Succeeded while its Job runs. A terminal phase never changes, so
# the operator keeps it and tears the run's Job down (Foreground, with its
# pod), saying so in a Warning Event; nothing is orphaned.
check "done: phase set to Succeeded by hand" 'patch_status done merge "{\"status\":{\"phase\":\"Succeeded\"}}"'
eventually 30 "done: its running Job is deleted by the operator" '! exists job/done-a'
check "done: no pod of it left" 'none pod runbook.dev/run=done'
check "done: phase stays Succeeded" 'phase_is done Succeeded'
eventually 10 "done: Warning StrayJobDeleted names the Job" \
	'event_of StrayJobDeleted done | grep -q "^Warning job \"done-a\" (step \"a\") was still running after the run ended Succeeded"'
if [ "${RUNBOOK_TEST_AS_ADMIN:-0}" != 1 ]; then
	eventually 10 "done: the operator's DELETE of done-a was Foreground with the uid (audit)" \
		'python3 "$RB_SRC/test/recorder/recorder.py" deletes --audit "$RUNBOOK_CLUSTER_DIR/logs/audit.log" --namespace "$NS" --user "$RB_OPERATOR_USER" --resource jobs --name done-a | grep -q "^done-a [0-9.]* Foreground [0-9a-f-]\{36\}$"'
fi
check "done: no finally step ran (the run had ended)" '! exists job/done-fin'
eventually 20 "done: once its Job is gone, the conditions follow the phase (Succeeded=True, PhaseSetByHand)" \
	'[ "$(cond_reason done Succeeded)" = PhaseSetByHand ] &&
	 [ "$(jp wfr/done "{.status.conditions[?(@.type==\"Succeeded\")].status}")" = True ] &&
	 [ -n "$(jp wfr/done "{.status.completionTime}")" ]'

# 2. status.steps removed: rebuilt from the run's own Job (found by name and
# controller uid); no second Job.
check "steps: status.steps removed" 'patch_status steps json "[{\"op\":\"remove\",\"path\":\"/status/steps\"}]"'
eventually 30 "steps: rebuilt, a Running with its Job's uid" \
	'step_is steps a Running && field_is wfr/steps "{.status.steps[0].jobUID}" "$a_uid_steps"'
check "steps: the same Job (same uid)" '[ "$(uid_of steps-a)" = "$a_uid_steps" ]'

# 3. a step's job and jobUID set to the intruder, a Job the run does not
# own: the intruder's pod carries the run label, and its uid is now in the
# status; still it is not the run's. Corrected, said in an Event, untouched.
check "foreign: steps[a] set to the intruder Job" \
	"patch_status foreign merge '{\"status\":{\"steps\":[{\"name\":\"a\",\"finally\":false,\"phase\":\"Running\",\"job\":\"intruder\",\"jobUID\":\"$intruder_uid\"},{\"name\":\"b\",\"phase\":\"Pending\"},{\"name\":\"fin\",\"finally\":true,\"phase\":\"Pending\"}]}}'"
eventually 30 "foreign: status corrected to the run's own Job" \
	'field_is wfr/foreign "{.status.steps[0].job}" foreign-a && field_is wfr/foreign "{.status.steps[0].jobUID}" "$a_uid_foreign"'
eventually 10 "foreign: Warning StatusCorrected names both Jobs" \
	'event_of StatusCorrected foreign | grep "^Warning " | grep -F "\"intruder\" (uid $intruder_uid)" | grep -qF "\"foreign-a\" (uid $a_uid_foreign)"'
check "foreign: attempts of a still 1 (the intruder's pod is not counted)" \
	'field_is wfr/foreign "{.status.steps[0].attempts}" 1'

# 4. a 1 MiB status.message: overwritten with the run's own summary.
python3 -c 'import json; print(json.dumps({"status": {"message": "M" * (1 << 20)}}))' >"$RB_TMP/big.json"
check "big: 1 MiB status.message accepted by the API server" \
	'kubectl -n "$NS" patch wfr big --subresource=status --type=merge --patch-file "$RB_TMP/big.json" >/dev/null'
eventually 30 "big: message back to the run's own" 'field_is wfr/big "{.status.message}" "run is in progress"'
eventually 10 "big: Warning StatusCorrected says the message was changed (1 MiB)" \
	'event_of StatusCorrected big | grep "^Warning " | grep -q "status.message had been changed by another writer (1048576 bytes)"'

# 5. invalid UTF-8, as raw bytes through curl: the API server stores
# U+FFFD for them; the step entry with a broken name is dropped, the steps
# are rebuilt.
printf '{"status":{"message":"bad \xff\xfe \xc3\x28","steps":[{"name":"a\xff","phase":"Running","job":"\xc3\x28"}]}}' >"$RB_TMP/utf8.json"
code=$(admin_curl -o "$RB_TMP/utf8.out" -w '%{http_code}' -X PATCH -H 'Content-Type: application/merge-patch+json' \
	--data-binary @"$RB_TMP/utf8.json" "$API_SERVER/apis/runbook.dev/v1alpha1/namespaces/$NS/workflowruns/utf8/status")
echo "# invalid UTF-8 status patch: HTTP $code"
check "utf8: the API server answered the raw patch (HTTP $code)" '[ "$code" = 200 ] || [ "$code" = 400 ] || [ "$code" = 422 ]'
eventually 30 "utf8: steps rebuilt, a Running, message the run's own" \
	'step_is utf8 a Running && field_is wfr/utf8 "{.status.message}" "run is in progress"'

check "the operator is alive after the tampering" 'operator_alive'

# Every run but the ended one still works: cancel them, they end Cancelled.
for r in steps foreign big utf8; do
	kubectl -n "$NS" patch wfr "$r" --type=merge -p '{"spec":{"cancel":true}}' >/dev/null
done
for r in steps foreign big utf8; do
	eventually 60 "$r: Cancelled after a cancel" "phase_is $r Cancelled"
	check "$r: finally step ran" "step_is $r fin Succeeded"
done
# The intruder was never the run's: still there, still running.
check "the intruder Job still exists" 'exists job/intruder'
check "its pod still exists and runs" '[ "$(jp pod/$intruder_pod "{.status.phase}")" = Running ] && [ -z "$(jp pod/$intruder_pod "{.metadata.deletionTimestamp}")" ]'
not_deleted_by_operator jobs intruder
not_deleted_by_operator pods "$intruder_pod"
kubectl -n "$NS" delete job intruder --wait=false >/dev/null
# done was set Succeeded while its pod ran: the recorder sees I1 and I4
# broken for it (by the admin, not the operator); the intruder is a Job
# labelled with a run that does not control it (I6).
hostile_finish '^recorder: run done: I[14] ' '^recorder: I6 .*Job intruder .*has no controller ownerReference'
