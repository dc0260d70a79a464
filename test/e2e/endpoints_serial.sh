# /healthz, /readyz and /metrics: the exposition format is valid, counters
# move when a run happens, /readyz is 503 until the caches have synced.
. "$(dirname "$0")/../lib.sh"
: "${RUNBOOK_CLUSTER_DIR:?}" "${RUNBOOK_OPERATOR_DIR:?}"
. "$RUNBOOK_CLUSTER_DIR/operator.env"
code() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$1"; }
check "/healthz answers 200" [ "$(code "$OPERATOR_HEALTH/healthz")" = 200 ]
eventually 30 "/readyz answers 200 once synced" bash -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' $OPERATOR_HEALTH/readyz)\" = 200 ]"
check "unknown path is 404" [ "$(code "$OPERATOR_HEALTH/nope")" = 404 ]
ctype=$(curl -s -o /dev/null -w '%{content_type}' "$OPERATOR_METRICS/metrics")
check "metrics Content-Type is the 0.0.4 text format ($ctype)" [ "$ctype" = "text/plain; version=0.0.4; charset=utf-8" ]

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
check "exposition format is valid" valid_exposition "$m1"
check "runbook_leader is 1" [ "$(value "$m1" runbook_leader)" = 1 ]
check "RSS is reported" [ "$(value "$m1" process_resident_memory_bytes)" -gt 0 ]
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
check "the run succeeds" kubectl -n "$NS" wait --for=jsonpath='{.status.phase}'=Succeeded wfr/r --timeout=60s
sleep 0.5
curl -s "$OPERATOR_METRICS/metrics" >"$m2"
check "still valid after the run" valid_exposition "$m2"
for k in runbook_reconcile_total runbook_jobs_created_total runbook_reconcile_duration_seconds_count \
	'runbook_step_outcomes_total{outcome="succeeded"}'; do
	a=$(value "$m1" "$k")
	b=$(value "$m2" "$k")
	check "$k moved (${a:-0} -> ${b:-missing})" [ "${b:-0}" -gt "${a:-0}" ]
done
check "a Succeeded run is counted by phase" [ "$(value "$m2" 'runbook_workflowruns{phase="Succeeded"}')" -ge 1 ]
rm -f "$m1" "$m2"

# A second operator whose API server does not answer: alive but not ready.
bad=$(mktemp)
sed "s#server: https://127.0.0.1:[0-9]*#server: https://127.0.0.1:1#" "$KUBECONFIG" >"$bad"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$RUNBOOK_OPERATOR_DIR/runbook-operator" --kubeconfig "$bad" --health-addr "127.0.0.1:$port" \
	--metrics-addr 0 >/dev/null 2>&1 &
pid=$!
eventually 10 "unsynced operator: /healthz 200" bash -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$port/healthz)\" = 200 ]"
check "unsynced operator: /readyz 503" [ "$(code "http://127.0.0.1:$port/readyz")" = 503 ]
check "  saying why" bash -c "curl -s http://127.0.0.1:$port/readyz | grep -q 'caches not synced'"
kill -TERM "$pid"
wait "$pid"
check "it still exits 0 on SIGTERM" [ $? -eq 0 ]
rm -f "$bad"

# Bad flags and an unreadable kubeconfig: exit 2 with one clear line.
out=$("$RUNBOOK_OPERATOR_DIR/runbook-operator" --no-such-flag 2>&1)
check "bad flag exits 2" [ $? -eq 2 ]
check "  with one line naming it ($out)" bash -c "[ \$(printf '%s\n' \"$out\" | wc -l) -eq 1 ] && [[ \"$out\" == *--no-such-flag* ]]"
out=$("$RUNBOOK_OPERATOR_DIR/runbook-operator" --kubeconfig /nonexistent/kubeconfig 2>&1)
check "unreadable kubeconfig exits 2" [ $? -eq 2 ]
check "  naming the file ($out)" bash -c "[[ \"$out\" == */nonexistent/kubeconfig* ]]"
operator_log_on_failure
finish
