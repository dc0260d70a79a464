# The pod watch lags the Job watch (the soak's finding, seed 1208): a stale
# Job controller made a pod for a Job the garbage collector was removing;
# the operator saw the Job gone while its pod watch had not yet delivered
# the pod, and started the finally step, then wrote Cancelled, while that
# pod ran. Reproduced here deterministically, on the real control plane:
#   - an operator of our own, through test/proxy, whose pod watches are held
#     ({"resource":"pods","watches":"hold"}): it sees Jobs, runs and lists,
#     never a pod event;
#   - run r, main step a (1h), finally step report (500ms); cancelled while
#     a runs, with a finalizer of ours keeping Job r-a after its pod is gone;
#   - we play the stale Job controller: pod r-a-stale, a controller child of
#     Job r-a (blockOwnerDeletion false), Running on a's node, kept by a
#     finalizer of its own (and a 600 s grace period: kwok removes
#     finalizers when a pod's grace period ends);
#   - Job r-a released: the garbage collector removes it and deletes (only
#     marks Terminating) the stale pod, which still runs.
# While the stale pod runs (10 s), the run must stay Cancelling and the
# finally Job r-report must not exist. Nothing but a consistent LIST of the
# run's pods can tell the operator so: its pod cache has never seen the pod.
# Then the stale pod goes and the run must finish, first with the pod watch
# still held (a LIST, not a pod event, must get it there), else after the
# hold. lib.sh's recorder checks I1 (no pod running at the terminal phase),
# I2 (no finally Job while a main-step pod runs) and I4 at the end.
# Serial: the fixture's operator is stopped (it watches pods directly and
# would act on the run); it is started again at the end.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/proxy.bash"
: "${RUNBOOK_CLUSTER_DIR:?}" "${RUNBOOK_OPERATOR_DIR:?}"
op() { "$RB_SRC/test/operator.sh" "$1" "$RUNBOOK_CLUSTER_DIR" "$RUNBOOK_OPERATOR_DIR"; }
logdir=$RUNBOOK_CLUSTER_DIR/logs
pki=$RUNBOOK_CLUSTER_DIR/pki
olog=$logdir/lag-operator.log
HOLD=test.runbook.dev/hold
pid=
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
hp=$(free_port)
mp=$(free_port)
code() { curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$hp$1"; }
metric() { # KEY (name{labels} as printed): its value; fails if the scrape fails or lacks it
	local out v
	out=$(curl -sf --max-time 2 "http://127.0.0.1:$mp/metrics") || return 1
	v=$(awk -v k="$1" 'index($0, k " ") == 1 { print $NF }' <<<"$out")
	[ -n "$v" ] && echo "$v"
}
# fault [JSON]: GET /__fault, or POST the faults; fault_post PATH: POST /__fault/PATH.
fault_post() { curl -sf --max-time 5 --cacert "$pki/ca.crt" -X POST "$proxy_url/__fault/$1"; }
# fault_field KEY: a number of GET /__fault (watches_held, watches_open).
fault_field() { fault | python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
# pod_watches_forwarded: pod watches the proxy let through to the API server
# (a held one is counted once the hold ends).
pod_watches_forwarded() {
	curl -sf --max-time 5 --cacert "$pki/ca.crt" "$proxy_url/__fault/log" | python3 -c 'import json,sys
print(sum(1 for e in json.load(sys.stdin) if e["kind"] == "watch" and e.get("resource") == "pods" and e["status"]))'
}
unhold() { # KIND/NAME: drops every finalizer of ours (the namespace can then go)
	kubectl -n "$NS" patch "$1" --type=merge -p '{"metadata":{"finalizers":null}}' >/dev/null 2>&1
}
cleanup() {
	[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
	[ -n "$proxy_pid" ] && kill "$proxy_pid" 2>/dev/null
	unhold job/r-a
	unhold pod/r-a-stale
	kubectl -n "$NS" delete pod r-a-stale --grace-period=0 --force --wait=false >/dev/null 2>&1
	op start >/dev/null 2>&1
	eval "$lib_exit"
}
# lib.sh's own EXIT trap (recorder, namespace, temp files) runs after ours.
eval "lib_exit=$(trap -p EXIT | sed 's/^trap -- //; s/ EXIT$//')"
trap cleanup EXIT
op stop >/dev/null

# --- the proxy, and an operator of our own through it --------------------------
proxy_start lag
: >"$olog"
ASAN_OPTIONS=detect_leaks=1 setsid "$RUNBOOK_OPERATOR_DIR/runbook-operator" --kubeconfig "$pkc" \
	--health-addr "127.0.0.1:$hp" --metrics-addr "127.0.0.1:$mp" --webhook-addr 127.0.0.1:0 --ui-addr 127.0.0.1:0 \
	>>"$olog" 2>&1 </dev/null &
pid=$!
eventually 60 "our operator (through the proxy, no election) is ready" '[ "$(code /readyz)" = 200 ]'

# --- hold its pod watches, and only those -------------------------------------
fault '{"resource":"pods","watches":"hold"}' >/dev/null
killed=$(fault_post 'kill-watches?resource=pods' | python3 -c 'import json,sys; print(json.load(sys.stdin)["killed"])')
check "kill-watches?resource=pods cut the operator's pod watch (killed $killed)" '[ "${killed:-0}" -ge 1 ]'
eventually 30 "its pod watch came back and is held in the proxy" '[ "$(fault_field watches_held)" -ge 1 ]'
check "  its other watches still flow (watches_open $(fault_field watches_open))" '[ "$(fault_field watches_open)" -ge 3 ]'
relists0=$(metric 'runbook_relists_total{resource="pods"}')
forwarded0=$(pod_watches_forwarded)

# --- run r: a runs, then the cancel ---------------------------------------------
cat <<Y | kubectl apply -f - >/dev/null
apiVersion: runbook.dev/v1alpha1
kind: Workflow
metadata: {name: lag, namespace: $NS}
spec:
  steps:
  - {name: a, image: busybox:1.36, podTemplate: {metadata: {annotations: {runbook.dev/test-duration: 1h, runbook.dev/test-sigterm-exit: 100ms}}}}
  finally:
  - {name: report, image: busybox:1.36, podTemplate: {metadata: {annotations: {runbook.dev/test-duration: 500ms}}}}
---
apiVersion: runbook.dev/v1alpha1
kind: WorkflowRun
metadata: {name: r, namespace: $NS}
spec: {workflowRef: {name: lag}}
Y
a_pod() { kget pods -l job-name=r-a --field-selector=status.phase=Running -o 'jsonpath={.items[0].metadata.name}'; }
eventually 60 "Job r-a has a Running pod" 'p=$(a_pod) && [ -n "$p" ]'
a_pod_name=$(a_pod)
kget pod "$a_pod_name" -o json >"$RB_TMP/a-pod.json" # the stale pod is made from it
node=$(jp "pod/$a_pod_name" '{.spec.nodeName}')
job_uid=$(jp job/r-a '{.metadata.uid}')
eventually 30 "step a Running (the operator goes by its Job: it has seen no pod)" 'step_is r a Running'
check "the pod informer did not relist around the hold (runbook_relists_total{resource=\"pods\"} $relists0 -> $(metric 'runbook_relists_total{resource="pods"}'))" \
	'[ -n "$relists0" ] && [ "$(metric "runbook_relists_total{resource=\"pods\"}")" = "$relists0" ]'
kubectl -n "$NS" patch job r-a --type=merge -p "{\"metadata\":{\"finalizers\":[\"$HOLD\"]}}" >/dev/null
check "Job r-a carries our finalizer" 'field_is job/r-a "{.metadata.finalizers}" "[\"$HOLD\"]"'
kubectl -n "$NS" patch wfr r --type=merge -p '{"spec":{"cancel":true}}' >/dev/null
eventually 30 "run goes Cancelling" 'phase_is r Cancelling'
eventually 30 "the operator deletes Job r-a (deletionTimestamp set)" 't=$(jp job/r-a "{.metadata.deletionTimestamp}") && [ -n "$t" ]'
eventually 60 "r-a's pod $a_pod_name is gone (foreground deletion)" 'none "pod/$a_pod_name"'
eventually 30 "the garbage collector is done with r-a's dependents: only our finalizer keeps it" \
	'field_is job/r-a "{.metadata.finalizers}" "[\"$HOLD\"]"'
check "Job r-a still there" 'exists job/r-a'
check "no Job r-report yet" 'none job/r-report'

# --- the stale Job controller's pod -------------------------------------------
# Made from r-a's pod (saved while it ran), as the Job controller would
# make it: its labels (run, step, controller-uid, job-name), its controller
# ownerReference to Job r-a (blockOwnerDeletion false: it must not hold the
# Job back), its node and container; a 1h duration, no quick exit on
# SIGTERM.
python3 - "$RB_TMP/a-pod.json" "$HOLD" >"$RB_TMP/stale.json" <<'PY'
import json, sys
a = json.load(open(sys.argv[1]))
m = a["metadata"]
refs = [dict(r, blockOwnerDeletion=False) for r in m["ownerReferences"] if r.get("controller")]
c = a["spec"]["containers"][0]
print(json.dumps({
    "apiVersion": "v1", "kind": "Pod",
    "metadata": {"name": "r-a-stale", "namespace": m["namespace"], "labels": m["labels"],
                 "annotations": {"runbook.dev/test-duration": "1h"},
                 "finalizers": [sys.argv[2]], "ownerReferences": refs},
    "spec": {"nodeName": a["spec"]["nodeName"], "restartPolicy": "Never",
             "terminationGracePeriodSeconds": 600,
             "containers": [{"name": c["name"], "image": c["image"]}]},
}))
PY
kubectl create -f "$RB_TMP/stale.json" >/dev/null
check "stale pod r-a-stale: r-a's labels, controlled by Job r-a ($job_uid), not blocking it" \
	'field_is pod/r-a-stale "{.metadata.labels.batch\.kubernetes\.io/controller-uid}/{.metadata.labels.runbook\.dev/step}/{.metadata.ownerReferences[0].uid}/{.metadata.ownerReferences[0].controller}/{.metadata.ownerReferences[0].blockOwnerDeletion}" "$job_uid/a/$job_uid/true/false"'
eventually 30 "stale pod r-a-stale Running on $node" 'field_is pod/r-a-stale "{.status.phase}" Running'
unhold job/r-a
eventually 30 "Job r-a gone (the stale pod does not block it)" 'none job/r-a'
eventually 30 "the garbage collector deletes the stale pod: Terminating" \
	't=$(jp pod/r-a-stale "{.metadata.deletionTimestamp}") && [ -n "$t" ]'
check "  and it still runs" 'field_is pod/r-a-stale "{.status.phase}" Running'

# --- the decision, while the pod watch has shown neither pod ---------------------
# For 10 s, while the stale pod runs: the run must stay Cancelling, with no
# finally Job. The whole window is watched (a breach does not end it), so an
# operator that creates the finally Job and then writes Cancelled shows both.
job_seen= phase_seen= stale_ran=1
t_end=$((SECONDS + 10))
while [ $SECONDS -lt $t_end ]; do
	field_is pod/r-a-stale '{.status.phase}' Running || { stale_ran=; break; }
	[ -z "$job_seen" ] && exists job/r-report && job_seen="created $(jp job/r-report '{.metadata.creationTimestamp}')"
	ph=$(run_phase r) && [ "$ph" != Cancelling ] && [ -z "$phase_seen" ] && phase_seen="$ph at $(date -u +%TZ)"
	sleep 0.5
done
check "the stale pod ran through the whole window (else this test proves nothing)" '[ -n "$stale_ran" ]'
check "no finally Job r-report while the stale pod runs${job_seen:+ (but it was $job_seen)}" '[ -z "$job_seen" ]'
check "run r stays Cancelling while the stale pod runs${phase_seen:+ (but it went $phase_seen)}" '[ -z "$phase_seen" ]'
check "  the operator's pod watch still held, none forwarded ($forwarded0 -> $(pod_watches_forwarded))" \
	'[ "$(fault_field watches_held)" -ge 1 ] && [ "$(pod_watches_forwarded)" = "$forwarded0" ]'

# --- the stale pod goes; the run must finish ------------------------------------
unhold pod/r-a-stale
kubectl -n "$NS" delete pod r-a-stale --grace-period=0 --force --wait=false >/dev/null 2>&1
eventually 30 "the stale pod is gone" 'none pod/r-a-stale'
# First with the pod watch still held: the operator cannot wait for a pod
# event, it must find out by a LIST.
if eventually 30 "run r Cancelled with its pod watch still held" 'phase_is r Cancelled'; then
	check "  the pod watch was held all along" '[ "$(fault_field watches_held)" -ge 1 ] && [ "$(pod_watches_forwarded)" = "$forwarded0" ]'
fi
fault '{}' >/dev/null
eventually 30 "the pod watch released: it flows again" '[ "$(pod_watches_forwarded)" -gt "$forwarded0" ]'
eventually 60 "run r Cancelled" 'phase_is r Cancelled'
check "reason Cancelled" '[ "$(cond_reason r Succeeded)" = Cancelled ]'
check "step a Cancelled" 'step_is r a Cancelled'
check "finally ran: step report Succeeded" 'step_is r report Succeeded'
check "no pod of the run runs ($(run_pods r))" 'n=$(run_pods r) && [ "$n" = 0 ]'
check "no main-step pod left" 'no_run_pods_except r report'

kill -TERM "$pid"
for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid"; wait "$pid" 2>/dev/null; rc=124; else wait "$pid"; rc=$?; fi
pid=
check "our operator exits 0 on SIGTERM (rc=$rc)" '[ "$rc" = 0 ]'
check "  no sanitizer report" '! grep -qE "AddressSanitizer|LeakSanitizer|runtime error" "$olog"'
if [ "$failed" -gt 0 ]; then
	echo "--- $olog (tail)"
	tail -n 40 "$olog"
	echo "--- run status"
	kubectl -n "$NS" get wfr r -o yaml 2>/dev/null | sed -n '/^status:/,$p' | head -60
fi
finish
