# /healthz, /readyz and /metrics: the exposition format is valid, counters
# move when a run happens, /readyz is 503 until the caches have synced.
# Serial: the operator's counters are global, so with other tests running a
# counter moved by them would pass for this run; alone, the deltas are this
# run's own and can be checked exactly.
. "$(dirname "$0")/../lib.sh"
: "${RUNBOOK_CLUSTER_DIR:?}" "${RUNBOOK_OPERATOR_DIR:?}"
. "$RUNBOOK_CLUSTER_DIR/operator.env"
code() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$1"; }
check "/healthz answers 200" '[ "$(code "$OPERATOR_HEALTH/healthz")" = 200 ]'
eventually 30 "/readyz answers 200 once synced" '[ "$(code "$OPERATOR_HEALTH/readyz")" = 200 ]'
check "unknown path is 404" '[ "$(code "$OPERATOR_HEALTH/nope")" = 404 ]'
ctype=$(curl -s -o /dev/null -w '%{content_type}' "$OPERATOR_METRICS/metrics")
check "metrics Content-Type is the 0.0.4 text format ($ctype)" '[ "$ctype" = "text/plain; version=0.0.4; charset=utf-8" ]'

valid_exposition() { # every sample line is NAME{LABELS} VALUE, every family typed first
	awk '
	/^# TYPE / { typed[$3] = 1; next }
	/^#/ { next }
	/^$/ { next }
	{
		if ($0 !~ /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? [-+0-9.eEInfa]+$/) { print "bad line: " $0; bad = 1 }
		name = $0; sub(/[{ ].*/, "", name)
		base = name; sub(/_(bucket|sum|count)$/, "", base)
		if (!typed[name] && !typed[base]) { print "untyped: " name; bad = 1 }
	}
	END { exit bad }' "$1"
}
value() { # NAME{LABELS} exactly as printed -> value
	awk -v k="$2" 'index($0, k " ") == 1 { print $NF }' "$1"
}
m1=$(mktemp)
m2=$(mktemp)
curl -s "$OPERATOR_METRICS/metrics" >"$m1"
check "exposition format is valid" 'valid_exposition "$m1"'
check "runbook_leader is 1" '[ "$(value "$m1" runbook_leader)" = 1 ]'
check "RSS is reported" '[ "$(value "$m1" process_resident_memory_bytes)" -gt 0 ]'
cat <<Y | kubectl apply -f - >/dev/null
apiVersion: runbook.dev/v1alpha1
kind: Workflow
metadata: {name: two, namespace: $NS}
spec:
  steps:
  - {name: a, image: busybox:1.36, podTemplate: {metadata: {annotations: {runbook.dev/test-duration: 200ms}}}}
  - {name: b, image: busybox:1.36, dependsOn: [a], podTemplate: {metadata: {annotations: {runbook.dev/test-duration: 200ms}}}}
---
apiVersion: runbook.dev/v1alpha1
kind: WorkflowRun
metadata: {name: r, namespace: $NS}
spec: {workflowRef: {name: two}}
Y
check "the run succeeds" 'kubectl -n "$NS" wait --for=jsonpath="{.status.phase}"=Succeeded wfr/r --timeout=60s'
sleep 0.5
curl -s "$OPERATOR_METRICS/metrics" >"$m2"
check "still valid after the run" 'valid_exposition "$m2"'
# delta KEY: how much KEY moved between the two scrapes; fails when either
# scrape lacks it (a missing counter is not 0).
delta() {
	local a b
	a=$(value "$m1" "$1") && b=$(value "$m2" "$1") && [ -n "$a" ] && [ -n "$b" ] || return 1
	echo $((b - a))
}
for k in runbook_reconcile_total runbook_reconcile_duration_seconds_count runbook_status_writes_total; do
	check "$k moved ($(value "$m1" "$k") -> $(value "$m2" "$k"))" "d=\$(delta $k) && [ \"\$d\" -gt 0 ]"
done
# The run's two steps, and nothing else: this test runs alone.
check "runbook_jobs_created_total moved by exactly 2, this run's Jobs ($(delta runbook_jobs_created_total))" \
	'd=$(delta runbook_jobs_created_total) && [ "$d" -eq 2 ]'
check "succeeded step outcomes moved by exactly 2 ($(delta 'runbook_step_outcomes_total{outcome="succeeded"}'))" \
	'd=$(delta "runbook_step_outcomes_total{outcome=\"succeeded\"}") && [ "$d" -eq 2 ]'
check "a Succeeded run is counted by phase" 'n=$(value "$m2" "runbook_workflowruns{phase=\"Succeeded\"}") && [ "$n" -ge 1 ]'
rm -f "$m1" "$m2"

# A second operator whose API server does not answer: alive but not ready.
bad=$(mktemp)
sed "s#server: https://127.0.0.1:[0-9]*#server: https://127.0.0.1:1#" "$KUBECONFIG" >"$bad"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$RUNBOOK_OPERATOR_DIR/runbook-operator" --kubeconfig "$bad" --health-addr "127.0.0.1:$port" \
	--metrics-addr 0 --webhook-addr 0 --ui-addr 0 >/dev/null 2>&1 &
pid=$!
eventually 10 "unsynced operator: /healthz 200" '[ "$(code "http://127.0.0.1:$port/healthz")" = 200 ]'
check "unsynced operator: /readyz 503" '[ "$(code "http://127.0.0.1:$port/readyz")" = 503 ]'
check "  saying why" 'curl -s --max-time 5 "http://127.0.0.1:$port/readyz" | grep -qx "caches not synced"'
kill -TERM "$pid"
wait "$pid"
unsynced_rc=$?
check "it still exits 0 on SIGTERM (rc=$unsynced_rc)" '[ "$unsynced_rc" -eq 0 ]'
rm -f "$bad"

# Bad flags and an unreadable kubeconfig: exit 2 with one clear line.
flag_out=$("$RUNBOOK_OPERATOR_DIR/runbook-operator" --no-such-flag 2>&1)
flag_rc=$?
check "bad flag exits 2 (rc=$flag_rc)" '[ "$flag_rc" -eq 2 ]'
check "  with one line naming it ($flag_out)" '[ "$(printf "%s\n" "$flag_out" | wc -l)" -eq 1 ] && [[ $flag_out == *--no-such-flag* ]]'
kc_out=$("$RUNBOOK_OPERATOR_DIR/runbook-operator" --kubeconfig /nonexistent/kubeconfig 2>&1)
kc_rc=$?
check "unreadable kubeconfig exits 2 (rc=$kc_rc)" '[ "$kc_rc" -eq 2 ]'
check "  naming the file ($kc_out)" '[ "$(printf "%s\n" "$kc_out" | wc -l)" -eq 1 ] && [[ $kc_out == */nonexistent/kubeconfig* ]]'
operator_log_on_failure
finish
