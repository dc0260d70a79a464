# The smoke tests can fail: with kube-controller-manager stopped, a Job never
# completes and an orphan is never collected. Restarts it afterwards.
. "$(dirname "$0")/../lib.sh"
: "${RUNBOOK_CLUSTER_DIR:?}"
ctl=$RB_SRC/test/cluster/ctl.sh
"$ctl" "$RUNBOOK_CLUSTER_DIR" stop kube-controller-manager
# lib.sh's own EXIT trap (recorder, namespace, temp files) runs after ours.
eval "lib_exit=$(trap -p EXIT | sed 's/^trap -- //; s/ EXIT$//')"
trap '"$ctl" "$RUNBOOK_CLUSTER_DIR" start kube-controller-manager; eval "$lib_exit"' EXIT
job_yaml ok '{runbook.dev/test-duration: 100ms}' | kubectl apply -f - >/dev/null
kubectl -n "$NS" create configmap owner >/dev/null
uid=$(jp configmap/owner '{.metadata.uid}')
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: child\n  namespace: %s\n  ownerReferences: [{apiVersion: v1, kind: ConfigMap, name: owner, uid: %s}]\n' "$NS" "$uid" |
	kubectl apply -f - >/dev/null
kubectl -n "$NS" delete configmap owner >/dev/null
sleep 8
# absent KIND/NAME: the API says it is not there (an API error is not "absent").
absent() { local o; o=$(kubectl -n "$NS" get "$1" --ignore-not-found -o name) && [ -z "$o" ]; }
check "without the Job controller the Job has no pod" 'none pod job-name=ok'
check "without the Job controller the Job is not Complete" \
	'c=$(kubectl -n "$NS" get job/ok -o "jsonpath={.status.conditions[?(@.type==\"Complete\")].status}") && [ "$c" != True ]'
check "without the garbage collector the orphan stays" 'exists configmap/child'
"$ctl" "$RUNBOOK_CLUSTER_DIR" start kube-controller-manager
eventually 90 "with it back, the Job completes" 'field_is job/ok "{.status.conditions[?(@.type==\"Complete\")].status}" True'
eventually 90 "with it back, the orphan is collected" 'absent configmap/child'
finish
