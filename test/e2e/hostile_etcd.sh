# Runs whose status breaks the CRD's own schema (issue 10, "Bad input"):
# written straight into etcd, as an admin with etcd access could, or as a
# CRD installed without a schema would let through: numbers where strings
# belong, strings where numbers belong, objects where lists belong, raw
# invalid UTF-8. The API server serves them as stored. The operator must
# not crash (json-c asserts on a list call made on an object: status.steps
# as an object killed it before), and rebuilds the status from the run's
# own Jobs.
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
---
apiVersion: runbook.dev/v1alpha1
kind: Workflow
metadata: {name: quick, namespace: $NS}
spec:
  steps:
  - {name: a, image: busybox:1.36}
Y
runs="types shapes utf8 phase"
for r in $runs finished; do
	wf=long
	[ $r = finished ] && wf=quick
	printf 'apiVersion: runbook.dev/v1alpha1\nkind: WorkflowRun\nmetadata: {name: %s, namespace: %s}\nspec: {workflowRef: {name: %s}}\n---\n' "$r" "$NS" "$wf"
done | kubectl apply -f - >/dev/null
for r in $runs; do
	eventually 60 "$r: step a Running" "step_is $r a Running && [ -n \"\$(jp wfr/$r '{.status.steps[0].jobUID}')\" ]"
done
eventually 60 "finished: Succeeded" 'phase_is finished Succeeded'
key() { echo "/registry/runbook.dev/workflowruns/$NS/$1"; }
uid_types=$(jp job/types-a '{.metadata.uid}')

# Numbers where strings belong, strings where numbers belong.
check "types: steps[0].phase 7, attempts \"x\", exitCode \"x\" (etcd)" \
	'etcd_edit "$(key types)" "s = obj[\"status\"][\"steps\"][0]; s[\"phase\"] = 7; s[\"attempts\"] = \"x\"; s[\"exitCode\"] = \"x\""'
echo "# types: served right after the write: phase $(jp wfr/types '{.status.steps[0].phase}'), attempts $(jp wfr/types '{.status.steps[0].attempts}')"
eventually 30 "types: rebuilt, a Running, attempts 1, no exitCode" \
	'step_is types a Running && field_is wfr/types "{.status.steps[0].attempts}" 1 && [ -z "$(jp wfr/types "{.status.steps[0].exitCode}")" ]'
check "types: the same Job" 'field_is wfr/types "{.status.steps[0].jobUID}" "$uid_types"'

# Objects where lists belong, a string where a list of conditions belongs.
check "shapes: status.steps an object, conditions a string (etcd)" \
	'etcd_edit "$(key shapes)" "obj[\"status\"][\"steps\"] = {\"a\": {\"phase\": \"Running\"}}; obj[\"status\"][\"conditions\"] = \"broken\""'
eventually 30 "shapes: steps and conditions rebuilt" \
	'step_is shapes a Running && [ "$(cond_reason shapes Succeeded)" = Running ]'

# Raw invalid UTF-8 in etcd: served with U+FFFD in its place.
check "utf8: raw bytes 0xff 0xfe in message and a step name (etcd)" \
	'etcd_edit "$(key utf8)" "obj[\"status\"][\"message\"] = \"@BAD1@\"; obj[\"status\"][\"steps\"][1][\"name\"] = \"@BAD2@\"; RAW[\"@BAD1@\"] = b\"\\\"\\xff\\xfe\\xc3(\\\"\"; RAW[\"@BAD2@\"] = b\"\\\"b\\xff\\\"\""'
eventually 30 "utf8: message back to the run's own, step b back" \
	'field_is wfr/utf8 "{.status.message}" "run is in progress" && step_is utf8 b Pending'

# A phase that is not a string: the run has its snapshot, so it resumes
# from it (never again from the live Workflow), with a StatusCorrected
# Event; its Jobs are found by name and owner uid (no second Job).
check "phase: status.phase 7 (etcd)" 'etcd_edit "$(key phase)" "obj[\"status\"][\"phase\"] = 7"'
eventually 30 "phase: Running again, a Running on the same Job" \
	'phase_is phase Running && step_is phase a Running && field_is wfr/phase "{.status.steps[0].job}" phase-a'
check "phase: one Job for a" '[ "$(kget jobs -l runbook.dev/run=phase,runbook.dev/step=a -o name | grep -c .)" = 1 ]'
eventually 20 "phase: a Warning Event StatusCorrected says what was corrected" \
	'kubectl -n "$NS" get events.events.k8s.io --field-selector reason=StatusCorrected,regarding.name=phase -o jsonpath="{.items[*].note}" | grep -q "status.phase was 7"'

# A finished run with broken conditions and a new generation: only
# observedGeneration is written; the phase stays.
check "finished: conditions a string (etcd)" 'etcd_edit "$(key finished)" "obj[\"status\"][\"conditions\"] = \"broken\""'
kubectl -n "$NS" patch wfr finished --type=merge -p '{"spec":{"cancel":true}}' >/dev/null
eventually 30 "finished: observedGeneration 2, still Succeeded" \
	'field_is wfr/finished "{.status.observedGeneration}" 2 && phase_is finished Succeeded'

check "the operator is alive" 'operator_alive'
for r in $runs; do
	kubectl -n "$NS" patch wfr "$r" --type=merge -p '{"spec":{"cancel":true}}' >/dev/null
done
for r in $runs; do
	eventually 60 "$r: Cancelled after a cancel" "phase_is $r Cancelled"
done
hostile_finish
