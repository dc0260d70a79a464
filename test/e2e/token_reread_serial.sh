# The API token is re-read from its file every minute and after a 401
# (docs/operations.md, --kubeconfig: "token re-read every minute and after a
# 401"; the in-cluster token path and a kubeconfig tokenFile are the same
# code). The operator runs as a ServiceAccount of its own with a kubeconfig
# whose user has a tokenFile; each token is bound to a Secret, so deleting
# the Secret revokes it. Which token each write carried is read from the API
# server's audit log (user.extra credential-id: the token's JTI).
#   1. token A: a run Succeeds; its writes carry A;
#   2. token B written to the file, A still valid: 61 s after the operator
#      last read the file, a run's writes carry B, and no 401 was ever
#      answered (so the minute did it, not a 401);
#   3. token C written to the file, B revoked (the API server answers 401 to
#      it): the next run still Succeeds, its writes carry C, the 401 was
#      answered and retried, no write failed.
# About 85 s: the minute is the promise. Serial: the fixture's operator is
# stopped (it would run this test's runs) and started again at the end.
. "$(dirname "$0")/../lib.sh"
: "${RUNBOOK_CLUSTER_DIR:?}" "${RUNBOOK_OPERATOR_DIR:?}"
op() { "$RB_SRC/test/operator.sh" "$1" "$RUNBOOK_CLUSTER_DIR" "$RUNBOOK_OPERATOR_DIR"; }
. "$RUNBOOK_CLUSTER_DIR/env"
audit=$RUNBOOK_CLUSTER_DIR/logs/audit.log
log=$RUNBOOK_CLUSTER_DIR/logs/token-reread.log
pid=
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
hp=$(free_port)
mp=$(free_port)
code() { curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$hp$1"; }
metric() { # KEY: its value, 0 when the scrape has no such line; fails if the scrape fails
	local out
	out=$(curl -sf --max-time 2 "http://127.0.0.1:$mp/metrics") || return 1
	awk -v k="$1" 'index($0, k " ") == 1 { v = $NF } END { print v == "" ? 0 : v }' <<<"$out"
}
cleanup() {
	[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
	op start >/dev/null 2>&1
	eval "$lib_exit"
}
# lib.sh's own EXIT trap (recorder, namespace, temp files) runs after ours.
eval "lib_exit=$(trap -p EXIT | sed 's/^trap -- //; s/ EXIT$//')"
trap cleanup EXIT
op stop >/dev/null
[ -f "$audit" ] || { fail "no audit log at $audit"; finish; exit 1; }

# The operator's account: manifests/namespaced's Role and RoleBinding, in NS.
kubectl -n "$NS" create serviceaccount runbook-operator >/dev/null
kubectl kustomize "$RB_SRC/manifests/namespaced" | python3 -c '
import re, sys
docs = sys.stdin.read().split("\n---\n")
kind = re.compile(r"^kind: (Role|RoleBinding)$", re.M)
print("\n---\n".join(d for d in docs if kind.search(d) and "leader-election" not in d))' |
	sed "s/namespace: runbook-workloads$/namespace: $NS/; s/namespace: runbook-system$/namespace: $NS/" |
	kubectl apply -f - >/dev/null
user=system:serviceaccount:$NS:runbook-operator
# token NAME: a token of the account bound to Secret NAME (deleting it revokes the token).
token() {
	kubectl -n "$NS" create secret generic "$1" >/dev/null &&
		kubectl -n "$NS" create token runbook-operator --bound-object-kind Secret --bound-object-name "$1" --duration 10m
}
jti() { python3 -c 'import base64, json, sys
p = sys.argv[1].split(".")[1]
print(json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))["jti"])' "$1"; }
A=$(token tok-a) && B=$(token tok-b) && C=$(token tok-c) || { fail "cannot make the tokens"; finish; exit 1; }
jA=$(jti "$A") jB=$(jti "$B") jC=$(jti "$C")
check "three distinct token ids" '[ -n "$jA" ] && [ -n "$jB" ] && [ -n "$jC" ] && [ "$jA" != "$jB" ] && [ "$jB" != "$jC" ] && [ "$jA" != "$jC" ]'
tokfile=$RB_TMP/token
put_token() { printf '%s\n' "$1" >"$tokfile.new" && mv "$tokfile.new" "$tokfile"; } # atomic, as the kubelet's symlink swap
put_token "$A"
ca=$(kubectl config view --minify -o jsonpath='{.clusters[0].cluster.certificate-authority}')
user_kubeconfig "$RB_TMP/kubeconfig" "{tokenFile: \"$tokfile\"}" "$NS"
# api_code TOKEN: what the API server answers a request carrying TOKEN.
api_code() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 --cacert "$ca" -H "Authorization: Bearer $1" "$API_SERVER/apis/batch/v1/namespaces/$NS/jobs?limit=1"; }
# run_jtis RUN: the credential ids the operator's writes about RUN carried
# (the run's status patches and its Jobs' creates), sorted, one per line.
run_jtis() {
	python3 - "$audit" "$user" "$NS" "$1" "$RB_SRC/test/recorder" <<'PY'
import sys
path, user, ns, run, rec = sys.argv[1:]
sys.path.insert(0, rec)
import recorder  # the one reader of the audit log: rotated files, bodies that are not UTF-8
ids = set()
for e in recorder.load_audit(path):
    u, o = e.get("user", {}), e.get("objectRef", {})
    if u.get("username") != user or o.get("namespace") != ns or e.get("stage") != "ResponseComplete":
        continue
    name = o.get("name", "")
    if o.get("resource") == "workflowruns" and name == run or \
       o.get("resource") == "jobs" and e.get("verb") == "create" and \
       (e.get("requestObject") or {}).get("metadata", {}).get("labels", {}).get("runbook.dev/run") == run:
        for i in u.get("extra", {}).get("authentication.kubernetes.io/credential-id", ["(none)"]):
            ids.add(i)
for i in sorted(ids):
    print(i)
PY
}
carried() { # RUN JTI: every audited write about RUN carried exactly that token
	local got
	got=$(run_jtis "$1") || return 2
	[ "$got" = "JTI=$2" ] || { echo "writes about $1 carried: $(echo $got)" >&2; return 1; }
}
run() { # NAME: starts a run of the one-step Workflow
	printf 'apiVersion: runbook.dev/v1alpha1\nkind: WorkflowRun\nmetadata: {name: %s, namespace: %s}\nspec: {workflowRef: {name: one}}\n' "$1" "$NS" |
		kubectl apply -f - >/dev/null
}
printf 'apiVersion: runbook.dev/v1alpha1\nkind: Workflow\nmetadata: {name: one, namespace: %s}\nspec:\n  steps:\n  - {name: a, image: busybox:1.36}\n' "$NS" |
	kubectl apply -f - >/dev/null

: >"$log"
ASAN_OPTIONS=detect_leaks=1 setsid "$RUNBOOK_OPERATOR_DIR/runbook-operator" --kubeconfig "$RB_TMP/kubeconfig" \
	--namespace "$NS" --health-addr "127.0.0.1:$hp" --metrics-addr "127.0.0.1:$mp" --webhook-addr 127.0.0.1:0 --ui-addr 127.0.0.1:0 >>"$log" 2>&1 </dev/null &
pid=$!
eventually 30 "the operator (tokenFile: token A) is ready" '[ "$(code /readyz)" = 200 ]'
ms_now() { echo $(($(date +%s%N) / 1000000)); }
t_ready=$(ms_now) # the operator read the file before this, at start-up

# --- 1: token A -------------------------------------------------------------------
run r1
check "r1 Succeeds" 'kubectl -n "$NS" wait --for=jsonpath="{.status.phase}"=Succeeded wfr/r1 --timeout=60s'
eventually 5 "  its writes carried token A (audit log)" 'carried r1 "$jA"'

# --- 2: the file now holds B; A stays valid; wait out the minute -------------------
put_token "$B"
left=$((t_ready + 61000 - $(ms_now)))
[ "$left" -gt 0 ] && sleep "$((left / 1000)).$(printf %03d $((left % 1000)))"
run r2
check "61 s after the last read: r2 Succeeds" 'kubectl -n "$NS" wait --for=jsonpath="{.status.phase}"=Succeeded wfr/r2 --timeout=60s'
eventually 5 "  its writes carried token B: the file was re-read within the minute" 'carried r2 "$jB"'
check "  and no 401 was answered so far ($(metric 'runbook_api_responses_total{code="401"}'))" 'v=$(metric "runbook_api_responses_total{code=\"401\"}") && [ "$v" = 0 ]'

# --- 3: the file now holds C; B revoked: 401, re-read, retry ------------------------
put_token "$C"
kubectl -n "$NS" delete secret tok-b >/dev/null
# The API server caches a token's authentication for up to 10 s.
eventually 20 "token B revoked: the API server answers 401 to it" '[ "$(api_code "$B")" = 401 ]'
check "  and 200 to C ($(api_code "$C"))" '[ "$(api_code "$C")" = 200 ]'
run r3
check "r3 Succeeds" 'kubectl -n "$NS" wait --for=jsonpath="{.status.phase}"=Succeeded wfr/r3 --timeout=30s'
eventually 5 "  its writes carried token C" 'carried r3 "$jC"'
check "  a 401 was answered ($(metric 'runbook_api_responses_total{code="401"}')) and retried: no write failed" 'v=$(metric "runbook_api_responses_total{code=\"401\"}") && [ "$v" -ge 1 ] && ! grep -q "msg=\"write failed\"" "$log"'
check "still ready ($(code /readyz))" '[ "$(code /readyz)" = 200 ]'

kill -TERM "$pid"
for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid"; wait "$pid" 2>/dev/null; rc=124; else wait "$pid"; rc=$?; fi
pid=
check "exits 0 on SIGTERM (rc=$rc)" '[ "$rc" = 0 ]'
check "no sanitizer report" '! grep -qE "AddressSanitizer|LeakSanitizer|runtime error" "$log"'
if [ "$failed" -gt 0 ]; then echo "--- $log"; tail -n 30 "$log"; fi
finish
