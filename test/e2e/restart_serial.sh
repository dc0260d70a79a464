# The operator SIGKILLed at moments chosen to hurt (right after a run starts,
# during creates, during teardown) and started again: no duplicate Job, no
# Job deleted and created again under its deterministic name (every uid a Job
# name ever had is recorded by a watch), no lost run, correct final status.
. "$(dirname "$0")/../lib.sh"
: "${RUNBOOK_CLUSTER_DIR:?}" "${RUNBOOK_OPERATOR_DIR:?}"
op() { "$RB_SRC/test/operator.sh" "$1" "$RUNBOOK_CLUSTER_DIR" "$RUNBOOK_OPERATOR_DIR"; }
# lib.sh's own EXIT trap (recorder, namespace, temp files) runs after ours.
eval "lib_exit=$(trap -p EXIT | sed 's/^trap -- //; s/ EXIT$//')"
trap 'op start >/dev/null 2>&1; [ -n "${uid_watch:-}" ] && kill "$uid_watch" 2>/dev/null; rm -f "${uid_log:-}"; eval "$lib_exit"' EXIT

# Every Job event in NS since the namespace was made: a watch from the
# namespace's resourceVersion, so a Job created (or deleted and created
# again) before the watcher is up is not missed.
. "$RUNBOOK_CLUSTER_DIR/env"
pki=$RUNBOOK_CLUSTER_DIR/pki
uid_log=$(mktemp)
ns_rv=$(kubectl get namespace "$NS" -o jsonpath='{.metadata.resourceVersion}')
curl -sN --cacert "$pki/ca.crt" --cert "$pki/admin.crt" --key "$pki/admin.key" \
	"$API_SERVER/apis/batch/v1/namespaces/$NS/jobs?watch=1&resourceVersion=$ns_rv" >"$uid_log" &
uid_watch=$!
# job_uids [RUN]: "NAME COUNT" per Job name (of RUN) seen, COUNT the distinct
# uids it had; fails if the watch died or reported an error (a record with
# holes proves nothing).
job_uids() {
	kill -0 "$uid_watch" 2>/dev/null || { echo "the Job watch ended" >&2; return 1; }
	python3 - "$uid_log" "${1:-}" <<'PY'
import json, sys
uids = {}
for line in open(sys.argv[1]):
    if not line.strip():
        continue
    try:
        e = json.loads(line)
    except ValueError:
        continue  # a line still being written
    if e.get("type") == "ERROR":
        sys.exit("watch error: " + line.strip())
    m = e["object"]["metadata"]
    if sys.argv[2] and m.get("labels", {}).get("runbook.dev/run") != sys.argv[2]:
        continue
    uids.setdefault(m["name"], set()).add(m["uid"])
for name in sorted(uids):
    print(name, len(uids[name]))
PY
}
# one_uid_each RUN N: N Job names of RUN were ever seen, each with one uid.
one_uid_each() {
	local u
	u=$(job_uids "$1") || return 1
	echo "$u" | awk -v n="$2" '$2 != 1 { print "two uids: " $0 > "/dev/stderr"; bad = 1 } END { exit bad || NR != n }'
}

{
	cat <<Y
apiVersion: runbook.dev/v1alpha1
kind: Workflow
metadata: {name: wide, namespace: $NS}
spec:
  terminationGracePeriodSeconds: 2
  steps:
  - {name: first, image: busybox:1.36, podTemplate: {metadata: {annotations: {runbook.dev/test-duration: 1s}}}}
Y
	for i in $(seq -w 1 10); do
		echo "  - {name: w$i, image: busybox:1.36, dependsOn: [first], podTemplate: {metadata: {annotations: {runbook.dev/test-duration: 3s}}}}"
	done
	echo "  - {name: last, image: busybox:1.36, dependsOn: [w01, w05, w10]}"
} >"/tmp/$NS-wf.yaml"
kubectl apply -f "/tmp/$NS-wf.yaml" >/dev/null
rm -f "/tmp/$NS-wf.yaml"
printf 'apiVersion: runbook.dev/v1alpha1\nkind: WorkflowRun\nmetadata: {name: ok, namespace: %s}\nspec: {workflowRef: {name: wide}}\n' "$NS" |
	kubectl apply -f - >/dev/null
# Kill as soon as the first-wave Job appears (status write and creates in flight).
eventually 30 "first Job created" 'exists job/ok-first'
op kill
uid_first=$(jp job/ok-first '{.metadata.uid}')
sleep 1
op start
eventually 30 "second wave created" 'exists job/ok-w10'
op kill
sleep 0.5
op start
check "run ok Succeeds after restarts" 'kubectl -n "$NS" wait --for=jsonpath="{.status.phase}"=Succeeded wfr/ok --timeout=90s'
check "12 Jobs, one per step" '[ "$(kubectl -n "$NS" get jobs -l runbook.dev/run=ok -o name | wc -l)" -eq 12 ]'
check "the first Job was never replaced ($uid_first)" '[ -n "$uid_first" ] && field_is job/ok-first "{.metadata.uid}" "$uid_first"'
check "each of the 12 steps had exactly one Job uid, ever (watch: $(job_uids ok | tr '\n' ' '))" 'one_uid_each ok 12'
check "every step Succeeded" '[ "$(jp wfr/ok "{.status.steps[*].phase}" | tr " " "\n" | grep -c Succeeded)" -eq 12 ]'

# Kill during a teardown.
printf 'apiVersion: runbook.dev/v1alpha1\nkind: WorkflowRun\nmetadata: {name: cx, namespace: %s}\nspec: {workflowRef: {name: wide}}\n' "$NS" |
	kubectl apply -f - >/dev/null
eventually 30 "cx's second wave created" '[ "$(kubectl -n "$NS" get jobs -l runbook.dev/run=cx -o name | wc -l)" -eq 11 ]'
kubectl -n "$NS" patch wfr cx --type=merge -p '{"spec":{"cancel":true}}' >/dev/null
eventually 10 "cx Cancelling" 'phase_is cx Cancelling'
op kill
sleep 1
op start
check "cx ends Cancelled" 'kubectl -n "$NS" wait --for=jsonpath="{.status.phase}"=Cancelled wfr/cx --timeout=60s'
check "no pod of cx still running" 'n=$(run_pods cx) && [ "$n" -eq 0 ]'
check "no pod of a torn-down step left" 'no_run_pods_except cx first'
# first + w01..w10: 11 Jobs, none made twice across the kill; 'last' never.
check "cx: 11 Jobs ever, each with one uid, none for 'last' (watch: $(job_uids cx | tr '\n' ' '))" \
	'one_uid_each cx 11 && u=$(job_uids cx) && ! grep -q "^cx-last " <<<"$u"'
operator_log_on_failure
finish
