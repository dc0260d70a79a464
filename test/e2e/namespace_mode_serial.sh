# --namespace mode (docs/operations.md, "One namespace"): the operator runs
# as a ServiceAccount whose only permissions are manifests/namespaced/'s
# Role and RoleBinding in the watched namespace (no ClusterRole). With
# --namespace NS it syncs, runs a workflow there to Succeeded, and never
# touches a run in another namespace: it caches NS's objects only and no
# request of it is refused. Without --namespace the same account cannot
# sync (cluster-wide lists are forbidden): /readyz stays 503. And with a
# cluster-wide account, --namespace NS alone keeps it out of the other
# namespace.
# Serial: the fixture's operator (all namespaces) is stopped, or it would
# run the other namespace's run; it is started again at the end.
. "$(dirname "$0")/../lib.sh"
: "${RUNBOOK_CLUSTER_DIR:?}" "${RUNBOOK_OPERATOR_DIR:?}"
op() { "$RB_SRC/test/operator.sh" "$1" "$RUNBOOK_CLUSTER_DIR" "$RUNBOOK_OPERATOR_DIR"; }
logdir=$RUNBOOK_CLUSTER_DIR/logs
OTHER=$NS-other
pid=
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
hp=$(free_port)
mp=$(free_port)
log=$logdir/ns-mode.log
kc=$RB_TMP/ns.kubeconfig
start() { # ARGS...: the operator as the namespaced ServiceAccount
	: >"$log"
	ASAN_OPTIONS=detect_leaks=1 setsid "$RUNBOOK_OPERATOR_DIR/runbook-operator" --kubeconfig "$kc" \
		--health-addr "127.0.0.1:$hp" --metrics-addr "127.0.0.1:$mp" --webhook-addr 127.0.0.1:0 --ui-addr 127.0.0.1:0 "$@" >>"$log" 2>&1 </dev/null &
	pid=$!
}
stop() { # SIGTERM; rc: its exit status (124: still running after 10 s, killed)
	kill -TERM "$pid"
	for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid"; wait "$pid" 2>/dev/null; rc=124; else wait "$pid"; rc=$?; fi
	pid=
}
code() { curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$hp$1"; }
metric() { # KEY (name{labels} as printed): its value; fails if the scrape fails or lacks it
	local out v
	out=$(curl -sf --max-time 2 "http://127.0.0.1:$mp/metrics") || return 1
	v=$(awk -v k="$1" 'index($0, k " ") == 1 { print $NF }' <<<"$out")
	[ -n "$v" ] && echo "$v"
}
cleanup() {
	[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
	kubectl delete namespace "$OTHER" --wait=false >/dev/null 2>&1
	op start >/dev/null 2>&1
	eval "$lib_exit"
}
# lib.sh's own EXIT trap (recorder, namespace, temp files) runs after ours.
eval "lib_exit=$(trap -p EXIT | sed 's/^trap -- //; s/ EXIT$//')"
trap cleanup EXIT
op stop >/dev/null
kubectl create namespace "$OTHER" >/dev/null

# The manifests' own Role and RoleBinding, moved to NS, bound to a
# ServiceAccount in NS (in the manifests it lives in runbook-system).
kubectl -n "$NS" create serviceaccount runbook-operator >/dev/null
kubectl kustomize "$RB_SRC/manifests/namespaced" | python3 -c '
import re, sys
docs = sys.stdin.read().split("\n---\n")
kind = re.compile(r"^kind: (Role|RoleBinding)$", re.M)
print("\n---\n".join(d for d in docs if kind.search(d) and "leader-election" not in d))' |
	sed "s/namespace: runbook-workloads$/namespace: $NS/; s/namespace: runbook-system$/namespace: $NS/" >"$RB_TMP/rbac.yaml"
check "the namespaced manifests give one Role and one RoleBinding, both in NS" \
	'[ "$(grep -c "^kind: Role$" "$RB_TMP/rbac.yaml")" = 1 ] && [ "$(grep -c "^kind: RoleBinding$" "$RB_TMP/rbac.yaml")" = 1 ] && ! grep -q "runbook-workloads\|runbook-system" "$RB_TMP/rbac.yaml"'
kubectl apply -f "$RB_TMP/rbac.yaml" >/dev/null
token=$(kubectl -n "$NS" create token runbook-operator --duration=1h)
user_kubeconfig "$RB_TMP/ns.kubeconfig" "{token: \"$token\"}" "$NS"
user=system:serviceaccount:$NS:runbook-operator
check "the account may list jobs in NS" '[ "$(kubectl auth can-i list jobs.batch -n "$NS" --as "$user")" = yes ]'
check "  but not in all namespaces" '[ "$(kubectl auth can-i list jobs.batch -A --as "$user" 2>/dev/null)" = no ]'

# --- without --namespace: cluster-wide lists are forbidden, never ready ------
start
eventually 20 "without --namespace: informer lists refused with 403" 'grep -q "msg=\"informer list failed\".*code=403" "$log"'
check "  /readyz 503 ($(code /readyz))" '[ "$(code /readyz)" = 503 ]'
stop
check "  exits 0 on SIGTERM (rc=$rc)" '[ "$rc" = 0 ]'

# --- with --namespace NS ----------------------------------------------------
wf() { # NAMESPACE
	cat <<Y
apiVersion: runbook.dev/v1alpha1
kind: Workflow
metadata: {name: two, namespace: $1}
spec:
  steps:
  - {name: a, image: busybox:1.36}
  - {name: b, image: busybox:1.36, dependsOn: [a]}
---
apiVersion: runbook.dev/v1alpha1
kind: WorkflowRun
metadata: {name: r, namespace: $1}
spec: {workflowRef: {name: two}}
Y
}
# The other namespace's run exists before the operator starts and before
# NS's: whatever the operator would do with it, it would have done by the
# time NS's run has Succeeded.
wf "$OTHER" | kubectl apply -f - >/dev/null
start --namespace "$NS"
eventually 30 "--namespace NS with only the Role: /readyz 200" '[ "$(code /readyz)" = 200 ]'
check "  it logs namespace=$NS" 'grep -q "msg=starting.* namespace=$NS\( \|$\)" "$log"'
wf "$NS" | kubectl apply -f - >/dev/null
check "the run in NS Succeeds" 'kubectl -n "$NS" wait --for=jsonpath="{.status.phase}"=Succeeded wfr/r --timeout=60s'
check "  with its two Jobs" '[ "$(kubectl -n "$NS" get jobs -l runbook.dev/run=r -o name | wc -l)" -eq 2 ]'
check "  and the Workflow's Ready condition written" 'field_is rwf/two "{.status.conditions[?(@.type==\"Ready\")].status}" True'
check "the run in $OTHER has no status ($(kubectl -n "$OTHER" get wfr r -o jsonpath='{.status}'))" 'o=$(kubectl -n "$OTHER" get wfr r -o jsonpath="{.status}") && [ -z "$o" ]'
check "  and no Job ($(kubectl -n "$OTHER" get jobs -o name | tr '\n' ' '))" 'o=$(kubectl -n "$OTHER" get jobs -o name) && [ -z "$o" ]'
check "  and its Workflow no status either" 'o=$(kubectl -n "$OTHER" get rwf two -o jsonpath="{.status}") && [ -z "$o" ]'
check "cached: NS's one run ($(metric 'runbook_cache_objects{resource="workflowruns"}'))" 'v=$(metric "runbook_cache_objects{resource=\"workflowruns\"}") && [ "$v" = 1 ]'
check "  and one Workflow ($(metric 'runbook_cache_objects{resource="workflows"}'))" 'v=$(metric "runbook_cache_objects{resource=\"workflows\"}") && [ "$v" = 1 ]'
check "  and NS's two Jobs ($(metric 'runbook_cache_objects{resource="jobs"}'))" 'v=$(metric "runbook_cache_objects{resource=\"jobs\"}") && [ "$v" = 2 ]'
check "no request refused: no 403 counted" 'out=$(curl -sf --max-time 2 "http://127.0.0.1:$mp/metrics") && grep -q "^runbook_api_responses_total{code=\"200\"}" <<<"$out" && ! grep -q "^runbook_api_responses_total{code=\"403\"}" <<<"$out"'
check "  and none logged" '! grep -q "code=403" "$log"'
stop
check "exits 0 on SIGTERM (rc=$rc)" '[ "$rc" = 0 ]'
check "no sanitizer report" '! grep -qE "AddressSanitizer|LeakSanitizer|runtime error" "$log"'
# --- --namespace NS with cluster-wide permissions: still NS only ------------
# The fixture's ServiceAccount (manifests/clusterrole.yaml): here only the
# flag keeps the operator out of the other namespace.
kc=$RUNBOOK_CLUSTER_DIR/operator.kubeconfig
[ "${RUNBOOK_TEST_AS_ADMIN:-0}" = 1 ] && kc=$KUBECONFIG
start --namespace "$NS"
eventually 30 "--namespace NS, cluster-wide account: /readyz 200" '[ "$(code /readyz)" = 200 ]'
wf "$NS" | sed 's/name: r,/name: r2,/' | kubectl apply -f - >/dev/null
check "a second run in NS Succeeds" 'kubectl -n "$NS" wait --for=jsonpath="{.status.phase}"=Succeeded wfr/r2 --timeout=60s'
check "the run in $OTHER still has no status, no Job" 'o=$(kubectl -n "$OTHER" get wfr r -o jsonpath="{.status}") && [ -z "$o" ] && o=$(kubectl -n "$OTHER" get jobs -o name) && [ -z "$o" ]'
check "cached: NS's two runs only ($(metric 'runbook_cache_objects{resource="workflowruns"}'))" 'v=$(metric "runbook_cache_objects{resource=\"workflowruns\"}") && [ "$v" = 2 ]'
stop
check "exits 0 on SIGTERM (rc=$rc)" '[ "$rc" = 0 ]'
check "no sanitizer report" '! grep -qE "AddressSanitizer|LeakSanitizer|runtime error" "$log"'
if [ "$failed" -gt 0 ]; then echo "--- $log"; tail -n 30 "$log"; fi
finish
