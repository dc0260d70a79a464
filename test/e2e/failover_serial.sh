# Two replicas with leader election. SIGKILL the leader mid-run: the standby
# takes over within the lease duration and the run finishes correctly, with
# no duplicate Job. SIGTERM the new leader: it exits 0 within 5 s and the
# other leads within 2 s (the lease is released, not left to expire). Every
# Job uid is recorded: a Job deleted and re-created by the new leader under
# its deterministic name would count twice.
. "$(dirname "$0")/../lib.sh"
: "${RUNBOOK_CLUSTER_DIR:?}" "${RUNBOOK_OPERATOR_DIR:?}"
op() { "$RB_SRC/test/operator.sh" "$1" "$RUNBOOK_CLUSTER_DIR" "$RUNBOOK_OPERATOR_DIR"; }
log=$RUNBOOK_CLUSTER_DIR/logs
pids=()
ports=()
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
replica() { # N: starts replica N with leader election, lease in NS
	ports[$1]=$(free_port)
	ASAN_OPTIONS=detect_leaks=1 setsid "$RUNBOOK_OPERATOR_DIR/runbook-operator" \
		--kubeconfig "$KUBECONFIG" --leader-elect --leader-elect-namespace "$NS" \
		--leader-elect-lease-duration 4s --leader-elect-renew-deadline 3s \
		--leader-elect-retry-period 500ms --health-addr "127.0.0.1:${ports[$1]}" --metrics-addr 0 --webhook-addr 0 --ui-addr 0 \
		>"$log/replica-$1.log" 2>&1 </dev/null &
	pids[$1]=$!
}
# ready N: replica N's /readyz answers 200 (caches synced, campaigning).
ready() { [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:${ports[$1]}/readyz")" = 200 ]; }
identity_of() { sed -n 's/.*identity=\([^ ]*\).*/\1/p' "$log/replica-$1.log" | head -1; }
holder() { kubectl -n "$NS" get lease runbook-operator -o jsonpath='{.spec.holderIdentity}' 2>/dev/null; }
leader_index() { # prints 1 or 2: whose log says it leads now
	local h
	h=$(holder)
	[ -n "$h" ] || return 1
	for i in 1 2; do grep -q "identity=$h" "$log/replica-$i.log" 2>/dev/null && { echo "$i"; return 0; }; done
	return 1
}
cleanup() {
	for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
	[ -n "${uid_watch:-}" ] && kill "$uid_watch" 2>/dev/null
	rm -f "${uid_log:-}"
	op start >/dev/null 2>&1
	eval "$lib_exit"
}
# lib.sh's own EXIT trap (recorder, namespace, temp files) runs after ours.
eval "lib_exit=$(trap -p EXIT | sed 's/^trap -- //; s/ EXIT$//')"
trap cleanup EXIT
op stop >/dev/null # the fixture's single operator would not take part in the election
# Every Job event in NS since the namespace was made (a watch from its
# resourceVersion, so nothing before the watcher was up is missed).
. "$RUNBOOK_CLUSTER_DIR/env"
pki=$RUNBOOK_CLUSTER_DIR/pki
uid_log=$(mktemp)
curl -sN --cacert "$pki/ca.crt" --cert "$pki/admin.crt" --key "$pki/admin.key" \
	"$API_SERVER/apis/batch/v1/namespaces/$NS/jobs?watch=1&resourceVersion=$(kubectl get namespace "$NS" -o jsonpath='{.metadata.resourceVersion}')" >"$uid_log" &
uid_watch=$!
# job_uids: "NAME COUNT" per Job name ever seen in NS, COUNT its distinct
# uids; fails when the watch died or reported an error.
job_uids() {
	kill -0 "$uid_watch" 2>/dev/null || { echo "the Job watch ended" >&2; return 1; }
	python3 - "$uid_log" <<'PY'
import json, sys
uids = {}
for line in open(sys.argv[1]):
    try:
        e = json.loads(line)
    except ValueError:
        continue  # empty, or still being written
    if e.get("type") == "ERROR":
        sys.exit("watch error: " + line.strip())
    m = e["object"]["metadata"]
    uids.setdefault(m["name"], set()).add(m["uid"])
for name in sorted(uids):
    print(name, len(uids[name]))
PY
}
replica 1
replica 2
eventually 20 "one replica holds the lease" 'leader_index'
first=$(leader_index)
other=$((3 - first))
{
	cat <<Y
apiVersion: runbook.dev/v1alpha1
kind: Workflow
metadata: {name: chain, namespace: $NS}
spec:
  steps:
  - {name: a, image: busybox:1.36, podTemplate: {metadata: {annotations: {runbook.dev/test-duration: 2s}}}}
  - {name: b, image: busybox:1.36, dependsOn: [a], podTemplate: {metadata: {annotations: {runbook.dev/test-duration: 2s}}}}
  - {name: c, image: busybox:1.36, dependsOn: [b], podTemplate: {metadata: {annotations: {runbook.dev/test-duration: 1s}}}}
---
apiVersion: runbook.dev/v1alpha1
kind: WorkflowRun
metadata: {name: r, namespace: $NS}
spec: {workflowRef: {name: chain}}
Y
} | kubectl apply -f - >/dev/null
eventually 20 "step a running" 'step_is r a Running'
check "the standby wrote nothing (no leader line in its log)" '! grep -q "msg=leading" "$log/replica-$other.log"'
t0=$(date +%s%N)
kill -KILL "${pids[$first]}"
eventually 10 "the standby leads" 'grep -q "msg=leading" "$log/replica-$other.log"'
took=$((($(date +%s%N) - t0) / 1000000))
check "takeover within the 4 s lease duration + one retry (${took} ms)" '[ "$took" -le 5000 ]'
check "the run finishes Succeeded" 'kubectl -n "$NS" wait --for=jsonpath="{.status.phase}"=Succeeded wfr/r --timeout=60s'
check "one Job per step" '[ "$(kubectl -n "$NS" get jobs -l runbook.dev/run=r -o name | wc -l)" -eq 3 ]'
check "each step had exactly one Job uid, ever, across the takeover (watch: $(job_uids | tr '\n' ' '))" \
	'u=$(job_uids) && [ "$u" = "$(printf "r-a 1\nr-b 1\nr-c 1")" ]'

# Graceful hand-over: restart the killed replica as the standby, wait until
# it is ready (caches synced, campaigning), SIGTERM the leader.
replica "$first"
eventually 30 "the restarted replica is ready (/readyz 200)" "ready $first"
new_id=$(identity_of "$first")
check "  and a standby: the other still holds the lease ($(holder))" '[ -n "$new_id" ] && h=$(holder) && [ -n "$h" ] && [ "$h" != "$new_id" ]'
# The Lease is polled from before the SIGTERM, so the hand-over time does
# not include how long the old leader takes to exit.
lead_at=$(mktemp)
(
	for _ in $(seq 1 100); do
		[ "$(holder)" = "$new_id" ] && { date +%s%N >"$lead_at"; exit 0; }
		sleep 0.05
	done
) &
poller=$!
t0=$(date +%s%N)
kill -TERM "${pids[$other]}"
rc=0
for _ in $(seq 1 50); do kill -0 "${pids[$other]}" 2>/dev/null || break; sleep 0.1; done
if kill -0 "${pids[$other]}" 2>/dev/null; then rc=124; else wait "${pids[$other]}"; rc=$?; fi
exit_ms=$((($(date +%s%N) - t0) / 1000000))
check "SIGTERM: the leader exits 0 (rc=$rc) within 5 s (${exit_ms} ms)" '[ "$rc" -eq 0 ]'
wait "$poller"
lead_ms=
[ -s "$lead_at" ] && lead_ms=$((($(cat "$lead_at") - t0) / 1000000))
rm -f "$lead_at"
check "the standby took the lease within 2 s of the SIGTERM (${lead_ms:-never} ms): it was released" \
	'[ -n "$lead_ms" ] && [ "$lead_ms" -le 2000 ]'
eventually 5 "  and says so in its log" 'grep -q "msg=leading" "$log/replica-$first.log"'
check "no sanitizer report from the replica that shut down" '! grep -qE "AddressSanitizer|LeakSanitizer|runtime error" "$log/replica-$other.log"'
if [ "$failed" -gt 0 ]; then tail -n 20 "$log"/replica-*.log; fi
finish
