# The operator's lifecycle promises (docs/operations.md, "Shutdown, leader
# election, probes" and "Metrics"), each with its exact value:
#   - a standby is ready: /readyz 200 "ok" while another replica holds the
#     Lease; runbook_leader is 0 there and 1 on the leader;
#   - leadership lost because the Lease names another holder: exit 1;
#   - leadership lost because renewals fail for the renew deadline: exit 1;
#   - a standby exits 0 on SIGTERM;
#   - while shutting down (a write still in flight): /readyz 503 "shutting
#     down", /healthz still 200;
#   - a second signal during that: exit 1 at once.
# Serial: the fixture's operator is stopped (it would act on this test's runs
# and take no part in the election) and started again at the end.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/proxy.bash"
: "${RUNBOOK_CLUSTER_DIR:?}" "${RUNBOOK_OPERATOR_DIR:?}"
op() { "$RB_SRC/test/operator.sh" "$1" "$RUNBOOK_CLUSTER_DIR" "$RUNBOOK_OPERATOR_DIR"; }
logdir=$RUNBOOK_CLUSTER_DIR/logs
pki=$RUNBOOK_CLUSTER_DIR/pki
declare -A pids=() hport=() mport=()
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# start NAME KUBECONFIG ARGS...: an operator of our own, log in logs/lc-NAME.log.
start() {
	local name=$1 kc=$2
	shift 2
	hport[$name]=$(free_port)
	mport[$name]=$(free_port)
	: >"$logdir/lc-$name.log" # now, not in the background: no old log is read as new
	ASAN_OPTIONS=detect_leaks=1 setsid "$RUNBOOK_OPERATOR_DIR/runbook-operator" --kubeconfig "$kc" \
		--health-addr "127.0.0.1:${hport[$name]}" --metrics-addr "127.0.0.1:${mport[$name]}" --webhook-addr 127.0.0.1:0 --ui-addr 127.0.0.1:0 "$@" \
		>>"$logdir/lc-$name.log" 2>&1 </dev/null &
	pids[$name]=$!
}
code() { curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:${hport[$1]}$2"; }
body() { curl -s --max-time 2 "http://127.0.0.1:${hport[$1]}$2"; }
# gauge NAME METRIC: the sample's value; fails when the scrape fails or lacks it.
gauge() {
	local out v
	out=$(curl -sf --max-time 2 "http://127.0.0.1:${mport[$1]}/metrics") || return 1
	v=$(awk -v k="$2" '$1 == k { print $2 }' <<<"$out")
	[ -n "$v" ] && echo "$v"
}
alive() { kill -0 "${pids[$1]}" 2>/dev/null; }
# wait_exit NAME SECONDS: waits for NAME's exit; rc is its status, 124 if it
# still runs after SECONDS (then it is killed), ms how long it took.
wait_exit() {
	local t0=$(date +%s%N) n=$(($2 * 20))
	for _ in $(seq 1 "$n"); do alive "$1" || break; sleep 0.05; done
	if alive "$1"; then
		kill -KILL "${pids[$1]}" 2>/dev/null
		wait "${pids[$1]}" 2>/dev/null
		rc=124
	else
		wait "${pids[$1]}"
		rc=$?
	fi
	ms=$((($(date +%s%N) - t0) / 1000000))
	unset "pids[$1]"
}
identity_of() { sed -n 's/.*msg="leader election on".*identity=\([^ ]*\).*/\1/p' "$logdir/lc-$1.log" | head -1; }
holder() { kubectl -n "$NS" get lease "${1:-runbook-operator}" -o jsonpath='{.spec.holderIdentity}'; }
no_sanitizer_report() { ! grep -qE "AddressSanitizer|LeakSanitizer|runtime error" "$logdir/lc-$1.log"; }
cleanup() {
	for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
	[ -n "$proxy_pid" ] && kill "$proxy_pid" 2>/dev/null
	op start >/dev/null 2>&1
	eval "$lib_exit"
}
# lib.sh's own EXIT trap (recorder, namespace, temp files) runs after ours.
eval "lib_exit=$(trap -p EXIT | sed 's/^trap -- //; s/ EXIT$//')"
trap cleanup EXIT
op stop >/dev/null
le=(--leader-elect --leader-elect-namespace "$NS" --leader-elect-lease-duration 4s
	--leader-elect-renew-deadline 3s --leader-elect-retry-period 500ms)

# --- a leader and a ready standby ----------------------------------------------
start a "$KUBECONFIG" "${le[@]}"
start b "$KUBECONFIG" "${le[@]}"
eventually 30 "both replicas ready (/readyz 200)" '[ "$(code a /readyz)" = 200 ] && [ "$(code b /readyz)" = 200 ]'
eventually 10 "one of them holds the Lease" 'h=$(holder) && [ -n "$h" ] && { [ "$h" = "$(identity_of a)" ] || [ "$h" = "$(identity_of b)" ]; }'
if [ "$(holder)" = "$(identity_of a)" ]; then L=a S=b; else L=b S=a; fi
eventually 5 "the leader says so in its log" 'grep -q "msg=leading" "$logdir/lc-$L.log"'
check "the standby is ready: /readyz 200 ($(code $S /readyz))" '[ "$(code $S /readyz)" = 200 ]'
check "  saying ok ($(body $S /readyz))" '[ "$(body $S /readyz)" = ok ]'
check "runbook_leader is 1 on the leader ($(gauge $L runbook_leader))" 'v=$(gauge $L runbook_leader) && [ "$v" = 1 ]'
check "runbook_leader is 0 on the standby ($(gauge $S runbook_leader))" 'v=$(gauge $S runbook_leader) && [ "$v" = 0 ]'
check "the standby still holds no Lease and never led" '[ "$(holder)" = "$(identity_of $L)" ] && ! grep -q "msg=leading" "$logdir/lc-$S.log"'

# --- lost leadership: the Lease names another holder -> exit 1 ------------------
# A holder that renewed just now, for 60 s: the leader's next renewal (every
# 500 ms) gets 409, it reads the Lease and sees it is no longer the holder.
now=$(date -u +%Y-%m-%dT%H:%M:%S.%6NZ)
kubectl -n "$NS" patch lease runbook-operator --type=merge -p "{\"spec\":{\"holderIdentity\":\"thief\",\"leaseDurationSeconds\":60,\"acquireTime\":\"$now\",\"renewTime\":\"$now\"}}" >/dev/null
wait_exit $L 5
check "leadership lost to another holder: the leader exits 1 (rc=$rc, ${ms} ms)" '[ "$rc" = 1 ]'
check "  saying it lost leadership" 'grep -q "msg=\"lost leadership\"" "$logdir/lc-$L.log"'
check "  no sanitizer report" 'no_sanitizer_report $L'
check "the standby did not take the live Lease ($(holder)); runbook_leader still 0" '[ "$(holder)" = thief ] && v=$(gauge $S runbook_leader) && [ "$v" = 0 ]'
kill -TERM "${pids[$S]}"
wait_exit $S 10
check "a standby exits 0 on SIGTERM (rc=$rc, ${ms} ms)" '[ "$rc" = 0 ]'
check "  no sanitizer report" 'no_sanitizer_report $S'

# --- the fault proxy, for renewals that fail and writes that hang --------------
proxy_start lc

# --- lost leadership: renewals fail for the renew deadline -> exit 1 -----------
start q "$pkc" "${le[@]}" --leader-elect-lease-name q
eventually 30 "a leader through the proxy (own Lease q)" 'grep -q "msg=leading" "$logdir/lc-q.log"'
fault '{"target":"write","status":{"code":500}}' >/dev/null
t_fault=$(date +%s%N)
# It stops writing at once (runbook_leader 0), then tries to release the
# Lease for at most the renew deadline (3 s) before it exits.
eventually 6 "renewals refused (500) past the 3 s renew deadline: q says it lost leadership" 'grep -q "msg=\"lost leadership\"" "$logdir/lc-q.log"'
lost_ms=$((($(date +%s%N) - t_fault) / 1000000))
check "  because the renew deadline passed, not at the first refusal (${lost_ms} ms after the fault)" 'grep -q "reason=\"renew deadline passed\"" "$logdir/lc-q.log" && [ "$lost_ms" -ge 2000 ]'
check "  runbook_leader 0 at once, while it still releases ($(gauge q runbook_leader))" 'v=$(gauge q runbook_leader) && [ "$v" = 0 ]'
check "  /readyz 503 meanwhile ($(code q /readyz))" '[ "$(code q /readyz)" = 503 ]'
wait_exit q 10
check "  then exit 1 (rc=$rc) within the release timeout, 3 s, and 1.5 s more ($((lost_ms + ms)) ms after the fault)" '[ "$rc" = 1 ] && [ "$ms" -le 4500 ]'
check "  no sanitizer report" 'no_sanitizer_report q'
fault '{}' >/dev/null

# --- shutting down with a write in flight: 503, then a second signal -> exit 1 -
start p "$pkc"
eventually 30 "operator p (no election, through the proxy) ready" '[ "$(code p /readyz)" = 200 ]'
writes0=$(fault | python3 -c 'import json,sys; print(json.load(sys.stdin)["counters"].get("requests_write", 0))')
# Every write now waits 20 s in the proxy before it reaches the API server.
fault '{"target":"write","delay_ms":20000}' >/dev/null
cat <<Y | kubectl apply -f - >/dev/null
apiVersion: runbook.dev/v1alpha1
kind: Workflow
metadata: {name: one, namespace: $NS}
spec:
  steps:
  - {name: a, image: busybox:1.36}
---
apiVersion: runbook.dev/v1alpha1
kind: WorkflowRun
metadata: {name: r, namespace: $NS}
spec: {workflowRef: {name: one}}
Y
held() { fault | python3 -c 'import json,sys; sys.exit(json.load(sys.stdin)["counters"].get("requests_write", 0) <= int(sys.argv[1]))' "$writes0"; }
eventually 20 "a write of p is held in the proxy" 'held'
kill -TERM "${pids[p]}"
eventually 5 "SIGTERM with a write in flight: /readyz 503" '[ "$(code p /readyz)" = 503 ]'
check "  saying shutting down ($(body p /readyz))" '[ "$(body p /readyz)" = "shutting down" ]'
check "  /healthz still 200 ($(code p /healthz))" '[ "$(code p /healthz)" = 200 ]'
check "  and still running: it waits for the write" 'alive p'
t_second=$(date +%s%N)
kill -TERM "${pids[p]}"
wait_exit p 5
check "a second signal: exit 1 (rc=$rc) at once (${ms} ms)" '[ "$rc" = 1 ] && [ "$ms" -le 1000 ]'
check "  saying so" 'grep -q "second signal, exiting at once" "$logdir/lc-p.log"'
check "  no sanitizer report" 'no_sanitizer_report p'
fault '{}' >/dev/null

if [ "$failed" -gt 0 ]; then for f in "$logdir"/lc-*.log; do echo "--- $f"; tail -n 15 "$f"; done; fi
finish
