# Jobs and pods that claim, by label, to be a run's (issue 10, "Bad
# input"). What the operator trusts is the ownerReference uid (a Job's
# controller is the run; a pod's Job is one the run created), never the
# runbook.dev/run label: so it neither deletes them, nor waits for them,
# nor counts them as the run's.
#  1. a Job with the run's labels and no ownerReference;
#  2. a Job whose controller ownerReference names the run with another uid
#     (the garbage collector may remove it as dangling: not the operator);
#  3. a bare pod with the run's labels and the Job uid label of no Job of
#     the run ("a run of the same name with another uid");
#  4. a pod in another namespace labelled with the run's name and the uid
#     of the run's own Job (runs see the pods of their namespace only);
#  5. a run deleted with --cascade=orphan and created again under the same
#     name: the old run's Job (its ownerReference removed by the garbage
#     collector) has the new run's step Job name and labels. The step fails
#     JobConflict, the old Job and its pod stay.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/hostile.bash"
NS2=$NS-other
kubectl create namespace "$NS2" >/dev/null
eval "lib_exit=$(trap -p EXIT | sed 's/^trap -- //; s/ EXIT$//')"
trap 'kubectl delete namespace "$NS2" --wait=false >/dev/null 2>&1; eval "$lib_exit"' EXIT

cat <<Y | kubectl apply -f - >/dev/null
apiVersion: runbook.dev/v1alpha1
kind: Workflow
metadata: {name: wf, namespace: $NS}
spec:
  terminationGracePeriodSeconds: 2
  steps:
  - {name: a, image: busybox:1.36, podTemplate: {metadata: {annotations: {runbook.dev/test-duration: 1h, runbook.dev/test-sigterm-exit: 200ms}}}}
  - {name: b, image: busybox:1.36, podTemplate: {metadata: {annotations: {runbook.dev/test-duration: 1h, runbook.dev/test-sigterm-exit: 200ms}}}}
  finally:
  - {name: fin, image: busybox:1.36}
---
apiVersion: runbook.dev/v1alpha1
kind: WorkflowRun
metadata: {name: r, namespace: $NS}
spec: {workflowRef: {name: wf}}
Y
eventually 60 "r: a and b Running" 'step_is r a Running && step_is r b Running'
r_uid=$(jp wfr/r '{.metadata.uid}')
labels="{runbook.dev/run: r, runbook.dev/workflow: wf, runbook.dev/step: a}"
job() { # NAME [OWNER_UID]
	cat <<Y
apiVersion: batch/v1
kind: Job
metadata:
  name: $1
  namespace: $NS
  labels: $labels
$([ -n "${2:-}" ] && echo "  ownerReferences: [{apiVersion: runbook.dev/v1alpha1, kind: WorkflowRun, name: r, uid: $2, controller: true}]")
spec:
  backoffLimit: 0
  template:
    metadata: {labels: $labels, annotations: {runbook.dev/test-duration: 1h}}
    spec:
      restartPolicy: Never
      terminationGracePeriodSeconds: 2
      containers: [{name: step, image: busybox:1.36}]
Y
}
pod() { # NAME NAMESPACE JOB_UID
	cat <<Y
apiVersion: v1
kind: Pod
metadata:
  name: $1
  namespace: $2
  labels: {runbook.dev/run: r, runbook.dev/step: a, batch.kubernetes.io/controller-uid: "$3", batch.kubernetes.io/job-name: r-a}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 2
  containers: [{name: step, image: busybox:1.36}]
Y
}
{
	job stray
	echo ---
	job impostor 00000000-0000-4000-8000-00000000dead
	echo ---
	pod claimer "$NS" 00000000-0000-4000-8000-00000000beef
	echo ---
	pod elsewhere "$NS2" "$(jp job/r-a '{.metadata.uid}')"
} | kubectl apply -f - >/dev/null
eventually 30 "the stray Job's pod runs" '[ "$(pod_phase stray)" = Running ]'
eventually 30 "the claimer pod runs" '[ "$(jp pod/claimer "{.status.phase}")" = Running ]'
eventually 30 "the pod in the other namespace runs" \
	'[ "$(kubectl -n "$NS2" get pod elsewhere -o jsonpath="{.status.phase}")" = Running ]'
stray_pod=$(kget pod -l job-name=stray -o 'jsonpath={.items[0].metadata.name}')
sleep 2 # let the operator see them all
check "r: attempts of a still 1 (no foreign pod counted)" 'field_is wfr/r "{.status.steps[0].attempts}" 1'
check "r: its own Jobs only, one per started step" '[ "$(kget jobs -l runbook.dev/run=r -o name | grep -c "^job.batch/r-")" = 2 ]'
eventually 30 "r: the refusal is reported: ForeignChildren=True names the stray Job's pod and the claimer" \
	'[ "$(cond_reason r ForeignChildren)" = NotOwned ] &&
	 m=$(jp wfr/r "{.status.conditions[?(@.type==\"ForeignChildren\")].message}") &&
	 [[ "$m" == *"pod $stray_pod"* ]] && [[ "$m" == *"pod claimer"* ]]'
check "  with one Warning Event, ForeignChildrenIgnored" \
	'[ "$(kubectl -n "$NS" get events.events.k8s.io --field-selector reason=ForeignChildrenIgnored,regarding.name=r -o name | grep -c .)" = 1 ]'

# The run is cancelled: it tears its own Jobs down, runs its finally step
# and ends Cancelled while the foreign pods still run: they are neither
# waited for nor deleted.
kubectl -n "$NS" patch wfr r --type=merge -p '{"spec":{"cancel":true}}' >/dev/null
eventually 60 "r: Cancelled" 'phase_is r Cancelled'
check "r: finally ran" 'step_is r fin Succeeded'
check "r: its own Jobs' pods are gone" '! exists job/r-a && ! exists job/r-b'
check "stray Job and its pod still there, running" \
	'exists job/stray && [ "$(jp pod/$stray_pod "{.status.phase}")" = Running ] && [ -z "$(jp pod/$stray_pod "{.metadata.deletionTimestamp}")" ]'
check "claimer pod still there, running" \
	'[ "$(jp pod/claimer "{.status.phase}")" = Running ] && [ -z "$(jp pod/claimer "{.metadata.deletionTimestamp}")" ]'
check "the pod in the other namespace still there" 'kubectl -n "$NS2" get pod elsewhere -o name >/dev/null'
echo "# impostor (controller ownerReference to run r with another uid): $(exists job/impostor && echo still there || echo gone, by the garbage collector)"
not_deleted_by_operator jobs stray
not_deleted_by_operator pods "$stray_pod"
not_deleted_by_operator jobs impostor
not_deleted_by_operator pods claimer
not_deleted_by_operator pods elsewhere "$NS2"
kubectl -n "$NS" delete job stray impostor --ignore-not-found --wait=false >/dev/null
kubectl -n "$NS" delete pod claimer --wait=false >/dev/null

# 5. The same name again. Run s, deleted with --cascade=orphan while a runs:
# its Jobs stay, without ownerReferences.
cat <<Y | kubectl apply -f - >/dev/null
apiVersion: runbook.dev/v1alpha1
kind: WorkflowRun
metadata: {name: s, namespace: $NS}
spec: {workflowRef: {name: wf}}
Y
eventually 60 "s (first): a Running" 'step_is s a Running'
old_uid=$(jp wfr/s '{.metadata.uid}')
old_a=$(jp job/s-a '{.metadata.uid}')
old_pod=$(kget pod -l job-name=s-a -o 'jsonpath={.items[0].metadata.name}')
kubectl -n "$NS" delete wfr s --cascade=orphan >/dev/null
eventually 30 "s (first): gone; its Job s-a has no ownerReference left" \
	'! exists wfr/s && [ -z "$(jp job/s-a "{.metadata.ownerReferences}")" ]'
cat <<Y | kubectl apply -f - >/dev/null
apiVersion: runbook.dev/v1alpha1
kind: WorkflowRun
metadata: {name: s, namespace: $NS}
spec: {workflowRef: {name: wf}}
Y
eventually 60 "s (again): Failed" 'phase_is s Failed'
check "s (again): a new uid" '[ "$(jp wfr/s "{.metadata.uid}")" != "$old_uid" ]'
check "s (again): a Failed with reason JobConflict" \
	'step_is s a Failed && field_is wfr/s "{.status.steps[0].reason}" JobConflict'
check "s (again): the run's message names the conflict" '[[ "$(jp wfr/s "{.status.message}")" == *"not owned by this run"* ]]'
check "s (again): Succeeded=False StepFailed" '[ "$(cond_reason s Succeeded)" = StepFailed ]'
check "the old Job s-a is the same one, untouched" \
	'field_is job/s-a "{.metadata.uid}" "$old_a" && [ -z "$(jp job/s-a "{.metadata.deletionTimestamp}")" ]'
check "its pod still runs" '[ "$(jp pod/$old_pod "{.status.phase}")" = Running ]'
not_deleted_by_operator jobs s-a
not_deleted_by_operator pods "$old_pod"
kubectl -n "$NS" delete job s-a s-b --ignore-not-found --wait=false >/dev/null
# Jobs that carry the run label without being controlled by that run break
# the recorder's I6 on purpose; so does the old run's Job once the garbage
# collector took its ownerReference off.
hostile_finish '^recorder: I6 '
